"""What pinning ``search_path`` (and the roles' ``SECURITY DEFINER``) costs per call.

Three fresh databases with the same install:

- *unpinned*: every goodjob function's ``search_path`` setting removed
  (``alter function ... reset search_path``), so calls run with the
  caller's path, as they would without the hardening;
- *pinned*: as installed (``set search_path from current`` on every function);
- *roles*: as installed plus ``sql/roles.sql`` (public functions become
  ``SECURITY DEFINER`` with ``pg_catalog, <schema>, pg_temp``).

In each, one PL/pgSQL ``DO`` block calls ``goodjob_enqueue`` ``path_calls``
times inside a transaction that is rolled back (so every run starts from
the same empty table, vacuumed first); the figure is microseconds per call,
measured from the client around the one statement, so round trips do not
blur it. Ratios are against *unpinned* in the same run. No target: this
is the price of the hardening, reported so it stays visible.
"""

from __future__ import annotations

import time
from typing import Any

import psycopg

from ..context import Context
from ..report import Row
from ..stats import figure, ratios
from ..subject import REPO

__all__ = ["run"]

Conn = psycopg.Connection[Any]

_UNPIN = """
do $unpin$
declare f record;
begin
  for f in select p.oid::regprocedure as sig from pg_proc p
            where p.pronamespace = current_schema()::regnamespace
              and p.proname like 'goodjob%' and p.prokind = 'f'
  loop
    execute format('alter function %s reset search_path', f.sig);
  end loop;
end
$unpin$
"""

_LOOP = """
do $loop$
begin
  for i in 1..%s loop
    perform goodjob_enqueue(task => 'bench.noop');
  end loop;
end
$loop$
"""


def _us_per_call(conn: Conn, calls: int) -> float:
    """Microseconds per goodjob_enqueue inside one rolled-back DO block."""
    conn.execute("vacuum goodjob_jobs")
    with conn.transaction(force_rollback=True):
        started = time.perf_counter()
        conn.execute(_LOOP % int(calls))
        elapsed = time.perf_counter() - started
    return elapsed / calls * 1e6


def run(ctx: Context) -> list[Row]:
    """Measure the three variants, alternating runs between them."""
    calls = ctx.settings.path_calls
    variants: dict[str, tuple[str, Conn]] = {}
    for name in ("unpinned", "pinned", "roles"):
        url = ctx.database(f"path_{name}")
        conn = ctx.connect(url)
        if name == "unpinned":
            conn.execute(_UNPIN)
        elif name == "roles":
            conn.execute((REPO / "sql" / "roles.sql").read_text())
        variants[name] = (url, conn)
    times: dict[str, list[float]] = {name: [] for name in variants}
    try:
        for _, conn in variants.values():
            _us_per_call(conn, min(calls, 1000))  # warm the plan caches
        for i in range(ctx.settings.runs):
            ctx.log(f"search_path: {calls:,} calls per variant, run {i + 1}/{ctx.settings.runs}")
            for name, (_, conn) in variants.items():
                times[name].append(_us_per_call(conn, calls))
    finally:
        for url, conn in variants.values():
            conn.close()
            ctx.dbs.drop(url)
    base = times["unpinned"]
    rows = [
        Row(
            "search_path",
            "goodjob_enqueue in a PL/pgSQL loop, search_path not pinned",
            "us/call",
            figure(base),
            note=f"{calls:,} calls in one DO block, rolled back; server time only",
        )
    ]
    for name, label in (
        ("pinned", "pinned search_path (as installed)"),
        ("roles", "with sql/roles.sql (SECURITY DEFINER, pg_temp last)"),
    ):
        rows.append(
            Row(
                "search_path",
                f"goodjob_enqueue, {label}",
                "us/call",
                figure(times[name]),
                versus="not pinned",
                reference=figure(base),
                ratio=ratios(times[name], base),
            )
        )
    return rows
