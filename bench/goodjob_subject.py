"""goodjob-pg behind the :class:`~bench.subject.Subject` interface.

Workers are real ``goodjob-pg run --app bench.tasks:app`` subprocesses with
one pool (two connections: lease/LISTEN and the pool). Python enqueues go
through ``bench.tasks``' App, as a user's code would.
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import psycopg

from goodjob_pg.migrations import apply_migrations

from . import tasks
from .drainstats import DrainStats
from .process import WorkerProcess
from .subject import REPO, Kind, Subject, WorkerSpec, timed

__all__ = ["GoodjobSubject"]

Conn = psycopg.Connection[Any]

TASKS = {Kind.SYNC: "bench.noop", Kind.ASYNC: "bench.anoop"}


def jobs_json(task: str, count: int) -> str:
    """The goodjob_enqueue_many argument for ``count`` jobs of ``task``."""
    return json.dumps([{"task": task}] * count)


class GoodjobSubject(Subject):
    """goodjob-pg: SQL functions plus the ``goodjob-pg run`` worker."""

    name = "goodjob-pg"

    def install(self, url: str) -> None:
        apply_migrations(url)

    def reset(self, conn: Conn) -> None:
        conn.execute("truncate goodjob_jobs, goodjob_executions")

    def enqueue_bulk(self, url: str, kind: Kind, count: int, per_call: int) -> float:
        """``app.enqueue_many([task.prepare() ...])`` per ``per_call`` jobs, from Python.

        Preparing the jobs (argument checks, ids, options) is timed too, as
        the peers build their calls inside the timing.
        """
        bench = tasks.build(url)
        task = bench.noop if kind is Kind.SYNC else bench.anoop
        with bench.app:
            bench.app.enqueue_many([])  # nothing, but imports and warms the path
            with bench.app.connection():
                pass  # opens the App's pool outside the timing

            def run() -> None:
                left = count
                while left > 0:
                    n = min(per_call, left)
                    bench.app.enqueue_many([task.prepare() for _ in range(n)])
                    left -= n

            return timed(run)

    def enqueue_single(self, url: str, count: int) -> float:
        bench = tasks.build(url)
        with bench.app:
            bench.noop.enqueue()  # opens the App's pool outside the timing

            def run() -> None:
                for _ in range(count):
                    bench.noop.enqueue()

            return timed(run)

    def enqueue_latency(
        self, url: str, seqs: range, pause: float
    ) -> tuple[dict[int, float], list[float]]:
        done: dict[int, float] = {}
        durations: list[float] = []
        bench = tasks.build(url)
        with bench.app:
            with bench.app.connection():
                pass  # open the pool before the first timed call
            for seq in seqs:
                start = time.time()
                bench.record.enqueue(seq)
                done[seq] = end = time.time()
                durations.append(end - start)
                time.sleep(pause)
        return done, durations

    def start_worker(self, url: str, spec: WorkerSpec) -> WorkerProcess:
        cmd = [
            str(Path(self.python()).parent / "goodjob-pg"),
            "run",
            "--app",
            "bench.tasks:app",
            "--queues",
            "*",
            "--max-threads",
            str(spec.concurrency),
            "--database-url",
            url,
            "--log-level",
            "warning",
        ]
        if not spec.listen:
            cmd.append("--disable-listen-notify")
        if spec.poll_interval is not None:
            cmd += ["--poll-interval", str(spec.poll_interval)]
        if spec.drain:
            cmd += ["--idle-timeout", "1"]
        env = {"BENCH_LATENCY_FILE": spec.latency_file or "/dev/null"}
        return WorkerProcess(cmd, env, REPO)

    def remaining(self, conn: Conn) -> int:
        row = conn.execute(
            "select count(*) from goodjob_jobs where state in ('queued', 'running', 'scheduled')"
        ).fetchone()
        assert row is not None
        return int(row[0])

    def drain_stats(self, conn: Conn) -> DrainStats:
        row = conn.execute(
            "select count(*), extract(epoch from max(finished_at) - min(started_at))::float8,"
            " count(distinct started_at), count(distinct finished_at)"
            " from goodjob_jobs where state = 'succeeded'"
        ).fetchone()
        assert row is not None
        return DrainStats(jobs=row[0], seconds=row[1] or 0.0, claims=row[2], finishes=row[3])

    def registered(self, conn: Conn) -> bool:
        """True once a worker process holds a lease."""
        row = conn.execute("select exists (select 1 from goodjob_processes)").fetchone()
        return bool(row and row[0])
