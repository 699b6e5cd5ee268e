"""``python -m bench.peers``: goodjob-pg vs Procrastinate and PgQueuer.

Scenarios (``--only enqueue,drain,latency``):

- enqueue: one job per call from Python on one thread; bulk calls of 1,000
  and 10,000 jobs (each system's own bulk API);
- drain: ``drain_jobs`` pre-enqueued no-op jobs (sync and async) run by one
  worker process at 1, 5 and 20 concurrency, time-boxed as in ``make
  bench``, throughput from each system's own start/finish timestamps;
- latency: jobs enqueued one at a time into an idle worker, enqueue return
  to the task's own start time, with LISTEN/NOTIFY and polling every 1 s.

Runs are interleaved (run 1 of every system, then run 2, ...), so a noisy
neighbour hurts all alike; ratios are per-run goodjob-pg / peer.
"""

from __future__ import annotations

import argparse
import dataclasses
import sys
import time
import traceback
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..__main__ import git_commit, settings_from
from ..context import Context
from ..database import Databases, server_facts
from ..goodjob_subject import GoodjobSubject
from ..pgbench import PgBench
from ..report import Row, format_table, write_json
from ..scenarios.drain import drain_once
from ..scenarios.latency import latency_once
from ..stats import figure, ratios
from ..subject import Kind, Subject
from . import load_peers

DEFAULT_OUTPUT = Path(__file__).resolve().parent.parent / "results" / "peers-latest.json"
SCENARIOS = ("enqueue", "drain", "latency")
ORDER = ("enqueue", "drain", "latency", "memory")

LEGEND = (
    "value: median [min-max] of the runs; reference: goodjob-pg in the same runs;"
    " ratio: goodjob-pg / peer, run by run.",
    "jobs/s: ratio above 1 means goodjob-pg is faster. ms and MB: below 1 means goodjob-pg"
    " is faster or smaller.",
    "concurrency N: goodjob-pg --max-threads N (one pool, 2 connections); Procrastinate"
    " worker --concurrency N; PgQueuer --batch-size N with no max_concurrent_tasks (its"
    " default), sync jobs via asyncio.to_thread (PgQueuer 1.x runs only async entrypoints).",
    "drain: jobs/s = finished jobs / (last finish - first start) from each system's own"
    " timestamps (goodjob_jobs, procrastinate_events, pgqueuer_log), time-boxed.",
    "latency: enqueue call returned -> the task's own time.time() at start; memory: VmRSS"
    " of the worker after start-up and one job.",
)
PEERS = ("procrastinate", "pgqueuer")


@dataclass
class Measure:
    """One measure across systems: per system, the value of each run."""

    scenario: str
    name: str
    unit: str
    lower_is_better: bool = False
    values: dict[str, list[float]] = field(default_factory=dict)
    errors: dict[str, str] = field(default_factory=dict)


class Collector:
    """Measures in the order they were first seen."""

    def __init__(self) -> None:
        self.measures: dict[tuple[str, str], Measure] = {}

    def measure(self, scenario: str, name: str, unit: str, lower: bool = False) -> Measure:
        key = (scenario, name)
        if key not in self.measures:
            self.measures[key] = Measure(scenario, name, unit, lower)
        return self.measures[key]

    def add(
        self,
        scenario: str,
        name: str,
        unit: str,
        subject: Subject,
        value: float,
        *,
        lower: bool = False,
    ) -> None:
        """Record the value of one run."""
        self.measure(scenario, name, unit, lower).values.setdefault(subject.name, []).append(value)

    def fail(self, scenario: str, name: str, unit: str, subject: Subject, error: str) -> None:
        """Record why ``subject`` has no figure for this measure."""
        self.measure(scenario, name, unit).errors.setdefault(subject.name, error)

    def record(
        self,
        scenario: str,
        name: str,
        unit: str,
        subject: Subject,
        fn: Callable[[], float],
        *,
        lower: bool = False,
    ) -> None:
        """Run ``fn`` for one run of ``subject``; an error is noted, not raised."""
        m = self.measure(scenario, name, unit, lower)
        if subject.name in m.errors:
            return  # it failed once; do not spend the time again
        try:
            m.values.setdefault(subject.name, []).append(fn())
        except Exception as exc:
            m.errors[subject.name] = f"{type(exc).__name__}: {str(exc).strip()[:300]}"
            print(
                f"{subject.name} {scenario} {name} failed:\n{traceback.format_exc()}",
                file=sys.stderr,
            )


