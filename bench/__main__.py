"""``python -m bench``: run the scenarios, print the table, write the JSON.

Usage: ``python -m bench [--quick] [--only SCENARIO[,SCENARIO]] [--runs N]
[--output PATH]``. Databases are created on the server in
``BENCH_DATABASE_URL`` (default: the local server as postgres) and dropped
at the end.
"""

from __future__ import annotations

import argparse
import dataclasses
import subprocess
import sys
import time
import traceback
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from .context import Context
from .database import Databases, server_facts
from .pgbench import PgBench
from .report import Row, format_table, write_json
from .settings import Settings, full, quick
from .subject import REPO

__all__ = ["main", "run_scenarios"]

DEFAULT_OUTPUT = Path(__file__).resolve().parent / "results" / "latest.json"

LEGEND = (
    "value and ratio: median [min-max] of the runs; ratio = value / reference of the same run.",
    "floor: bare SQL on a bare table (bench/floor.py) driven by pgbench -M prepared, same server.",
    "drain: one `goodjob-pg run` process, --max-threads N, one pool (2 connections: lease/LISTEN"
    " + pool); its floor claims and finishes in batches of N on 1 connection; jobs/s = jobs"
    " finished / (max finished_at - min started_at), time-boxed (see settings in the JSON).",
)


def _parse(argv: Sequence[str] | None, choices: Sequence[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument("--quick", action="store_true", help="a ~2-minute smoke run (1 run each)")
    parser.add_argument(
        "--only",
        action="append",
        default=[],
        metavar="SCENARIO",
        help=f"run only these (repeatable or comma-separated): {', '.join(choices)}",
    )
    parser.add_argument("--runs", type=int, help="runs per figure (default 3, quick 1)")
    parser.add_argument("--output", type=Path, default=DEFAULT_OUTPUT, help="the JSON file")
    parser.add_argument("--quiet", action="store_true", help="no progress on stderr")
    args = parser.parse_args(argv)
    args.only = [name for item in args.only for name in item.split(",") if name]
    unknown = [name for name in args.only if name not in choices]
    if unknown:
        parser.error(f"unknown scenario(s) {', '.join(unknown)}; choose from {', '.join(choices)}")
    return args


def settings_from(args: argparse.Namespace) -> Settings:
    """Full or quick settings, with --runs applied."""
    settings = quick() if args.quick else full()
    if args.runs is not None:
        if args.runs < 1:
            raise SystemExit("--runs must be at least 1")
        settings = dataclasses.replace(settings, runs=args.runs)
    return settings


def git_commit() -> str | None:
    """The commit of the working tree (None outside git)."""
    try:
        out = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], cwd=REPO, capture_output=True, text=True
        )
    except OSError:
        return None
    return out.stdout.strip() or None


def run_scenarios(
    ctx: Context, scenarios: dict[str, Callable[[Context], list[Row]]]
) -> tuple[list[Row], dict[str, str]]:
    """Run each scenario; an error is recorded and the next one still runs."""
    rows: list[Row] = []
    errors: dict[str, str] = {}
    for name, scenario in scenarios.items():
        ctx.log(f"== {name}")
        started = time.monotonic()
        try:
            rows += scenario(ctx)
        except Exception as exc:  # a failed scenario must not lose the others' figures
            errors[name] = f"{type(exc).__name__}: {exc}"
            print(f"scenario {name} failed:\n{traceback.format_exc()}", file=sys.stderr)
        ctx.log(f"   {name} took {time.monotonic() - started:.0f} s")
    return rows, errors


def main(argv: Sequence[str] | None = None) -> int:
    """Run the benchmark; exit 1 if a scenario failed (targets missed do not fail it)."""
    from .scenarios import SCENARIOS

    args = _parse(argv, list(SCENARIOS))
    settings = settings_from(args)
    chosen = {k: v for k, v in SCENARIOS.items() if not args.only or k in args.only}
    dbs = Databases()
    pg = PgBench()
    ctx = Context(settings=settings, dbs=dbs, pg=pg, verbose=not args.quiet)
    started = time.time()
    try:
        facts = server_facts(dbs.url("postgres"))
        ctx.log(f"databases {dbs.prefix}_*; scenarios: {', '.join(chosen)}")
        rows, errors = run_scenarios(ctx, chosen)
    finally:
        dbs.drop_all()
        pg.close()
    meta: dict[str, Any] = {
        "started": time.strftime("%Y-%m-%dT%H:%M:%S%z", time.localtime(started)),
        "seconds": round(time.time() - started, 1),
        "commit": git_commit(),
        "mode": "quick" if args.quick else "full",
        "scenarios": list(chosen),
        "settings": dataclasses.asdict(settings),
        "machine": facts,
        "errors": errors,
    }
    print(format_table(rows, LEGEND))
    print(
        f"\n{len(rows)} figures in {meta['seconds']:.0f} s; median [min-max] of"
        f" {settings.runs} run(s); PostgreSQL {facts['postgres']['server_version']},"
        f" synchronous_commit={facts['postgres']['synchronous_commit']},"
        f" {facts['cpus']} CPUs ({facts['cpu_model']})"
    )
    for name, error in errors.items():
        print(f"scenario {name} FAILED: {error}")
    write_json(args.output, rows, meta)
    print(f"wrote {args.output}")
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
