"""Drain: pre-enqueued no-op jobs run by one real worker process.

For each thread count, each run measures, back to back: the floor (bare
claim+finish on one connection, batch = the thread count, since a pool with
N free threads claims N jobs per fetch), then the worker on sync no-ops,
then on async no-ops. Each starts on ``drain_jobs`` jobs enqueued with
goodjob_enqueue_many and runs until every job is done or ``drain_seconds``
after the first job started. Throughput is min(started_at) to
max(finished_at) of the finished jobs, so process start-up is not counted.
Target: at least 70% of the floor (DESIGN.md).
"""

from __future__ import annotations

from dataclasses import dataclass

from .. import floor
from ..context import Context, WorkerFailed, wait_until
from ..drainstats import DrainStats
from ..report import Row, Target
from ..stats import figure, ratios
from ..subject import Kind, Subject, WorkerSpec
from .floor_reference import drain_note

__all__ = ["DrainRun", "drain_once", "run"]


@dataclass(frozen=True)
class DrainRun:
    """One drain run and the worker's peak resident memory during it."""

    stats: DrainStats
    peak_rss_kb: int | None


def drain_once(ctx: Context, subject: Subject, url: str, concurrency: int, kind: Kind) -> DrainRun:
    """Enqueue, start a worker, wait for the drain or the time box, stop, read back."""
    s = ctx.settings
    with ctx.connect(url) as conn:
        subject.reset(conn)
        subject.enqueue_bulk(url, kind, s.drain_jobs, per_call=10_000)
        conn.execute("vacuum analyze")
        worker = subject.start_worker(url, WorkerSpec(concurrency=concurrency, drain=True))
        peak = 0

        def sample(pred: bool) -> bool:
            nonlocal peak
            peak = max(peak, worker.rss_kb() or 0)
            return pred

        try:
            started = wait_until(
                lambda: subject.remaining(conn) < s.drain_jobs,
                s.worker_startup_seconds,
                worker=worker,
            )
            if not started:
                raise WorkerFailed(
                    f"{subject.name}: no job started within {s.worker_startup_seconds:.0f} s:\n"
                    f"{worker.log_tail()}"
                )
            wait_until(
                lambda: sample(subject.remaining(conn) == 0),
                s.drain_seconds,
                interval=0.2,
                worker=worker,
            )
        finally:
            worker.stop()
            worker.cleanup()
        return DrainRun(subject.drain_stats(conn), peak or None)


def run(ctx: Context) -> list[Row]:
    """Measure the floor, sync and async drains at each thread count."""
    s = ctx.settings
    url = ctx.database("drain")
    rows: list[Row] = []
    for threads in s.drain_threads:
        floors: list[DrainStats] = []
        runs: dict[Kind, list[DrainStats]] = {Kind.SYNC: [], Kind.ASYNC: []}
        for i in range(s.runs):
            ctx.log(f"drain: {threads} thread(s), run {i + 1}/{s.runs}")
            previous = floors[-1] if floors else None
            floors.append(
                floor.bare_drain(
                    ctx.pg,
                    url,
                    batch=threads,
                    jobs=s.drain_jobs,
                    seconds=s.drain_seconds,
                    previous=previous,
                )
            )
            for kind in (Kind.SYNC, Kind.ASYNC):
                runs[kind].append(drain_once(ctx, ctx.subject, url, threads, kind).stats)
        floor_rates = [f.rate for f in floors]
        rows.append(
            Row(
                "floor",
                f"bare claim+finish, batch {threads}, 1 conn",
                "jobs/s",
                figure(floor_rates),
                note=drain_note(floors, s.drain_jobs),
            )
        )
        for kind, results in runs.items():
            rates = [r.rate for r in results]
            rows.append(
                Row(
                    "drain",
                    f"{threads} thread(s), {kind} no-op",
                    "jobs/s",
                    figure(rates),
                    versus=f"floor batch {threads}",
                    reference=figure(floor_rates),
                    ratio=ratios(rates, floor_rates),
                    target=Target(">=", 0.70),
                    note=drain_note(results, s.drain_jobs),
                )
            )
    ctx.dbs.drop(url)
    return rows
