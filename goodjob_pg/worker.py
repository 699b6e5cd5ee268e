"""The worker process: pools, the lease-and-listen connection, and shutdown.

A :class:`Worker` runs one :class:`~goodjob_pg.pool_runner.Pool` per pool of
``--queues`` (each with its own connection and thread), one
:class:`~goodjob_pg.listener.Listener` (the lease, LISTEN, heartbeats,
rescues), one event loop thread for ``async def`` tasks (started on first
use) and a supervisor thread (idle timeout, stuck-connection watchdog).

Connections per worker: one for the lease and LISTEN, plus one per pool.

Lifecycle: ``start()`` connects, writes task definitions, registers the
process, rescues dead processes and starts the threads; ``stop()`` stops
fetching, sets ``current_job().shutting_down``, waits for running jobs up to
the shutdown timeout, reports them, and deregisters (which makes jobs still
running ready again). ``run()`` does both around SIGTERM/SIGINT handlers.
"""

from __future__ import annotations

import logging
import os
import signal
import socket
import threading
import time
from collections.abc import Iterator
from concurrent.futures import Future
from contextlib import contextmanager
from dataclasses import dataclass
from types import FrameType
from typing import TYPE_CHECKING
from uuid import UUID

from .aioloop import EventLoopThread
from .cleanup import Cleaner
from .clock import database_clock
from .cron_scheduler import CronScheduler
from .hooks import HookEvent
from .jobs import Job, ReportOutcome, Result, State
from .listener import Listener
from .metrics import Metrics, QueueDepth
from .pool_runner import Pool
from .pools import PoolSpec, parse_queues
from .probe import ProbeServer
from .reconnect import Watchdog, wait_until_usable
from .running import submit
from .threadpool import DaemonExecutor
from .wakeups import RunTimeCache

if TYPE_CHECKING:
    from .registry import App

__all__ = ["Worker", "WorkerConfig"]

logger = logging.getLogger(__name__)

_SUPERVISOR_TICK = 0.25
_STATEMENT_LIMIT = 60.0  # a worker statement running longer means a dead link
_CACHE_GRACE = 60.0  # cached run times this far in the past are forgotten


class _StartCancelled(Exception):
    """A stop was requested while start-up waited for a writable server."""


