"""Shared pieces of the db package: the connection type and error translation."""

from __future__ import annotations

import functools
from collections.abc import Awaitable, Callable, Sequence
from datetime import timedelta
from typing import Any, NoReturn, ParamSpec, TypeVar

import psycopg

from .. import errors
from ..jobs import JOB_COLUMNS

Conn = psycopg.Connection[Any]
# What a single statement can run on: a connection or a cursor (the caller's, in its transaction).
Executor = psycopg.Connection[Any] | psycopg.Cursor[Any]
AsyncExecutor = psycopg.AsyncConnection[Any] | psycopg.AsyncCursor[Any]
P = ParamSpec("P")
T = TypeVar("T")

COLS = ", ".join(JOB_COLUMNS)


def translate(exc: psycopg.Error) -> BaseException:
    """Map a psycopg error with a goodjob SQLSTATE to its goodjob_pg error.

    Returns the new exception (keeping the server's message, detail and
    hint), or ``exc`` itself when its SQLSTATE is not one of ours.
    """
    diag = exc.diag
    cls = errors.SQLSTATE_ERRORS.get(diag.sqlstate or "")
    if cls is None:
        return exc
    return cls(diag.message_primary or str(exc), detail=diag.message_detail, hint=diag.message_hint)


def translated(fn: Callable[P, T]) -> Callable[P, T]:
    """Decorate a db function so goodjob SQLSTATEs surface as goodjob_pg errors."""

    @functools.wraps(fn)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> T:
        try:
            return fn(*args, **kwargs)
        except psycopg.Error as exc:
            _raise_translated(exc)

    return wrapper


def atranslated(fn: Callable[P, Awaitable[T]]) -> Callable[P, Awaitable[T]]:
    """:func:`translated` for coroutine functions."""

    @functools.wraps(fn)
    async def wrapper(*args: P.args, **kwargs: P.kwargs) -> T:
        try:
            return await fn(*args, **kwargs)
        except psycopg.Error as exc:
            _raise_translated(exc)

    return wrapper


def _raise_translated(exc: psycopg.Error) -> NoReturn:
    err = translate(exc)
    if err is exc:
        raise exc
    raise err from exc


def one(conn: Executor, query: str, params: Sequence[Any]) -> Any:
    """Run a query on a connection or cursor and return the first column of its single row."""
    row = conn.execute(query, params).fetchone()
    assert row is not None
    return row[0]


async def aone(conn: AsyncExecutor, query: str, params: Sequence[Any]) -> Any:
    """:func:`one` on an async connection or cursor."""
    cur = await conn.execute(query, params)
    row = await cur.fetchone()
    assert row is not None
    return row[0]


def interval(value: float | timedelta) -> timedelta:
    """Seconds or a timedelta, as a timedelta."""
    return value if isinstance(value, timedelta) else timedelta(seconds=value)
