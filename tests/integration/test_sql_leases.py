"""Process leases in pg_locks: exactly one advisory lock per live worker.

GoodJob leaked advisory locks when a lock function was evaluated more than
once per row (#1735, #285, #1113). goodjob-pg takes one session-level lock
per process, on the registering connection, and nothing else: these tests
read ``pg_locks`` to hold it to that.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import psycopg
import pytest
from psycopg.types.json import Jsonb

Conn = psycopg.Connection[tuple[Any, ...]]
Connect = Callable[..., Conn]

LEASE_NAMESPACE = 1735028839


def _register(conn: Conn, process_id: Any = None) -> Any:
    row = conn.execute(
        "select goodjob_register_process(hostname => 'test', pid => pg_backend_pid(),"
        " queues => '*', id => %s)",
        (process_id,),
    ).fetchone()
    assert row is not None
    return row[0]


def _advisory_locks(observer: Conn, session: Conn) -> list[tuple[Any, ...]]:
    """Advisory locks held by ``session``'s backend: (classid, objid, objsubid, granted)."""
    return observer.execute(
        "select classid::bigint, objid::bigint, objsubid, granted from pg_locks"
        " where locktype = 'advisory' and pid = %s order by 1, 2, 3",
        (session.info.backend_pid,),
    ).fetchall()


def _lease_key(observer: Conn, process_id: Any) -> int:
    row = observer.execute(
        "select lease_key from goodjob_processes where id = %s", (process_id,)
    ).fetchone()
    assert row is not None
    return int(row[0])


def test_each_live_worker_holds_exactly_one_advisory_lock(db_connect: Connect) -> None:
    observer = db_connect()
    workers = [db_connect() for _ in range(3)]
    ids = [_register(w) for w in workers]
    observer.execute("select goodjob_enqueue_many(%s)", (Jsonb([{"task": "t"}] * 300),))

    def check_one_lease_each() -> None:
        for conn, process_id in zip(workers, ids, strict=True):
            assert _advisory_locks(observer, conn) == [
                (LEASE_NAMESPACE, _lease_key(observer, process_id), 2, True)
            ]
        assert observer.execute(
            "select count(*) from pg_locks where locktype = 'advisory' and classid = %s"
            " and database = (select oid from pg_database where datname = current_database())",
            (LEASE_NAMESPACE,),
        ).fetchone() == (len(workers),)

    check_one_lease_each()
    assert len({_lease_key(observer, i) for i in ids}) == len(ids)
    assert observer.execute(
        "select count(*) from goodjob_process_status where alive"
    ).fetchone() == (len(workers),)

    # Fetching, reporting, heartbeats and rescues take no further advisory locks.
    for _ in range(3):
        for conn, process_id in zip(workers, ids, strict=True):
            rows = conn.execute(
                "select id, attempts from goodjob_fetch_and_lock(process_id => %s, max_jobs => 20)",
                (process_id,),
            ).fetchall()
            conn.execute(
                "select * from goodjob_report_results(process_id => %s, results => %s)",
                (
                    process_id,
                    Jsonb([{"id": str(i), "attempt": a, "outcome": "succeeded"} for i, a in rows]),
                ),
            )
            assert conn.execute("select goodjob_heartbeat(%s)", (process_id,)).fetchone() == (True,)
            assert conn.execute("select goodjob_rescue_dead_processes()").fetchone() == (0,)
    check_one_lease_each()

    # Deregistering releases the lease, one worker at a time.
    for n, (conn, process_id) in enumerate(zip(workers, ids, strict=True)):
        assert conn.execute("select goodjob_deregister_process(%s)", (process_id,)).fetchone() == (
            0,
        )
        assert _advisory_locks(observer, conn) == []
        for other in workers[n + 1 :]:
            assert len(_advisory_locks(observer, other)) == 1
    assert observer.execute("select count(*) from goodjob_processes").fetchone() == (0,)


def test_deregister_interrupts_running_jobs_and_releases_the_lease(db_connect: Connect) -> None:
    observer, worker = db_connect(), db_connect()
    process_id = _register(worker)
    observer.execute("select goodjob_enqueue_many(%s)", (Jsonb([{"task": "t"}] * 5),))
    worker.execute(
        "select id from goodjob_fetch_and_lock(process_id => %s, max_jobs => 5)", (process_id,)
    )
    assert worker.execute("select goodjob_deregister_process(%s)", (process_id,)).fetchone() == (5,)
    assert _advisory_locks(observer, worker) == []
    assert observer.execute(
        "select state, attempts, count(*) from goodjob_jobs group by 1, 2"
    ).fetchall() == [("queued", 1, 5)]
    assert observer.execute(
        "select outcome, count(*) from goodjob_executions group by 1"
    ).fetchall() == [("interrupted", 5)]


def test_reregistering_after_a_lost_lease_takes_one_lock(db_connect: Connect) -> None:
    """A worker whose lease session died registers again with its id on a new session."""
    observer, first = db_connect(), db_connect()
    process_id = _register(first)
    key = _lease_key(observer, process_id)
    first.close()
    second = db_connect()
    # The old session may take a moment to end; until then the lease is refused.
    for _ in range(500):
        try:
            assert _register(second, process_id) == process_id
            break
        except psycopg.Error as exc:
            assert exc.sqlstate == "GJ009"
            time.sleep(0.01)
    else:
        pytest.fail("the closed session's lease was never released")
    assert _advisory_locks(observer, second) == [(LEASE_NAMESPACE, key, 2, True)]
    assert second.execute("select goodjob_deregister_process(%s)", (process_id,)).fetchone() == (0,)
    assert _advisory_locks(observer, second) == []


def test_a_held_lease_cannot_be_taken_by_another_session(db_connect: Connect) -> None:
    observer, owner, intruder = db_connect(), db_connect(), db_connect()
    process_id = _register(owner)
    with pytest.raises(psycopg.Error) as excinfo:
        _register(intruder, process_id)
    assert excinfo.value.sqlstate == "GJ009"
    assert _advisory_locks(observer, intruder) == []
    assert len(_advisory_locks(observer, owner)) == 1


def test_registering_twice_on_one_session_does_not_stack_the_lock(db_connect: Connect) -> None:
    """Advisory locks are re-entrant: taking the lease twice would need two unlocks."""
    observer, worker = db_connect(), db_connect()
    process_id = _register(worker)
    assert _register(worker, process_id) == process_id  # e.g. a retried start-up
    assert len(_advisory_locks(observer, worker)) == 1
    assert worker.execute("select goodjob_deregister_process(%s)", (process_id,)).fetchone() == (0,)
    assert _advisory_locks(observer, worker) == []
