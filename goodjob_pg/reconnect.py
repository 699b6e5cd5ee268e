"""Worker connections: how they are opened, and how long to wait between tries.

Every worker connection is autocommit (a worker never holds a transaction
across a job), names itself in ``pg_stat_activity``, asks for short TCP
keepalives and a ``tcp_user_timeout`` on both ends, so a vanished peer is
noticed in about half a minute instead of the operating system's two hours,
and sets its own session timeouts: an operator's role or database default of
``statement_timeout``, ``lock_timeout``, ``idle_in_transaction_session_timeout``
or ``idle_session_timeout`` never cancels a worker statement or ends an idle
worker session (a session value overrides those defaults; hung statements are
the :class:`Watchdog`'s job). Errors that mean "the connection or the server
is not usable right now" (:func:`is_transient`: class 08, admin shutdown, a
cancelled statement, a read-only standby, ...) are retried with
:class:`Backoff`, never treated as job failures.
"""

from __future__ import annotations

import logging
import os
import random
import socket
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from typing import Any, TypeVar

import psycopg
from psycopg.conninfo import conninfo_to_dict, make_conninfo

from .ratelimit import reconnect_log

__all__ = [
    "LOCK_TIMEOUT_S",
    "STARTUP_UNREACHABLE_S",
    "Backoff",
    "Watchdog",
    "break_connection",
    "close_quietly",
    "connect",
    "is_read_only",
    "is_transient",
    "is_unreachable",
    "wait_until_usable",
]

Conn = psycopg.Connection[Any]
T = TypeVar("T")

logger = logging.getLogger(__name__)

# Server-side settings for worker sessions (all settable by any role, PG 13+):
# short keepalives and a bound on unacknowledged writes (keepalives do not
# fire while the server has unacknowledged data queued, e.g. NOTIFYs for a
# listener that vanished), so the server drops a vanished worker's lease in
# about 30 s; and the worker's own timeouts, whatever the role's defaults
# (RELIABILITY.md 3.10): no statement timeout (the Watchdog breaks hung
# statements), no idle-in-transaction limit, and a lock_timeout: a row lock
# held by someone else (a psql user's ``select ... for update``) ends a
# report or rescue with SQLSTATE 55P03 after 2 s, which the worker retries,
# instead of a wait the Watchdog would take for a dead link (a statement it
# abandons that way may still commit on the server). idle_session_timeout is
# PG 14+ and set after connecting.
LOCK_TIMEOUT_S = 2
_SERVER_OPTIONS = (
    "-c tcp_keepalives_idle=10 -c tcp_keepalives_interval=5 -c tcp_keepalives_count=3"
    " -c tcp_user_timeout=30000"
    f" -c statement_timeout=0 -c lock_timeout={LOCK_TIMEOUT_S}s"
    " -c idle_in_transaction_session_timeout=0"
)
# SQLSTATEs that mean "not now": retry with backoff (besides OperationalError,
# which covers classes 08, 40, 53, 55, 57 and 58). 25006: a read-only
# transaction (hot standby, default_transaction_read_only); 0A000 is raised
# for some statements during recovery.
_READ_ONLY_SQLSTATES = frozenset({"25006"})
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


def is_read_only(exc: BaseException) -> bool:
    """True for an error a read-only server (hot standby, read-only default) raises."""
    if not isinstance(exc, psycopg.Error):
        return False
    state = exc.sqlstate or ""
    if state in _READ_ONLY_SQLSTATES:
        return True
    return state == "0A000" and "recovery" in str(exc)


def is_transient(exc: BaseException) -> bool:
    """True when ``exc`` says the server is unusable for now, not that the request is bad.

    Connection errors, cancelled statements (57014), lock timeouts,
    deadlocks, serialization failures, too many connections, admin shutdown,
    and a read-only server (:func:`is_read_only`): retried with backoff, for
    as long as it takes, never counted as a job failure.
    """
    return isinstance(exc, (psycopg.OperationalError, OSError)) or is_read_only(exc)


# How long a worker starting up waits for a server it cannot reach (down,
# restarting, refusing connections) before it gives up with one error line.
STARTUP_UNREACHABLE_S = 30.0
# SQLSTATEs of a server that is there but not accepting sessions right now:
# admin shutdown, crash shutdown, "the database system is starting up /
# shutting down", too many connections.
_UNAVAILABLE_SQLSTATES = frozenset({"57P01", "57P02", "57P03", "53300"})
_NOT_READY_MESSAGES = (
    "the database system is starting up",
    "the database system is shutting down",
    "the database system is in recovery mode",
    "the database system is not yet accepting connections",
    "too many clients",
    "terminating connection",
)


