"""Automatic cleanup of preserved job records, run by the worker on its own thread.

Every ``interval_jobs`` finished jobs (-1: after every job) and every
``interval_seconds`` seconds, whichever comes first, the cleaner calls
goodjob_cleanup_preserved_jobs for records that finished more than
``older_than`` seconds ago. Either interval may be None (disabled). Requests
that arrive while a cleanup runs are folded into the next one, so a busy
worker with ``interval_jobs=-1`` runs cleanups back to back, never in
parallel. Cleanup runs on the App's pool, never on a pool's fetch connection.
"""

from __future__ import annotations

import logging
import threading
import time
from datetime import timedelta
from typing import TYPE_CHECKING

import psycopg

from . import db
from .errors import SQLError

if TYPE_CHECKING:
    from .registry import App

__all__ = ["Cleaner"]

logger = logging.getLogger(__name__)


class Cleaner:
    """Deletes old preserved jobs on a schedule counted in jobs and in seconds.

    :param app: its connection pool runs the cleanup.
    :param older_than: seconds a finished job is kept.
    :param interval_jobs: clean after this many finished jobs; -1 after every
        job; None never by count.
    :param interval_seconds: clean this often; None never by time.
    :param include_discarded: False keeps discarded jobs.
    """

    def __init__(
        self,
        app: App,
        *,
        older_than: float,
        interval_jobs: int | None,
        interval_seconds: float | None,
        include_discarded: bool,
    ) -> None:
        self._app = app
        self._older_than = timedelta(seconds=older_than)
        self._threshold = None if interval_jobs is None else max(interval_jobs, 1)
        self._interval = interval_seconds
        self._include_discarded = include_discarded
        self._lock = threading.Lock()
        self._finished = 0
        self._wake = threading.Event()
        self._stopping = False
        self._thread: threading.Thread | None = None
        self.runs = 0  # cleanups done, for tests and logs

    @property
    def enabled(self) -> bool:
        """True when some interval is set."""
        return self._threshold is not None or self._interval is not None

    def start(self) -> None:
        """Start the cleanup thread (nothing when both intervals are disabled)."""
        if not self.enabled:
            return
        self._thread = threading.Thread(target=self._run, name="goodjob-cleanup", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        """Stop the thread (a cleanup in progress finishes first)."""
        self._stopping = True
        self._wake.set()
        if self._thread is not None:
            self._thread.join()

    def jobs_finished(self, count: int = 1) -> None:
        """Count finished jobs; wake the thread when the job interval is reached."""
        if self._threshold is None:
            return
        with self._lock:
            self._finished += count
            due = self._finished >= self._threshold
        if due:
            self._wake.set()

    def _run(self) -> None:
        deadline = None if self._interval is None else time.monotonic() + self._interval
        while True:
            timeout = None if deadline is None else max(0.0, deadline - time.monotonic())
            self._wake.wait(timeout)
            self._wake.clear()
            if self._stopping:
                return
            with self._lock:
                by_count = self._threshold is not None and self._finished >= self._threshold
                if by_count:
                    self._finished = 0
            by_time = deadline is not None and time.monotonic() >= deadline
            if by_count or by_time:
                self._clean("jobs" if by_count else "seconds")
                if self._interval is not None:
                    deadline = time.monotonic() + self._interval

    def _clean(self, reason: str) -> None:
        try:
            with self._app.connection() as conn:
                count = db.cleanup_preserved_jobs(conn, self._older_than, self._include_discarded)
        except (psycopg.Error, OSError, SQLError) as exc:
            logger.warning(
                "cleanup of preserved jobs failed (%s); trying again at the next interval",
                exc,
                extra={"action": "cleanup_failed"},
            )
            return
        self.runs += 1
        logger.info(
            "cleanup (by %s): deleted %d preserved job(s) finished more than %.0f s ago",
            reason,
            count,
            self._older_than.total_seconds(),
            extra={"action": "cleanup_preserved_jobs", "count": count},
        )
