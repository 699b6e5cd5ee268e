"""Memory: the worker's resident set idle after start-up, and after a drain.

A worker with ``memory_threads`` threads starts on an empty queue; its VmRSS
(/proc/<pid>/status) is read two seconds after it registered. Then
``memory_jobs`` no-op jobs are enqueued with goodjob_enqueue_many; VmRSS is
sampled while it drains and read again once every job is done.
Target: idle under 60 MB (DESIGN.md).
"""

from __future__ import annotations

import time

from ..context import Context, WorkerFailed, wait_until
from ..report import Row, Target
from ..stats import figure
from ..subject import Kind, WorkerSpec

__all__ = ["run"]


def _once(ctx: Context, url: str) -> tuple[float, float, float]:
    """One run: idle, peak and after-drain RSS in MB."""
    s = ctx.settings
    subject = ctx.subject
    with ctx.connect(url) as conn:
        subject.reset(conn)
        worker = subject.start_worker(url, WorkerSpec(concurrency=s.memory_threads))
        try:
            registered = wait_until(
                lambda: subject.registered(conn), s.worker_startup_seconds, worker=worker
            )
            if not registered:
                raise WorkerFailed(f"worker did not register:\n{worker.log_tail()}")
            time.sleep(2.0)
            idle = worker.rss_kb() or 0
            subject.enqueue_bulk(url, Kind.SYNC, s.memory_jobs, per_call=10_000)
            peak = idle

            def done() -> bool:
                nonlocal peak
                peak = max(peak, worker.rss_kb() or 0)
                return subject.remaining(conn) == 0

            if not wait_until(done, 120, interval=0.2, worker=worker):
                raise WorkerFailed(f"worker did not drain {s.memory_jobs} jobs in 120 s")
            time.sleep(0.5)
            after = worker.rss_kb() or 0
        finally:
            worker.stop()
            worker.cleanup()
    return idle / 1024, peak / 1024, after / 1024


def run(ctx: Context) -> list[Row]:
    """Measure RSS idle, at peak and after draining."""
    s = ctx.settings
    url = ctx.database("memory")
    results = []
    for i in range(s.runs):
        ctx.log(f"memory: run {i + 1}/{s.runs}")
        results.append(_once(ctx, url))
    ctx.dbs.drop(url)
    return [
        Row(
            "memory",
            f"worker RSS idle ({s.memory_threads} threads)",
            "MB",
            figure(r[0] for r in results),
            target=Target("<=", 60, on="value"),
            note="VmRSS 2 s after the process registered, nothing enqueued",
        ),
        Row("memory", "worker RSS peak while draining", "MB", figure(r[1] for r in results)),
        Row(
            "memory",
            f"worker RSS after draining {s.memory_jobs:,} jobs",
            "MB",
            figure(r[2] for r in results),
        ),
    ]
