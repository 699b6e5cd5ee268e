"""The rescue sweep a worker runs on its lease connection.

Every ``rescue_interval`` seconds (and when the lease connection opens) the
listener calls :func:`sweep`: first the heartbeat backstop ends the sessions
of processes whose lease is held but whose heartbeat is stale (a vanished
host, :func:`goodjob_pg.db.terminate_stale_processes`), then the jobs of
dead processes are made ready again (:func:`goodjob_pg.db.rescue_dead_processes`).
Neither step is ever fatal to the worker: a row locked by another session or
a role without the rights only earns a (rate-limited) warning.
"""

from __future__ import annotations

import logging
from typing import Any

import psycopg

from . import db
from .ratelimit import reconnect_log
from .reconnect import Watchdog

__all__ = ["end_stale_processes", "sweep"]

logger = logging.getLogger(__name__)


def sweep(
    conn: psycopg.Connection[Any],
    watchdog: Watchdog,
    *,
    limit: float,
    stale_after: float | None,
    retry_in: float,
) -> int:
    """End stale sessions, rescue dead processes' jobs; return how many were rescued.

    :param limit: seconds the sweep may take before the watchdog breaks the
        connection (it takes milliseconds: one that hangs means a dead link).
    :param stale_after: heartbeat age in seconds past which a held lease's
        session is ended (None: never).
    :param retry_in: seconds until the next sweep, for the log line when a
        job row is locked by another session (nothing changes then).
    """
    try:
        with watchdog.watch(conn, "lease", limit=limit):
            if stale_after is not None:
                end_stale_processes(conn, stale_after)
            count = db.rescue_dead_processes(conn)
    except psycopg.errors.LockNotAvailable:
        logger.warning(
            "rescue waited too long for a job row locked by another session; retrying in %.0f s",
            retry_in,
            extra={"action": "rescue_lock_timeout"},
        )
        return 0
    if count:
        logger.warning(
            "rescued %d job(s) of dead worker processes",
            count,
            extra={"action": "jobs_rescued", "count": count},
        )
    return count


def end_stale_processes(conn: psycopg.Connection[Any], threshold: float) -> None:
    """The heartbeat backstop: end the sessions of processes with stale heartbeats.

    Never fatal: a server or role that cannot do it gets a (rate-limited)
    warning, and the sweep goes on to the rescue.
    """
    try:
        stale = db.terminate_stale_processes(conn, threshold)
    except (psycopg.ProgrammingError, psycopg.errors.InsufficientPrivilege) as exc:
        # Schema older than migration 0011, or EXECUTE not granted.
        reconnect_log.warning(
            logger,
            "stale_check_failed",
            "cannot check for stale worker processes (%s); run goodjob-pg migrate"
            " (and sql/roles.sql, if installed)",
            str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__,
            extra={"action": "stale_check_failed"},
        )
        return
    for row in stale:
        if row.terminated:
            logger.warning(
                "ended the session (pid %d) of worker process %s: lease held, last"
                " heartbeat %s, over %g s ago; its jobs are rescued now",
                row.backend_pid,
                row.process_id,
                row.heartbeat_at.isoformat(),
                threshold,
                extra={"action": "stale_process_terminated", "process_id": str(row.process_id)},
            )
            continue
        reconnect_log.warning(
            logger,
            f"stale_process_not_terminated:{row.process_id}",
            "worker process %s holds its lease but its heartbeat is over %g s old, and"
            " its session (pid %d) cannot be ended: %s. Give the role pg_signal_backend"
            " (sql/roles.sql does), or run the workers under one role",
            row.process_id,
            threshold,
            row.backend_pid,
            row.error,
            extra={"action": "stale_process_not_terminated", "process_id": str(row.process_id)},
        )
