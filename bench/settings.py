"""How big and how long each measurement is: the full run and the quick smoke run.

A full ``make bench`` is sized to finish in under ten minutes on a 2-core
machine; ``--quick`` in about two. Drain runs are time-boxed: the worker (or
pgbench, for the floor) starts on ``drain_jobs`` pre-enqueued jobs and is
stopped after ``drain_seconds`` if it has not finished; throughput is
measured from the jobs' own timestamps either way.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

__all__ = ["Settings", "full", "quick"]


@dataclass(frozen=True)
class Settings:
    """Sizes and durations of one benchmark run."""

    runs: int = 3
    """Runs per figure (the median is reported with min and max)."""
    pgbench_seconds: float = 3.0
    """Duration of one timed pgbench run (round trip, inserts, enqueue)."""
    enqueue_clients: tuple[int, ...] = (1, 4)
    """Connection counts for single-row enqueue and the bare INSERT floor."""
    python_enqueues: int = 2000
    """task.enqueue() calls per run, from one thread."""
    many_calls: tuple[tuple[int, int], ...] = ((1000, 20), (10000, 3))
    """(jobs per goodjob_enqueue_many call, calls per run)."""
    drain_jobs: int = 50_000
    """Jobs enqueued before each drain run."""
    drain_seconds: float = 6.0
    """Time box of one drain run, from the worker's (or pgbench's) start."""
    drain_threads: tuple[int, ...] = (1, 5, 20)
    """Worker threads (one pool) for the drain scenario."""
    floor_batches: tuple[int, ...] = (1, 10, 100)
    """Batch sizes of the reference floor (besides those paired with drain runs)."""
    worker_startup_seconds: float = 15.0
    """Longest wait for a worker to register before a run is abandoned."""
    latency_jobs: int = 500
    """Jobs enqueued one at a time into an idle worker."""
    latency_pause: float = 0.01
    """Seconds between two latency enqueues."""
    latency_threads: int = 5
    """Worker threads for the latency and mixed scenarios."""
    poll_interval: float = 1.0
    """--poll-interval of the worker with LISTEN/NOTIFY off."""
    hot_rows: int = 1_000_000
    """Succeeded rows, and again future-scheduled rows, for the flat hot path."""
    hot_ready: int = 50
    """Ready jobs present while fetch is measured."""
    hot_seconds: float = 2.0
    """Duration of one fetch measurement."""
    mixed_rate: float = 500.0
    """Enqueues per second during the mixed scenario."""
    mixed_seconds: float = 10.0
    """Duration of the steady enqueue in the mixed scenario."""
    memory_jobs: int = 50_000
    """Jobs the memory scenario's worker drains before its RSS is read."""
    memory_threads: int = 20
    """Worker threads in the memory scenario."""
    path_calls: int = 20_000
    """goodjob_enqueue calls per run in the search_path scenario."""


def full() -> Settings:
    """The sizes of ``make bench``."""
    return Settings()


def quick() -> Settings:
    """A ~2-minute smoke run: one run per figure, small sizes, short boxes."""
    return replace(
        Settings(),
        runs=1,
        pgbench_seconds=1.5,
        python_enqueues=500,
        many_calls=((1000, 5), (10000, 1)),
        drain_jobs=10_000,
        drain_seconds=2.5,
        floor_batches=(1, 100),
        latency_jobs=100,
        hot_rows=100_000,
        hot_seconds=1.0,
        mixed_seconds=3.0,
        memory_jobs=10_000,
        path_calls=5_000,
    )
