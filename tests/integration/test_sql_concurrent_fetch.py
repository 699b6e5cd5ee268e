"""Several sessions drain one queue table at once through the SQL core.

Plain psycopg against ``goodjob_fetch_and_lock`` / ``goodjob_report_results``:
every job must be claimed exactly once and end ``succeeded`` exactly once,
while jobs are still being enqueued (single-row calls) during the drain.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any

import psycopg
import pytest
from psycopg.types.json import Jsonb

Connect = Callable[..., psycopg.Connection[tuple[Any, ...]]]

TOTAL = 10_000
BULK = 6_000  # one goodjob_enqueue_many before the drain starts
SINGLE = TOTAL - BULK  # single goodjob_enqueue calls, made while the workers drain
BATCH = 100
QUEUES = ("q0", "q1", "q2")


def _register(conn: psycopg.Connection[tuple[Any, ...]], queues: str) -> Any:
    row = conn.execute(
        "select goodjob_register_process(hostname => 'test', pid => pg_backend_pid(),"
        " queues => %s)",
        (queues,),
    ).fetchone()
    assert row is not None
    return row[0]


def _drain(
    connect: Connect,
    selector: str,
    enqueuing_done: threading.Event,
    start: threading.Barrier,
    claimed: list[tuple[Any, int]],
    errors: list[BaseException],
) -> None:
    """One worker session: fetch batches, report them all succeeded, until idle."""
    try:
        conn = connect()
        process_id = _register(conn, selector)
        start.wait(timeout=30)
        while True:
            # Read the flag before fetching: an empty fetch after the last
            # enqueue committed means this worker's share is done.
            finished_enqueuing = enqueuing_done.is_set()
            rows = conn.execute(
                "select id, attempts from goodjob_fetch_and_lock("
                "process_id => %s, queues => %s, max_jobs => %s)",
                (process_id, selector, BATCH),
            ).fetchall()
            if not rows:
                if finished_enqueuing:
                    return
                time.sleep(0.005)
                continue
            assert len(rows) <= BATCH
            claimed.extend((job_id, attempt) for job_id, attempt in rows)
            results = [{"id": str(i), "attempt": a, "outcome": "succeeded"} for i, a in rows]
            outcomes = conn.execute(
                "select id, accepted, state from goodjob_report_results("
                "process_id => %s, results => %s)",
                (process_id, Jsonb(results)),
            ).fetchall()
            assert [o[0] for o in outcomes] == [r[0] for r in rows]
            assert all(accepted and state == "succeeded" for _, accepted, state in outcomes)
    except BaseException as exc:  # reported by the main thread
        errors.append(exc)
        start.abort()


def _enqueue_singles(
    connect: Connect,
    start: threading.Barrier,
    done: threading.Event,
    errors: list[BaseException],
) -> None:
    try:
        conn = connect()
        start.wait(timeout=30)
        for chunk in range(0, SINGLE, 200):
            # Each call enqueues one job; 200 calls per transaction keeps it quick.
            with conn.transaction(), conn.cursor() as cur:
                cur.executemany(
                    "select goodjob_enqueue(task => 'single', args => %s, queue => %s)",
                    [
                        (Jsonb([n]), QUEUES[n % len(QUEUES)])
                        for n in range(chunk, min(chunk + 200, SINGLE))
                    ],
                )
    except BaseException as exc:
        errors.append(exc)
        start.abort()
    finally:
        done.set()


@pytest.mark.parametrize(
    "selectors",
    [
        pytest.param(("*", "*"), id="two-sessions-all-queues"),
        pytest.param(
            ("*", "q0,q1,q2", "+q2,q1,q0", "-nothing"), id="four-sessions-mixed-selectors"
        ),
    ],
)
def test_concurrent_fetch_claims_every_job_exactly_once(
    db_conn: psycopg.Connection[tuple[Any, ...]],
    db_connect: Connect,
    selectors: tuple[str, ...],
) -> None:
    bulk = [
        {"task": "bulk", "args": [n], "queue": QUEUES[n % len(QUEUES)], "priority": n % 3}
        for n in range(BULK)
    ]
    ids = db_conn.execute("select goodjob_enqueue_many(%s)", (Jsonb(bulk),)).fetchall()
    assert len(ids) == BULK

    start = threading.Barrier(len(selectors) + 1)
    enqueuing_done = threading.Event()
    claimed_by: list[list[tuple[Any, int]]] = [[] for _ in selectors]
    errors: list[BaseException] = []
    threads = [
        threading.Thread(
            target=_drain,
            args=(db_connect, sel, enqueuing_done, start, claimed_by[n], errors),
        )
        for n, sel in enumerate(selectors)
    ]
    threads.append(
        threading.Thread(target=_enqueue_singles, args=(db_connect, start, enqueuing_done, errors))
    )
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert not any(t.is_alive() for t in threads), "a worker thread hung"
    if errors:
        raise errors[0]

    # No job was handed to two sessions (or twice to one), and every one was.
    all_claims = [claim for claims in claimed_by for claim in claims]
    claimed_ids = [job_id for job_id, _ in all_claims]
    assert len(claimed_ids) == TOTAL
    assert len(set(claimed_ids)) == TOTAL
    assert {attempt for _, attempt in all_claims} == {1}
    # Each session did some of the work (a sanity check that they really ran together).
    assert all(claims for claims in claimed_by)

    states = dict(
        db_conn.execute("select state, count(*) from goodjob_jobs group by state").fetchall()
    )
    assert states == {"succeeded": TOTAL}
    assert db_conn.execute(
        "select count(*) from goodjob_jobs where attempts <> 1 or locked_by is not null"
        " or finished_at is null"
    ).fetchone() == (0,)
    assert {row[0] for row in db_conn.execute("select id from goodjob_jobs")} == set(claimed_ids)

    # Exactly one execution per job: attempt 1, succeeded, closed.
    assert db_conn.execute(
        "select count(*), count(distinct job_id), min(attempt), max(attempt),"
        " count(*) filter (where outcome = 'succeeded' and finished_at is not null)"
        " from goodjob_executions"
    ).fetchone() == (TOTAL, TOTAL, 1, 1, TOTAL)
    assert db_conn.execute(
        "select count(*) from goodjob_jobs j"
        " where not exists (select 1 from goodjob_executions e where e.job_id = j.id)"
    ).fetchone() == (0,)
