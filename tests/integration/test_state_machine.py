"""Model-based property test of the job state machine (hypothesis RuleBasedStateMachine).

Random sequences of enqueue, fetch, success, failure, process death, rescue,
retry, discard, reschedule, pause/resume and cleanup run against the real SQL
functions, across up to three simulated processes (each with its own lease
connection, whose lease is released to "kill" it), and against a small
Python model. After every step the database must agree with the model: each
job's state, attempts and owner; ``running`` exactly when owned by one
registered process; executions = finished attempts; nothing extra, nothing
missing. Fetch and report run at a pinned time (``as_of``) so retry backoffs
never come due during an example. ``GOODJOB_PROPERTY_EXAMPLES`` raises the
number of examples (default 60, up to 50 steps each).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any

import psycopg
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    precondition,
    rule,
    run_state_machine_as_test,
)
from psycopg.types.json import Jsonb

Conn = psycopg.Connection[Any]
LEASE_NAMESPACE = 1735028839
QUEUES = ["a", "b"]
RESET = """
delete from goodjob_executions; delete from goodjob_jobs; delete from goodjob_processes;
delete from goodjob_waiting_pools; delete from goodjob_pauses; delete from goodjob_queues;
"""


@dataclass
class Job:
    """The model's view of one job."""

    queue: str
    state: str
    attempts: int
    max_attempts: int
    owner: Any = None


