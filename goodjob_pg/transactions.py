"""Enqueue through the caller's own connection, inside the caller's transaction.

``task.options(connection=...)`` takes any of these; the job is written with
the caller's connection, so it commits or rolls back with the caller's
transaction, and workers hear its NOTIFY only at commit:

- a psycopg ``Connection`` or ``Cursor``; with ``aenqueue`` also an
  ``AsyncConnection`` or ``AsyncCursor``;
- a psycopg_pool ``ConnectionPool`` or ``AsyncConnectionPool`` (the app's own
  pool): a connection is borrowed for the enqueue and given back, which
  commits it, so the job is its own transaction;
- a SQLAlchemy ``Connection`` or ``Session`` (``AsyncConnection`` or
  ``AsyncSession`` with ``aenqueue``) on the ``postgresql+psycopg`` dialect:
  see :mod:`goodjob_pg.contrib.sqlalchemy`;
- a Django connection (``django.db.connection`` or ``connections[alias]``) on
  the psycopg 3 driver: see :mod:`goodjob_pg.contrib.django`.

SQLAlchemy and Django are recognised by their module names, so neither is
imported unless it is used.

With an App in a named schema (``schema=``), the statements run inside
:func:`goodjob_pg.schemas.scoped_search_path`: the caller's search_path is
set to that schema for them and restored after, in the caller's transaction.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from typing import Any, TypeVar
from uuid import UUID

import psycopg
from psycopg_pool import AsyncConnectionPool, ConnectionPool

from . import db
from .schemas import ascoped_search_path, scoped_search_path

__all__ = ["aenqueue_on", "arun_on", "enqueue_on", "is_async_connection", "run_on"]

T = TypeVar("T")

_SYNC = (psycopg.Connection, psycopg.Cursor)
_ASYNC = (psycopg.AsyncConnection, psycopg.AsyncCursor)


def is_async_connection(target: object) -> bool:
    """Whether ``target`` must be used from ``aenqueue`` (async psycopg or SQLAlchemy asyncio)."""
    return isinstance(target, (*_ASYNC, AsyncConnectionPool)) or type(target).__module__.startswith(
        "sqlalchemy.ext.asyncio"
    )


def _in_schema(fn: Callable[[db.Executor], T], schema: str | None) -> Callable[[db.Executor], T]:
    if schema is None:
        return fn

    def call(executor: db.Executor) -> T:
        conn = executor if isinstance(executor, psycopg.Connection) else executor.connection
        with scoped_search_path(conn, schema):
            return fn(executor)

    return call


def _ain_schema(
    fn: Callable[[db.AsyncExecutor], Awaitable[T]], schema: str | None
) -> Callable[[db.AsyncExecutor], Awaitable[T]]:
    if schema is None:
        return fn

    async def call(executor: db.AsyncExecutor) -> T:
        conn = executor if isinstance(executor, psycopg.AsyncConnection) else executor.connection
        async with ascoped_search_path(conn, schema):
            return await fn(executor)

    return call


def run_on(target: object, fn: Callable[[db.Executor], T], *, schema: str | None = None) -> T:
    """Call ``fn`` with the psycopg connection or cursor ``target`` stands for.

    A pool lends a connection for the call (committed when given back); a
    SQLAlchemy or Django connection gives its psycopg connection, in its
    transaction. An async ``target`` is a TypeError (use :func:`arun_on`).
    With ``schema``, ``fn`` runs with the search_path set to it (then restored).
    """
    fn = _in_schema(fn, schema)
    if isinstance(target, _SYNC):
        return fn(target)
    if isinstance(target, ConnectionPool):
        with target.connection() as conn:
            return fn(conn)
    if is_async_connection(target):
        raise TypeError(f"{_describe(target)} is async: use aenqueue() with it, not enqueue()")
    return fn(_foreign_connection(target))


async def arun_on(
    target: object, fn: Callable[[db.AsyncExecutor], Awaitable[T]], *, schema: str | None = None
) -> T:
    """:func:`run_on` for an async ``target``."""
    fn = _ain_schema(fn, schema)
    if isinstance(target, _ASYNC):
        return await fn(target)
    if isinstance(target, AsyncConnectionPool):
        async with target.connection() as conn:
            return await fn(conn)
    if type(target).__module__.startswith("sqlalchemy.ext.asyncio"):
        from .contrib.sqlalchemy import async_psycopg_connection

        return await fn(await async_psycopg_connection(target))
    raise TypeError(f"{_describe(target)} is not an async connection")


def enqueue_on(
    target: object,
    task: str,
    args: Sequence[Any],
    kwargs: dict[str, Any],
    options: Any,
    schema: str | None = None,
) -> UUID | None:
    """Enqueue one job through ``target`` (see the module docstring); returns its id.

    ``options`` are :func:`goodjob_pg.db.enqueue`'s keyword options; ``schema`` the App's.
    """
    return run_on(
        target, lambda conn: db.enqueue(conn, task, args, kwargs, **options), schema=schema
    )


async def aenqueue_on(
    target: object,
    task: str,
    args: Sequence[Any],
    kwargs: dict[str, Any],
    options: Any,
    schema: str | None = None,
) -> UUID | None:
    """:func:`enqueue_on` for an async ``target``."""
    return await arun_on(
        target, lambda conn: db.aenqueue(conn, task, args, kwargs, **options), schema=schema
    )


def _foreign_connection(target: object) -> psycopg.Connection[Any]:
    """The psycopg connection inside a SQLAlchemy or Django connection, in its transaction."""
    module = type(target).__module__
    if module.startswith("sqlalchemy."):
        from .contrib.sqlalchemy import psycopg_connection

        return psycopg_connection(target)
    if module.startswith("django."):
        from .contrib.django.connection import psycopg_connection as django_connection

        return django_connection(target)
    raise TypeError(
        f"connection= must be a psycopg Connection or Cursor, a psycopg_pool pool, a SQLAlchemy"
        f" Connection or Session, or a Django connection, not {_describe(target)}"
    )


def _describe(target: object) -> str:
    cls = type(target)
    return f"{cls.__module__}.{cls.__qualname__}"
