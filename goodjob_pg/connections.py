"""The App's connection pool: opened on first use, closed for good by ``close()``."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, TypeVar

import psycopg
from psycopg_pool import ConnectionPool, PoolTimeout

from .errors import AppClosedError

__all__ = ["LazyPool"]

T = TypeVar("T")


class LazyPool:
    """A psycopg ConnectionPool of autocommit connections, created on first use. Thread-safe.

    Parameters:
        conninfo: libpq URL or conninfo ("" for libpq defaults); settable until first use.
        max_size: most connections open at once.
    """

    def __init__(self, conninfo: str, max_size: int) -> None:
        self._conninfo = conninfo
        self._max_size = max(1, max_size)
        self._lock = threading.Lock()
        self._pool: ConnectionPool[psycopg.Connection[Any]] | None = None
        self._closed = False

    @property
    def conninfo(self) -> str:
        """The conninfo connections use."""
        return self._conninfo

    @conninfo.setter
    def conninfo(self, value: str) -> None:
        with self._lock:
            if self._pool is not None or self._closed:
                raise RuntimeError("database_url cannot change once the App has connected")
            self._conninfo = value

    @property
    def opened(self) -> bool:
        """Whether a connection was ever requested."""
        return self._pool is not None

    @property
    def closed(self) -> bool:
        """Whether ``close()`` was called."""
        return self._closed

    def check_open(self) -> None:
        """Raise AppClosedError once closed."""
        if self._closed:
            raise AppClosedError("this App is closed; create a new App to use the database again")

    @contextmanager
    def connection(self) -> Iterator[psycopg.Connection[Any]]:
        """Borrow a connection (the pool opens on first use)."""
        pool = self._pool
        if pool is None:
            with self._lock:
                self.check_open()
                pool = self._pool
                if pool is None:
                    pool = ConnectionPool(
                        self._conninfo,
                        min_size=1,
                        max_size=self._max_size,
                        kwargs={"autocommit": True},
                        open=False,
                        name="goodjob-pg",
                    )
                    pool.open()
                    self._pool = pool
        with pool.connection() as conn:
            yield conn

    def run_idempotent(self, fn: Callable[[psycopg.Connection[Any]], T]) -> T:
        """Run ``fn`` on a pooled connection, once more if the connection was broken.

        Only for calls that are safe to repeat (enqueue with a fixed id).
        Pooled connections broken by a server restart fail once; the idle
        ones are checked (broken ones replaced) before the second try.
        """
        try:
            with self.connection() as conn:
                return fn(conn)
        except PoolTimeout:
            raise
        except psycopg.OperationalError:
            if self._pool is not None:
                self._pool.check()
            with self.connection() as conn:
                return fn(conn)

    def close(self) -> None:
        """Close the pool; later use raises AppClosedError. Idempotent."""
        with self._lock:
            self._closed = True
            pool, self._pool = self._pool, None
        if pool is not None:
            pool.close()
