"""Enqueue in the caller's transaction: psycopg connections, cursors, pools, sync and async.

A job enqueued in a transaction that rolls back never exists (so never runs);
one enqueued in a transaction that commits runs exactly once.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator
from typing import Any
from uuid import UUID

import psycopg
import pytest
from psycopg_pool import AsyncConnectionPool, ConnectionPool

from goodjob_pg import App
from goodjob_pg.worker import WorkerConfig

Conn = psycopg.Connection[Any]


@pytest.fixture
def app(db_url: str) -> Iterator[App]:
    with App(db_url) as app:
        yield app


def job_count(conn: Conn) -> int:
    row = conn.execute("select count(*) from goodjob_jobs").fetchone()
    assert row is not None
    return int(row[0])


def runs(conn: Conn, job_id: UUID) -> list[str]:
    return [
        r[0]
        for r in conn.execute(
            "select outcome from goodjob_executions where job_id = %s order by attempt", (job_id,)
        )
    ]


def test_connection_and_cursor_commit_or_roll_back_with_the_caller(
    app: App, db_url: str, db_conn: Conn
) -> None:
    ran: list[int] = []

    @app.task
    def f(x: int) -> None:
        ran.append(x)

    with psycopg.connect(db_url) as conn:
        f.options(connection=conn).enqueue(1)
        with conn.cursor() as cur:
            f.options(connection=cur).enqueue(2)
        assert job_count(db_conn) == 0  # not visible before commit
        conn.rollback()
        kept = f.options(connection=conn).enqueue(3)
        with conn.cursor() as cur:
            kept_by_cursor = f.options(connection=cur).enqueue(4)
        with conn.transaction():  # a savepoint inside the open transaction
            f.options(connection=conn).enqueue(5)
        conn.commit()
    assert app.perform_inline() == 3
    assert sorted(ran) == [3, 4, 5]
    assert runs(db_conn, kept) == ["succeeded"] and runs(db_conn, kept_by_cursor) == ["succeeded"]
    assert app.perform_inline() == 0  # once


def test_a_failed_savepoint_drops_only_its_job(app: App, db_url: str, db_conn: Conn) -> None:
    @app.task
    def f(x: int) -> None: ...

    with psycopg.connect(db_url) as conn:
        f.options(connection=conn).enqueue(1)
        with pytest.raises(ZeroDivisionError), conn.transaction():
            f.options(connection=conn).enqueue(2)
            raise ZeroDivisionError
        conn.commit()
    assert [r[0] for r in db_conn.execute("select args from goodjob_jobs")] == [[1]]


def test_pools_commit_each_enqueue(app: App, db_url: str, db_conn: Conn) -> None:
    @app.task
    def f() -> None: ...

    with ConnectionPool(db_url, min_size=1, max_size=1) as pool:
        job_id = f.options(connection=pool).enqueue()
    assert runs(db_conn, job_id) == [] and job_count(db_conn) == 1

    async def main() -> UUID:
        async with AsyncConnectionPool(db_url, min_size=1, max_size=1) as apool:
            return await f.options(connection=apool).aenqueue()

    asyncio.run(main())
    assert job_count(db_conn) == 2


def test_async_connection_and_cursor(app: App, db_url: str, db_conn: Conn) -> None:
    ran: list[str] = []

    @app.task
    async def f(tag: str) -> None:
        ran.append(tag)

    async def main() -> None:
        async with await psycopg.AsyncConnection.connect(db_url) as conn:
            await f.options(connection=conn).aenqueue("rolled back")
            async with conn.cursor() as cur:
                await f.options(connection=cur).aenqueue("rolled back too")
            await conn.rollback()
            await f.options(connection=conn).aenqueue("committed")
            async with conn.cursor() as cur:
                await f.options(connection=cur).aenqueue("committed by cursor")
            assert job_count(db_conn) == 0
            await conn.commit()
        # A sync connection works from async code too (in a thread).
        with psycopg.connect(db_url) as sync_conn:
            await f.options(connection=sync_conn).aenqueue("sync")

    asyncio.run(main())
    assert app.perform_inline() == 3
    assert sorted(ran) == ["committed", "committed by cursor", "sync"]


def test_wrong_kinds_of_connection_are_type_errors(app: App, db_url: str) -> None:
    @app.task
    def f() -> None: ...

    with pytest.raises(TypeError, match="connection= must be a psycopg Connection"):
        f.options(connection=object()).enqueue()

    async def main() -> None:
        async with await psycopg.AsyncConnection.connect(db_url) as conn:
            with pytest.raises(TypeError, match="is async: use aenqueue"):
                f.options(connection=conn).enqueue()

    asyncio.run(main())


def test_a_worker_sees_the_job_at_commit(db_url: str, db_conn: Conn) -> None:
    done = threading.Event()
    seen: list[str] = []
    with App(db_url) as app:

        @app.task
        def f(tag: str) -> None:
            seen.append(tag)
            if tag == "committed":
                done.set()

        app.start(WorkerConfig(queues="*:1", poll_interval=30))
        with psycopg.connect(db_url) as conn:
            f.options(connection=conn).enqueue("rolled back")
            conn.rollback()
            f.options(connection=conn).enqueue("committed")
            conn.commit()  # NOTIFY is delivered now
        assert done.wait(20), "the worker did not run the committed job"
        app.stop(timeout=10)
    assert seen == ["committed"]
    assert job_count(db_conn) == 1  # the rolled-back job never existed, so it can never run


def test_enqueue_many_is_one_statement_in_the_callers_transaction(
    app: App, db_url: str, db_conn: Conn
) -> None:
    ran: list[Any] = []

    @app.task(queue="bulk")
    def f(x: int, *, tag: str = "") -> None:
        ran.append((x, tag))

    with psycopg.connect(db_url) as conn:
        app.enqueue_many([f.job(1), f.job(2)], connection=conn)
        conn.rollback()
        ids = app.enqueue_many(
            [f.job(3, tag="a"), f.options(priority=-1).job(4), app.options(f.name).job(5)],
            connection=conn,
        )
        assert job_count(db_conn) == 0
        conn.commit()
    rows = db_conn.execute(
        "select id, args, kwargs, queue, priority from goodjob_jobs order by args"
    ).fetchall()
    assert [r[0] for r in rows] == ids
    assert [(r[1], r[2], r[3], r[4]) for r in rows] == [
        ([3], {"tag": "a"}, "bulk", 0),
        ([4], {}, "bulk", -1),
        ([5], {}, "bulk", 0),
    ]
    # Checked before anything is written: a bad second job writes neither.
    with pytest.raises(TypeError, match="missing a required argument"):
        app.enqueue_many([f.job(6), f.job()])  # type: ignore[call-arg]
    with pytest.raises(ValueError, match="not to each job's options"):
        app.enqueue_many([f.options(connection=db_conn).job(7)])
    assert app.enqueue_many([]) == [] and job_count(db_conn) == 3
    assert app.perform_inline() == 3 and sorted(ran) == [(3, "a"), (4, ""), (5, "")]

    async def main() -> list[UUID]:
        async with await psycopg.AsyncConnection.connect(db_url) as aconn:
            await app.aenqueue_many([f.job(8)], connection=aconn)
            await aconn.rollback()
            ids = await app.aenqueue_many([f.job(9), f.job(10)], connection=aconn)
            await aconn.commit()
        return ids + await app.aenqueue_many([f.job(11)])  # the App's pool

    assert len(asyncio.run(main())) == 3
    assert job_count(db_conn) == 6
