"""Leases and crash rescue across sessions, through the SQL core.

A process's lease is a session advisory lock on the connection that
registered it. When that session ends (closed, or its backend terminated),
any other session's ``goodjob_rescue_dead_processes()`` makes its running
jobs ready again; while it lives, nothing of it is rescued; a result the dead
process reports late is refused. Rescue racing a completion never leaves a
job both succeeded and queued again.
"""

from __future__ import annotations

import random
import threading
import time
from collections.abc import Callable
from typing import Any

import psycopg
import pytest
from psycopg.types.json import Jsonb

Conn = psycopg.Connection[tuple[Any, ...]]
Connect = Callable[..., Conn]

LEASE_NAMESPACE = 1735028839
INTERRUPTED = "interrupted: the worker process died (its lease was free)"


def _register(conn: Conn, *, queues: str = "*") -> Any:
    row = conn.execute(
        "select goodjob_register_process(hostname => 'test', pid => pg_backend_pid(),"
        " queues => %s)",
        (queues,),
    ).fetchone()
    assert row is not None
    return row[0]


def _lease_held(conn: Conn, process_id: Any) -> bool:
    row = conn.execute(
        "select exists (select 1 from pg_locks l join goodjob_processes p"
        " on l.objid::int = p.lease_key"
        " where p.id = %s and l.locktype = 'advisory' and l.classid = %s and l.objsubid = 2"
        " and l.granted and l.database = (select oid from pg_database"
        " where datname = current_database()))",
        (process_id, LEASE_NAMESPACE),
    ).fetchone()
    assert row is not None
    return bool(row[0])


def _wait_until_lease_free(conn: Conn, process_id: Any, timeout: float = 10.0) -> None:
    """The server ends a closed session asynchronously; wait for its locks to go."""
    deadline = time.monotonic() + timeout
    while _lease_held(conn, process_id):
        assert time.monotonic() < deadline, "the dead session's lease was never released"
        time.sleep(0.01)


def _job_rows(conn: Conn, ids: list[Any]) -> dict[Any, tuple[Any, ...]]:
    return {
        row[0]: row[1:]
        for row in conn.execute(
            "select id, state, attempts, locked_by, run_at, finished_at, last_error"
            " from goodjob_jobs where id = any(%s)",
            (ids,),
        )
    }


def _kill(how: str, victim: Conn, other: Conn) -> None:
    if how == "close":
        victim.close()
    else:
        pid = victim.info.backend_pid
        assert other.execute("select pg_terminate_backend(%s, 5000)", (pid,)).fetchone() == (True,)


@pytest.mark.parametrize("how", ["close", "terminate"])
def test_rescue_frees_the_jobs_of_a_dead_session(db_connect: Connect, how: str) -> None:
    a, b = db_connect(), db_connect()
    dead = _register(a)
    b.execute("select goodjob_enqueue_many(%s)", (Jsonb([{"task": "t"}] * 5),))
    claimed = [
        row[0]
        for row in a.execute(
            "select id from goodjob_fetch_and_lock(process_id => %s, max_jobs => 3)", (dead,)
        )
    ]
    assert len(claimed) == 3

    # Alive: nothing is rescued, from any session, however often we ask.
    for _ in range(3):
        assert b.execute("select goodjob_rescue_dead_processes()").fetchone() == (0,)
    assert {row[0] for row in _job_rows(b, claimed).values()} == {"running"}
    assert b.execute(
        "select alive, running_jobs from goodjob_process_status where id = %s", (dead,)
    ).fetchone() == (True, 3)

    _kill(how, a, b)
    _wait_until_lease_free(b, dead)
    assert b.execute(
        "select alive from goodjob_process_status where id = %s", (dead,)
    ).fetchone() == (False,)

    assert b.execute("select goodjob_rescue_dead_processes()").fetchone() == (3,)
    assert b.execute("select goodjob_rescue_dead_processes()").fetchone() == (0,)
    rows = _job_rows(b, claimed)
    for state, attempts, locked_by, _run_at, finished_at, last_error in rows.values():
        assert (state, attempts, locked_by, finished_at) == ("queued", 1, None, None)
        assert last_error == INTERRUPTED
    assert b.execute(
        "select attempt, outcome, error_class, finished_at is not null, count(*)"
        " from goodjob_executions where job_id = any(%s) group by 1, 2, 3, 4",
        (claimed,),
    ).fetchall() == [(1, "interrupted", "Interrupted", True, 3)]
    # The dead process is gone: no heartbeat, no fetch under its id.
    assert b.execute(
        "select count(*) from goodjob_processes where id = %s", (dead,)
    ).fetchone() == (0,)
    assert b.execute("select goodjob_heartbeat(%s)", (dead,)).fetchone() == (False,)
    with pytest.raises(psycopg.Error) as excinfo:
        b.execute("select goodjob_fetch_and_lock(process_id => %s)", (dead,))
    assert excinfo.value.sqlstate == "GJ009"

    # A late result from the dead process (say, from another of its
    # connections) is refused and changes nothing.
    late = db_connect()
    outcomes = late.execute(
        "select id, accepted, state, run_at"
        " from goodjob_report_results(process_id => %s, results => %s)",
        (dead, Jsonb([{"id": str(i), "attempt": 1, "outcome": "succeeded"} for i in claimed])),
    ).fetchall()
    assert outcomes == [(i, False, None, None) for i in claimed]
    assert late.execute(
        "select goodjob_fail_job(id => %s, process_id => %s, attempt => 1,"
        " error_class => 'E', error_message => 'late')",
        (claimed[0], dead),
    ).fetchone() == (None,)
    assert _job_rows(b, claimed) == rows
    assert b.execute(
        "select count(*) from goodjob_executions"
        " where job_id = any(%s) and outcome <> 'interrupted'",
        (claimed,),
    ).fetchone() == (0,)

    # Another worker runs them again; the interrupted attempt counted and
    # stays recorded (the new, running attempt is the job row itself).
    worker = _register(b)
    again = dict(
        b.execute(
            "select id, attempts from goodjob_fetch_and_lock(process_id => %s, max_jobs => 10)",
            (worker,),
        ).fetchall()
    )
    assert len(again) == 5
    assert {again[i] for i in claimed} == {2}
    assert b.execute(
        "select attempt, outcome, count(*) from goodjob_executions where job_id = any(%s)"
        " group by 1, 2",
        (claimed,),
    ).fetchall() == [(1, "interrupted", 3)]