class JobMachine(RuleBasedStateMachine):
    """The database and a model, driven by the same random operations."""

    db_url = ""

    def __init__(self) -> None:
        super().__init__()
        self.conn: Conn = psycopg.connect(self.db_url, autocommit=True)
        self.conn.execute(RESET)
        row = self.conn.execute("select now() + interval '1 minute'").fetchone()
        assert row is not None
        self.as_of = row[0]  # fetch and report here: backoffs never come due
        self.jobs: dict[Any, Job] = {}
        self.leases: dict[Any, Conn] = {}  # live processes
        self.dead: set[Any] = set()  # lease released, not yet rescued
        self.paused: set[str] = set()

    def teardown(self) -> None:
        for conn in self.leases.values():
            conn.close()
        self.conn.close()

    # -- helpers ---------------------------------------------------------------

    def _ids(self, *states: str) -> list[Any]:
        # Insertion order, never sorted by id: a replayed example must draw the
        # same jobs and processes although their ids differ between runs.
        return [i for i, j in self.jobs.items() if j.state in states]

    def _refused(self, query: str, params: tuple[Any, ...], code: str) -> bool:
        """Run ``query``; True when it raised ``code`` (any other error fails)."""
        try:
            self.conn.execute(query, params)
        except psycopg.Error as exc:
            assert exc.sqlstate == code, exc
            return True
        return False

    # -- processes -------------------------------------------------------------

    @initialize()
    def first_processes(self) -> None:
        self.register()
        self.register()

    @precondition(lambda self: len(self.leases) < 3)
    @rule()
    def register(self) -> None:
        lease = psycopg.connect(self.db_url, autocommit=True)
        row = lease.execute(
            "select goodjob_register_process(hostname => 'model', pid => pg_backend_pid(),"
            " queues => '*')"
        ).fetchone()
        assert row is not None
        self.leases[row[0]] = lease

    @precondition(lambda self: bool(self.leases))
    @rule(data=st.data())
    def kill(self, data: st.DataObject) -> None:
        process = data.draw(st.sampled_from(list(self.leases)))
        lease = self.leases.pop(process)
        lease.execute(
            "select pg_advisory_unlock(%s, lease_key) from goodjob_processes where id = %s",
            (LEASE_NAMESPACE, process),
        )
        lease.close()
        self.dead.add(process)

    @rule()
    def rescue(self) -> None:
        row = self.conn.execute("select goodjob_rescue_dead_processes()").fetchone()
        expected = 0
        for job in self.jobs.values():
            if job.state == "running" and job.owner in self.dead:
                expected += 1
                job.state = "discarded" if job.attempts >= job.max_attempts else "queued"
                job.owner = None
        assert row == (expected,)
        self.dead.clear()

    # -- jobs ------------------------------------------------------------------

    @rule(queue=st.sampled_from(QUEUES), max_attempts=st.integers(1, 3), later=st.booleans())
    def enqueue(self, queue: str, max_attempts: int, later: bool) -> None:
        row = self.conn.execute(
            "select goodjob_enqueue('t', queue => %s, max_attempts => %s,"
            " run_at => case when %s then now() + interval '1 day' end)",
            (queue, max_attempts, later),
        ).fetchone()
        assert row is not None
        self.jobs[row[0]] = Job(queue, "scheduled" if later else "queued", 0, max_attempts)

    @precondition(lambda self: bool(self.leases))
    @rule(data=st.data(), max_jobs=st.integers(1, 3), queues=st.sampled_from(["*", "a", "b,a"]))
    def fetch(self, data: st.DataObject, max_jobs: int, queues: str) -> None:
        process = data.draw(st.sampled_from(list(self.leases)))
        rows = self.conn.execute(
            "select id from goodjob_fetch_and_lock(%s, %s, %s, as_of => %s)",
            (process, queues, max_jobs, self.as_of),
        ).fetchall()
        allowed = QUEUES if queues == "*" else queues.split(",")
        ready = [
            i
            for i in self._ids("queued")
            if self.jobs[i].queue in allowed and self.jobs[i].queue not in self.paused
        ]
        claimed = [row[0] for row in rows]
        assert set(claimed) <= set(ready), "claimed a job that was not ready"
        assert len(claimed) == min(max_jobs, len(ready))
        for i in claimed:
            job = self.jobs[i]
            job.state, job.owner, job.attempts = "running", process, job.attempts + 1

    @precondition(lambda self: any(j.state == "running" for j in self.jobs.values()))
    @rule(data=st.data(), outcome=st.sampled_from(["succeeded", "failed", "discarded"]),
          stale=st.booleans())  # fmt: skip
    def report(self, data: st.DataObject, outcome: str, stale: bool) -> None:
        job_id = data.draw(st.sampled_from(self._ids("running")))
        job = self.jobs[job_id]
        attempt = job.attempts - 1 if stale else job.attempts  # a stale attempt is fenced
        result = {"id": str(job_id), "attempt": attempt, "outcome": outcome}
        if outcome == "failed":
            result |= {"error_class": "E", "error_message": "m"}
        row = self.conn.execute(
            "select accepted from goodjob_report_results(%s, %s, as_of => %s)",
            (job.owner, Jsonb([result]), self.as_of),
        ).fetchone()
        assert row == (not stale,)
        if stale:
            return
        if outcome == "failed" and job.attempts < job.max_attempts:
            job.state = "scheduled"
        else:
            job.state = "succeeded" if outcome == "succeeded" else "discarded"
        job.owner = None

    @precondition(lambda self: bool(self.jobs))
    @rule(data=st.data())
    def retry(self, data: st.DataObject) -> None:
        job_id = data.draw(st.sampled_from(list(self.jobs)))
        job = self.jobs[job_id]
        refused = self._refused("select goodjob_retry_job(%s)", (job_id,), "GJ011")
        assert refused == (job.state not in ("discarded", "scheduled", "queued"))
        if not refused:
            job.state, job.max_attempts = "queued", max(job.max_attempts, job.attempts + 1)

    @precondition(lambda self: bool(self.jobs))
    @rule(data=st.data())
    def discard(self, data: st.DataObject) -> None:
        job_id = data.draw(st.sampled_from(list(self.jobs)))
        job = self.jobs[job_id]
        refused = self._refused("select goodjob_discard_job(%s)", (job_id,), "GJ011")
        assert refused == (job.state not in ("scheduled", "queued"))
        if not refused:
            job.state = "discarded"

    @precondition(lambda self: bool(self.jobs))
    @rule(data=st.data(), later=st.booleans())
    def reschedule(self, data: st.DataObject, later: bool) -> None:
        job_id = data.draw(st.sampled_from(list(self.jobs)))
        job = self.jobs[job_id]
        refused = self._refused(
            "select goodjob_reschedule_job(%s, now() + case when %s then interval '1 day'"
            " else interval '-1 hour' end)",
            (job_id, later),
            "GJ011",
        )
        assert refused == (job.state not in ("scheduled", "queued"))
        if not refused:
            job.state = "scheduled" if later else "queued"

    @rule(queue=st.sampled_from(QUEUES), pause=st.booleans())
    def pause_or_resume(self, queue: str, pause: bool) -> None:
        function = "goodjob_pause" if pause else "goodjob_resume"
        self.conn.execute(f"select {function}(queue => %s)", (queue,))
        (self.paused.add if pause else self.paused.discard)(queue)

    @rule()
    def cleanup(self) -> None:
        row = self.conn.execute(
            "select goodjob_cleanup_preserved_jobs(older_than => interval '0',"
            " as_of => %s + interval '1 second')",
            (self.as_of,),
        ).fetchone()
        finished = self._ids("succeeded", "discarded")
        assert row == (len(finished),)
        for i in finished:
            del self.jobs[i]

    # -- invariants ------------------------------------------------------------

    @invariant()
    def database_agrees_with_the_model(self) -> None:
        rows = self.conn.execute(
            "select j.id, j.state, j.attempts, j.locked_by, j.max_attempts,"
            " (select count(*) from goodjob_executions e where e.job_id = j.id),"
            " exists (select 1 from goodjob_processes p where p.id = j.locked_by)"
            " from goodjob_jobs j"
        ).fetchall()
        actual = {row[0]: row[1:] for row in rows}
        assert set(actual) == set(self.jobs), "jobs appeared or vanished"
        for job_id, (
            state,
            attempts,
            owner,
            max_attempts,
            executions,
            registered,
        ) in actual.items():
            job = self.jobs[job_id]
            assert (state, attempts, owner) == (job.state, job.attempts, job.owner), job_id
            assert max_attempts == job.max_attempts
            assert executions == attempts - (state == "running"), "executions != attempts"
            assert (state == "running") == (owner is not None) == registered


def test_the_database_never_disagrees_with_the_model(db_url: str) -> None:
    JobMachine.db_url = db_url
    examples = int(os.environ.get("GOODJOB_PROPERTY_EXAMPLES", "60"))
    run_state_machine_as_test(
        JobMachine,
        settings=settings(
            max_examples=examples,
            stateful_step_count=50,
            deadline=None,
            suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
        ),
    )
