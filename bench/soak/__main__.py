"""``python -m bench.soak``: churn jobs through a fresh database and report its health.

Usage: ``python -m bench.soak [--jobs N] [--long-transaction-seconds S]
[--rate R] [--connections C] [--batch B] [--output PATH] [--keep]``.

In order: enqueue -> fetch_and_lock -> report (succeeded) for ``--jobs``
jobs, with goodjob-pg's cleaner deleting finished jobs as a worker does;
sizes and dead tuples after the first 100,000 jobs (a tenth of a smaller
run); at half way, a repeatable-read transaction held open for
``--long-transaction-seconds`` while the churn goes on; then at least a
tenth of ``--jobs`` more after it ends (so the end is measured without
it); sizes at the end and after a final VACUUM. The database is created on
``BENCH_DATABASE_URL``'s server (default: the local one as postgres) and
dropped after.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import psycopg

from goodjob_pg import App
from goodjob_pg.cleanup import Cleaner
from goodjob_pg.migrations import apply_migrations

from ..database import Databases, server_facts
from .churn import Churn
from .health import HorizonSampler, LongTransaction, snapshot
from .report import format_report, latency, verdicts, write_json
from .vacuum import AutovacuumStandIn

__all__ = ["main"]

DEFAULT_OUTPUT = Path(__file__).resolve().parents[1] / "results" / "soak-latest.json"


def _parse(argv: Sequence[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="python -m bench.soak", description=__doc__)
    p.add_argument("--jobs", type=int, default=1_000_000, help="jobs to churn (default 1,000,000)")
    p.add_argument("--long-transaction-seconds", type=float, default=600.0, help="default 600")
    p.add_argument("--rate", type=float, default=1000.0, help="jobs/s enqueued; 0: unpaced")
    p.add_argument("--connections", type=int, default=4, help="consumer connections (default 4)")
    p.add_argument("--batch", type=int, default=10, help="max_jobs per fetch (default 10)")
    p.add_argument(
        "--max-backlog", type=int, default=5000, help="ready jobs at most (default 5000)"
    )
    p.add_argument(
        "--cleanup-older-than",
        type=float,
        default=30.0,
        help="seconds a finished job is kept before cleanup deletes it (default 30)",
    )
    p.add_argument(
        "--autovacuum-stand-in",
        choices=("auto", "on", "off"),
        default="auto",
        help="vacuum by autovacuum's rule from the soak (auto: if the server's autovacuum is off)",
    )
    p.add_argument("--output", type=Path, default=DEFAULT_OUTPUT, help="the JSON file")
    p.add_argument("--keep", action="store_true", help="keep the database (its URL is printed)")
    p.add_argument("--quiet", action="store_true", help="no progress on stderr")
    args = p.parse_args(argv)
    if args.jobs < 100 or args.connections < 1 or not 1 <= args.batch <= 1000 or args.rate < 0:
        p.error("need --jobs >= 100, --connections >= 1, --batch 1..1000, --rate >= 0")
    return args


class _Run:
    """One soak: the churn, its progress lines and the waits between phases."""

    def __init__(self, args: argparse.Namespace, url: str, churn: Churn) -> None:
        self.args = args
        self.url = url
        self.churn = churn
        self.started = time.monotonic()
        self._said = self.started

    def log(self, message: str) -> None:
        if not self.args.quiet:
            print(f"  {time.strftime('%H:%M:%S')} {message}", file=sys.stderr, flush=True)

    def wait(self, until: Callable[[], bool]) -> None:
        """Poll ``until``; a progress line every 10 s; a failed churn thread raises."""
        while not until():
            if self.churn.errors:
                raise RuntimeError("; ".join(self.churn.errors))
            now = time.monotonic()
            if now - self._said >= 10:
                self._said = now
                done = self.churn.done()
                self.log(
                    f"{done:,} jobs done ({done / (now - self.started):,.0f}/s),"
                    f" backlog {self.churn.backlog():,}"
                )
            time.sleep(0.02)


def run(args: argparse.Namespace, url: str) -> dict[str, Any]:
    """Run the whole soak on the migrated database ``url``; return the result."""
    app = App(url, pool_size=1)
    cleaner = Cleaner(
        app,
        older_than=args.cleanup_older_than,
        interval_jobs=1000,
        interval_seconds=600,
        include_discarded=True,
    )
    churn = Churn(
        url, args.jobs, args.rate, args.connections, args.batch, args.max_backlog, cleaner
    )
    soak = _Run(args, url, churn)
    sampler = HorizonSampler(url, soak.started)
    stand_in = AutovacuumStandIn(url, soak.started)
    snaps: list[dict[str, Any]] = []
    first_at, half = min(100_000, args.jobs // 10), args.jobs // 2
    with psycopg.connect(url, autocommit=True) as conn:
        server_autovacuum = conn.execute("show autovacuum").fetchone() == ("on",)
        use_stand_in = args.autovacuum_stand_in == "on" or (
            args.autovacuum_stand_in == "auto" and not server_autovacuum
        )
        if use_stand_in:
            stand_in.start()
        cleaner.start()
        sampler.start()
        churn.start()
        try:
            soak.wait(lambda: churn.done() >= first_at)
            snaps.append(snapshot(conn, "first_100k", churn.done()))
            soak.wait(lambda: churn.done() >= half)
            held = LongTransaction(url)
            held.open()
            sampler.phase = "during"
            soak.log(f"long transaction open at {churn.done():,} jobs")
            sampler.sample(conn)
            deadline = time.monotonic() + args.long_transaction_seconds
            soak.wait(lambda: time.monotonic() >= deadline)
            sampler.sample(conn)
            held.close()
            sampler.phase = "after"
            released = churn.done()
            churn.total = max(args.jobs, released + args.jobs // 10)
            soak.log(f"long transaction closed at {released:,} jobs; churning to {churn.total:,}")
            soak.wait(lambda: churn.done() >= churn.total)
            sampler.sample(conn)
        finally:
            churn.stop()
            stand_in.stop()
            sampler.stop()
            cleaner.stop()
            app.close()
        seconds = time.monotonic() - soak.started
        final = churn.done()
        _settle(conn)
        snaps.append(snapshot(conn, "end", final))
        soak.log("final VACUUM")
        conn.execute("vacuum")
        snaps.append(snapshot(conn, "after_vacuum", final))
    warm, window = args.jobs // 100, max(args.jobs // 20, 1)
    result: dict[str, Any] = {
        "settings": {k: str(v) if isinstance(v, Path) else v for k, v in vars(args).items()},
        "machine": server_facts(url),
        "jobs_done": final,
        "seconds": round(seconds, 1),
        "jobs_per_second": round(final / seconds, 1),
        "long_transaction": {"opened_at_jobs": half, "closed_at_jobs": released},
        "snapshots": snaps,
        "latency": {
            "start": latency(churn.fetches, warm, warm + window),
            "end": latency(churn.fetches, final - window, final),
        },
        "oldest_xmin": sampler.summary(),
        "oldest_xmin_samples": sampler.samples,
        "cleanups": cleaner.runs,
        "vacuum": {
            "server_autovacuum": server_autovacuum,
            "stand_in": use_stand_in,
            "stand_in_runs": stand_in.runs,
        },
    }
    result["verdicts"] = verdicts(result)
    return result


def _settle(conn: psycopg.Connection[Any], timeout: float = 10.0) -> None:
    """Wait until the churn's sessions have gone: a backend flushes its statistics on exit."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        row = conn.execute(
            "select count(*) from pg_stat_activity where datname = current_database()"
            " and backend_type = 'client backend' and pid <> pg_backend_pid()"
        ).fetchone()
        if row is not None and row[0] == 0:
            return
        time.sleep(0.05)


def main(argv: Sequence[str] | None = None) -> int:
    """Create the database, run the soak, print the table, write the JSON; 0 when all pass."""
    args = _parse(argv)
    dbs = Databases(prefix=f"goodjob_soak_{os.getpid()}")
    try:
        url = dbs.create("run")
        apply_migrations(url)
        result = run(args, url)
    finally:
        if args.keep:
            print(f"kept: {dbs.url(f'{dbs.prefix}_run')}", file=sys.stderr)
        else:
            dbs.drop_all()
    print(format_report(result))
    write_json(result, args.output)
    print(f"\nJSON: {args.output}")
    return 0 if all(v["passed"] for v in result["verdicts"]) else 1


if __name__ == "__main__":
    sys.exit(main())