def _enqueue(ctx: Context, col: Collector, subjects: list[Subject], urls: dict[str, str]) -> None:
    s = ctx.settings
    for i in range(s.runs):
        ctx.log(f"enqueue: run {i + 1}/{s.runs}")
        for subject in subjects:
            url = urls[subject.name]

            def reset(subject: Subject = subject, url: str = url) -> None:
                with ctx.connect(url) as conn:
                    subject.reset(conn)

            def single(subject: Subject = subject, url: str = url) -> float:
                reset()
                return s.python_enqueues / subject.enqueue_single(url, s.python_enqueues)

            col.record("enqueue", "one job per call, 1 thread", "jobs/s", subject, single)
            for per_call, calls in s.many_calls:

                def bulk(
                    subject: Subject = subject,
                    url: str = url,
                    per_call: int = per_call,
                    calls: int = calls,
                ) -> float:
                    reset()
                    total = per_call * calls
                    return total / subject.enqueue_bulk(url, Kind.SYNC, total, per_call)

                col.record("enqueue", f"bulk, {per_call:,} per call", "jobs/s", subject, bulk)


def _drain(ctx: Context, col: Collector, subjects: list[Subject], urls: dict[str, str]) -> None:
    s = ctx.settings
    for threads in s.drain_threads:
        for i in range(s.runs):
            ctx.log(f"drain: concurrency {threads}, run {i + 1}/{s.runs}")
            for kind in (Kind.SYNC, Kind.ASYNC):
                for subject in subjects:
                    name = f"concurrency {threads}, {kind} no-op"

                    def one(
                        subject: Subject = subject, kind: Kind = kind, threads: int = threads
                    ) -> float:
                        run = drain_once(ctx, subject, urls[subject.name], threads, kind)
                        return run.stats.rate

                    col.record("drain", name, "jobs/s", subject, one)


def _latency(ctx: Context, col: Collector, subjects: list[Subject], urls: dict[str, str]) -> None:
    s = ctx.settings
    for i in range(s.runs):
        ctx.log(f"latency: run {i + 1}/{s.runs}")
        for subject in subjects:
            for listen in (True, False):
                mode = "LISTEN/NOTIFY" if listen else f"polling every {s.poll_interval:g} s"
                names = (f"p50, {mode}", f"p99, {mode}")
                if not listen and not subject.supports_polling:
                    for name in names:
                        col.fail(
                            "latency", name, "ms", subject, "no polling-only mode (always LISTENs)"
                        )
                    continue
                if subject.name in col.measure("latency", names[0], "ms", True).errors:
                    continue
                try:
                    r = latency_once(
                        ctx, subject, urls[subject.name], listen=listen, threads=s.latency_threads
                    )
                except Exception as exc:
                    print(
                        f"{subject.name} latency failed:\n{traceback.format_exc()}", file=sys.stderr
                    )
                    for name in names:
                        col.fail("latency", name, "ms", subject, f"{type(exc).__name__}: {exc}")
                    continue
                col.add("latency", names[0], "ms", subject, r.p50, lower=True)
                col.add("latency", names[1], "ms", subject, r.p99, lower=True)
                if listen and r.idle_rss_kb:
                    col.add(
                        "memory",
                        "worker RSS after start-up and one job",
                        "MB",
                        subject,
                        r.idle_rss_kb / 1024,
                        lower=True,
                    )


