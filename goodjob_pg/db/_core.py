"""Shared pieces of the db package: the connection type and error translation."""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence
from datetime import timedelta
from typing import Any, ParamSpec, TypeVar

import psycopg

from .. import errors
from ..jobs import JOB_COLUMNS

Conn = psycopg.Connection[Any]
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
            err = translate(exc)
            if err is exc:
                raise
            raise err from exc

    return wrapper


def one(conn: Conn, query: str, params: Sequence[Any]) -> Any:
    """Run a query and return the first column of its single row."""
    row = conn.execute(query, params).fetchone()
    assert row is not None
    return row[0]


def interval(value: float | timedelta) -> timedelta:
    """Seconds or a timedelta, as a timedelta."""
    return value if isinstance(value, timedelta) else timedelta(seconds=value)
