"""The cron scheduler: a worker thread that enqueues each entry's ticks.

At start it writes every entry's definition (goodjob_define_cron_entry) and
reads each entry's latest handled tick from the database. Then, for each
entry, it walks the ticks after that one: a tick that is due is enqueued
with goodjob_enqueue_cron_tick, which makes each tick one job whatever the
number of processes running cron; a tick older than the grace period
(missed while no process ran cron) is skipped and logged. A tick that fell
due while the scheduler ran is enqueued even when late (a busy machine, a
database outage), for up to a minute or the grace period if longer. It sleeps until
the next tick or a stop request. SQL decides whether an entry is enabled.

A database error leaves the tick pending and is retried a second later;
an error in the entry itself (a callable that raises, a bad value) is
logged and that tick is skipped.
"""

from __future__ import annotations

import logging
import threading
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

import psycopg

from . import db
from .clock import database_clock
from .cron import CronEntry, define_entries
from .errors import SQLError

if TYPE_CHECKING:
    from .registry import App

__all__ = ["CronScheduler"]

logger = logging.getLogger(__name__)

_RETRY = 1.0  # seconds before retrying a tick after a database error
_MAX_SLEEP = 60.0
_MAX_SKIPS = 100_000  # ticks of a callable schedule walked one by one before jumping
# A tick that fell due while this scheduler ran is enqueued late (a busy machine, a database
# outage) for at least this long; only ticks missed before start-up obey the grace period alone.
_LATE = timedelta(seconds=60)


class CronScheduler:
    """Enqueues the ticks of ``entries`` for ``app`` until stopped.

    :param app: its connection pool is used for every call.
    :param entries: checked entries by key (see :func:`goodjob_pg.cron.load_entries`).
    :param grace_period: seconds; missed ticks younger than this are enqueued
        at start-up, older ones skipped.
    """

    def __init__(self, app: App, entries: dict[str, CronEntry], *, grace_period: float) -> None:
        self._app = app
        self._entries = entries
        self._grace = timedelta(seconds=grace_period)
        self._last: dict[str, datetime | None] = {}
        self._due: dict[str, datetime] = {}
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._started = database_clock.now()
        self._prepared = False

    def prepare(self) -> None:
        """Define the entries and read their history (CronConfigError for a refused entry)."""
        now = self._started = database_clock.now()
        with self._app.connection() as conn:
            define_entries(conn, self._entries)
            self._last = dict(db.cron_last_ticks(conn, list(self._entries)))
        for key in self._entries:
            self._last.setdefault(key, None)
        logger.info(
            "cron started: %d entr%s (%s)",
            len(self._entries),
            "y" if len(self._entries) == 1 else "ies",
            ", ".join(self._entries) or "none",
            extra={"action": "cron_started", "now": now.isoformat()},
        )
        self._prepared = True

    def start(self) -> None:
        """Prepare (unless done) and start the thread."""
        if not self._prepared:
            self.prepare()
        self._thread = threading.Thread(target=self._run, name="goodjob-cron", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        """Stop the thread and wait for it."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join()

    # -- the loop -----------------------------------------------------------

    def _run(self) -> None:
        while not self._stop.is_set():
            wake = database_clock.now() + timedelta(seconds=_MAX_SLEEP)
            for entry in self._entries.values():
                if self._stop.is_set():
                    return
                try:
                    wake = min(wake, self._advance(entry))
                except Exception:  # a bug: log it, keep the other entries ticking
                    logger.exception(
                        "cron entry %s failed", entry.key, extra={"action": "cron_error"}
                    )
                    wake = min(wake, database_clock.now() + timedelta(seconds=_RETRY))
            self._stop.wait(max(0.0, (wake - database_clock.now()).total_seconds()))

    def _advance(self, entry: CronEntry) -> datetime:
        """Handle the entry's due ticks; return when it is next due."""
        now = database_clock.now()
        last = self._last[entry.key]
        tick = self._due.get(entry.key) or entry.next_after(last, now)
        skipped = 0
        while tick <= now:
            oldest = now - (self._grace if tick < self._started else max(self._grace, _LATE))
            if tick < oldest:
                skipped += 1
                last = tick
                if skipped >= _MAX_SKIPS or isinstance(entry.cron, str):
                    # Jump to the start of the grace period instead of walking every tick.
                    last = max(tick, oldest)
                tick = entry.next_after(last, now)
                continue
            following = entry.next_after(tick, now)
            if not self._enqueue(entry, tick, following):
                self._due[entry.key] = tick
                return now + timedelta(seconds=_RETRY)
            last, tick = tick, following
        if skipped:
            logger.warning(
                "cron entry %s: skipped tick(s) missed before the grace period of %.0f s, up to %s",
                entry.key,
                self._grace.total_seconds(),
                last.isoformat() if last is not None else "-",
                extra={"action": "cron_ticks_skipped", "cron_key": entry.key},
            )
        self._last[entry.key] = last
        self._due[entry.key] = tick
        return tick

    def _enqueue(self, entry: CronEntry, tick: datetime, following: datetime) -> bool:
        """Enqueue one tick; False when the database failed and it should be retried."""
        try:
            values = entry.values()
        except Exception:  # the entry's own callables: skip this tick, keep the schedule
            logger.exception(
                "cron entry %s: tick of %s skipped: computing its arguments failed",
                entry.key,
                tick.isoformat(),
                extra={"action": "cron_tick_failed", "cron_key": entry.key},
            )
            return True
        try:
            with self._app.connection() as conn:
                job_id = db.enqueue_cron_tick(
                    conn,
                    entry.key,
                    tick,
                    next_run_at=following,
                    args=values.args,
                    kwargs=values.kwargs,
                    queue=values.queue,
                    priority=values.priority,
                    labels=values.labels,
                )
        except (psycopg.Error, OSError) as exc:
            logger.warning(
                "cron entry %s: could not enqueue the tick of %s (%s); retrying",
                entry.key,
                tick.isoformat(),
                exc,
                extra={"action": "cron_enqueue_failed", "cron_key": entry.key},
            )
            return False
        except SQLError as exc:
            logger.error(
                "cron entry %s: tick of %s skipped: %s",
                entry.key,
                tick.isoformat(),
                exc,
                extra={"action": "cron_tick_failed", "cron_key": entry.key},
            )
            return True
        if job_id is not None:
            logger.info(
                "cron entry %s: enqueued job %s for %s",
                entry.key,
                job_id,
                tick.isoformat(),
                extra={"action": "cron_enqueued", "cron_key": entry.key, "job_id": str(job_id)},
            )
        return True
