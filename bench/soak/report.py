"""The soak's verdicts, its readable table and its JSON file."""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from ..stats import percentile
from .churn import Fetch

__all__ = ["P99_LIMIT", "SIZE_LIMIT", "format_report", "latency", "verdicts", "write_json"]

SIZE_LIMIT = 1.5  # goodjob tables after the final VACUUM / after the first 100k jobs
P99_LIMIT = 1.2  # fetch p99 at the end / at the start


def latency(fetches: Sequence[Fetch], low: int, high: int) -> dict[str, Any]:
    """p50 and p99 (milliseconds) of the fetches made while ``low <= done < high``.

    Given for every fetch and for those that claimed at least one job.
    """
    window = [f for f in fetches if low <= f.done < high]
    every = [f.seconds * 1000 for f in window]
    claiming = [f.seconds * 1000 for f in window if f.claimed]
    return {
        "jobs_done_from": low,
        "jobs_done_to": high,
        "fetches": len(every),
        "p50_ms": round(percentile(every, 50), 3) if every else None,
        "p99_ms": round(percentile(every, 99), 3) if every else None,
        "claiming_fetches": len(claiming),
        "claiming_p50_ms": round(percentile(claiming, 50), 3) if claiming else None,
        "claiming_p99_ms": round(percentile(claiming, 99), 3) if claiming else None,
    }


def verdicts(result: dict[str, Any]) -> list[dict[str, Any]]:
    """Pass or fail against RELIABILITY.md S34's thresholds."""
    snaps = {s["label"]: s for s in result["snapshots"]}
    first, vacuumed = snaps["first_100k"]["total_bytes"], snaps["after_vacuum"]["total_bytes"]
    size_ratio = vacuumed / first if first else None
    start, end = result["latency"]["start"]["p99_ms"], result["latency"]["end"]["p99_ms"]
    p99_ratio = end / start if start and end is not None else None
    horizon = result["oldest_xmin"]
    before = horizon["before"]["max_xids"] or 0
    peak = horizon["during"]["max_xids"]
    last = horizon["after"]["last_xids"]
    rose = peak is not None and peak > before
    fell = rose and last is not None and last < peak
    return [
        {
            "check": "goodjob tables after VACUUM <= 1.5x after the first 100k jobs",
            "value": _round(size_ratio),
            "limit": SIZE_LIMIT,
            "passed": size_ratio is not None and size_ratio <= SIZE_LIMIT,
        },
        {
            "check": "fetch p99 at the end <= 1.2x at the start",
            "value": _round(p99_ratio),
            "limit": P99_LIMIT,
            "passed": p99_ratio is not None and p99_ratio <= P99_LIMIT,
        },
        {
            "check": "oldest xmin age rises during the long transaction and falls after",
            "value": f"{before} -> {peak} -> {last} xids",
            "limit": None,
            "passed": bool(fell),
        },
    ]


def format_report(result: dict[str, Any]) -> str:
    """The readable table: sizes, dead tuples, latency, the horizon, the verdicts."""
    settings = result["settings"]
    lines = [
        f"soak: {result['jobs_done']:,} jobs in {result['seconds']:,.0f} s"
        f" ({result['jobs_per_second']:,.0f} jobs/s), {settings['connections']}"
        f" consumer connections, long transaction {settings['long_transaction_seconds']} s",
        "",
        f"{'moment':<13} {'table':<28} {'heap':>10} {'indexes':>10} {'total':>10}"
        f" {'live':>9} {'dead':>9} {'vacuums':>7}",
    ]
    for snap in result["snapshots"]:
        for t in snap["tables"]:
            if t["total_bytes"] < 64 * 1024 and t["table"] not in ("goodjob_jobs",):
                continue
            lines.append(
                f"{snap['label']:<13} {t['table']:<28} {_mb(t['table_bytes']):>10}"
                f" {_mb(t['indexes_bytes']):>10} {_mb(t['total_bytes']):>10}"
                f" {t['n_live_tup']:>9,} {t['n_dead_tup']:>9,}"
                f" {t['autovacuum_count'] + t['vacuum_count']:>7}"
            )
        total = _mb(snap["total_bytes"])
        lines.append(f"{snap['label']:<13} {'(all goodjob tables)':<28} {'':>21} {total:>10}")
    lines += ["", f"{'moment':<13} {'index':<44} {'size':>10}"]
    for snap in result["snapshots"]:
        for i in snap["indexes"][:8]:
            lines.append(f"{snap['label']:<13} {i['index']:<44} {_mb(i['bytes']):>10}")
    lines.append("")
    for name in ("start", "end"):
        w = result["latency"][name]
        lines.append(
            f"fetch latency at the {name:<5}: p50 {w['p50_ms']} ms, p99 {w['p99_ms']} ms over"
            f" {w['fetches']:,} fetches (claiming ones: p50 {w['claiming_p50_ms']} ms,"
            f" p99 {w['claiming_p99_ms']} ms); jobs {w['jobs_done_from']:,}-{w['jobs_done_to']:,}"
        )
    h = result["oldest_xmin"]
    lines.append(
        "oldest xmin age (xids / s): before max"
        f" {h['before']['max_xids']} / {h['before']['max_seconds']},"
        f" during max {h['during']['max_xids']} / {h['during']['max_seconds']},"
        f" after, last {h['after']['last_xids']} / {h['after']['last_seconds']}"
    )
    vac = result["vacuum"]
    runs = vac["stand_in_runs"]
    lines.append(
        f"vacuum: server autovacuum {'on' if vac['server_autovacuum'] else 'off'}; "
        + (
            f"stand-in ran {len(runs)} time(s), {sum(r['table'] == 'goodjob_jobs' for r in runs)}"
            f" on goodjob_jobs, longest {max((r['seconds'] for r in runs), default=0)} s"
            if vac["stand_in"]
            else "no stand-in"
        )
    )
    lines.append("")
    for v in result["verdicts"]:
        mark = "PASS" if v["passed"] else "FAIL"
        lines.append(f"{mark}  {v['check']}: {v['value']}")
    return "\n".join(lines)


def write_json(result: dict[str, Any], path: Path) -> None:
    """Write the whole result (settings, snapshots, samples, verdicts) to ``path``."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(result, indent=2, default=str) + "\n")


def _mb(n: int) -> str:
    return f"{n / 1048576:,.2f} MB"


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 3)