def is_unreachable(exc: BaseException) -> bool:
    """True for a failure to reach or start a session on the server.

    A refused or cut connection or a name that does not resolve (no
    SQLSTATE), class 08, or a server shutting down or starting up. Not a
    bad password (class 28) or an unknown database (3D000): those are
    mistakes to report at once.
    """
    if not isinstance(exc, psycopg.OperationalError):
        return False
    state = exc.sqlstate
    if state is not None:
        return state.startswith("08") or state in _UNAVAILABLE_SQLSTATES
    # libpq reports a failed connection without a SQLSTATE; the server's
    # FATAL line, when there is one, tells a server not ready yet from a
    # refusal of these credentials or this database (reported at once, as is
    # a FATAL line in another language).
    message = str(exc)
    if "FATAL:" not in message:
        return True  # refused, reset, timed out, name not resolved
    return any(reason in message for reason in _NOT_READY_MESSAGES)


def wait_until_usable(
    attempt: Callable[[], T],
    stopped: Callable[[], bool],
    *,
    unreachable_for: float = STARTUP_UNREACHABLE_S,
) -> T | None:
    """Call ``attempt`` until it succeeds; None if ``stopped`` first.

    For start-up. A read-only server (a hot standby, a fail-over under
    way) is waited for as long as it takes; a server that cannot be
    reached (:func:`is_unreachable`: down, restarting, refusing
    connections) for up to ``unreachable_for`` seconds from the first
    such failure, after which its error is raised. Tries are spaced by
    :class:`Backoff`, warnings rate-limited; any other error is raised at
    once.
    """
    backoff = Backoff()
    unreachable_since: float | None = None
    while True:
        try:
            result = attempt()
        except psycopg.Error as exc:
            delay = backoff.next_delay()
            if is_read_only(exc):
                unreachable_since = None  # the server answered: a new outage starts afresh
                action = "server_read_only"
                what = "the server is read-only (%s); waiting for it to accept writes"
            elif is_unreachable(exc):
                now = time.monotonic()
                unreachable_since = now if unreachable_since is None else unreachable_since
                left = unreachable_for - (now - unreachable_since)
                if left <= 0:
                    raise
                delay = min(delay, left)  # the last try comes when the budget runs out
                action = "server_unreachable"
                what = f"cannot reach the server (%s); waiting up to {unreachable_for:g} s for it"
            else:
                raise
            reconnect_log.warning(
                logger,
                action,
                what + " (attempt %d, next in %.1f s)",
                " ".join(str(exc).split()),
                backoff.failures,
                delay,
                extra={"action": action, "attempt": backoff.failures},
            )
            deadline = time.monotonic() + delay
            while time.monotonic() < deadline:
                if stopped():
                    return None
                time.sleep(min(0.1, max(0.0, deadline - time.monotonic())))
            continue
        reconnect_log.reset("server_read_only")
        reconnect_log.reset("server_unreachable")
        return result


def close_quietly(conn: Conn | None) -> None:
    """Close a connection, ignoring errors (it may already be broken)."""
    if conn is None:
        return
    with suppress(Exception):
        conn.close()


class Backoff:
    """Exponential backoff with jitter (each delay uniform in [d/2, d]), capped.

    :param base: the first delay's upper bound in seconds.
    :param cap: the largest delay. 10 s by default: a server that comes back
        (a restart, a promoted standby) is found within 10 s, at the price
        of one connection attempt per 5-10 s per connection while it is away.
    """

    def __init__(self, base: float = 0.1, cap: float = 10.0) -> None:
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
        self._active: dict[int, tuple[Conn, float, str, float | None]] = {}
        self._lock = threading.Lock()

    @contextmanager
    def watch(self, conn: Conn, role: str, limit: float | None = None) -> Iterator[None]:
        """Track ``conn`` while the body runs a statement on it.

        :param limit: seconds this statement may take, instead of the
            watchdog's limit (never more than it).
        """
        key = id(conn)
        with self._lock:
            self._active[key] = (conn, time.monotonic(), role, limit)
        try:
            yield
        finally:
            with self._lock:
                self._active.pop(key, None)

    def check(self) -> int:
        """Break every connection stuck longer than its limit; return how many."""
        now = time.monotonic()
        with self._lock:
            stuck = [
                (c, r, now - t)
                for c, t, r, own in self._active.values()
                if now - t > (self.limit if own is None else min(own, self.limit))
            ]
        for conn, role, elapsed in stuck:
            logger.warning(
                "%s connection did not answer for %.1f s; closing it to reconnect",
                role,
                elapsed,
                extra={"action": "connection_stuck", "role": role},
            )
            break_connection(conn)
        return len(stuck)
