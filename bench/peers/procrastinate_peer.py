"""Procrastinate behind the :class:`~bench.subject.Subject` interface.

Workers are real ``procrastinate worker`` subprocesses with ``--concurrency
N``; drains use ``--one-shot`` (exit once no job is left). Enqueue uses the
Python API: ``task.defer()`` and ``task.batch_defer(...)``. Throughput is
read from ``procrastinate_events``: the first ``started`` to the last
``succeeded`` event (each fetch claims one job, in its own transaction).
"""

from __future__ import annotations

import subprocess
import time
from pathlib import Path
from typing import Any

import psycopg

from ..drainstats import DrainStats
from ..process import WorkerProcess
from ..subject import REPO, Kind, Subject, WorkerSpec, timed
from . import procrastinate_tasks

__all__ = ["ProcrastinateSubject"]

Conn = psycopg.Connection[Any]

_APP = "bench.peers.procrastinate_tasks.app"
_TASKS = {Kind.SYNC: "bench.noop", Kind.ASYNC: "bench.anoop"}


class ProcrastinateSubject(Subject):
    """Procrastinate 3 (psycopg 3 connector)."""

    name = "procrastinate"

    def _cli(self) -> str:
        return str(Path(self.python()).parent / "procrastinate")

    def install(self, url: str) -> None:
        subprocess.run(
            [self._cli(), f"--app={_APP}", "schema", "--apply"],
            env=_env(url),
            cwd=REPO,
            check=True,
            capture_output=True,
        )

    def reset(self, conn: Conn) -> None:
        conn.execute(
            "truncate procrastinate_jobs, procrastinate_events, procrastinate_workers cascade"
        )

    def enqueue_bulk(self, url: str, kind: Kind, count: int, per_call: int) -> float:
        app = procrastinate_tasks.build(url)
        task = app.tasks[_TASKS[kind]]
        with app.open():

            def run() -> None:
                left = count
                while left > 0:
                    n = min(per_call, left)
                    task.batch_defer(*[{} for _ in range(n)])
                    left -= n

            return timed(run)

    def enqueue_single(self, url: str, count: int) -> float:
        app = procrastinate_tasks.build(url)
        task = app.tasks["bench.noop"]
        with app.open():
            task.defer()  # warm up the connection outside the timing

            def run() -> None:
                for _ in range(count):
                    task.defer()

            return timed(run)

    def enqueue_latency(
        self, url: str, seqs: range, pause: float
    ) -> tuple[dict[int, float], list[float]]:
        app = procrastinate_tasks.build(url)
        task = app.tasks["bench.record"]
        done: dict[int, float] = {}
        durations: list[float] = []
        with app.open():
            for seq in seqs:
                start = time.time()
                task.defer(seq=seq)
                done[seq] = end = time.time()
                durations.append(end - start)
                time.sleep(pause)
        return done, durations

    def start_worker(self, url: str, spec: WorkerSpec) -> WorkerProcess:
        cmd = [
            self._cli(),
            f"--app={_APP}",
            "--log-level=warning",
            "worker",
            f"--concurrency={spec.concurrency}",
        ]
        if spec.drain:
            cmd.append("--one-shot")
        if not spec.listen:
            cmd.append("--no-listen-notify")
        if spec.poll_interval is not None:
            cmd.append(f"--fetch-job-polling-interval={spec.poll_interval}")
        env = _env(url)
        env["BENCH_LATENCY_FILE"] = spec.latency_file or "/dev/null"
        return WorkerProcess(cmd, env, REPO)

    def remaining(self, conn: Conn) -> int:
        row = conn.execute(
            "select count(*) from procrastinate_jobs where status in ('todo', 'doing')"
        ).fetchone()
        assert row is not None
        return int(row[0])

    def drain_stats(self, conn: Conn) -> DrainStats:
        row = conn.execute(
            "select count(*) filter (where type = 'succeeded'),"
            " extract(epoch from max(at) filter (where type = 'succeeded')"
            "                    - min(at) filter (where type = 'started'))::float8,"
            " count(distinct at) filter (where type = 'started'),"
            " count(distinct at) filter (where type = 'succeeded')"
            " from procrastinate_events"
        ).fetchone()
        assert row is not None
        return DrainStats(jobs=row[0], seconds=row[1] or 0.0, claims=row[2], finishes=row[3])


def _env(url: str) -> dict[str, str]:
    return {"BENCH_PEER_DATABASE_URL": url}