def rows_from(col: Collector, baseline: str) -> list[Row]:
    """A row for the baseline and one per other system with baseline/system ratios."""
    rows: list[Row] = []
    measures = sorted(col.measures.values(), key=lambda m: ORDER.index(m.scenario))
    for m in measures:
        base = m.values.get(baseline)
        if base:
            rows.append(
                Row(
                    m.scenario,
                    f"{m.name}: {baseline}",
                    m.unit,
                    figure(base),
                )
            )
        elif baseline in m.errors:
            rows.append(
                Row(
                    m.scenario,
                    f"{m.name}: {baseline}",
                    m.unit,
                    figure([]),
                    note=f"FAILED: {m.errors[baseline]}",
                )
            )
        for name in list(m.values) + [n for n in m.errors if n not in m.values]:
            if name == baseline:
                continue
            vals = m.values.get(name, [])
            if not vals:
                rows.append(
                    Row(
                        m.scenario,
                        f"{m.name}: {name}",
                        m.unit,
                        figure([]),
                        note=f"cannot run: {m.errors.get(name, '?')}",
                    )
                )
                continue
            n = min(len(vals), len(base or []))
            note = f"some runs failed: {m.errors[name]}" if name in m.errors else ""
            rows.append(
                Row(
                    m.scenario,
                    f"{m.name}: {name}",
                    m.unit,
                    figure(vals),
                    versus=baseline if base else None,
                    reference=figure(base) if base else None,
                    ratio=ratios(base[:n], vals[:n]) if base and n else None,
                    note=note,
                )
            )
    return rows


def main(argv: Sequence[str] | None = None) -> int:
    """Run goodjob-pg and the peers; print the table and write the JSON."""
    parser = argparse.ArgumentParser(prog="python -m bench.peers", description=__doc__)
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--only", action="append", default=[], metavar="SCENARIO")
    parser.add_argument("--peers", default=",".join(PEERS), help="comma-separated peers")
    parser.add_argument("--runs", type=int)
    parser.add_argument("--output", type=Path, default=DEFAULT_OUTPUT)
    parser.add_argument("--quiet", action="store_true")
    args = parser.parse_args(argv)
    only = [n for item in args.only for n in item.split(",") if n] or list(SCENARIOS)
    bad = [n for n in only if n not in SCENARIOS]
    if bad:
        parser.error(f"unknown scenario(s) {', '.join(bad)}; choose from {', '.join(SCENARIOS)}")
    settings = settings_from(args)
    peers, unavailable = load_peers([p for p in args.peers.split(",") if p])
    subjects: list[Subject] = [GoodjobSubject(), *peers]

    dbs = Databases()
    pg = PgBench()
    ctx = Context(settings=settings, dbs=dbs, pg=pg, verbose=not args.quiet)
    col = Collector()
    started = time.time()
    try:
        facts = server_facts(dbs.url("postgres"))
        urls: dict[str, str] = {}
        for subject in list(subjects):
            try:
                urls[subject.name] = ctx.peer_database(
                    f"peer_{subject.name.replace('-', '_')}", subject
                )
            except Exception as exc:
                unavailable[subject.name] = f"schema install failed: {type(exc).__name__}: {exc}"
                subjects.remove(subject)
        steps = {"enqueue": _enqueue, "drain": _drain, "latency": _latency}
        for name in only:
            ctx.log(f"== {name}")
            steps[name](ctx, col, subjects, urls)
    finally:
        dbs.drop_all()
        pg.close()
    rows = rows_from(col, "goodjob-pg")
    print(format_table(rows, LEGEND))
    for name, reason in unavailable.items():
        print(f"{name}: cannot run here: {reason}")
    meta: dict[str, Any] = {
        "started": time.strftime("%Y-%m-%dT%H:%M:%S%z", time.localtime(started)),
        "seconds": round(time.time() - started, 1),
        "commit": git_commit(),
        "mode": "quick" if args.quick else "full",
        "scenarios": only,
        "settings": dataclasses.asdict(settings),
        "machine": facts,
        "versions": _versions(),
        "unavailable": unavailable,
    }
    print(f"\n{len(rows)} figures in {meta['seconds']:.0f} s; versions: {meta['versions']}")
    write_json(args.output, rows, meta)
    print(f"wrote {args.output}")
    return 0


def _versions() -> dict[str, str]:
    from importlib.metadata import PackageNotFoundError, version

    out = {}
    for pkg in ("goodjob-pg", "procrastinate", "pgqueuer", "psycopg"):
        try:
            out[pkg] = version(pkg)
        except PackageNotFoundError:
            out[pkg] = "not installed"
    return out


if __name__ == "__main__":
    sys.exit(main())
