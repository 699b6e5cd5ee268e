"""Pickup latency: jobs enqueued one at a time into an idle worker.

Each run starts a worker, runs one warm-up job, then enqueues
``latency_jobs`` ``bench.record(seq)`` jobs from one thread with a short
pause between them. Latency is from the moment the enqueue call returned
(its commit acknowledged) to the task's own ``time.time()`` at its start;
both clocks are this machine's. Measured with LISTEN/NOTIFY on and with it
off (polling every ``poll_interval`` s). The floor: a bare listener process
(LISTEN on one connection, claim+finish on another) and an enqueuer that
inserts and notifies in one statement. Targets (DESIGN.md, absolute):
p50 < 2.5 ms, p99 < 8 ms with LISTEN/NOTIFY.
"""

from __future__ import annotations

import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from ..bare_listener import ENQUEUE
from ..context import Context, WorkerFailed, wait_until
from ..process import WorkerProcess
from ..report import Row, Target
from ..stats import figure, percentile, ratios
from ..subject import REPO, Subject, WorkerSpec, read_latency_file

__all__ = ["LatencyRun", "latency_once", "run"]


@dataclass(frozen=True)
class LatencyRun:
    """Per-job latencies (ms) of one run, jobs that never started, enqueue call times (ms),
    and the worker's resident memory after start-up and the warm-up job."""

    latencies_ms: list[float]
    missing: int
    call_ms: list[float]
    idle_rss_kb: int | None = None

    @property
    def p50(self) -> float:
        """Median latency."""
        return percentile(self.latencies_ms, 50)

    @property
    def p99(self) -> float:
        """99th percentile latency."""
        return percentile(self.latencies_ms, 99)


def latency_once(
    ctx: Context, subject: Subject, url: str, *, listen: bool, threads: int
) -> LatencyRun:
    """One latency run of ``subject`` (LISTEN/NOTIFY on, or polling)."""
    s = ctx.settings
    with tempfile.NamedTemporaryFile(prefix="goodjob-bench-latency-", suffix=".txt") as tmp:
        with ctx.connect(url) as conn:
            subject.reset(conn)
        spec = WorkerSpec(
            concurrency=threads,
            listen=listen,
            poll_interval=None if listen else s.poll_interval,
            latency_file=tmp.name,
        )
        worker = subject.start_worker(url, spec)
        try:
            subject.enqueue_latency(url, range(-1, 0), 0.0)  # warm-up job
            if not wait_until(
                lambda: -1 in read_latency_file(tmp.name),
                s.worker_startup_seconds + 2 * s.poll_interval,
                worker=worker,
            ):
                raise WorkerFailed(f"{subject.name}: warm-up job never ran:\n{worker.log_tail()}")
            time.sleep(0.5)  # idle again
            idle_rss = worker.rss_kb()
            done, calls = subject.enqueue_latency(url, range(s.latency_jobs), s.latency_pause)
            wait_until(
                lambda: len(read_latency_file(tmp.name)) > s.latency_jobs,
                10 + 3 * s.poll_interval,
                worker=worker,
            )
        finally:
            worker.stop()
            worker.cleanup()
        starts = read_latency_file(tmp.name)
    return _result(done, starts, calls, idle_rss)


def _result(
    done: dict[int, float],
    starts: dict[int, float],
    calls: list[float],
    idle_rss_kb: int | None = None,
) -> LatencyRun:
    latencies = [(starts[seq] - t) * 1000 for seq, t in done.items() if seq in starts]
    return LatencyRun(latencies, len(done) - len(latencies), [c * 1000 for c in calls], idle_rss_kb)


