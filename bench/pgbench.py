"""Run ``pgbench`` with custom scripts written to a temporary directory."""

from __future__ import annotations

import re
import shutil
import subprocess
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

__all__ = ["PgBench", "PgBenchError", "PgBenchResult"]


class PgBenchError(RuntimeError):
    """pgbench failed or printed no result."""


@dataclass(frozen=True)
class PgBenchResult:
    """What one pgbench run reported (tps excludes connection time)."""

    tps: float
    transactions: int
    latency_ms: float
    failed: int


class PgBench:
    """Writes scripts to a private temporary directory and runs pgbench on them.

    Runs use ``-n`` (no vacuum of pgbench's own tables) and ``-M prepared``:
    the worker's driver (psycopg) prepares repeated statements too.
    """

    def __init__(self, executable: str | None = None) -> None:
        found = executable or shutil.which("pgbench")
        if found is None:
            raise PgBenchError("pgbench is not on PATH (Debian: apt-get install postgresql-client)")
        self.executable = found
        self._dir = tempfile.TemporaryDirectory(prefix="goodjob-bench-")
        self.scripts: dict[str, Path] = {}

    def script(self, name: str, text: str) -> Path:
        """Write (or rewrite) script ``name`` and return its path."""
        path = Path(self._dir.name) / f"{name}.sql"
        path.write_text(text.strip() + "\n")
        self.scripts[name] = path
        return path

    def run(
        self,
        url: str,
        script: Path,
        *,
        clients: int = 1,
        seconds: float | None = None,
        transactions: int | None = None,
        variables: Mapping[str, object] | None = None,
    ) -> PgBenchResult:
        """Run ``script`` with ``clients`` connections (one thread each) for a time or a count."""
        if (seconds is None) == (transactions is None):
            raise ValueError("give exactly one of seconds and transactions")
        cmd = [self.executable, "-n", "-M", "prepared", "-c", str(clients), "-j", str(clients)]
        if seconds is not None:
            cmd += ["-T", str(max(1, round(seconds)))]
        else:
            cmd += ["-t", str(transactions)]
        for key, value in (variables or {}).items():
            cmd += ["-D", f"{key}={value}"]
        cmd += ["-f", str(script), url]
        proc = subprocess.run(cmd, capture_output=True, text=True, check=False)
        if proc.returncode != 0:
            raise PgBenchError(
                f"pgbench {script.name} exited {proc.returncode}: {proc.stderr.strip()[-800:]}"
            )
        return _parse(proc.stdout, script.name)

    def close(self) -> None:
        """Remove the scripts."""
        self._dir.cleanup()


def _parse(out: str, name: str) -> PgBenchResult:
    tps = re.search(r"^tps = ([0-9.]+)", out, re.M)
    count = re.search(r"^number of transactions actually processed: (\d+)", out, re.M)
    latency = re.search(r"^latency average = ([0-9.]+) ms", out, re.M)
    failed = re.search(r"^number of failed transactions: (\d+)", out, re.M)
    if tps is None or count is None:
        raise PgBenchError(f"pgbench {name}: no result in output:\n{out[-800:]}")
    return PgBenchResult(
        tps=float(tps.group(1)),
        transactions=int(count.group(1)),
        latency_ms=float(latency.group(1)) if latency else float("nan"),
        failed=int(failed.group(1)) if failed else 0,
    )
