"""Table health readings: sizes and dead tuples, the xmin horizon, a long snapshot to pin it."""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from typing import Any

import psycopg

from goodjob_pg import db

__all__ = ["HorizonSampler", "LongTransaction", "snapshot"]

Conn = psycopg.Connection[Any]

_TABLES = """
select s.relname, pg_relation_size(s.relid), pg_indexes_size(s.relid),
       pg_total_relation_size(s.relid), s.n_live_tup, s.n_dead_tup,
       s.last_autovacuum, s.autovacuum_count, s.vacuum_count
  from pg_stat_user_tables s
 where s.relname like 'goodjob\\_%'
 order by pg_total_relation_size(s.relid) desc, s.relname
"""

_INDEXES = """
select i.relname, i.indexrelname, pg_relation_size(i.indexrelid)
  from pg_stat_user_indexes i
 where i.relname like 'goodjob\\_%'
 order by pg_relation_size(i.indexrelid) desc, i.indexrelname
"""

_JOBS_TABLE = """
select n_dead_tup, pg_total_relation_size(relid) from pg_stat_user_tables
 where relname = 'goodjob_jobs'
"""


def snapshot(conn: Conn, label: str, done: int) -> dict[str, Any]:
    """Sizes (bytes) and tuple counts of every goodjob table and index, now.

    :param label: names the moment (``first_100k``, ``end``, ``after_vacuum``).
    :param done: jobs finished at that moment.
    """
    tables = [
        {
            "table": name,
            "table_bytes": int(heap),
            "indexes_bytes": int(indexes),
            "total_bytes": int(total),
            "n_live_tup": int(live),
            "n_dead_tup": int(dead),
            "last_autovacuum": last.isoformat() if last is not None else None,
            "autovacuum_count": int(autovacuums),
            "vacuum_count": int(vacuums),
        }
        for name, heap, indexes, total, live, dead, last, autovacuums, vacuums in conn.execute(
            _TABLES
        ).fetchall()
    ]
    indexes = [
        {"table": table, "index": name, "bytes": int(size)}
        for table, name, size in conn.execute(_INDEXES).fetchall()
    ]
    return {
        "label": label,
        "jobs_done": done,
        "total_bytes": sum(t["total_bytes"] for t in tables),
        "tables": tables,
        "indexes": indexes,
    }


class LongTransaction:
    """A repeatable-read transaction holding one snapshot, on its own connection.

    :param url: the database.
    """

    def __init__(self, url: str) -> None:
        self._conn: Conn = psycopg.connect(url)
        self.opened_at: float | None = None
        self.closed_at: float | None = None

    def open(self) -> None:
        """Begin and take the snapshot (a read of the jobs table)."""
        self._conn.execute("set transaction isolation level repeatable read")
        self._conn.execute("select count(*) from goodjob_jobs")
        self.opened_at = time.monotonic()

    def close(self) -> None:
        """End the transaction and the connection."""
        self._conn.rollback()
        self._conn.close()
        self.closed_at = time.monotonic()


@dataclass
class HorizonSampler:
    """Reads :func:`goodjob_pg.db.oldest_xmin` (the metric's query) every ``interval`` s.

    :param url: the database (a connection of its own).
    :param started: the run's start (``time.monotonic()``); samples are relative to it.
    """

    url: str
    started: float
    interval: float = 1.0
    samples: list[dict[str, Any]] = field(default_factory=list)
    phase: str = "before"
    _stop: threading.Event = field(default_factory=threading.Event)
    _thread: threading.Thread | None = None

    def start(self) -> None:
        """Sample in the background until :meth:`stop`."""
        self._thread = threading.Thread(target=self._run, name="soak-horizon", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        """Stop sampling (after one last sample)."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join()

    def sample(self, conn: Conn) -> dict[str, Any]:
        """Take one sample now, labelled with the current phase."""
        xids, seconds = db.oldest_xmin(conn)
        jobs = conn.execute(_JOBS_TABLE).fetchone()
        row = {
            "t": round(time.monotonic() - self.started, 2),
            "phase": self.phase,
            "xids": xids,
            "seconds": round(max(seconds, 0.0), 2),
            "jobs_dead_tup": int(jobs[0]) if jobs else None,
            "jobs_total_bytes": int(jobs[1]) if jobs else None,
        }
        self.samples.append(row)
        return row

    def _run(self) -> None:
        with psycopg.connect(self.url, autocommit=True) as conn:
            while True:
                self.sample(conn)
                if self._stop.wait(self.interval):
                    return

    def summary(self) -> dict[str, Any]:
        """The largest age in each phase and the last one after the long transaction."""
        out: dict[str, Any] = {}
        for phase in ("before", "during", "after"):
            rows = [s for s in self.samples if s["phase"] == phase]
            out[phase] = {
                "samples": len(rows),
                "max_xids": max((s["xids"] for s in rows), default=None),
                "max_seconds": max((s["seconds"] for s in rows), default=None),
                "last_xids": rows[-1]["xids"] if rows else None,
                "last_seconds": rows[-1]["seconds"] if rows else None,
                "max_jobs_dead_tup": max((s["jobs_dead_tup"] or 0 for s in rows), default=None),
                "max_jobs_total_bytes": max(
                    (s["jobs_total_bytes"] or 0 for s in rows), default=None
                ),
            }
        return out
