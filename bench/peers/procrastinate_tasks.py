"""Procrastinate's side of the peer benchmark: the app and the same three tasks.

The worker runs ``procrastinate --app=bench.peers.procrastinate_tasks.app
worker ...`` with the connection string in ``BENCH_PEER_DATABASE_URL``; the
harness enqueues in-process through :func:`build`.
"""

from __future__ import annotations

import os
import time
from typing import IO

import procrastinate

__all__ = ["app", "build"]

_latency_file: IO[str] | None = None


def _noop() -> None:
    """Do nothing (a sync task: Procrastinate runs it in a thread)."""


async def _anoop() -> None:
    """Do nothing (an async task)."""


def _record(seq: int) -> None:
    """Write this job's start time, keyed by the enqueuer's sequence number."""
    now = time.time()
    global _latency_file
    if _latency_file is None:
        _latency_file = open(os.environ["BENCH_LATENCY_FILE"], "a", buffering=1)  # noqa: SIM115
    _latency_file.write(f"{seq} {now!r}\n")


def build(conninfo: str) -> procrastinate.App:
    """A Procrastinate App on ``conninfo`` with bench.noop, bench.anoop, bench.record."""
    new = procrastinate.App(connector=procrastinate.PsycopgConnector(conninfo=conninfo))
    new.task(name="bench.noop", queue="default")(_noop)
    new.task(name="bench.anoop", queue="default")(_anoop)
    new.task(name="bench.record", queue="default")(_record)
    return new


app = build(os.environ.get("BENCH_PEER_DATABASE_URL", ""))