@dataclass(frozen=True)
class WorkerConfig:
    """How a worker runs.

    :param queues: pools in GoodJob's syntax, e.g. ``"mice:2;elephants,mice:1;*"``.
    :param max_threads: threads of a pool that gives no count.
    :param poll_interval: seconds between safety-net fetches; -1 disables polling.
    :param max_cache: most future run times kept for exact wake-ups (0 disables).
    :param shutdown_timeout: seconds to let running jobs finish on shutdown;
        -1 waits forever, 0 does not wait.
    :param listen_notify: False to rely on polling and the cache only.
    :param idle_timeout: exit after this many seconds with nothing to do.
    :param enable_cron: schedule the App's cron entries in this process.
    :param cron_grace_period: seconds; at start-up, ticks missed within this
        period are enqueued (once each), older ones skipped.
    :param cleanup_preserved_jobs_before_seconds_ago: finished jobs older
        than this are deleted by the automatic cleanup.
    :param cleanup_interval_jobs: clean up after this many finished jobs;
        -1 after every job; None disables.
    :param cleanup_interval_seconds: clean up this often; -1 after every job;
        None disables.
    :param cleanup_discarded_jobs: False keeps discarded jobs.
    :param probe_port: serve health probes and ``/metrics`` on this TCP port
        (:mod:`goodjob_pg.probe`); None serves nothing and counts nothing.
    :param heartbeat_interval: seconds between heartbeats (and self-pings).
    :param rescue_interval: seconds between rescue sweeps.
    :param stale_process_threshold: seconds; the sweep ends the session of a
        process whose lease is held but whose heartbeat is older (a vanished
        host), so its jobs are rescued. Over twice the heartbeat interval;
        None disables it.
    """

    queues: str = "*"
    max_threads: int = 5
    poll_interval: float = 10.0
    max_cache: int = 10000
    shutdown_timeout: float = -1.0
    listen_notify: bool = True
    idle_timeout: float | None = None
    enable_cron: bool = False
    cron_grace_period: float = 60.0
    cleanup_preserved_jobs_before_seconds_ago: float = 14 * 86400.0
    cleanup_interval_jobs: int | None = 1000
    cleanup_interval_seconds: float | None = 600.0
    cleanup_discarded_jobs: bool = True
    probe_port: int | None = None
    heartbeat_interval: float = 15.0
    rescue_interval: float = 10.0
    stale_process_threshold: float | None = 120.0

    def __post_init__(self) -> None:
        if isinstance(self.max_threads, bool) or not isinstance(self.max_threads, int):
            raise ValueError(f"max_threads must be an integer, not {self.max_threads!r}")
        parse_queues(self.queues, default_threads=self.max_threads)
        if not (self.poll_interval > 0 or self.poll_interval == -1):
            raise ValueError(f"poll_interval must be > 0 or -1 (off), not {self.poll_interval!r}")
        if self.max_cache < 0:
            raise ValueError(f"max_cache must be >= 0, not {self.max_cache!r}")
        if not (self.shutdown_timeout >= 0 or self.shutdown_timeout == -1):
            raise ValueError(
                f"shutdown_timeout must be >= 0 or -1 (wait forever), not {self.shutdown_timeout!r}"
            )
        if self.idle_timeout is not None and not self.idle_timeout > 0:
            raise ValueError(f"idle_timeout must be > 0 or None, not {self.idle_timeout!r}")
        if not self.cron_grace_period >= 0:
            raise ValueError(f"cron_grace_period must be >= 0, not {self.cron_grace_period!r}")
        if not self.cleanup_preserved_jobs_before_seconds_ago >= 0:
            raise ValueError(
                "cleanup_preserved_jobs_before_seconds_ago must be >= 0, not"
                f" {self.cleanup_preserved_jobs_before_seconds_ago!r}"
            )
        jobs, seconds = self.cleanup_interval_jobs, self.cleanup_interval_seconds
        if jobs is not None and (isinstance(jobs, bool) or not (jobs == -1 or jobs >= 1)):
            raise ValueError(f"cleanup_interval_jobs must be >= 1, -1 or None, not {jobs!r}")
        if seconds is not None and not (seconds == -1 or seconds > 0):
            raise ValueError(f"cleanup_interval_seconds must be > 0, -1 or None, not {seconds!r}")
        port = self.probe_port
        if port is not None and (isinstance(port, bool) or not 0 <= port <= 65535):
            raise ValueError(f"probe_port must be 0-65535 or None, not {port!r}")
        for name in ("heartbeat_interval", "rescue_interval"):
            if not 0 < getattr(self, name) < float("inf"):
                raise ValueError(f"{name} must be > 0, not {getattr(self, name)!r}")
        stale = self.stale_process_threshold
        if stale is not None and not 2 * self.heartbeat_interval < stale < float("inf"):
            raise ValueError(
                "stale_process_threshold must be over twice the heartbeat interval"
                f" ({2 * self.heartbeat_interval:g} s) or None, not {stale!r}"
            )

    def cleaner(self, app: App) -> Cleaner:
        """The automatic cleanup these settings describe."""
        every_job = -1 in (self.cleanup_interval_jobs, self.cleanup_interval_seconds)
        seconds = self.cleanup_interval_seconds
        return Cleaner(
            app,
            older_than=self.cleanup_preserved_jobs_before_seconds_ago,
            interval_jobs=-1 if every_job else self.cleanup_interval_jobs,
            interval_seconds=None if seconds == -1 else seconds,
            include_discarded=self.cleanup_discarded_jobs,
        )

    @property
    def pools(self) -> tuple[PoolSpec, ...]:
        """The parsed pools."""
        return parse_queues(self.queues, default_threads=self.max_threads)


