"""The tasks the benchmark's worker runs: no-ops, and a start-time recorder.

``goodjob-pg run --app bench.tasks:app`` imports this module; the worker's
database URL comes from ``--database-url``. The harness enqueues in-process
through :func:`build` (a fresh App per use, as an App cannot be reopened
after ``close()``).

``bench.record(seq)`` appends ``"<seq> <time.time()>"`` to the file named by
``BENCH_LATENCY_FILE``: the task's own start time, for pickup latency.
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass
from typing import IO, Any

from goodjob_pg import App
from goodjob_pg.registry import Task

__all__ = ["BenchApp", "app", "build"]

_latency_file: IO[str] | None = None


def _noop() -> None:
    """Do nothing (sync: runs on a pool thread)."""


async def _anoop() -> None:
    """Do nothing (async: runs on the worker's event loop)."""


def _record(seq: int) -> None:
    """Write this job's start time, keyed by the enqueuer's sequence number."""
    now = time.time()
    global _latency_file
    if _latency_file is None:
        _latency_file = open(os.environ["BENCH_LATENCY_FILE"], "a", buffering=1)  # noqa: SIM115
    _latency_file.write(f"{seq} {now!r}\n")


@dataclass(frozen=True)
class BenchApp:
    """An App with the three bench tasks registered."""

    app: App
    noop: Task[[], None]
    anoop: Task[[], Any]
    record: Task[[int], None]


def build(database_url: str | None = None) -> BenchApp:
    """A new App with ``bench.noop``, ``bench.anoop`` and ``bench.record``."""
    new = App(database_url)
    return BenchApp(
        app=new,
        noop=new.task(name="bench.noop")(_noop),
        anoop=new.task(name="bench.anoop")(_anoop),
        record=new.task(name="bench.record")(_record),
    )


app = build().app
