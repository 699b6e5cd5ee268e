"""Failure, retry with backoff and discard at max_attempts, through the SQL core.

Time is never waited for: either the task's backoff is a constant 0 seconds,
or fetch and report are given ``as_of`` to step the clock forward.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import psycopg
from psycopg.types.json import Jsonb

Conn = psycopg.Connection[tuple[Any, ...]]


def _register(conn: Conn) -> Any:
    row = conn.execute(
        "select goodjob_register_process(hostname => 'test', pid => pg_backend_pid(),"
        " queues => '*')"
    ).fetchone()
    assert row is not None
    return row[0]


def _fetch(conn: Conn, process_id: Any, max_jobs: int, as_of: datetime | None = None) -> list[Any]:
    if as_of is None:
        return conn.execute(
            "select id, attempts from goodjob_fetch_and_lock(process_id => %s, max_jobs => %s)",
            (process_id, max_jobs),
        ).fetchall()
    return conn.execute(
        "select id, attempts from goodjob_fetch_and_lock("
        "process_id => %s, max_jobs => %s, as_of => %s)",
        (process_id, max_jobs, as_of),
    ).fetchall()


def _fail(conn: Conn, process_id: Any, rows: list[Any], as_of: datetime | None = None) -> list[Any]:
    results = [
        {
            "id": str(job_id),
            "attempt": attempt,
            "outcome": "failed",
            "error_class": "RuntimeError",
            "error_message": f"boom {attempt}",
            "error_backtrace": "Traceback ...",
        }
        for job_id, attempt in rows
    ]
    if as_of is None:
        return conn.execute(
            "select id, accepted, state, run_at from goodjob_report_results("
            "process_id => %s, results => %s)",
            (process_id, Jsonb(results)),
        ).fetchall()
    return conn.execute(
        "select id, accepted, state, run_at from goodjob_report_results("
        "process_id => %s, results => %s, as_of => %s)",
        (process_id, Jsonb(results), as_of),
    ).fetchall()


def test_failing_jobs_retry_then_are_discarded_after_max_attempts(db_conn: Conn) -> None:
    db_conn.execute(
        "select goodjob_define_task(name => 'flaky', max_attempts => 3,"
        " backoff => 'constant', backoff_base => 0)"
    )
    ids = {
        row[0]
        for row in db_conn.execute(
            "select goodjob_enqueue_many(%s)", (Jsonb([{"task": "flaky"}] * 50),)
        ).fetchall()
    }
    process_id = _register(db_conn)

    for attempt in (1, 2, 3):
        rows = _fetch(db_conn, process_id, 100)
        assert {job_id for job_id, _ in rows} == ids
        assert {a for _, a in rows} == {attempt}
        outcomes = _fail(db_conn, process_id, rows)
        assert all(accepted for _, accepted, _, _ in outcomes)
        expected = "scheduled" if attempt < 3 else "discarded"
        assert {state for _, _, state, _ in outcomes} == {expected}
        if attempt < 3:
            # A waiting retry is 'scheduled' with its error recorded.
            assert db_conn.execute(
                "select count(*) from goodjob_jobs where state = 'scheduled'"
                " and last_error = %s and attempts = %s and locked_by is null",
                (f"RuntimeError: boom {attempt}", attempt),
            ).fetchone() == (50,)
        else:
            assert all(run_at is None for _, _, _, run_at in outcomes)

    # Nothing is left to run, and nothing ran more than max_attempts times.
    assert _fetch(db_conn, process_id, 100) == []
    assert db_conn.execute(
        "select state, attempts, last_error, finished_at is not null, count(*)"
        " from goodjob_jobs group by 1, 2, 3, 4"
    ).fetchall() == [("discarded", 3, "RuntimeError: boom 3", True, 50)]
    rows = db_conn.execute(
        "select attempt, outcome, error_class, error_message, error_backtrace, count(*)"
        " from goodjob_executions where finished_at is not null group by 1, 2, 3, 4, 5 order by 1"
    ).fetchall()
    assert rows == [
        (1, "failed", "RuntimeError", "boom 1", "Traceback ...", 50),
        (2, "failed", "RuntimeError", "boom 2", "Traceback ...", 50),
        (3, "discarded", "RuntimeError", "boom 3", "Traceback ...", 50),
    ]
    assert db_conn.execute("select count(*) from goodjob_executions").fetchone() == (150,)


def test_backoff_delays_the_next_attempt(db_conn: Conn) -> None:
    """The default (polynomial) backoff: attempt N waits N^4 + 2 seconds."""
    job_id = db_conn.execute(
        "select goodjob_enqueue(task => 'slow_retry', max_attempts => 3)"
    ).fetchone()[0]  # type: ignore[index]
    process_id = _register(db_conn)
    t0 = db_conn.execute("select now()").fetchone()[0]  # type: ignore[index]

    clock = t0
    for attempt, wait in ((1, 3), (2, 18)):  # 1^4 + 2, 2^4 + 2
        rows = _fetch(db_conn, process_id, 10, as_of=clock)
        assert rows == [(job_id, attempt)]
        [(_, accepted, state, run_at)] = _fail(db_conn, process_id, rows, as_of=clock)
        assert (accepted, state) == (True, "scheduled")
        assert run_at == clock + timedelta(seconds=wait)
        # Not due a moment before its run time, even if asked repeatedly.
        assert _fetch(db_conn, process_id, 10, as_of=run_at - timedelta(milliseconds=1)) == []
        assert db_conn.execute(
            "select state from goodjob_jobs where id = %s", (job_id,)
        ).fetchone() == ("scheduled",)
        clock = run_at

    rows = _fetch(db_conn, process_id, 10, as_of=clock)
    assert rows == [(job_id, 3)]
    [(_, accepted, state, run_at)] = _fail(db_conn, process_id, rows, as_of=clock)
    assert (accepted, state, run_at) == (True, "discarded", None)
    assert db_conn.execute(
        "select state, attempts, finished_at from goodjob_jobs where id = %s", (job_id,)
    ).fetchone() == ("discarded", 3, clock)
    assert db_conn.execute(
        "select array_agg(outcome order by attempt) from goodjob_executions where job_id = %s",
        (job_id,),
    ).fetchone() == (["failed", "failed", "discarded"],)
    # Much later: still discarded, never fetched again.
    assert _fetch(db_conn, process_id, 10, as_of=clock + timedelta(days=365)) == []


def test_retry_outcome_and_immediate_discard(db_conn: Conn) -> None:
    """'retry' counts the attempt and runs again now; 'discarded' is final at once."""
    retried, discarded = (
        row[0]
        for row in db_conn.execute(
            "select goodjob_enqueue_many(%s)",
            (Jsonb([{"task": "a", "max_attempts": 2}, {"task": "b", "max_attempts": 5}]),),
        ).fetchall()
    )
    process_id = _register(db_conn)
    rows = dict(_fetch(db_conn, process_id, 10))
    assert rows == {retried: 1, discarded: 1}
    outcomes = db_conn.execute(
        "select id, accepted, state from goodjob_report_results(process_id => %s, results => %s)",
        (
            process_id,
            Jsonb(
                [
                    {"id": str(retried), "attempt": 1, "outcome": "retry"},
                    {
                        "id": str(discarded),
                        "attempt": 1,
                        "outcome": "discarded",
                        "error_class": "Fatal",
                        "error_message": "no",
                    },
                ]
            ),
        ),
    ).fetchall()
    assert outcomes == [(retried, True, "queued"), (discarded, True, "discarded")]

    # The retried job is ready at once, as attempt 2; asking to retry the
    # last attempt discards it.
    assert _fetch(db_conn, process_id, 10) == [(retried, 2)]
    outcomes = db_conn.execute(
        "select id, accepted, state from goodjob_report_results(process_id => %s, results => %s)",
        (process_id, Jsonb([{"id": str(retried), "attempt": 2, "outcome": "retry"}])),
    ).fetchall()
    assert outcomes == [(retried, True, "discarded")]
    assert _fetch(db_conn, process_id, 10) == []
