"""PgQueuer behind the :class:`~bench.subject.Subject` interface.

Workers are real subprocesses running ``pgqueuer.run`` (what ``pgq run``
calls; see :mod:`bench.peers.pgqueuer_tasks` for why not the CLI itself)
with ``--batch-size N`` and PgQueuer's default of no global cap on jobs in
flight; drains use ``--mode drain``. PgQueuer always LISTENs, so it has no
polling-only figure. Enqueue uses ``Queries.enqueue`` (lists for bulk).
Throughput is read from ``pgqueuer_log``: the first ``picked`` to the last
``successful`` entry.
"""

from __future__ import annotations

import asyncio
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import psycopg
from pgqueuer import Queries
from pgqueuer.db import PsycopgDriver

from ..drainstats import DrainStats
from ..process import WorkerProcess
from ..subject import REPO, Kind, Subject, WorkerSpec

__all__ = ["PgQueuerSubject"]

Conn = psycopg.Connection[Any]

_TASKS = {Kind.SYNC: "bench.noop", Kind.ASYNC: "bench.anoop"}


async def _queries(url: str) -> tuple[Queries, psycopg.AsyncConnection[Any]]:
    conn = await psycopg.AsyncConnection.connect(url, autocommit=True)
    return Queries(PsycopgDriver(conn)), conn


class PgQueuerSubject(Subject):
    """PgQueuer 1.x (psycopg 3 driver)."""

    name = "pgqueuer"
    supports_polling = False  # it always LISTENs; its dequeue timeout is only a safety net

    def install(self, url: str) -> None:
        subprocess.run(
            [str(Path(self.python()).parent / "pgq"), "--pg-dsn", url, "install"],
            cwd=REPO,
            check=True,
            capture_output=True,
        )

    def reset(self, conn: Conn) -> None:
        conn.execute("truncate pgqueuer, pgqueuer_log, pgqueuer_statistics")

    def enqueue_bulk(self, url: str, kind: Kind, count: int, per_call: int) -> float:
        async def run() -> float:
            queries, conn = await _queries(url)
            try:
                start = time.perf_counter()
                left = count
                while left > 0:
                    n = min(per_call, left)
                    await queries.enqueue([_TASKS[kind]] * n, [None] * n, [0] * n)
                    left -= n
                return time.perf_counter() - start
            finally:
                await conn.close()

        return asyncio.run(run())

    def enqueue_single(self, url: str, count: int) -> float:
        async def run() -> float:
            queries, conn = await _queries(url)
            try:
                await queries.enqueue("bench.noop", None)  # warm-up
                start = time.perf_counter()
                for _ in range(count):
                    await queries.enqueue("bench.noop", None)
                return time.perf_counter() - start
            finally:
                await conn.close()

        return asyncio.run(run())

    def enqueue_latency(
        self, url: str, seqs: range, pause: float
    ) -> tuple[dict[int, float], list[float]]:
        done: dict[int, float] = {}
        durations: list[float] = []

        async def run() -> None:
            queries, conn = await _queries(url)
            try:
                for seq in seqs:
                    start = time.time()
                    await queries.enqueue("bench.record", str(seq).encode())
                    done[seq] = end = time.time()
                    durations.append(end - start)
                    await asyncio.sleep(pause)
            finally:
                await conn.close()

        asyncio.run(run())
        return done, durations

    def start_worker(self, url: str, spec: WorkerSpec) -> WorkerProcess:
        if not spec.listen:
            raise ValueError("PgQueuer has no polling-only mode: it always LISTENs")
        cmd = [
            sys.executable,
            "-m",
            "bench.peers.pgqueuer_tasks",
            "--batch-size",
            str(spec.concurrency),
            "--mode",
            "drain" if spec.drain else "continuous",
        ]
        if spec.poll_interval is not None:
            cmd += ["--dequeue-timeout", str(spec.poll_interval)]
        env = {
            "BENCH_PEER_DATABASE_URL": url,
            "BENCH_LATENCY_FILE": spec.latency_file or "/dev/null",
        }
        return WorkerProcess(cmd, env, REPO)

    def remaining(self, conn: Conn) -> int:
        row = conn.execute(
            "select count(*) from pgqueuer where status in ('queued', 'picked')"
        ).fetchone()
        assert row is not None
        return int(row[0])

    def drain_stats(self, conn: Conn) -> DrainStats:
        row = conn.execute(
            "select count(*) filter (where status = 'successful'),"
            " extract(epoch from max(created) filter (where status = 'successful')"
            "                    - min(created) filter (where status = 'picked'))::float8,"
            " count(distinct created) filter (where status = 'picked'),"
            " count(distinct created) filter (where status = 'successful')"
            " from pgqueuer_log"
        ).fetchone()
        assert row is not None
        return DrainStats(jobs=row[0], seconds=row[1] or 0.0, claims=row[2], finishes=row[3])
