"""Flat hot path: goodjob_fetch_and_lock with 2,000,000 other rows vs an empty table.

Two fresh databases hold the same ``hot_ready`` ready jobs and a registered
process; one also holds ``hot_rows`` succeeded and ``hot_rows``
future-scheduled rows, inserted with one INSERT ... SELECT generate_series
each, then VACUUM ANALYZE. pgbench calls ``goodjob_fetch_and_lock(max_jobs
=> 10)`` in a transaction that it rolls back, so every call sees the same
ready jobs. Each rolled-back claim still leaves dead row versions, and on
a near-empty table the planner (rightly) scans and sorts the few rows
instead of using the index, so dead versions would pile up under the
measurement: calls therefore run in bursts of ``_BURST`` transactions with
a VACUUM before each, for ``hot_seconds`` per run; runs alternate between
the two databases. The ratio is the per-call time with the rows over the
time without them. Target: <= 1.2 (DESIGN.md).
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import psycopg

from ..context import Context
from ..goodjob_subject import jobs_json
from ..report import Row, Target
from ..stats import figure, ratios

__all__ = ["run"]

_BURST = 200

_FETCH = """
begin;
select count(*)
  from goodjob_fetch_and_lock(process_id => :pid::uuid, queues => :queues, max_jobs => 10);
rollback;
"""

_BARE_CLAIM = """
begin;
update bare_jobs j set state = 'running', locked_by = 1, started_at = now()
 where j.id in (select b.id from bare_jobs b where b.state = 'queued'
                 order by b.priority, b.run_at, b.id limit 10 for update skip locked)
returning j.id;
rollback;
"""

_SUCCEEDED = """
insert into goodjob_jobs (task, queue, state, attempts, run_at, created_at, started_at, finished_at)
select 'bench.noop', 'default', 'succeeded', 1, t, t, t, t + interval '1 ms'
from (select now() - interval '1 day' + g * interval '50 ms' as t
      from generate_series(1, %s) g) s
"""
_SCHEDULED = """
insert into goodjob_jobs (task, queue, state, run_at)
select 'bench.noop', 'default', 'scheduled', now() + interval '1 day' + g * interval '50 ms'
from generate_series(1, %s) g
"""


def _prepare(ctx: Context, url: str, rows: int) -> tuple[psycopg.Connection[Any], str]:
    """Ready jobs, a registered process (its lease held by the returned connection), rows."""
    conn = ctx.connect(url)
    conn.execute(
        "select count(*) from goodjob_enqueue_many(jobs => %s::jsonb)",
        (jobs_json("bench.noop", ctx.settings.hot_ready),),
    )
    row = conn.execute(
        "select goodjob_register_process(hostname => 'bench', pid => 0, queues => '*')"
    ).fetchone()
    assert row is not None
    if rows:
        conn.execute(_SUCCEEDED, (rows,))
        conn.execute(_SCHEDULED, (rows,))
    conn.execute(
        "insert into bare_jobs (task) select 'bench.noop' from generate_series(1, %s)",
        (ctx.settings.hot_ready,),
    )
    conn.execute("vacuum analyze")
    return conn, str(row[0])


def _ms_per_call(
    ctx: Context,
    conn: psycopg.Connection[Any],
    url: str,
    script: Path,
    variables: dict[str, object] | None = None,
) -> float:
    """Mean milliseconds per pgbench transaction over bursts, each after a VACUUM."""
    total_ms = 0.0
    calls = 0
    deadline = time.monotonic() + ctx.settings.hot_seconds
    while calls == 0 or time.monotonic() < deadline:
        conn.execute("vacuum goodjob_jobs")
        conn.execute("vacuum goodjob_executions")
        conn.execute("vacuum bare_jobs")
        result = ctx.pg.run(url, script, clients=1, transactions=_BURST, variables=variables)
        total_ms += result.latency_ms * result.transactions
        calls += result.transactions
    return total_ms / calls


def run(ctx: Context) -> list[Row]:
    """Measure fetch latency on the empty and the full table, alternating."""
    s = ctx.settings
    empty_url = ctx.database("hot_empty")
    full_url = ctx.database("hot_full")
    ctx.log(f"hot_path: inserting {s.hot_rows:,} succeeded + {s.hot_rows:,} scheduled rows")
    empty_conn, empty_pid = _prepare(ctx, empty_url, 0)
    full_conn, full_pid = _prepare(ctx, full_url, s.hot_rows)
    script = ctx.pg.script("fetch_rollback", _FETCH)
    bare_script = ctx.pg.script("bare_claim_rollback", _BARE_CLAIM)
    rows: list[Row] = []
    try:
        bare_ms: list[float] = []
        for i in range(s.runs):
            ctx.log(f"hot_path: bare claim, run {i + 1}/{s.runs}")
            bare_ms.append(_ms_per_call(ctx, empty_conn, empty_url, bare_script))
        rows.append(
            Row(
                "floor",
                f"bare claim 10 of {s.hot_ready}, rolled back",
                "ms/call",
                figure(bare_ms),
                note=(
                    "pgbench transaction: BEGIN; one claim statement (or one"
                    " goodjob_fetch_and_lock call); ROLLBACK, so every call sees the same"
                    f" ready rows; 3 round trips, no commit flush; bursts of {_BURST} calls,"
                    " VACUUM before each"
                ),
            )
        )
        for selector in ("*", "default"):
            empty_ms: list[float] = []
            full_ms: list[float] = []
            for i in range(s.runs):
                ctx.log(f"hot_path: queues {selector!r}, run {i + 1}/{s.runs}")
                for conn, url, pid, out in (
                    (empty_conn, empty_url, empty_pid, empty_ms),
                    (full_conn, full_url, full_pid, full_ms),
                ):
                    out.append(
                        _ms_per_call(ctx, conn, url, script, {"pid": pid, "queues": selector})
                    )
            rows.append(
                Row(
                    "hot_path",
                    f"fetch 10 of {s.hot_ready}, empty table, queues '{selector}'",
                    "ms/call",
                    figure(empty_ms),
                    versus="bare claim",
                    reference=figure(bare_ms),
                    ratio=ratios(empty_ms, bare_ms),
                )
            )
            rows.append(
                Row(
                    "hot_path",
                    f"fetch with {2 * s.hot_rows:,} rows, queues '{selector}'",
                    "ms/call",
                    figure(full_ms),
                    versus="empty table",
                    reference=figure(empty_ms),
                    ratio=ratios(full_ms, empty_ms),
                    target=Target("<=", 1.2),
                )
            )
    finally:
        empty_conn.close()
        full_conn.close()
        ctx.dbs.drop(empty_url)
        ctx.dbs.drop(full_url)
    return rows
