"""PgQueuer's side of the peer benchmark: the factory and the same three tasks.

The worker runs ``pgq run bench.peers.pgqueuer_tasks:create ...``; the
connection string comes from ``BENCH_PEER_DATABASE_URL``. PgQueuer 1.x runs
only ``async def`` entrypoints; its documented way to run sync code is
``await asyncio.to_thread(...)``, which is what the sync no-op does.
"""

from __future__ import annotations

import asyncio
import os
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import psycopg
from pgqueuer import PgQueuer
from pgqueuer.db import PsycopgDriver
from pgqueuer.models import Job

_latency_file = None


def _noop() -> None:
    """The sync work: nothing."""


@asynccontextmanager
async def create() -> AsyncIterator[PgQueuer]:
    """The PgQueuer factory ``pgq run`` calls (an async context manager)."""
    conn = await psycopg.AsyncConnection.connect(
        os.environ["BENCH_PEER_DATABASE_URL"], autocommit=True
    )
    pgq = PgQueuer(PsycopgDriver(conn))

    @pgq.entrypoint("bench.noop")
    async def noop(job: Job) -> None:
        await asyncio.to_thread(_noop)

    @pgq.entrypoint("bench.anoop")
    async def anoop(job: Job) -> None:
        pass

    @pgq.entrypoint("bench.record")
    async def record(job: Job) -> None:
        now = time.time()
        global _latency_file
        if _latency_file is None:
            _latency_file = open(os.environ["BENCH_LATENCY_FILE"], "a", buffering=1)  # noqa: SIM115
        _latency_file.write(f"{(job.payload or b'').decode()} {now!r}\n")

    try:
        yield pgq
    finally:
        await conn.close()


def main(argv: list[str] | None = None) -> None:
    """Run a worker through ``pgqueuer.run`` (what ``pgq run`` calls).

    The ``pgq run`` command of PgQueuer 1.6.0 fails before it starts with
    recent typer releases (``AttributeError: 'str' object has no attribute
    'name'`` on its ``--log-level`` default), so the harness starts workers
    through the same supervisor function directly.
    """
    import argparse
    from datetime import timedelta

    import pgqueuer
    from pgqueuer.types import QueueExecutionMode

    parser = argparse.ArgumentParser(description=main.__doc__)
    parser.add_argument("--batch-size", type=int, default=10)
    parser.add_argument("--dequeue-timeout", type=float, default=30.0)
    parser.add_argument("--mode", choices=["continuous", "drain"], default="continuous")
    args = parser.parse_args(argv)
    asyncio.run(
        pgqueuer.run(
            create,
            batch_size=args.batch_size,
            dequeue_timeout=timedelta(seconds=args.dequeue_timeout),
            mode=QueueExecutionMode[args.mode],
        )
    )


if __name__ == "__main__":
    main()
