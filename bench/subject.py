"""What the drain, latency and enqueue scenarios need from a job system.

goodjob-pg (:mod:`bench.goodjob_subject`) and each peer
(:mod:`bench.peers`) implement :class:`Subject`, so one scenario measures
them all the same way: the same jobs, the same concurrency, a fresh
database each, throughput read from the jobs' own timestamps and pickup
latency from the task's own clock.
"""

from __future__ import annotations

import abc
import enum
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psycopg

from .drainstats import DrainStats
from .process import WorkerProcess

__all__ = ["REPO", "Kind", "Subject", "WorkerSpec", "read_latency_file", "timed"]

REPO = Path(__file__).resolve().parent.parent
"""The repository root: workers run there so ``bench`` is importable."""

Conn = psycopg.Connection[Any]


class Kind(enum.StrEnum):
    """Which no-op task a drain runs."""

    SYNC = "sync"
    ASYNC = "async"


@dataclass(frozen=True)
class WorkerSpec:
    """One worker process.

    :param concurrency: jobs it may run at once (threads, or its own knob).
    :param listen: wake on LISTEN/NOTIFY (else poll only).
    :param poll_interval: seconds between polls; None keeps the system's default.
    :param drain: exit by itself once the queue is empty, where supported.
    :param latency_file: where the ``bench.record`` task writes start times.
    """

    concurrency: int
    listen: bool = True
    poll_interval: float | None = None
    drain: bool = False
    latency_file: str | None = None


class Subject(abc.ABC):
    """A job system under test."""

    name: str
    """Shown in the report."""
    supports_polling: bool = True
    """False when the system cannot run with LISTEN/NOTIFY off."""

    @abc.abstractmethod
    def install(self, url: str) -> None:
        """Install the system's schema into an empty database."""

    @abc.abstractmethod
    def reset(self, conn: Conn) -> None:
        """Delete every job (and job history) before a run."""

    @abc.abstractmethod
    def enqueue_bulk(self, url: str, kind: Kind, count: int, per_call: int) -> float:
        """Enqueue ``count`` no-op jobs ``per_call`` at a time; return the seconds taken."""

    @abc.abstractmethod
    def enqueue_single(self, url: str, count: int) -> float:
        """Enqueue ``count`` no-op jobs one call at a time from one thread; return seconds."""

    @abc.abstractmethod
    def enqueue_latency(
        self, url: str, seqs: range, pause: float
    ) -> tuple[dict[int, float], list[float]]:
        """Enqueue one ``bench.record(seq)`` job per seq, pausing between them.

        Returns, per seq, the wall-clock time the enqueue call returned (the
        commit was acknowledged), and the duration of each call in seconds.
        """

    @abc.abstractmethod
    def start_worker(self, url: str, spec: WorkerSpec) -> WorkerProcess:
        """Start one worker process (its tasks: the no-ops and ``bench.record``)."""

    @abc.abstractmethod
    def remaining(self, conn: Conn) -> int:
        """Jobs not finished yet."""

    @abc.abstractmethod
    def drain_stats(self, conn: Conn) -> DrainStats:
        """Finished jobs, first start to last finish, from the database."""

    @staticmethod
    def python() -> str:
        """The interpreter running the harness (workers use the same venv)."""
        return sys.executable


def timed(fn: Callable[[], object]) -> float:
    """Seconds ``fn()`` took."""
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def read_latency_file(path: str | Path) -> dict[int, float]:
    """Parse the ``"<seq> <time>"`` lines the record tasks wrote (first start per seq)."""
    starts: dict[int, float] = {}
    try:
        text = Path(path).read_text()
    except FileNotFoundError:
        return starts
    for line in text.splitlines():
        parts = line.split()
        if len(parts) == 2:
            try:
                starts.setdefault(int(parts[0]), float(parts[1]))
            except ValueError:
                continue
    return starts