class Worker:
    """Runs the jobs of an App. Nothing touches the database before ``start()``.

    :param app: the App whose tasks run.
    :param config: see :class:`WorkerConfig`.
    """

    def __init__(self, app: App, config: WorkerConfig | None = None) -> None:
        self.app = app
        self.config = config if config is not None else WorkerConfig()
        self.database_url = app.conninfo  # with the schema's search_path
        self.stopping = threading.Event()  # also each job's ``shutting_down``
        self.deadline: float | None = None  # monotonic shutdown deadline
        self.process_id: UUID | None = None
        self.lease_epoch = 0  # counts lease changes: a pool's goodjob_wait holds for one epoch
        self.cache = RunTimeCache(self.config.max_cache)
        self.watchdog = Watchdog(_STATEMENT_LIMIT)
        self.pools = [Pool(i, spec, self) for i, spec in enumerate(self.config.pools)]
        self.listener = Listener(
            self.database_url,
            self,
            self.cache,
            {
                "hostname": socket.gethostname(),
                "pid": os.getpid(),
                "queues": self.config.queues,
                "state": {"pools": [[p.queues, p.threads] for p in self.config.pools]},
            },
            listen=self.config.listen_notify,
            watchdog=self.watchdog,
            on_connect=self.app.sync_task_definitions,
            heartbeat_interval=self.config.heartbeat_interval,
            rescue_interval=self.config.rescue_interval,
            stale_after=self.config.stale_process_threshold,
        )
        self._lock = threading.Lock()
        self._started = self._stopped = self._running = False
        self._stop_requested = threading.Event()
        self._supervisor = threading.Thread(
            target=self._supervise, name="goodjob-supervisor", daemon=True
        )
        self._aio = EventLoopThread()
        self.cleaner = self.config.cleaner(app)
        self.cron: CronScheduler | None = None
        self._in_run = False
        self._signalled: int | None = None  # set by the signal handler (no locks there)
        # Production extras (goodjob_pg.probe, .metrics): only with a probe port.
        probing = self.config.probe_port is not None
        self.metrics: Metrics | None = Metrics() if probing else None
        self.queue_depth: QueueDepth | None = None  # opened with the probe server
        self.probe: ProbeServer | None = None

    # -- public API ------------------------------------------------------------------------

    def run(self) -> int:
        """Run until SIGTERM/SIGINT (or the idle timeout); return the exit code (0)."""
        self._in_run = True
        with self._signal_handlers():
            self.start()
            try:
                while self._signalled is None and not self._stop_requested.wait(0.1):
                    pass
            finally:
                self.stop()
        return 0

    def start(self) -> None:
        """Connect, register and start the worker's threads; return at once."""
        with self._lock:
            if self._started:
                return
            self._started = True
        try:
            if self.config.probe_port is not None:  # answers / while start-up connects
                self.queue_depth = QueueDepth(self.database_url)
                self.probe = ProbeServer(self, self.config.probe_port)
                self.probe.start()
            if self.config.enable_cron:  # a bad entry stops start-up before anything runs
                self.cron = CronScheduler(
                    self.app,
                    self.app.cron_entries(),
                    grace_period=self.config.cron_grace_period,
                )
            # A read-only server (a standby, a fail-over under way): wait for
            # it to accept writes; one that is down or restarting: wait up
            # to STARTUP_UNREACHABLE_S; stop if asked meanwhile.
            self.process_id = wait_until_usable(self.listener.open, self._start_cancelled)
            if self.process_id is None:
                raise _StartCancelled
            if self.cron is not None:
                try:
                    self.cron.prepare()
                except BaseException:
                    self.listener.stop()  # deregister: nothing else has started
                    raise
        except BaseException as exc:
            with self._lock:
                self._started = False
            self._stop_probe()
            if isinstance(exc, _StartCancelled):
                return
            raise
        logger.info(
            "worker %s started: pools %s",
            self.process_id,
            "; ".join(f"{p.queues}:{p.threads}" for p in self.config.pools),
            extra={"action": "worker_started", "process_id": str(self.process_id)},
        )
        self.listener.start()
        for pool in self.pools:
            pool.start()
        self.cleaner.start()
        if self.cron is not None:
            self.cron.start()
        self._supervisor.start()
        self._running = True
        self.app.hooks.fire(HookEvent("worker_started", process_id=self.process_id))

    def stop(self, timeout: float | None = None) -> None:
        """Stop fetching, let running jobs finish (up to ``timeout``, default the
        config's shutdown timeout; -1 waits forever), report them, deregister."""
        with self._lock:
            if self._stopped or not self._started:
                return
            self._stopped = True
        wait = self.config.shutdown_timeout if timeout is None else timeout
        self.deadline = None if wait < 0 else time.monotonic() + wait
        logger.info(
            "worker %s shutting down (%s)",
            self.process_id,
            "waiting for running jobs"
            if wait < 0
            else f"waiting up to {wait:g} s for running jobs",
            extra={"action": "worker_stopping", "process_id": str(self.process_id)},
        )
        self._stop_requested.set()
        self.stopping.set()
        if self.cron is not None:
            self.cron.stop()
        for pool in self.pools:
            pool.wake(fetch=False)
        for pool in self.pools:
            pool.join()
        self.cleaner.stop()
        self._aio.stop()
        self.listener.stop()
        if threading.current_thread() is not self._supervisor:
            self._supervisor.join()
        self._stop_probe()
        logger.info("worker %s stopped", self.process_id, extra={"action": "worker_stopped"})
        self.app.hooks.fire(HookEvent("worker_stopped", process_id=self.process_id))

    # -- used by pools and the listener --------------------------------------------------------

    def submit(self, job: Job, executor: DaemonExecutor) -> Future[Result]:
        """Start a claimed job: sync tasks on the pool's threads, async ones on the loop."""
        return submit(self, job, executor)

    @property
    def started(self) -> bool:
        """True from the end of ``start()`` while every pool's thread runs and none stops."""
        return (
            self._running
            and not self.stopping.is_set()
            and self.listener.running
            and all(pool.alive for pool in self.pools)
        )

    @property
    def connected(self) -> bool:
        """True while the lease is held on a live connection and no pool backs off."""
        return (
            self.process_id is not None
            and self.listener.connected
            and all(pool.healthy for pool in self.pools)
        )

    def reported(self, job: Job, result: Result, outcome: ReportOutcome) -> None:
        """Handle what SQL did with a result: log refusals, remember retry times."""
        if self.metrics is not None:
            self.metrics.job_reported(job, result, outcome)
        if outcome.accepted:
            self.cleaner.jobs_finished()
        if not outcome.accepted:
            logger.warning(
                "result of job %s attempt %d was refused: the job no longer belongs to this"
                " process (it was rescued); another attempt owns it now",
                job.id,
                result.attempt,
                extra={"action": "result_refused", "job_id": str(job.id), "task": job.task},
            )
        elif outcome.state is State.SCHEDULED and outcome.run_at is not None:
            self.notified(job.queue, outcome.run_at.timestamp())

    def notified(self, queue: str, run_at: float | None) -> None:
        """Wake the pools serving ``queue``: to fetch now, or at ``run_at``."""
        ready = run_at is None or run_at <= database_clock.time()
        if not ready and run_at is not None and not self.cache.add(queue, run_at):
            return
        for pool in self.pools:
            if pool.matches(queue):
                pool.wake(fetch=ready)

    def wake_all(self, *, fetch: bool) -> None:
        """Wake every pool (``fetch``: one catch-up fetch each, without backoff)."""
        for pool in self.pools:
            pool.wake(fetch=fetch, retry_now=fetch)

    def lease_changed(self, process_id: UUID | None) -> None:
        """The listener took the lease as ``process_id`` (None: lost; stop fetching).

        Every change starts a new lease epoch: pools register as waiting
        again (goodjob_wait) on their next short fetch, since a new process
        id, a rescue or a server restart may have removed their rows.
        """
        self.process_id = process_id
        self.lease_epoch += 1

    def process_missing(self, process_id: UUID, exc: BaseException) -> None:
        """A fetch found our process row gone: have the listener register again."""
        if process_id == self.process_id:
            self.listener.request_reconnect(str(exc))

    # -- internals ---------------------------------------------------------------------------

    def _start_cancelled(self) -> bool:
        return self._signalled is not None or self._stop_requested.is_set()

    def _stop_probe(self) -> None:
        if self.probe is not None:
            self.probe.stop()
            self.probe = None
        if self.queue_depth is not None:
            self.queue_depth.close()
            self.queue_depth = None

    def _supervise(self) -> None:
        """Break stuck connections, forget stale cache times, enforce the idle timeout."""
        idle = self.config.idle_timeout
        while not self.stopping.wait(_SUPERVISOR_TICK):
            self.watchdog.check()
            self.cache.prune(database_clock.time() - _CACHE_GRACE)
            if idle is not None and not any(p.busy for p in self.pools):
                quiet = time.monotonic() - max(p.last_active for p in self.pools)
                if quiet >= idle:
                    logger.info(
                        "no job for %.0f s: stopping (idle timeout)",
                        quiet,
                        extra={"action": "worker_idle_timeout"},
                    )
                    self._stop_requested.set()
                    if not self._in_run:
                        self.stop()
                    return
        while self.listener.running:  # keep breaking stuck statements during shutdown
            self.watchdog.check()
            self.listener.join(_SUPERVISOR_TICK)

    @contextmanager
    def _signal_handlers(self) -> Iterator[None]:
        """Route SIGTERM/SIGINT to a graceful stop; restore the old handlers after."""
        if threading.current_thread() is not threading.main_thread():
            yield  # signals can only be handled in the main thread
            return
        old = {sig: signal.signal(sig, self._on_signal) for sig in (signal.SIGTERM, signal.SIGINT)}
        try:
            yield
        finally:
            for sig, handler in old.items():
                signal.signal(sig, handler)

    def _on_signal(self, signum: int, frame: FrameType | None) -> None:
        # Only plain assignments here: setting an Event could deadlock on its lock.
        name = signal.Signals(signum).name
        stopping = self._signalled is not None or self._stop_requested.is_set()
        if stopping and signum == signal.SIGINT:
            logger.warning("second SIGINT: exiting now", extra={"action": "worker_killed"})
            os._exit(130)
        logger.info(
            "received %s: shutting down", name, extra={"action": "worker_signal", "signal": name}
        )
        self._signalled = signum
