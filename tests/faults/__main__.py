"""``python -m tests.faults [--small] [--only NAME]``: run the fault suite, print a report."""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

from tests.faults.scenarios import FULL, SCENARIOS, SMALL
from tests.faults.scenarios_misc import MISC_SCENARIOS
from tests.faults.scenarios_server import SERVER_SCENARIOS


def main() -> int:
    """Run the scenarios; exit 1 when any failed."""
    parser = argparse.ArgumentParser(prog="python -m tests.faults")
    parser.add_argument("--small", action="store_true", help="the reduced size of make test")
    parser.add_argument("--only", action="append", default=[], help="scenario function name")
    options = parser.parse_args()
    size = SMALL if options.small else FULL
    log_dir = Path(tempfile.mkdtemp(prefix="goodjob-faults-"))
    failed = 0
    print(
        f"{'scenario':32} {'jobs':>5} {'lost':>4} {'twice':>5} {'repeat':>6}"
        f" {'attempts':>8} {'cut':>5}  result  figures"
    )
    for scenario in [*SCENARIOS, *SERVER_SCENARIOS, *MISC_SCENARIOS]:
        if options.only and scenario.__name__ not in options.only:
            continue
        started = time.monotonic()
        result = scenario(size, log_dir)
        a = result.audit
        failed += not result.passed
        print(
            f"{result.name:32} {a.jobs:5} {a.lost:4} {a.completed_twice:5}"
            f" {a.repeated_effects:6} {a.attempts:8} {a.interrupted:5}"
            f"  {'PASS' if result.passed else 'FAIL'}    "
            f"{result.figures} ({time.monotonic() - started:.0f} s)",
            flush=True,
        )
    print(f"worker logs: {log_dir}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
