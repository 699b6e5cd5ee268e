"""One worker pool at run time: its connection, its slots, its loop.

A :class:`Pool` runs in its own thread with its own autocommit connection. It
fetches only as many jobs as it has free slots (a finished job frees its slot
at once, before its result is reported), in one ``goodjob_fetch_and_lock``
call, runs sync tasks on its own daemon threads and ``async def`` tasks on
the worker's event loop (one slot each either way), and reports finished
attempts in batches with one ``goodjob_report`` call. When a fetch is due as
well, the report and the fetch go out together: one transaction, one round
trip, one commit (:func:`goodjob_pg.db.report_and_fetch`).

Wake-ups (``goodjob_wait``): enqueues NOTIFY only while some pool is
registered as waiting. A pool whose fetch comes back short (the queue is
drained for it) registers (or, while enqueues are in flight, fetches and
tries again shortly), fetches once more to catch up, then sleeps until the
listener wakes it; a pool that finds a full batch again deregisters and
keeps fetching on its own. See :meth:`Pool._track_waiting`.

A full pool never delays another pool: they share nothing but the worker's
wake-ups.
"""

from __future__ import annotations

import functools
import logging
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future
from typing import TYPE_CHECKING, Any
from uuid import UUID

import psycopg

from . import db
from .clock import database_clock
from .errors import InvalidOperatorArgumentError, ProcessLeaseError, SQLError
from .jobs import Job, Outcome, Result
from .parked import ParkedResults
from .pools import PoolSpec
from .ratelimit import reconnect_log
from .reconnect import Backoff, close_quietly, connect, is_transient
from .threadpool import DaemonExecutor

if TYPE_CHECKING:
    from .worker import Worker

__all__ = ["Pool"]

logger = logging.getLogger(__name__)

_REPORT_TRIES = 5  # a result refused this many times (not a connection error) is dropped
_MAX_FETCH = 1000  # goodjob_fetch_and_lock's largest max_jobs
# goodjob_wait refused (enqueues in flight): fetch and try again after 5-10 ms,
# doubling up to 0.1-0.2 s while it keeps refusing.
_WAIT_RETRY_BASE = 0.01
_WAIT_RETRY_CAP = 0.2

_Done = tuple[Result, Job, int]  # a finished attempt, its job, failed report tries


