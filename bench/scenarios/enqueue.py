"""Enqueue: single goodjob_enqueue calls, goodjob_enqueue_many, and task.enqueue from Python.

- Single rows: pgbench runs ``SELECT goodjob_enqueue(task => 'bench.noop')``
  and, paired with each run, the bare single-row INSERT, at each
  connection count. Target: at least 70% of the bare INSERT.
- Bulk: goodjob_enqueue_many with 1,000 and 10,000 jobs per call, paired
  with the bare bulk floor (one INSERT ... SELECT FROM jsonb_array_elements
  of the same JSON). Target: at least 100,000 jobs/s.
- Python: ``task.enqueue()`` in a loop on one thread, paired with psycopg
  running the bare INSERT in a loop on one thread (same driver, no goodjob);
  and ``app.enqueue_many([task.prepare() ...])`` of 10,000 jobs per call,
  paired with psycopg building the same number of job objects as JSON in
  Python and running the bare INSERT ... SELECT.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import psycopg

from .. import floor
from ..context import Context
from ..goodjob_subject import jobs_json
from ..report import Row, Target
from ..stats import figure, ratios
from ..subject import Kind, timed

__all__ = ["run"]

_ENQUEUE_SQL = "select goodjob_enqueue(task => 'bench.noop');"
_ENQUEUE_MANY = "select count(*) from goodjob_enqueue_many(jobs => %s::jsonb)"
_BARE_MANY = floor.BARE_INSERT_MANY


def _calls(
    conn: psycopg.Connection[Any], query: str, payload: str, calls: int
) -> Callable[[], None]:
    """A function running ``query`` with ``payload`` ``calls`` times."""

    def run() -> None:
        for _ in range(calls):
            conn.execute(query, (payload,))

    return run


def run(ctx: Context) -> list[Row]:
    """Measure the three enqueue paths."""
    url = ctx.database("enqueue")
    rows = _single(ctx, url) + _many(ctx, url) + _python(ctx, url) + _python_bulk(ctx, url)
    ctx.dbs.drop(url)
    return rows


def _truncate(ctx: Context, url: str) -> None:
    with ctx.connect(url) as conn:
        conn.execute("truncate goodjob_jobs, goodjob_executions, bare_jobs")


def _single(ctx: Context, url: str) -> list[Row]:
    s = ctx.settings
    script = ctx.pg.script("goodjob_enqueue", _ENQUEUE_SQL)
    rows: list[Row] = []
    for clients in s.enqueue_clients:
        ctx.log(f"enqueue: single rows, {clients} connection(s)")
        bare: list[float] = []
        ours: list[float] = []
        for _ in range(s.runs):
            _truncate(ctx, url)
            bare.append(floor.bare_insert(ctx.pg, url, s.pgbench_seconds, clients).tps)
            _truncate(ctx, url)
            ours.append(ctx.pg.run(url, script, clients=clients, seconds=s.pgbench_seconds).tps)
        rows.append(Row("floor", f"bare INSERT, {clients} conn", "jobs/s", figure(bare)))
        rows.append(
            Row(
                "enqueue",
                f"goodjob_enqueue, {clients} conn",
                "jobs/s",
                figure(ours),
                versus=f"bare INSERT {clients} conn",
                reference=figure(bare),
                ratio=ratios(ours, bare),
                target=Target(">=", 0.70),
            )
        )
    return rows


def _many(ctx: Context, url: str) -> list[Row]:
    s = ctx.settings
    rows: list[Row] = []
    for per_call, calls in s.many_calls:
        ctx.log(f"enqueue: goodjob_enqueue_many, {per_call:,} per call")
        payload = jobs_json("bench.noop", per_call)
        total = per_call * calls
        bare: list[float] = []
        ours: list[float] = []
        with ctx.connect(url) as conn:
            for _ in range(s.runs):
                _truncate(ctx, url)
                bare.append(total / timed(_calls(conn, _BARE_MANY, payload, calls)))
                _truncate(ctx, url)
                ours.append(total / timed(_calls(conn, _ENQUEUE_MANY, payload, calls)))
        rows.append(
            Row(
                "enqueue",
                f"goodjob_enqueue_many, {per_call:,}/call",
                "jobs/s",
                figure(ours),
                versus="bare INSERT..SELECT",
                reference=figure(bare),
                ratio=ratios(ours, bare),
                target=Target(">=", 100_000, on="value"),
                note=(
                    f"{calls} calls of {per_call:,} jobs per run from one psycopg connection,"
                    " JSON built once; bare floor: INSERT INTO bare_jobs SELECT FROM"
                    " jsonb_array_elements of the same JSON"
                ),
            )
        )
    return rows


def _python(ctx: Context, url: str) -> list[Row]:
    s = ctx.settings
    n = s.python_enqueues
    ctx.log(f"enqueue: task.enqueue() x {n:,} from Python")
    bare: list[float] = []
    ours: list[float] = []
    for _ in range(s.runs):
        _truncate(ctx, url)
        with ctx.connect(url) as conn:
            conn.execute("select 1")
            bare.append(
                n
                / timed(
                    lambda: [
                        conn.execute(
                            "insert into bare_jobs (task, args) values (%s, %s::jsonb)",
                            ("bench.noop", "[]"),
                        )
                        for _ in range(n)
                    ]
                )
            )
        _truncate(ctx, url)
        ours.append(n / ctx.subject.enqueue_single(url, n))
    return [
        Row(
            "enqueue",
            "task.enqueue() from Python, 1 thread",
            "jobs/s",
            figure(ours),
            versus="psycopg bare INSERT loop",
            reference=figure(bare),
            ratio=ratios(ours, bare),
            note=(
                "App.enqueue path (signature check, JSON, pooled connection, goodjob_enqueue)"
                " vs the same driver running the bare INSERT; both commit per job"
            ),
        )
    ]


def _python_bulk(ctx: Context, url: str) -> list[Row]:
    s = ctx.settings
    per_call, calls = s.many_calls[-1]
    total = per_call * calls
    ctx.log(f"enqueue: app.enqueue_many() of {per_call:,} jobs from Python")
    bare: list[float] = []
    ours: list[float] = []
    for _ in range(s.runs):
        _truncate(ctx, url)
        with ctx.connect(url) as conn:
            conn.execute("select 1")

            def bare_calls(conn: psycopg.Connection[Any] = conn) -> None:
                for _ in range(calls):
                    payload = json.dumps([{"task": "bench.noop", "args": []}] * per_call)
                    conn.execute(_BARE_MANY, (payload,))

            bare.append(total / timed(bare_calls))
        _truncate(ctx, url)
        ours.append(total / ctx.subject.enqueue_bulk(url, Kind.SYNC, total, per_call))
    return [
        Row(
            "enqueue",
            f"app.enqueue_many() from Python, {per_call:,}/call",
            "jobs/s",
            figure(ours),
            versus="psycopg bare INSERT..SELECT",
            reference=figure(bare),
            ratio=ratios(ours, bare),
            note=(
                f"{calls} call(s) of {per_call:,} task.prepare() jobs per run, preparing timed"
                " (argument checks, ids, options, JSON); bare: psycopg sends the same number of"
                " JSON job objects to INSERT INTO bare_jobs SELECT FROM jsonb_array_elements"
            ),
        )
    ]
