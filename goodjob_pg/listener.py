"""The lease-and-listen connection of a worker process.

One connection per worker holds the process lease (the session advisory lock
``goodjob_register_process`` takes) and LISTENs on its install's channel
(``goodjob`` in schema public, ``goodjob_<schema>`` elsewhere). Its thread:

* turns notifications into pool wake-ups (the payload is only a hint: a
  queue name and, for future jobs, a run time for the wake-up cache);
* heartbeats the process row every ``heartbeat_interval`` seconds and
  self-pings (NOTIFY on a private channel, expecting the echo) to detect a
  connection that no longer delivers notifications; a heartbeat that gets no
  answer within the ping timeout (5 s, at most half the heartbeat interval),
  or a sweep or cache load none within a heartbeat interval, counts as a
  dead link too, so a black-holed connection is noticed within
  ``heartbeat_interval + ping_timeout`` (about 20 s by default, under two
  heartbeat intervals);
* every ``rescue_interval`` seconds, runs the sweep (:mod:`goodjob_pg.sweep`):
  ends the lease sessions of processes whose heartbeat is older than
  ``stale_after`` (the backstop for a vanished host), then rescues the jobs
  of dead processes;
* reloads the worker's run-time cache when it overflowed or a pool asked
  (a pool that starts waiting: jobs scheduled while none waited were never
  announced), at most every quarter second;
* on any connection error: logs a warning, reconnects with backoff and
  jitter, LISTENs again *before* re-taking the lease (same process id, or a
  new one if that id is held by a lingering session), then asks every pool
  for one catch-up fetch. It never gives up while the worker runs.

LISTEN and the self-ping NOTIFY are session plumbing rather than job state,
so they are issued here; everything else goes through :mod:`goodjob_pg.db`.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from typing import Any, Protocol
from uuid import UUID

import psycopg
from psycopg import sql
from psycopg.pq import TransactionStatus

from . import db
from .clock import database_clock
from .errors import ProcessLeaseError
from .ratelimit import reconnect_log
from .reconnect import Backoff, Watchdog, close_quietly, connect
from .sweep import sweep
from .wakeups import RunTimeCache, parse_payload

__all__ = ["CHANNEL", "Listener", "ListenerHooks", "channel_of"]

logger = logging.getLogger(__name__)

CHANNEL = "goodjob"  # the channel of an install in schema public; see channel_of()
_MAX_WAIT = 0.1  # longest single wait for notifications: bounds stop latency
_MIN_RELOAD_INTERVAL = 0.25  # requested cache reloads (a pool started waiting): at most this often


def channel_of(conn: psycopg.Connection[Any]) -> str:
    """The NOTIFY channel of the install the connection's search_path finds.

    ``goodjob`` in schema public, ``goodjob_<schema>`` elsewhere (SQL's
    ``goodjob__channel()``), so workers of two installs in one database never
    wake each other.
    """
    row = conn.execute("select goodjob__channel()").fetchone()
    assert row is not None and isinstance(row[0], str)
    return row[0]


class ListenerHooks(Protocol):
    """What the listener tells the worker."""

    def notified(self, queue: str, run_at: float | None) -> None:
        """A NOTIFY said ``queue`` has ready jobs (or jobs due at ``run_at``)."""

    def wake_all(self, *, fetch: bool) -> None:
        """Wake every pool (to fetch, or to recompute its wake-up time)."""

    def lease_changed(self, process_id: UUID | None) -> None:
        """The lease was (re)taken under ``process_id``, or lost (None)."""


class _Stale(Exception):
    """The connection looks alive but did not echo our ping, or lost its row."""


class Listener:
    """Holds the lease, listens, heartbeats and rescues, on one connection.

    :param url: database URL.
    :param hooks: the worker's callbacks.
    :param cache: the worker's run-time cache (reloaded from the database).
    :param registration: ``hostname``, ``pid``, ``queues`` and ``state`` for
        ``goodjob_register_process``.
    :param listen: False to skip LISTEN (polling and cache only).
    :param watchdog: breaks the connection if a statement hangs.
    :param on_connect: called with the first connection before registering
        (the worker writes task definitions there).
    :param heartbeat_interval: seconds between heartbeats (and self-pings).
    :param rescue_interval: seconds between rescue sweeps.
    :param stale_after: seconds; a process whose lease is held but whose
        heartbeat is older has its session ended by the sweep (None: never).
    """

    heartbeat_interval = 15.0
    rescue_interval = 10.0  # one read of pg_locks: cheap enough to run often
    ping_timeout = 5.0
    stale_after: float | None = 120.0

    def __init__(
        self,
        url: str,
        hooks: ListenerHooks,
        cache: RunTimeCache,
        registration: dict[str, Any],
        *,
        listen: bool,
        watchdog: Watchdog,
        on_connect: Callable[[psycopg.Connection[Any]], object] | None = None,
        heartbeat_interval: float | None = None,
        rescue_interval: float | None = None,
        stale_after: float | None = 120.0,
    ) -> None:
        if heartbeat_interval is not None:
            self.heartbeat_interval = heartbeat_interval
            # A short heartbeat interval asks for fast detection: keep the
            # bound (interval + ping timeout) within two intervals.
            self.ping_timeout = min(self.ping_timeout, heartbeat_interval / 2)
        if rescue_interval is not None:
            self.rescue_interval = rescue_interval
        self.stale_after = stale_after
        self._url = url
        self._hooks = hooks
        self._cache = cache
        self._registration = registration
        self._listen = listen
        self._watchdog = watchdog
        self._on_connect = on_connect
        self._reconnect_reason: str | None = None
        self._conn: psycopg.Connection[Any] | None = None
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.process_id: UUID | None = None
        self._ping_channel = ""
        self._ping_sent: float | None = None
        self._next_heartbeat = 0.0
        self._next_rescue = 0.0
        self._next_reload = 0.0

    # -- lifecycle ----------------------------------------------------------

    def open(self) -> UUID:
        """Connect, LISTEN, register and load the cache, in the caller's thread.

        Raises whatever connecting raises (the worker's start-up decides
        what to wait out: :func:`~goodjob_pg.reconnect.wait_until_usable`).
        """
        self._open()
        assert self.process_id is not None
        return self.process_id

    def start(self) -> None:
        """Run the listener loop in a daemon thread."""
        self._thread = threading.Thread(target=self._run, name="goodjob-listener", daemon=True)
        self._thread.start()

    @property
    def running(self) -> bool:
        """True while the listener thread runs."""
        return self._thread is not None and self._thread.is_alive()

    @property
    def connected(self) -> bool:
        """True while the lease-and-listen connection is open (not lost, not reconnecting)."""
        conn = self._conn
        return conn is not None and not conn.closed

    def join(self, timeout: float | None = None) -> None:
        """Wait for the listener thread to end (after :meth:`stop`)."""
        if self._thread is not None:
            self._thread.join(timeout)

    def request_reconnect(self, reason: str) -> None:
        """Ask the loop to drop the connection and register again (any thread)."""
        self._reconnect_reason = reason

    def stop(self, timeout: float | None = None) -> None:
        """Stop the loop, deregister the process and close the connection."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout)
        else:
            self._deregister()

    # -- the loop -----------------------------------------------------------

    def _run(self) -> None:
        backoff = Backoff()
        while not self._stop.is_set():
            try:
                if self._conn is None:
                    self._open()
                    reconnect_log.reset("listener_disconnected")
                    self._hooks.wake_all(fetch=True)  # catch up on what we missed
                self._tick()
                backoff.reset()
            except psycopg.errors.QueryCanceled as exc:
                self._cancelled(exc)
                if backoff.wait(self._stop):
                    break
            except (psycopg.Error, OSError, _Stale, ProcessLeaseError) as exc:
                self._lost(exc, backoff.failures + 1)
                if backoff.wait(self._stop):
                    break
            except Exception as exc:  # a bug: log it loudly, but never stop listening
                logger.exception("listener error", extra={"action": "listener_error"})
                self._lost(exc, backoff.failures + 1)
                if backoff.wait(self._stop):
                    break
        self._deregister()

    def _tick(self) -> None:
        """Wait for notifications, then do whatever periodic work is due."""
        conn = self._conn
        assert conn is not None
        if self._reconnect_reason is not None:
            reason, self._reconnect_reason = self._reconnect_reason, None
            raise _Stale(reason)
        now = time.monotonic()
        deadline = min(self._next_heartbeat, self._next_rescue)
        if self._ping_sent is not None:
            deadline = min(deadline, self._ping_sent + self.ping_timeout)
        for notify in conn.notifies(timeout=min(_MAX_WAIT, max(0.0, deadline - now))):
            self._dispatch(notify.channel, notify.payload)
        now = time.monotonic()
        if self._ping_sent is not None and now - self._ping_sent > self.ping_timeout:
            raise _Stale(f"no echo of the self-ping within {self.ping_timeout:g} s")
        if now >= self._next_heartbeat:
            self._heartbeat(conn)
            self._next_heartbeat = now + self.heartbeat_interval
        if now >= self._next_rescue:
            self._rescue(conn)
            self._next_rescue = now + self.rescue_interval
        if self._cache.needs_reload() and now >= self._next_reload:
            self._load_cache(conn)

    # -- steps --------------------------------------------------------------

    def _open(self) -> None:
        """Connect; LISTEN first, then take the lease; then rescue and load the cache."""
        conn = connect(self._url, role="lease")
        try:
            with self._watchdog.watch(conn, "lease"):
                if self._on_connect is not None:
                    self._on_connect(conn)
                    self._on_connect = None
                if self._listen:
                    conn.execute(sql.SQL("listen {}").format(sql.Identifier(channel_of(conn))))
                self._register(conn)
                if self._listen:
                    # Private channel for the self-ping: goodjob_ping_<process id hex>.
                    assert self.process_id is not None
                    self._ping_channel = f"goodjob_ping_{self.process_id.hex}"
                    conn.execute(f"listen {self._ping_channel}")
                self._sync_clock(conn)
            self._rescue(conn)
            self._load_cache(conn)
        except BaseException:
            close_quietly(conn)
            raise
        self._conn = conn
        self._ping_sent = None
        now = time.monotonic()
        self._next_heartbeat = now + self.heartbeat_interval
        self._next_rescue = now + self.rescue_interval

    def _register(self, conn: psycopg.Connection[Any]) -> None:
        reg = self._registration
        args = (reg["hostname"], reg["pid"], reg["queues"], reg["state"])
        previous = self.process_id
        try:
            self.process_id = db.register_process(conn, *args, id=previous)
        except ProcessLeaseError:
            # Our old session still holds the lease (a half-open link the
            # server has not noticed yet): carry on as a new process; the old
            # one's jobs are rescued once the server drops that session.
            self.process_id = db.register_process(conn, *args)
            logger.warning(
                "process %s is still held by a lingering session; registered as %s",
                previous,
                self.process_id,
                extra={"action": "process_reregistered", "process_id": str(self.process_id)},
            )
        self._hooks.lease_changed(self.process_id)
        if previous is not None:
            logger.info(
                "reconnected; lease taken as process %s",
                self.process_id,
                extra={"action": "listener_reconnected", "process_id": str(self.process_id)},
            )

    def _heartbeat(self, conn: psycopg.Connection[Any]) -> None:
        assert self.process_id is not None
        # A heartbeat answers in milliseconds; no answer within the ping
        # timeout is a dead link, as a missing echo is.
        with self._watchdog.watch(conn, "lease", limit=self.ping_timeout):
            if not db.heartbeat(conn, self.process_id):
                raise _Stale(f"process {self.process_id} was removed (rescued as dead?)")
            self._sync_clock(conn)
            if self._listen and self._ping_sent is None:
                conn.execute(f"notify {self._ping_channel}")
                self._ping_sent = time.monotonic()

    def _sync_clock(self, conn: psycopg.Connection[Any]) -> None:
        """Measure this host's clock against the server's (:mod:`goodjob_pg.clock`)."""
        first = not database_clock.synced
        offset = database_clock.sync(lambda: db.server_time(conn))
        if first and abs(offset) >= 1.0:
            logger.warning(
                "this host's clock is %.1f s %s the database's; the worker uses the database's",
                abs(offset),
                "behind" if offset > 0 else "ahead of",
                extra={"action": "clock_skew", "offset_s": round(offset, 3)},
            )

    def _rescue(self, conn: psycopg.Connection[Any]) -> None:
        count = sweep(
            conn,
            self._watchdog,
            limit=self.heartbeat_interval,
            stale_after=self.stale_after,
            retry_in=self.rescue_interval,
        )
        if count:
            self._hooks.wake_all(fetch=True)

    def _load_cache(self, conn: psycopg.Connection[Any]) -> None:
        if self._cache.max_size <= 0:
            return
        self._cache.reloading()
        self._next_reload = time.monotonic() + _MIN_RELOAD_INTERVAL
        with self._watchdog.watch(conn, "lease", limit=self.heartbeat_interval):
            rows = db.upcoming_run_times(conn, self._cache.max_size)
        self._cache.clear_overflow()
        self._cache.load((queue, run_at.timestamp()) for queue, run_at in rows)
        self._hooks.wake_all(fetch=False)

    def _dispatch(self, channel: str, payload: str) -> None:
        """Handle one notification; junk payloads are ignored (NOTIFY is unauthenticated)."""
        if channel == self._ping_channel:
            self._ping_sent = None
            return
        parsed = parse_payload(payload)
        if parsed is None:
            logger.debug(
                "ignored notification %r", payload[:200], extra={"action": "notify_ignored"}
            )
            return
        queue, when = parsed
        self._hooks.notified(queue, when)

    def _cancelled(self, exc: BaseException) -> None:
        """A statement on the lease connection was cancelled (57014).

        The connection itself is fine: keep it (and the lease) and retry the
        step after a pause. Before the connection was set up, or if it is
        left in a transaction, it is dropped as after any other error.
        """
        conn = self._conn
        if conn is None or conn.closed or conn.info.transaction_status != TransactionStatus.IDLE:
            self._lost(exc, 1)
            return
        reconnect_log.warning(
            logger,
            "listener_statement_cancelled",
            "a lease/listen statement was cancelled (%s); retrying it",
            str(exc).strip().splitlines()[0] if str(exc).strip() else "57014",
            extra={"action": "listener_statement_cancelled"},
        )

    def _lost(self, exc: BaseException, failures: int) -> None:
        """Log a connection failure, drop the connection, and report the lease lost."""
        reconnect_log.warning(
            logger,
            "listener_disconnected",
            "lease/listen connection failed (%s: %s); reconnecting (attempt %d)",
            type(exc).__name__,
            str(exc).strip().splitlines()[0] if str(exc).strip() else "",
            failures,
            extra={"action": "listener_disconnected", "attempt": failures},
        )
        close_quietly(self._conn)
        self._conn = None
        self._hooks.lease_changed(None)

    def _deregister(self) -> None:
        """Deregister (interrupting jobs still running) and close; best effort."""
        if self.process_id is None:
            return
        conn = self._conn
        try:
            if conn is None or conn.closed:
                conn = connect(self._url, role="lease", connect_timeout=5)
            with self._watchdog.watch(conn, "lease"):
                count = db.deregister_process(conn, self.process_id)
            logger.info(
                "process %s deregistered (%d running job(s) interrupted)",
                self.process_id,
                count,
                extra={"action": "process_deregistered", "process_id": str(self.process_id)},
            )
        except (psycopg.Error, OSError) as exc:
            logger.warning(
                "could not deregister process %s (%s); its jobs will be rescued",
                self.process_id,
                exc,
                extra={"action": "deregister_failed", "process_id": str(self.process_id)},
            )
        finally:
            close_quietly(conn)
            self._conn = None
