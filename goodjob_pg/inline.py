"""Inline mode: run due jobs in the calling thread, through the real SQL functions.

Jobs still go through goodjob_enqueue, goodjob_fetch_and_lock and
goodjob_report, so arguments round-trip through JSON and retry,
discard and preservation rules are the production ones. The runner holds a
process lease on a dedicated connection, registered on first use and
released by ``close()``.

Jobs run one at a time per App: a second thread calling ``perform`` waits
for the first to finish draining. A task that enqueues another job runs it
at once, nested, in the same thread.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
from datetime import datetime
from typing import TYPE_CHECKING, Any
from uuid import UUID

import psycopg

from . import db
from .execution import execute
from .jobs import Outcome, State

if TYPE_CHECKING:
    from .registry import App

__all__ = ["InlineRunner"]

logger = logging.getLogger(__name__)


class InlineRunner:
    """Fetches, runs and reports due jobs one by one for an App in inline mode."""

    def __init__(self, app: App) -> None:
        self._app = app
        self._lock = threading.RLock()
        self._conn: psycopg.Connection[Any] | None = None
        self._process_id: UUID | None = None
        self._shutdown = threading.Event()  # never set: inline jobs are not interrupted

    def perform(
        self, queues: str = "*", limit: int | None = None, *, as_of: datetime | None = None
    ) -> int:
        """Run due jobs until none is left or ``limit`` ran; returns how many ran.

        ``as_of`` pins the clock of fetch and report (what is due, when a
        retry is next due); default now.
        """
        done = 0
        with self._lock:
            while limit is None or done < limit:
                conn, process_id = self._lease()
                try:
                    jobs = db.fetch_and_lock(conn, process_id, queues, 1, as_of=as_of)
                except psycopg.OperationalError:
                    # The lease connection broke (e.g. a server restart): take a
                    # new lease once; a second failure propagates.
                    self._drop_connection()
                    conn, process_id = self._lease()
                    jobs = db.fetch_and_lock(conn, process_id, queues, 1, as_of=as_of)
                if not jobs:
                    break
                job = jobs[0]
                result = execute(self._app, job, self._shutdown)
                (report,) = db.report(conn, process_id, [result], as_of=as_of)
                if result.outcome is Outcome.FAILED and report.state is State.DISCARDED:
                    logger.error(
                        "job %s (%s) discarded after %d attempts: %s",
                        job.id,
                        job.task,
                        job.attempts,
                        result.error_message,
                        extra={"action": "job_discarded", "job_id": job.id, "task": job.task},
                    )
                done += 1
        return done

    def close(self) -> None:
        """Deregister the inline process and close its connection."""
        with self._lock:
            conn, process_id = self._conn, self._process_id
            self._conn = self._process_id = None
            if conn is None:
                return
            try:
                if process_id is not None and not conn.closed:
                    db.deregister_process(conn, process_id)
            except psycopg.Error:
                logger.warning("could not deregister the inline process", exc_info=True)
            finally:
                conn.close()

    def _lease(self) -> tuple[psycopg.Connection[Any], UUID]:
        if self._conn is not None and self._process_id is not None and not self._conn.closed:
            return self._conn, self._process_id
        self._drop_connection()
        conn = psycopg.connect(self._app.conninfo, autocommit=True)
        try:
            process_id = db.register_process(
                conn, socket.gethostname(), os.getpid(), "*", {"mode": "inline"}
            )
            # Release what a previous lease of ours (or any dead worker) left running.
            db.rescue_dead_processes(conn)
        except BaseException:
            conn.close()
            raise
        self._conn, self._process_id = conn, process_id
        return conn, process_id

    def _drop_connection(self) -> None:
        if self._conn is not None:
            self._conn.close()
        self._conn = self._process_id = None
