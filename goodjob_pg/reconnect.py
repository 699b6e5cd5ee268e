"""Worker connections: how they are opened, and how long to wait between tries.

Every worker connection is autocommit (a worker never holds a transaction
across a job), names itself in ``pg_stat_activity`` and asks for short TCP
keepalives on both ends, so a vanished peer is noticed in about half a minute
instead of the operating system's two hours. Errors that mean "the connection
or the server is not usable right now" (class 08, admin shutdown, read-only
standby, ...) are retried with :class:`Backoff`, never treated as job
failures.
"""

from __future__ import annotations

import logging
import os
import random
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from typing import Any

import psycopg
from psycopg.conninfo import conninfo_to_dict, make_conninfo

__all__ = ["LOCK_TIMEOUT_S", "Backoff", "Watchdog", "break_connection", "close_quietly", "connect"]

Conn = psycopg.Connection[Any]

logger = logging.getLogger(__name__)

# Server-side settings for worker sessions (all settable by any role, PG 13+):
# short keepalives so the server drops a vanished worker's lease quickly, no
# idle-in-transaction limit (a worker's sessions are idle between jobs), and a
# lock_timeout: a row lock held by someone else (a psql user's ``select ...
# for update``) ends a report or rescue with SQLSTATE 55P03 after 2 s, which
# the worker retries, instead of a wait the Watchdog would take for a dead
# link (a statement it abandons that way may still commit on the server).
LOCK_TIMEOUT_S = 2
_SERVER_OPTIONS = (
    "-c tcp_keepalives_idle=10 -c tcp_keepalives_interval=5 -c tcp_keepalives_count=3"
    f" -c idle_in_transaction_session_timeout=0 -c lock_timeout={LOCK_TIMEOUT_S}s"
)
# Client-side libpq keepalives, and a bound on unacknowledged writes (ms).
_CLIENT_PARAMS: dict[str, Any] = {
    "keepalives": 1,
    "keepalives_idle": 10,
    "keepalives_interval": 5,
    "keepalives_count": 3,
    "tcp_user_timeout": 30000,
}


def connect(url: str, *, role: str, connect_timeout: int = 10) -> Conn:
    """Open an autocommit worker connection to ``url``.

    :param url: a libpq URL or conninfo string.
    :param role: what the connection is for (``lease``, ``pool 0``, ...),
        shown in ``application_name``.
    :param connect_timeout: seconds before giving up on the connection.
    """
    params = conninfo_to_dict(url)
    extra = params.get("options")
    params["options"] = f"{extra} {_SERVER_OPTIONS}" if extra else _SERVER_OPTIONS
    params.setdefault("application_name", f"goodjob-pg {role}")
    params.setdefault("connect_timeout", connect_timeout)
    for key, value in _CLIENT_PARAMS.items():
        params.setdefault(key, value)
    conn = psycopg.connect(make_conninfo("", **params), autocommit=True)
    if conn.info.server_version >= 140000:
        # PG 14+: an operator's idle_session_timeout must not end the lease
        # or the listener between jobs (RELIABILITY.md 3.5).
        conn.execute("set idle_session_timeout = 0")
    return conn


def close_quietly(conn: Conn | None) -> None:
    """Close a connection, ignoring errors (it may already be broken)."""
    if conn is None:
        return
    with suppress(Exception):
        conn.close()


class Backoff:
    """Exponential backoff with jitter (each delay uniform in [d/2, d]), capped.

    :param base: the first delay's upper bound in seconds.
    :param cap: the largest delay.
    """

    def __init__(self, base: float = 0.1, cap: float = 30.0) -> None:
        self.base = base
        self.cap = cap
        self.failures = 0

    def next_delay(self) -> float:
        """Count a failure and return how long to wait before the next try."""
        ceiling = min(self.cap, self.base * (2**self.failures))
        self.failures += 1
        return random.uniform(ceiling / 2, ceiling)

    def wait(self, stop: threading.Event) -> bool:
        """Sleep for the next delay unless ``stop`` is set; True if stopped."""
        return stop.wait(self.next_delay())

    def reset(self) -> None:
        """Forget past failures (after a success)."""
        self.failures = 0


def break_connection(conn: Conn) -> None:
    """Shut down a connection's socket from any thread.

    A statement stuck on a half-open or black-holed socket then fails at once
    with ``OperationalError`` in the thread that runs it, which reconnects.
    """
    try:
        fd = os.dup(conn.fileno())
    except (OSError, psycopg.Error):
        return
    sock = socket.socket(fileno=fd)
    try:
        sock.shutdown(socket.SHUT_RDWR)
    except OSError:
        pass
    finally:
        sock.close()


class Watchdog:
    """Break connections whose current statement has run for too long.

    Threads wrap each database call in :meth:`watch`; a supervisor calls
    :meth:`check` now and then. A statement running longer than ``limit``
    seconds is taken for a dead link (the server answers worker statements in
    milliseconds) and its socket is shut down.

    :param limit: seconds a worker statement may take.
    """

    def __init__(self, limit: float) -> None:
        self.limit = limit
        self._active: dict[int, tuple[Conn, float, str]] = {}
        self._lock = threading.Lock()

    @contextmanager
    def watch(self, conn: Conn, role: str) -> Iterator[None]:
        """Track ``conn`` while the body runs a statement on it."""
        key = id(conn)
        with self._lock:
            self._active[key] = (conn, time.monotonic(), role)
        try:
            yield
        finally:
            with self._lock:
                self._active.pop(key, None)

    def check(self) -> int:
        """Break every connection stuck longer than the limit; return how many."""
        now = time.monotonic()
        with self._lock:
            stuck = [(c, r, now - t) for c, t, r in self._active.values() if now - t > self.limit]
        for conn, role, elapsed in stuck:
            logger.warning(
                "%s connection did not answer for %.0f s; closing it to reconnect",
                role,
                elapsed,
                extra={"action": "connection_stuck", "role": role},
            )
            break_connection(conn)
        return len(stuck)