def bare_latency_once(ctx: Context, url: str) -> LatencyRun:
    """One run of the floor: the bare listener process and insert+notify enqueues."""
    s = ctx.settings
    with tempfile.NamedTemporaryFile(prefix="goodjob-bench-bare-", suffix=".txt") as tmp:
        with ctx.connect(url) as conn:
            conn.execute("truncate bare_jobs")
            listener = WorkerProcess(
                [sys.executable, "-m", "bench.bare_listener", url, tmp.name], {}, REPO
            )
            try:
                conn.execute(ENQUEUE, (-1,))
                if not wait_until(
                    lambda: -1 in read_latency_file(tmp.name),
                    s.worker_startup_seconds,
                    worker=listener,
                ):
                    # The listener may have missed the first NOTIFY while starting: poke it.
                    conn.execute("select pg_notify('bare', 'default')")
                    wait_until(lambda: -1 in read_latency_file(tmp.name), 5, worker=listener)
                time.sleep(0.5)
                done: dict[int, float] = {}
                calls: list[float] = []
                for seq in range(s.latency_jobs):
                    start = time.time()
                    conn.execute(ENQUEUE, (seq,))
                    done[seq] = end = time.time()
                    calls.append(end - start)
                    time.sleep(s.latency_pause)
                wait_until(lambda: len(read_latency_file(tmp.name)) > s.latency_jobs, 10)
            finally:
                listener.stop()
                listener.cleanup()
        starts = read_latency_file(Path(tmp.name))
    return _result(done, starts, calls)


def run(ctx: Context) -> list[Row]:
    """Measure the floor and goodjob-pg with LISTEN/NOTIFY on and off."""
    s = ctx.settings
    url = ctx.database("latency")
    bare: list[LatencyRun] = []
    on: list[LatencyRun] = []
    off: list[LatencyRun] = []
    for i in range(s.runs):
        ctx.log(f"latency: run {i + 1}/{s.runs} (floor, NOTIFY on, polling)")
        bare.append(bare_latency_once(ctx, url))
        on.append(latency_once(ctx, ctx.subject, url, listen=True, threads=s.latency_threads))
        off.append(latency_once(ctx, ctx.subject, url, listen=False, threads=s.latency_threads))
    ctx.dbs.drop(url)
    return latency_rows("latency", on, off, bare, s.latency_jobs, s.poll_interval)


def latency_rows(
    scenario: str,
    on: list[LatencyRun],
    off: list[LatencyRun],
    bare: list[LatencyRun] | None,
    jobs: int,
    poll_interval: float,
) -> list[Row]:
    """Rows for p50 and p99 with NOTIFY on (vs the floor) and polling."""
    rows: list[Row] = []
    picks: tuple[tuple[str, Callable[[LatencyRun], float], float], ...] = (
        ("p50", lambda r: r.p50, 2.5),
        ("p99", lambda r: r.p99, 8.0),
    )
    if bare:
        for name, pick, _ in picks:
            rows.append(
                Row(
                    "floor",
                    f"bare LISTEN+claim pickup {name}",
                    "ms",
                    figure(pick(r) for r in bare),
                    note=_missing_note(bare, jobs) if name == "p50" else "",
                )
            )
    for name, pick, bound in picks:
        vals = [pick(r) for r in on]
        refs = [pick(r) for r in bare] if bare else None
        rows.append(
            Row(
                scenario,
                f"pickup {name}, LISTEN/NOTIFY",
                "ms",
                figure(vals),
                versus="bare LISTEN floor" if refs else None,
                reference=figure(refs) if refs else None,
                ratio=ratios(vals, refs) if refs else None,
                target=Target("<=", bound, on="value"),
                note=(
                    _missing_note(on, jobs)
                    + f"; enqueue call itself: p50 {percentile(on[-1].call_ms, 50):.2f} ms"
                    if name == "p50"
                    else ""
                ),
            )
        )
    if off:
        for name, pick, _ in picks:
            rows.append(
                Row(
                    scenario,
                    f"pickup {name}, polling every {poll_interval:g} s",
                    "ms",
                    figure(pick(r) for r in off),
                    note=_missing_note(off, jobs) if name == "p50" else "",
                )
            )
    return rows


def _missing_note(runs: list[LatencyRun], jobs: int) -> str:
    missing = sum(r.missing for r in runs)
    return f"{jobs} jobs per run, {len(runs)} run(s); {missing} job(s) never started in time"
