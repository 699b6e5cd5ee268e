"""Mixed: a steady enqueue rate while one worker drains.

One thread enqueues ``bench.noop`` with goodjob_enqueue at ``mixed_rate``
per second (paced against an absolute schedule, so a slow call is caught up)
for ``mixed_seconds`` while a worker (LISTEN/NOTIFY on) runs them. Reported:
the rate actually reached, the backlog (ready + running jobs) when the
enqueuing stops, and pickup latency from each job's created_at (the
enqueuing statement's start) to its started_at (the claiming fetch's start),
both on the server's clock.
"""

from __future__ import annotations

import time

from ..context import Context, WorkerFailed, wait_until
from ..report import Row
from ..stats import figure, percentile
from ..subject import WorkerSpec

__all__ = ["run"]


def _once(ctx: Context, url: str) -> tuple[float, int, float, float, float]:
    """One run: (enqueue rate reached, backlog at the end, p50 ms, p99 ms, seconds to catch up)."""
    s = ctx.settings
    subject = ctx.subject
    with ctx.connect(url) as conn, ctx.connect(url) as enq:
        subject.reset(conn)
        worker = subject.start_worker(url, WorkerSpec(concurrency=s.latency_threads))
        try:
            registered = wait_until(
                lambda: subject.registered(conn), s.worker_startup_seconds, worker=worker
            )
            if not registered:
                raise WorkerFailed(f"worker did not register:\n{worker.log_tail()}")
            time.sleep(0.5)
            interval = 1.0 / s.mixed_rate
            start = time.perf_counter()
            sent = 0
            while (now := time.perf_counter()) - start < s.mixed_seconds:
                due = start + sent * interval
                if due > now:
                    time.sleep(due - now)
                enq.execute("select goodjob_enqueue(task => 'bench.noop')")
                sent += 1
            elapsed = time.perf_counter() - start
            row = conn.execute(
                "select count(*) from goodjob_jobs where state in ('queued', 'running')"
            ).fetchone()
            backlog = int(row[0]) if row else -1
            caught_up = time.perf_counter()
            wait_until(lambda: subject.remaining(conn) == 0, 60, interval=0.05, worker=worker)
            catch_up = time.perf_counter() - caught_up
        finally:
            worker.stop()
            worker.cleanup()
        lat = [
            float(r[0])
            for r in conn.execute(
                "select extract(epoch from started_at - created_at) * 1000"
                " from goodjob_jobs where started_at is not null"
            ).fetchall()
        ]
    return sent / elapsed, backlog, percentile(lat, 50), percentile(lat, 99), catch_up


def run(ctx: Context) -> list[Row]:
    """Measure the mixed scenario."""
    s = ctx.settings
    url = ctx.database("mixed")
    results = []
    for i in range(s.runs):
        ctx.log(f"mixed: {s.mixed_rate:g}/s for {s.mixed_seconds:g} s, run {i + 1}/{s.runs}")
        results.append(_once(ctx, url))
    ctx.dbs.drop(url)
    label = f"{s.mixed_rate:g}/s for {s.mixed_seconds:g} s, {s.latency_threads} threads"
    return [
        Row(
            "mixed",
            f"enqueue rate reached ({label})",
            "jobs/s",
            figure(r[0] for r in results),
            note="one thread, goodjob_enqueue per job, autocommit (one commit flush per job)",
        ),
        Row(
            "mixed",
            "backlog when enqueuing stopped",
            "jobs",
            figure(r[1] for r in results),
            note=(
                "ready + running jobs at the end; seconds to catch up after:"
                f" {', '.join(f'{r[4]:.2f}' for r in results)}"
            ),
        ),
        Row("mixed", "pickup p50 under load", "ms", figure(r[2] for r in results)),
        Row(
            "mixed",
            "pickup p99 under load",
            "ms",
            figure(r[3] for r in results),
            note=(
                "created_at (enqueue statement start, so the enqueue's own commit flush is"
                " included) to started_at (claiming fetch start), server clock"
            ),
        ),
    ]
