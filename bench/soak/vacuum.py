"""A stand-in for autovacuum, for servers that run with ``autovacuum = off``.

The test server of this project turns autovacuum off (its CI configuration),
and a soak without vacuum measures nothing about the table settings. The
stand-in applies autovacuum's own trigger rule with each table's storage
parameters (``autovacuum_vacuum_scale_factor`` and the rest, falling back
to the server's settings): every ``naptime`` seconds, a goodjob table whose
dead rows exceed ``threshold + scale_factor * reltuples`` (or whose inserts
since the last vacuum exceed the insert rule) is vacuumed, with the table's
cost delay and limit; one whose changes since the last analyze exceed the
analyze rule is analyzed.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from typing import Any

import psycopg

__all__ = ["AutovacuumStandIn"]

_GLOBALS = """
select name, setting from pg_settings where name in (
  'autovacuum_vacuum_threshold', 'autovacuum_vacuum_scale_factor',
  'autovacuum_vacuum_insert_threshold', 'autovacuum_vacuum_insert_scale_factor',
  'autovacuum_analyze_threshold', 'autovacuum_analyze_scale_factor',
  'autovacuum_vacuum_cost_delay', 'autovacuum_vacuum_cost_limit', 'vacuum_cost_limit')
"""

_TABLES = """
select c.relname, greatest(c.reltuples, 0), s.n_dead_tup, s.n_ins_since_vacuum,
       s.n_mod_since_analyze, coalesce(c.reloptions, '{}')
  from pg_class c join pg_stat_user_tables s on s.relid = c.oid
 where c.relname like 'goodjob\\_%'
"""


@dataclass
class AutovacuumStandIn:
    """Vacuums and analyzes goodjob tables by autovacuum's rule, on its own connection.

    :param url: the database.
    :param started: the run's start (``time.monotonic()``); runs are timed from it.
    :param naptime: seconds between checks.
    """

    url: str
    started: float
    naptime: float = 5.0
    runs: list[dict[str, Any]] = field(default_factory=list)
    _stop: threading.Event = field(default_factory=threading.Event)
    _thread: threading.Thread | None = None

    def start(self) -> None:
        """Check in the background until :meth:`stop`."""
        self._thread = threading.Thread(target=self._run, name="soak-vacuum", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        """Stop (a vacuum in progress finishes first)."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join()

    def _run(self) -> None:
        with psycopg.connect(self.url, autocommit=True) as conn:
            defaults = {name: float(value) for name, value in conn.execute(_GLOBALS).fetchall()}
            while not self._stop.wait(self.naptime):
                for row in conn.execute(_TABLES).fetchall():
                    self._check(conn, defaults, *row)

    def _check(
        self,
        conn: psycopg.Connection[Any],
        defaults: dict[str, float],
        table: str,
        reltuples: float,
        dead: int,
        inserted: int,
        modified: int,
        reloptions: list[str],
    ) -> None:
        options = dict(defaults)
        options.update({k: float(v) for k, v in (o.split("=", 1) for o in reloptions) if _num(v)})

        def due(kind: str, count: int) -> bool:
            limit = options[f"autovacuum_{kind}_threshold"]
            limit += options[f"autovacuum_{kind}_scale_factor"] * reltuples
            return count > limit

        vacuum = due("vacuum", dead) or due("vacuum_insert", inserted)
        analyze = due("analyze", modified)
        if not (vacuum or analyze):
            return
        limit = options["autovacuum_vacuum_cost_limit"]
        limit = options["vacuum_cost_limit"] if limit < 0 else limit
        conn.execute(f"set vacuum_cost_delay = '{options['autovacuum_vacuum_cost_delay']}ms'")
        conn.execute(f"set vacuum_cost_limit = {int(limit)}")
        t0 = time.monotonic()
        command = "vacuum (analyze)" if vacuum and analyze else "vacuum" if vacuum else "analyze"
        conn.execute(f'{command} "{table}"')
        self.runs.append(
            {
                "t": round(t0 - self.started, 1),
                "table": table,
                "command": command,
                "dead_before": dead,
                "seconds": round(time.monotonic() - t0, 2),
            }
        )


def _num(value: str) -> bool:
    try:
        float(value)
    except ValueError:
        return False
    return True
