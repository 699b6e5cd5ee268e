"""SQLAlchemy: enqueue in a Session's or Connection's transaction; migrations on a bind."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from typing import Any

import psycopg
import pytest
from sqlalchemy import Engine, create_engine, text
from sqlalchemy.ext.asyncio import AsyncSession, create_async_engine
from sqlalchemy.orm import Session

from goodjob_pg import App
from goodjob_pg.contrib.sqlalchemy import apply_migrations

Conn = psycopg.Connection[Any]


def sa_url(db_url: str) -> str:
    return db_url.replace("postgresql://", "postgresql+psycopg://", 1)


@pytest.fixture
def engine(db_url: str) -> Iterator[Engine]:
    engine = create_engine(sa_url(db_url))
    yield engine
    engine.dispose()


@pytest.fixture
def app(db_url: str) -> Iterator[App]:
    with App(db_url) as app:
        yield app


def tags(conn: Conn) -> list[str]:
    return sorted(r[0][0] for r in conn.execute("select args from goodjob_jobs"))


def test_session_commit_runs_once_and_rollback_never(
    app: App, engine: Engine, db_conn: Conn
) -> None:
    ran: list[str] = []

    @app.task
    def f(tag: str) -> None:
        ran.append(tag)

    db_conn.execute("create table orders (id int primary key)")
    with pytest.raises(RuntimeError), Session(engine) as session, session.begin():
        session.execute(text("insert into orders values (1)"))
        f.options(connection=session).enqueue("rolled back")
        raise RuntimeError("the order failed")
    with Session(engine) as session, session.begin():
        session.execute(text("insert into orders values (2)"))
        f.options(connection=session).enqueue("committed")
        assert tags(db_conn) == []  # not before commit
    assert db_conn.execute("select array_agg(id) from orders").fetchone() == ([2],)
    assert app.perform_inline() == 1 and app.perform_inline() == 0
    assert ran == ["committed"]


def test_connection_is_begun_so_commit_commits_the_job(
    app: App, engine: Engine, db_conn: Conn
) -> None:
    @app.task
    def f(tag: str) -> None: ...

    with engine.connect() as conn:
        f.options(connection=conn).enqueue("committed")  # no SQLAlchemy statement before it
        conn.commit()
        f.options(connection=conn).enqueue("closed without commit")
    with engine.begin() as conn:
        f.options(connection=conn).enqueue("engine.begin")
    assert tags(db_conn) == ["committed", "engine.begin"]
    with pytest.raises(TypeError, match="an Engine has no transaction to join"):
        f.options(connection=engine).enqueue("x")


def test_async_session(app: App, db_url: str, db_conn: Conn) -> None:
    @app.task
    async def f(tag: str) -> None: ...

    async def main() -> None:
        aengine = create_async_engine(sa_url(db_url))
        try:
            async with AsyncSession(aengine) as session:
                await f.options(connection=session).aenqueue("rolled back")
                await session.rollback()
                async with session.begin():
                    await f.options(connection=session).aenqueue("committed")
        finally:
            await aengine.dispose()

    asyncio.run(main())
    assert tags(db_conn) == ["committed"]


def test_migrations_run_inside_the_bind_transaction(empty_db_url: str) -> None:
    engine = create_engine(sa_url(empty_db_url))
    try:
        with engine.connect() as conn:  # what Alembic's op.get_bind() is
            applied = apply_migrations(conn)
            assert applied and all(now for _, now in applied)
            conn.rollback()
        with psycopg.connect(empty_db_url) as check:
            exists = check.execute("select to_regclass('goodjob_jobs') is not null").fetchone()
            assert exists == (False,)  # rolled back with the caller
        with engine.begin() as conn:
            apply_migrations(conn)
        with engine.begin() as conn:
            assert all(not now for _, now in apply_migrations(conn))  # applied once
            assert conn.execute(text("select count(*) from goodjob_jobs")).scalar() == 0
    finally:
        engine.dispose()
