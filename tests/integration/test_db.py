"""goodjob_pg.db against the real SQL functions: types, round trips, error translation."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID, uuid4

import psycopg
import pytest

from goodjob_pg import db, errors
from goodjob_pg.jobs import Outcome, Result, State

Conn = psycopg.Connection[Any]


@pytest.fixture
def process(db_conn: Conn) -> UUID:
    return db.register_process(db_conn, "host", 123, "*", {"k": 1})


def test_enqueue_and_read_back(db_conn: Conn) -> None:
    run_at = datetime(2031, 1, 1, tzinfo=UTC)
    job_id = db.enqueue(
        db_conn,
        "t.task",
        [1, "two", None],
        {"k": {"nested": [1.5]}},
        queue="q1",
        priority=-3,
        run_at=run_at,
        labels=("a", "b"),
        concurrency_key="ck",
        max_attempts=7,
    )
    job = db.get_job(db_conn, job_id)
    assert job is not None
    assert (job.task, job.args, job.kwargs) == (
        "t.task",
        [1, "two", None],
        {"k": {"nested": [1.5]}},
    )
    assert (job.queue, job.priority, job.run_at, job.state) == ("q1", -3, run_at, State.SCHEDULED)
    assert (job.labels, job.concurrency_key, job.max_attempts, job.attempts) == (
        ["a", "b"],
        "ck",
        7,
        0,
    )
    assert db.get_job(db_conn, uuid4()) is None


def test_enqueue_with_id_is_idempotent(db_conn: Conn) -> None:
    job_id = uuid4()
    assert db.enqueue(db_conn, "t", id=job_id) == job_id
    assert db.enqueue(db_conn, "t", [1], id=job_id) == job_id
    row = db_conn.execute("select count(*), min(args::text) from goodjob_jobs").fetchone()
    assert row == (1, "[]")


def test_enqueue_many(db_conn: Conn) -> None:
    fixed = uuid4()
    ids = db.enqueue_many(
        db_conn,
        [
            {"task": "a", "args": [1], "queue": "q"},
            {"task": "b", "kwargs": {"x": 1}, "run_at": datetime(2031, 1, 1, tzinfo=UTC)},
            {"task": "c", "id": fixed, "labels": ("l",)},
        ],
    )
    assert len(ids) == 3 and ids[2] == fixed
    rows = db_conn.execute("select task, state, labels from goodjob_jobs order by task").fetchall()
    assert rows == [("a", "queued", []), ("b", "scheduled", []), ("c", "queued", ["l"])]


def test_define_task_sets_sql_defaults(db_conn: Conn) -> None:
    db.define_task(db_conn, "t", queue="tq", priority=4, max_attempts=2, labels=["x"])
    job = db.get_job(db_conn, db.enqueue(db_conn, "t"))
    assert job is not None
    assert (job.queue, job.priority, job.max_attempts, job.labels) == ("tq", 4, 2, ["x"])


def test_process_lifecycle(db_conn: Conn, db_connect: Callable[..., Conn]) -> None:
    pid = db.register_process(db_conn, "h", 1, "a,b")
    assert db.heartbeat(db_conn, pid, {"running": 0})
    assert db.heartbeat(db_conn, pid)
    other = db_connect()
    assert db.rescue_dead_processes(other) == 0
    with pytest.raises(errors.ProcessLeaseError, match="alive in another session"):
        db.register_process(other, "h", 1, "*", id=pid)
    db.enqueue(db_conn, "t")
    assert len(db.fetch_and_lock(db_conn, pid)) == 1
    assert db.deregister_process(db_conn, pid) == 1  # its running job was interrupted
    assert not db.heartbeat(db_conn, pid)


# goodjob_report (arrays, the worker's) and goodjob_report_results (JSON) agree.
REPORTS = pytest.mark.parametrize("report", [db.report, db.report_results], ids=["arrays", "json"])


@REPORTS
def test_fetch_and_report(db_conn: Conn, process: UUID, report: Any) -> None:
    ids = [db.enqueue(db_conn, "t", [i], priority=i) for i in range(3)]
    jobs = db.fetch_and_lock(db_conn, process, "*", 10)
    assert [j.id for j in jobs] == ids
    assert all(
        j.state is State.RUNNING and j.attempts == 1 and j.locked_by == process for j in jobs
    )
    outcomes = report(
        db_conn,
        process,
        [
            Result(ids[0], 1, Outcome.SUCCEEDED),
            Result(ids[1], 1, Outcome.FAILED, "E", "m", "tb"),
            Result(ids[2], 2, Outcome.SUCCEEDED),  # wrong attempt: fenced out
        ],
    )
    assert [(o.job_id, o.accepted, o.state) for o in outcomes] == [
        (ids[0], True, State.SUCCEEDED),
        (ids[1], True, State.SCHEDULED),
        (ids[2], False, None),
    ]
    assert outcomes[1].run_at is not None and outcomes[1].run_at > datetime.now(UTC)
    assert report(db_conn, process, []) == []
    row = db_conn.execute(
        "select error_class, error_message, error_backtrace from goodjob_executions"
        " where job_id = %s",
        (ids[1],),
    ).fetchone()
    assert row == ("E", "m", "tb")


@REPORTS
def test_retry_with_run_at_and_as_of(db_conn: Conn, process: UUID, report: Any) -> None:
    job_id = db.enqueue(db_conn, "t")
    (job,) = db.fetch_and_lock(db_conn, process)
    later = datetime.now(UTC) + timedelta(hours=1)
    (outcome,) = report(
        db_conn, process, [Result(job_id, job.attempts, Outcome.RETRY, run_at=later)]
    )
    assert (outcome.state, outcome.run_at) == (State.SCHEDULED, later)
    assert db.fetch_and_lock(db_conn, process) == []
    assert [queue for queue, _ in db.upcoming_run_times(db_conn)] == ["default"]
    (again,) = db.fetch_and_lock(db_conn, process, as_of=later + timedelta(seconds=1))
    assert again.attempts == 2


def test_report_mixes_error_fields_run_at_and_as_of(db_conn: Conn, process: UUID) -> None:
    ids = [db.enqueue(db_conn, "t", [i], priority=i) for i in range(3)]
    db.fetch_and_lock(db_conn, process, "*", 10)
    later = datetime.now(UTC) + timedelta(minutes=5)
    outcomes = db.report(
        db_conn,
        process,
        [
            Result(ids[0], 1, Outcome.RETRY, run_at=later),
            Result(ids[1], 1, Outcome.DISCARDED, "Bad", "naïve ✓"),
            Result(ids[2], 1, Outcome.SUCCEEDED),
        ],
        as_of=datetime.now(UTC),
    )
    assert [(o.state, o.run_at) for o in outcomes] == [
        (State.SCHEDULED, later),
        (State.DISCARDED, None),
        (State.SUCCEEDED, None),
    ]
    job = db.get_job(db_conn, ids[1])
    assert job is not None and job.last_error == "Bad: naïve ✓"
    with pytest.raises(errors.InvalidOperatorArgumentError):  # the same id twice
        db.report(db_conn, process, [Result(ids[2], 1, Outcome.SUCCEEDED)] * 2)


def test_report_and_fetch_in_one_transaction(db_conn: Conn, process: UUID) -> None:
    first, second = db.enqueue(db_conn, "t", [1]), db.enqueue(db_conn, "t", [2])
    (job,) = db.fetch_and_lock(db_conn, process, "*", 1)
    outcomes, jobs = db.report_and_fetch(
        db_conn, process, [Result(first, job.attempts, Outcome.SUCCEEDED)], "*", 5
    )
    assert [(o.job_id, o.accepted, o.state) for o in outcomes] == [(first, True, State.SUCCEEDED)]
    assert [j.id for j in jobs] == [second]
    assert db_conn.info.transaction_status is psycopg.pq.TransactionStatus.IDLE
    # Nothing to report: a plain fetch.
    assert db.report_and_fetch(db_conn, process, [], "*", 5) == ([], [])


def _states(conn: Conn) -> dict[UUID, str]:
    return dict(conn.execute("select id, state from goodjob_jobs").fetchall())


@pytest.mark.parametrize("failing", ["report", "fetch", "connection"])
def test_report_and_fetch_all_or_nothing(
    db_conn: Conn, db_connect: Callable[..., Conn], process: UUID, failing: str
) -> None:
    """When either statement fails, neither the report nor the claims remain."""
    running, ready = db.enqueue(db_conn, "t", [1]), db.enqueue(db_conn, "t", [2])
    db.fetch_and_lock(db_conn, process, "*", 1)
    conn = db_connect()
    results = [Result(running, 1, Outcome.SUCCEEDED)]
    if failing == "report":  # a malformed batch: the same id twice (GJ013)
        with pytest.raises(errors.InvalidOperatorArgumentError):
            db.report_and_fetch(conn, process, results * 2, "*", 5)
    elif failing == "fetch":  # the report is fine; the fetch refuses max_jobs (GJ008)
        with pytest.raises(errors.InvalidMaxJobsError):
            db.report_and_fetch(conn, process, results, "*", 0)
    else:  # the session dies inside the transaction (its report waits for a row lock)
        pid = conn.info.backend_pid
        killer = db_connect()

        def kill_once_waiting() -> None:
            deadline = time.monotonic() + 10
            while time.monotonic() < deadline:
                row = killer.execute(
                    "select wait_event_type from pg_stat_activity where pid = %s", (pid,)
                ).fetchone()
                if row is not None and row[0] == "Lock":
                    killer.execute("select pg_terminate_backend(%s)", (pid,))
                    return
                time.sleep(0.01)

        with db_connect() as locker, locker.transaction():
            locker.execute("select 1 from goodjob_jobs where id = %s for update", (running,))
            thread = threading.Thread(target=kill_once_waiting, daemon=True)
            thread.start()
            with pytest.raises(psycopg.OperationalError):
                db.report_and_fetch(conn, process, results, "*", 5)
            thread.join(10)
    assert _states(db_conn) == {running: "running", ready: "queued"}
    if failing != "connection":  # the session is usable again, outside any transaction
        assert conn.info.transaction_status is psycopg.pq.TransactionStatus.IDLE
        outcomes, jobs = db.report_and_fetch(conn, process, results, "*", 5)
        assert [o.accepted for o in outcomes] == [True]
        assert [j.id for j in jobs] == [ready]


def test_wait_and_unwait(db_conn: Conn, db_connect: Callable[..., Conn], process: UUID) -> None:
    def rows() -> list[tuple[Any, ...]]:
        return db_conn.execute("select process_id, pool from goodjob_waiting_pools").fetchall()

    assert db.wait(db_conn, process, 2) is True
    assert db.wait(db_conn, process, 2) is True  # once is enough; twice is one row
    assert rows() == [(process, 2)]
    db.unwait(db_conn, process, 2)
    assert rows() == []
    other = db_connect()
    with other.transaction():  # an enqueue in flight holds the gate: wait says no
        db.enqueue(other, "t")
        assert db.wait(db_conn, process) is False
        assert rows() == []
    assert db.wait(db_conn, process) is True
    assert rows() == [(process, 0)]
    with pytest.raises(errors.ProcessLeaseError):
        db.wait(db_conn, uuid4())


def test_operator_functions(db_conn: Conn, process: UUID) -> None:
    job_id = db.enqueue(db_conn, "t", queue="ops")
    when = datetime(2032, 1, 1, tzinfo=UTC)
    assert db.reschedule_job(db_conn, job_id, when) == job_id
    assert db.discard_job(db_conn, job_id, "no") == job_id
    job = db.get_job(db_conn, job_id)
    assert job is not None and (job.state, job.last_error) == (State.DISCARDED, "no")
    assert db.retry_job(db_conn, job_id) == job_id
    db.pause(db_conn, queue="ops")
    assert db.fetch_and_lock(db_conn, process) == []
    (stats,) = db.queue_stats(db_conn)
    assert (stats["queue"], stats["queued"], stats["paused"]) == ("ops", 1, True)
    db.resume(db_conn, queue="ops")
    (claimed,) = db.fetch_and_lock(db_conn, process)
    db.report_results(db_conn, process, [Result(job_id, claimed.attempts, Outcome.SUCCEEDED)])
    assert db.cleanup_preserved_jobs(db_conn, 3600) == 0
    assert db.cleanup_preserved_jobs(db_conn, timedelta(0), include_discarded=False) == 1
    assert db.get_job(db_conn, job_id) is None


@pytest.mark.parametrize(
    ("call", "error", "message"),
    [
        (lambda c: db.enqueue(c, ""), errors.InvalidTaskNameError, "invalid task name ''"),
        (lambda c: db.enqueue(c, "t", queue="a b"), errors.InvalidQueueNameError, "a b"),
        (
            lambda c: db.enqueue(c, "t", max_attempts=0),
            errors.InvalidMaxAttemptsError,
            "at least 1",
        ),
        (lambda c: db.enqueue(c, "t", labels=[""]), errors.InvalidJobSpecError, "invalid label"),
        (
            lambda c: db.enqueue_many(c, [{"task": "t", "bogus": 1}]),
            errors.InvalidJobSpecError,
            "bogus",
        ),
        (
            lambda c: db.define_task(c, "t", backoff="x"),
            errors.InvalidTaskDefinitionError,
            "backoff",
        ),
        (lambda c: db.fetch_and_lock(c, uuid4()), errors.ProcessLeaseError, "unknown process"),
        (lambda c: db.retry_job(c, UUID(int=9)), errors.JobNotFoundError, "not found"),
        (lambda c: db.pause(c), errors.InvalidOperatorArgumentError, "nothing to pause"),
        (
            lambda c: db.cleanup_preserved_jobs(c, -1),
            errors.InvalidOperatorArgumentError,
            "older_than",
        ),
    ],
)
def test_error_translation(
    db_conn: Conn, call: Callable[[Conn], Any], error: type[errors.SQLError], message: str
) -> None:
    with pytest.raises(error, match=message) as info:
        call(db_conn)
    assert isinstance(info.value.__cause__, psycopg.Error)
    assert info.value.__cause__.diag.sqlstate == error.sqlstate


def test_translation_of_selector_and_max_jobs(db_conn: Conn, process: UUID) -> None:
    with pytest.raises(errors.InvalidQueueSelectorError):
        db.fetch_and_lock(db_conn, process, "a,,b")
    with pytest.raises(errors.InvalidMaxJobsError):
        db.fetch_and_lock(db_conn, process, "*", 0)


def test_state_error_keeps_hint(db_conn: Conn, process: UUID) -> None:
    job_id = db.enqueue(db_conn, "t")
    db.fetch_and_lock(db_conn, process)
    with pytest.raises(errors.JobStateError, match=r"cannot discard job .*: it is running") as info:
        db.discard_job(db_conn, job_id)
    assert info.value.hint == "Only scheduled or queued jobs can be discarded."


def test_other_errors_pass_through(db_conn: Conn) -> None:
    db_conn.execute("drop table goodjob_jobs cascade")
    with pytest.raises(psycopg.errors.UndefinedTable):
        db.get_job(db_conn, uuid4())


def test_calls_join_the_callers_transaction(db_conn: Conn, db_connect: Callable[..., Conn]) -> None:
    other = db_connect()
    with db_conn.transaction() as tx:
        job_id = db.enqueue(db_conn, "t")
        assert db.get_job(other, job_id) is None
        raise psycopg.Rollback(tx)
    assert db.get_job(db_conn, job_id) is None
