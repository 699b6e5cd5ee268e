"""The floor on its own: a round trip, and bare claim+finish at batch 1, 10, 100.

These are reference figures (no target): what the server and disk allow.
The drain scenario measures its own floor paired with each worker run.
"""

from __future__ import annotations

from .. import floor
from ..context import Context
from ..drainstats import DrainStats
from ..report import Row
from ..stats import figure

__all__ = ["run"]


def run(ctx: Context) -> list[Row]:
    """Measure the floor reference figures."""
    s = ctx.settings
    url = ctx.database("floor")
    rows: list[Row] = []
    ctx.log("floor: SELECT 1")
    trips = [floor.round_trip(ctx.pg, url, s.pgbench_seconds) for _ in range(s.runs)]
    rows.append(
        Row(
            "floor",
            "SELECT 1, 1 connection",
            "us/trip",
            figure(1e6 / t.tps for t in trips),
            note="pgbench -M prepared: one round trip per transaction, no write, no commit flush",
        )
    )
    for batch in s.floor_batches:
        ctx.log(f"floor: bare claim+finish, batch {batch}")
        results: list[DrainStats] = []
        for _ in range(s.runs):
            previous = results[-1] if results else None
            results.append(
                floor.bare_drain(
                    ctx.pg,
                    url,
                    batch=batch,
                    jobs=s.drain_jobs,
                    seconds=s.drain_seconds,
                    previous=previous,
                )
            )
        rows.append(
            Row(
                "floor",
                f"bare claim+finish, batch {batch}, 1 conn",
                "jobs/s",
                figure(r.rate for r in results),
                note=drain_note(results, s.drain_jobs),
            )
        )
    ctx.dbs.drop(url)
    return rows


def drain_note(results: list[DrainStats], jobs: int) -> str:
    """Jobs per claim, statements per job, and how many runs finished every job."""
    last = results[-1]
    full = sum(1 for r in results if r.jobs >= jobs)
    return (
        f"{last.batch:.1f} jobs/claim, {last.statements_per_job:.2f} statements/job,"
        f" all {jobs:,} done in {full}/{len(results)} runs"
    )