class Pool:
    """A pool of ``spec.threads`` slots fetching from ``spec.queues``.

    :param index: the pool's position in the ``--queues`` string.
    :param spec: its queue selector and thread count.
    :param worker: the owning worker (process id, cache, event loop, config).
    """

    def __init__(self, index: int, spec: PoolSpec, worker: Worker) -> None:
        self.index = index
        self.spec = spec
        self.matches: Callable[[str], bool] = spec.matches
        self._worker = worker
        self._name = f"pool {index} ({spec.queues}:{spec.threads})"
        self._executor = DaemonExecutor(spec.threads, name=f"goodjob-pool-{index}")
        self._conn: psycopg.Connection[Any] | None = None
        self._backoff = Backoff()
        self._lock = threading.Lock()
        self._wake = threading.Event()
        self._running: dict[UUID, Job] = {}  # job.locked_by is the claiming process
        self._done: list[_Done] = []
        self._parked: ParkedResults[_Done] = ParkedResults()  # reports blocked by a row lock
        self._fetch_due = True
        self._fetch_requested = False  # set by other threads, cleared before a fetch
        self._retry_at = 0.0  # monotonic time before which the database is not retried
        self._cursor = 0.0  # cache times at or before this were covered by a fetch
        self._next_poll = 0.0
        # The worker's lease_epoch when this pool registered as waiting
        # (goodjob_wait); None when not registered. A new lease voids it.
        self._waiting_epoch: int | None = None
        # After goodjob_wait said no (enqueues in flight): when to fetch and try again.
        self._wait_retry: float | None = None
        self._wait_backoff = Backoff(base=_WAIT_RETRY_BASE, cap=_WAIT_RETRY_CAP)
        self.last_active = time.monotonic()
        self._thread = threading.Thread(target=self._run, name=f"goodjob-pool-{index}", daemon=True)

    # -- called from other threads -----------------------------------------

    def start(self) -> None:
        """Start the pool's loop thread."""
        self._thread.start()

    def join(self, timeout: float | None = None) -> None:
        """Wait for the loop to finish its shutdown."""
        self._thread.join(timeout)

    def wake(self, *, fetch: bool, retry_now: bool = False) -> None:
        """Wake the loop.

        :param fetch: a fetch becomes due (NOTIFY, catch-up after a reconnect).
        :param retry_now: the database is reachable again: skip any backoff.
        """
        if retry_now:
            self._retry_at = 0.0
            self._backoff.reset()
        if fetch:
            self._fetch_requested = True
        self._wake.set()

    @property
    def busy(self) -> bool:
        """True while jobs run or results wait to be reported."""
        return bool(self._running or self._done or len(self._parked))

    @property
    def running_count(self) -> int:
        """Jobs running now (slots in use)."""
        return len(self._running)

    @property
    def alive(self) -> bool:
        """True while the pool's loop thread runs."""
        return self._thread.is_alive()

    @property
    def healthy(self) -> bool:
        """False while the pool backs off after a database error."""
        return self._backoff.failures == 0

    # -- the loop ------------------------------------------------------------

    def _run(self) -> None:
        """Wait, report, fetch, dispatch; until the worker stops, then drain."""
        self._next_poll = time.monotonic() + self._worker.config.poll_interval
        while not self._worker.stopping.is_set():
            try:
                self._wait()
                self._cycle()
            except Exception as exc:  # a bug: log it loudly, back off, keep the pool alive
                logger.exception("%s: loop error", self._name, extra={"action": "pool_error"})
                self._failed("loop", exc)
        self._drain()

    def _wait(self) -> None:
        """Sleep until woken, the poll interval, a cached run time or a retry."""
        now = time.monotonic()
        if (self._done or self._parked.due()) and now >= self._retry_at:
            return
        free = self._free()
        wants = self._fetch_due or self._fetch_requested
        if wants and free and now >= self._retry_at and self._worker.process_id is not None:
            return
        limits = [self._retry_at - now] if self._retry_at > now else []
        if self._worker.config.poll_interval >= 0:
            limits.append(self._next_poll - now)
        if free and (due := self._worker.cache.next_due(self.matches, self._cursor)) is not None:
            limits.append(due - database_clock.time() + 0.001)
        if free and self._wait_retry is not None:
            limits.append(self._wait_retry - now)
        if len(self._parked):
            limits.append(self._parked.retry_at - now)
        self._wake.wait(max(0.0, min(limits)) if limits else None)
        self._wake.clear()

    def _should_fetch(self) -> bool:
        """Decide whether to fetch now (and note why a fetch became due)."""
        now = time.monotonic()
        if self._fetch_requested:
            self._fetch_requested = False  # a request arriving from here on stays pending
            self._fetch_due = True
        if self._worker.config.poll_interval >= 0 and now >= self._next_poll:
            self._fetch_due = True
        if self._wait_retry is not None and now >= self._wait_retry:
            self._wait_retry = None
            self._fetch_due = True
        if not self._fetch_due:
            due = self._worker.cache.next_due(self.matches, self._cursor)
            self._fetch_due = due is not None and due <= database_clock.time()
        return (
            self._fetch_due
            and self._free() > 0
            and now >= self._retry_at
            and self._worker.process_id is not None
            and not self._worker.stopping.is_set()
        )

    def _cycle(self) -> None:
        """Report finished attempts and fetch when due: together when both are due."""
        if self._running:
            # Yield the GIL once: jobs that are about to finish (short jobs end
            # microseconds after their first result woke us) hand in their
            # results now, so this cycle reports and refills a whole batch.
            # Without it a pool of short jobs settles into half batches (half
            # finish during each round trip), twice the cycles per job.
            time.sleep(0)
        if self._parked.due() and time.monotonic() >= self._retry_at:
            self._retry_parked()
        items = self._take_done()
        process_id = self._worker.process_id
        mine = [item for item in items if item[1].locked_by == process_id]
        if len(mine) < len(items):  # claimed under an earlier lease: reported on their own
            self._report([item for item in items if item[1].locked_by != process_id])
        if any(item[1].concurrency_key is not None for item in mine):
            # A finished job with a concurrency key may free a slot that queued
            # jobs of its key wait for (perform_limit): fetch with the report.
            self._fetch_due = True
        if process_id is not None and self._should_fetch():
            fetched = self._fetch(process_id, mine)
            if fetched is not None:
                jobs, full = fetched
                self._dispatch(jobs)
                self._track_waiting(process_id, full=full)
        elif mine:
            self._report(mine)

    def _fetch(self, process_id: UUID, items: list[_Done]) -> tuple[list[Job], bool] | None:
        """Claim up to the number of free slots in one call, reporting ``items`` with it.

        With results to report, both run in one transaction: if either
        fails, neither happened, and the results wait for the next try.
        Returns the jobs and whether the batch was full, or None on failure.
        """
        max_jobs = min(self._free(), _MAX_FETCH)
        if max_jobs <= 0:
            self._report(items)
            return None
        started = database_clock.time()
        self._fetch_due = False
        what = "report and fetch" if items else "fetch"
        try:
            conn = self._connection()
            with self._worker.watchdog.watch(conn, self._name):
                outcomes, jobs = db.report_and_fetch(
                    conn, process_id, [i[0] for i in items], self.spec.queues, max_jobs
                )
        except ProcessLeaseError as exc:
            # The fetch found no process row (the report needs none: it is
            # fenced by locked_by and attempt), and took the report down with
            # it: report on its own, as if the two had never been joined.
            self._worker.process_missing(process_id, exc)
            self._fetch_due = True
            self._report(items)
            return None
        except InvalidOperatorArgumentError as exc:  # a malformed batch: retrying cannot help
            logger.error("results refused: %s", exc, extra={"action": "report_invalid"})
            self._fetch_due = True
            return None
        except (psycopg.Error, OSError) as exc:
            self._fetch_due = True
            if items and isinstance(exc, psycopg.errors.LockNotAvailable):
                self._park(items)  # the fetch goes out again at once, without them
                return None
            self._failed(what, exc)
            self._retry_later(items, exc)
            return None
        except BaseException as exc:
            self._retry_later(items, exc)
            self._fetch_due = True
            raise
        self._recovered()
        for outcome, (result, job, _) in zip(outcomes, items, strict=True):
            self._worker.reported(job, result, outcome)
        self._cursor = started
        self._next_poll = time.monotonic() + self._worker.config.poll_interval
        # A full batch suggests more jobs are waiting: fetch again when a slot frees.
        self._fetch_due = len(jobs) == max_jobs
        return jobs, self._fetch_due

    def _track_waiting(self, process_id: UUID, *, full: bool) -> None:
        """The wake-up protocol: register as waiting when drained, leave when backlogged.

        Enqueues NOTIFY only while a pool waits (goodjob_wait). A short
        batch means the queue is drained for this pool: register in its own
        transaction, then fetch once more, since jobs committed before it
        were not announced; after that the pool may sleep until the listener
        wakes it. goodjob_wait never waits for enqueues in flight: it says
        no, and the pool fetches and tries again after a short pause
        (backing off while it keeps saying no). A full batch means a
        backlog: stop waiting (goodjob_unwait); the pool fetches on its own.
        Jobs scheduled while no pool waited were not announced either: a
        successful registration also asks the listener to reload the
        run-time cache.
        Without LISTEN (``listen_notify`` off) nothing is registered. A new
        lease (another process id, or a reconnect) voids the registration,
        so the next short batch registers again.
        """
        if not self._worker.config.listen_notify:
            return
        epoch = self._worker.lease_epoch
        waiting = self._waiting_epoch == epoch
        if full:
            self._wait_retry = None
            self._wait_backoff.reset()
            if not waiting:
                return
        elif waiting:
            return
        try:
            conn = self._connection()
            with self._worker.watchdog.watch(conn, self._name):
                if full:
                    self._waiting_epoch = None  # if this fails, the next short batch registers
                    db.unwait(conn, process_id, self.index)
                    return
                registered = db.wait(conn, process_id, self.index)
        except ProcessLeaseError as exc:
            self._worker.process_missing(process_id, exc)
            self._fetch_due = True
            return
        except (psycopg.Error, OSError) as exc:
            self._failed("unwait" if full else "wait", exc)
            self._fetch_due = True
            return
        if registered:
            self._waiting_epoch = epoch
            self._wait_backoff.reset()
            self._fetch_due = True  # the catch-up fetch, for jobs ready now
            self._worker.cache.request_reload()  # and for jobs scheduled meanwhile
        else:
            self._wait_retry = time.monotonic() + self._wait_backoff.next_delay()

    def _dispatch(self, jobs: list[Job]) -> None:
        """Start each claimed job on a thread (sync) or the event loop (async)."""
        if not jobs:
            return
        self.last_active = time.monotonic()
        for job in jobs:
            with self._lock:
                self._running[job.id] = job
            future = self._worker.submit(job, self._executor)
            future.add_done_callback(functools.partial(self._finished, job))

    def _take_done(self) -> list[_Done]:
        """Take every finished attempt to report (none while backing off)."""
        if not self._done or time.monotonic() < self._retry_at:
            return []
        with self._lock:
            items, self._done = self._done, []
        return items

    def _report(self, items: list[_Done]) -> None:
        """Report finished attempts on their own, one goodjob_report call per process id."""
        by_process: dict[UUID | None, list[_Done]] = {}
        for item in items:
            by_process.setdefault(item[1].locked_by, []).append(item)
        for process_id, group in by_process.items():
            if process_id is None:  # cannot happen: fetched jobs are stamped
                continue
            try:
                conn = self._connection()
                with self._worker.watchdog.watch(conn, self._name):
                    outcomes = db.report(conn, process_id, [i[0] for i in group])
            except psycopg.errors.LockNotAvailable:
                self._park(group)
                continue
            except (psycopg.Error, OSError) as exc:
                self._failed("report", exc)
                self._retry_later(group, exc)
                continue
            except SQLError as exc:  # a malformed batch: retrying cannot help
                logger.error("results refused: %s", exc, extra={"action": "report_invalid"})
                continue
            self._recovered()
            for outcome, (result, job, _) in zip(outcomes, group, strict=True):
                self._worker.reported(job, result, outcome)

    def _park(self, items: list[_Done]) -> None:
        """Set aside results whose report timed out on a row lock (see :mod:`.parked`)."""
        delay = self._parked.park(items)
        logger.warning(
            "%s: reporting %d result(s) waits for a job row locked by another session"
            " (lock timeout); retrying them one by one in %.1f s",
            self._name,
            len(items),
            delay,
            extra={"action": "report_lock_timeout", "pool": self.index},
        )

    def _retry_parked(self) -> None:
        """Report parked results one at a time; those still blocked wait longer."""

        def report_one(item: _Done) -> None:
            result, job, _ = item
            assert job.locked_by is not None  # fetched jobs are stamped
            conn = self._connection()
            with self._worker.watchdog.watch(conn, self._name):
                [outcome] = db.report(conn, job.locked_by, [result])
            self._worker.reported(job, result, outcome)

        try:
            self._parked.retry(report_one)
        except (psycopg.Error, OSError) as exc:
            self._failed("report", exc)

    def _drain(self) -> None:
        """Shutdown: let running jobs finish until the deadline, report, close."""
        deadline = self._worker.deadline
        while self.busy:
            if self._parked.due():
                self._retry_parked()
            self._report(self._take_done())
            remaining = None if deadline is None else deadline - time.monotonic()
            if remaining is not None and remaining <= 0:
                break
            self._wake.wait(0.2 if remaining is None else min(0.2, remaining))
            self._wake.clear()
        self._report(self._take_done())
        if self._running:
            logger.warning(
                "%s: %d job(s) still running at the shutdown deadline; they will be interrupted",
                self._name,
                len(self._running),
                extra={"action": "jobs_abandoned", "count": len(self._running)},
            )
        self._executor.shutdown()
        close_quietly(self._conn)
        self._conn = None

    # -- helpers -------------------------------------------------------------

    def _free(self) -> int:
        return self.spec.threads - len(self._running)

    def _finished(self, job: Job, future: Future[Result]) -> None:
        """Done-callback (any thread): queue the result and wake the loop."""
        if future.cancelled():
            return  # never started; deregister makes it ready again
        exc = future.exception()
        result = future.result() if exc is None else _crash_result(job, exc)
        with self._lock:
            self._running.pop(job.id, None)
            self._done.append((result, job, 0))
        self.last_active = time.monotonic()
        self._wake.set()

    def _retry_later(self, items: list[_Done], exc: BaseException) -> None:
        """Queue results again after a failed report.

        While the server cannot be reached or cannot write (a connection
        error, a restart, a cancelled statement, a read-only standby:
        :func:`~goodjob_pg.reconnect.is_transient`) results are kept and
        retried with the backoff for as long as it takes: a result dropped
        then would leave its job ``running`` under this process's lease,
        which the worker re-takes on reconnect, so no rescue would ever free
        it. Results fenced off
        meanwhile are refused when they finally arrive. Only other errors
        count towards ``_REPORT_TRIES``.
        """
        if not items:
            return
        transient = is_transient(exc)
        keep = []
        for result, job, tries in items:
            if transient:
                keep.append((result, job, tries))
            elif tries + 1 >= _REPORT_TRIES:
                logger.warning(
                    "dropped the result of job %s attempt %d after %d failed reports;"
                    " the job runs again once this process's lease ends",
                    job.id,
                    result.attempt,
                    tries + 1,
                    extra={"action": "result_dropped", "job_id": str(job.id), "task": job.task},
                )
            else:
                keep.append((result, job, tries + 1))
        with self._lock:
            self._done[:0] = keep

    def _connection(self) -> psycopg.Connection[Any]:
        if self._conn is None or self._conn.closed:
            self._conn = connect(self._worker.database_url, role=f"pool {self.index}")
        return self._conn

    def _recovered(self) -> None:
        """A statement succeeded: forget the backoff and the failure log's rate."""
        if self._backoff.failures:
            self._backoff.reset()
            reconnect_log.reset(self._name)

    def _failed(self, what: str, exc: BaseException) -> None:
        """Log a database failure (rate-limited), drop the connection, and back off."""
        delay = self._backoff.next_delay()
        reconnect_log.warning(
            logger,
            self._name,
            "%s: %s failed (%s: %s); retrying in %.1f s",
            self._name,
            what,
            type(exc).__name__,
            (str(exc).strip().splitlines() or [""])[0],
            delay,
            extra={"action": f"pool_{what}_failed", "pool": self.index},
        )
        close_quietly(self._conn)
        self._conn = None
        self._retry_at = time.monotonic() + delay


def _crash_result(job: Job, exc: BaseException) -> Result:
    """A failed Result for a job whose runner itself raised (a bug, not the task)."""
    return Result(job.id, job.attempts, Outcome.FAILED, type(exc).__name__, str(exc)[:2000])