def test_rescue_discards_a_job_out_of_attempts(db_connect: Connect) -> None:
    a, b = db_connect(), db_connect()
    dead = _register(a)
    job = b.execute("select goodjob_enqueue(task => 't', max_attempts => 1)").fetchone()[0]  # type: ignore[index]
    assert a.execute(
        "select id from goodjob_fetch_and_lock(process_id => %s)", (dead,)
    ).fetchall() == [(job,)]
    _kill("terminate", a, b)
    _wait_until_lease_free(b, dead)
    assert b.execute("select goodjob_rescue_dead_processes()").fetchone() == (1,)
    state, attempts, locked_by, _, finished_at, _ = _job_rows(b, [job])[job]
    assert (state, attempts, locked_by) == ("discarded", 1, None)
    assert finished_at is not None
    assert b.execute(
        "select outcome from goodjob_executions where job_id = %s", (job,)
    ).fetchall() == [("interrupted",)]


def test_live_process_working_on_other_connections_is_never_rescued(db_connect: Connect) -> None:
    """The lease is the registering session; claims and reports may use others."""
    lease, work, rescuer = db_connect(), db_connect(), db_connect()
    alive = _register(lease)
    work.execute("select goodjob_enqueue_many(%s)", (Jsonb([{"task": "t"}] * 10),))
    rows = work.execute(
        "select id, attempts from goodjob_fetch_and_lock(process_id => %s, max_jobs => 10)",
        (alive,),
    ).fetchall()
    assert len(rows) == 10
    work.close()  # a pooled connection going away is not a dead process
    assert rescuer.execute("select goodjob_rescue_dead_processes()").fetchone() == (0,)
    assert rescuer.execute(
        "select count(*) from goodjob_jobs where state = 'running' and locked_by = %s", (alive,)
    ).fetchone() == (10,)
    outcomes = rescuer.execute(
        "select bool_and(accepted) from goodjob_report_results(process_id => %s, results => %s)",
        (alive, Jsonb([{"id": str(i), "attempt": a, "outcome": "succeeded"} for i, a in rows])),
    ).fetchone()
    assert outcomes == (True,)


REPORT_SQL = "select id, accepted from goodjob_report_results(process_id => %s, results => %s)"


def _race(calls: list[tuple[Conn, str, tuple[Any, ...]]], delays: list[float]) -> list[Any]:
    """Run each (connection, query, params) in its own thread, all released at
    once and then delayed by their own amount; return each one's rows or error."""
    barrier = threading.Barrier(len(calls))
    results: list[Any] = [None] * len(calls)

    def run(index: int) -> None:
        conn, query, params = calls[index]
        try:
            barrier.wait(timeout=10)
            time.sleep(delays[index])
            results[index] = conn.execute(query, params).fetchall()
        except BaseException as exc:
            results[index] = exc

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(calls))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)
    assert not any(t.is_alive() for t in threads), "a racing call hung"
    return results


@pytest.mark.parametrize(
    ("iterations", "batch"),
    [
        pytest.param(200, 4, id="200x4-jobs"),
        # Big batches reported in shuffled order: report and rescue lock many
        # rows at once, so a differing lock order would deadlock (40P01).
        pytest.param(15, 300, id="15x300-jobs-shuffled"),
    ],
)
def test_rescue_racing_completion_never_finishes_a_job_twice(
    db_connect: Connect, iterations: int, batch: int
) -> None:
    """Report (from a surviving connection) and rescue race over many interleavings.

    Each iteration: a process registers on a lease connection and claims a
    batch on a work connection; its lease is released (the process "dies");
    then one thread reports the batch succeeded while another rescues, with a
    random sub-millisecond head start for either. Each job must end either
    succeeded (result accepted, one 'succeeded' execution) or queued again
    (result refused, one 'interrupted' execution), never both; neither call
    may fail (no deadlock).
    """
    lease, work, rescuer, setup = (db_connect() for _ in range(4))
    rng = random.Random(1302)
    report_won = rescue_won = 0
    failures: list[str] = []

    for n in range(iterations):
        queue = f"race{n}"
        setup.execute(
            "select goodjob_enqueue_many(%s)", (Jsonb([{"task": "t", "queue": queue}] * batch),)
        )
        process_id = _register(lease, queues=queue)
        rows = work.execute(
            "select id, attempts from goodjob_fetch_and_lock(process_id => %s, queues => %s,"
            " max_jobs => %s)",
            (process_id, queue, batch),
        ).fetchall()
        assert len(rows) == batch
        ids = [job_id for job_id, _ in rows]
        if batch > 10:
            rng.shuffle(rows)  # a worker reports in completion order
        lease.execute(
            "select pg_advisory_unlock(%s, lease_key) from goodjob_processes where id = %s",
            (LEASE_NAMESPACE, process_id),
        )

        payload = Jsonb([{"id": str(i), "attempt": a, "outcome": "succeeded"} for i, a in rows])
        # Up to ~1 ms head start for either side per 100 jobs in the batch.
        spread = 0.001 * max(1.0, batch / 100)
        report, rescue = _race(
            [
                (work, REPORT_SQL, (process_id, payload)),
                (rescuer, "select goodjob_rescue_dead_processes()", ()),
            ],
            [rng.random() * spread, rng.random() * spread],
        )
        errors = [
            (k, v)
            for k, v in (("report", report), ("rescue", rescue))
            if isinstance(v, BaseException)
        ]
        if errors:
            failures.extend(f"iteration {n}: {k} raised {v!r}" for k, v in errors)
            continue

        accepted = {job_id for job_id, ok in report if ok}
        [(rescued,)] = rescue
        assert rescued == batch - len(accepted), f"iteration {n}"
        if accepted:
            report_won += 1
        if len(accepted) < batch:
            rescue_won += 1

        states = dict(
            setup.execute(
                "select id, state from goodjob_jobs where id = any(%s)", (ids,)
            ).fetchall()
        )
        executions = dict(
            setup.execute(
                "select job_id, array_agg(outcome order by attempt) from goodjob_executions"
                " where job_id = any(%s) group by job_id",
                (ids,),
            ).fetchall()
        )
        for job_id in ids:
            if job_id in accepted:
                expected = ("succeeded", ["succeeded"])
            else:
                expected = ("queued", ["interrupted"])
            actual = (states[job_id], executions[job_id])
            if actual != expected:
                failures.append(f"iteration {n}: job {job_id} is {actual}, expected {expected}")

    assert not failures, "\n".join(failures[:20]) + f"\n({len(failures)} failures)"
    # Whole-table invariants, as a psql user would check them.
    assert setup.execute(
        "select count(*) from goodjob_jobs j where j.state = 'succeeded' and"
        " (select count(*) from goodjob_executions e where e.job_id = j.id) <> 1"
    ).fetchone() == (0,)
    assert setup.execute(
        "select count(*) from (select job_id from goodjob_executions"
        " where outcome = 'succeeded' group by job_id having count(*) > 1) x"
    ).fetchone() == (0,)
    assert setup.execute(
        "select count(*) from goodjob_executions e join goodjob_jobs j on j.id = e.job_id"
        " where e.outcome = 'succeeded' and j.state <> 'succeeded'"
    ).fetchone() == (0,)
    # Over many iterations both orders happen, so the race was really run.
    if iterations >= 100:
        assert report_won > 0
        assert rescue_won > 0
