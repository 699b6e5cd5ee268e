"""Tasks for worker tests, importable by worker subprocesses.

Subprocesses run ``python -m goodjob_pg.cli run --app tests.tasks_fixture:app``
with ``GOODJOB_DATABASE_URL`` set; in-process tests call :func:`make_app` with
their database URL. Tasks that prove a job ran insert a row into the side
table ``completions`` (created by :func:`create_side_table`) with the job id
and attempt, so tests can count runs exactly.
"""

from __future__ import annotations

import asyncio
import time
from typing import Any

import psycopg

from goodjob_pg import App, current_job
from tests.batch_tasks import add_batch_tasks

__all__ = ["app", "create_side_table", "make_app"]

SIDE_TABLE = """
create table if not exists completions (
  job_id uuid not null,
  attempt int not null,
  tag text,
  pid int not null default pg_backend_pid(),
  at timestamptz not null default clock_timestamp()
)
"""


def create_side_table(conn: psycopg.Connection[Any]) -> None:
    """Create the ``completions`` table the recording tasks write to."""
    conn.execute(SIDE_TABLE)


def make_app(database_url: str | None = None, *, record_url: str | None = None) -> App:
    """An App with the test tasks, bound to ``database_url`` (None: environment).

    :param record_url: where tasks write ``completions`` (default: the App's
        pool); fault tests pass a direct URL so only the worker sees the faults.
    """
    app = App(database_url)
    insert = "insert into completions (job_id, attempt, tag) values (%s, %s, %s)"

    def record(tag: str | None) -> None:
        job = current_job()
        if record_url is not None:
            with psycopg.connect(record_url, autocommit=True) as direct:
                direct.execute(insert, (job.id, job.attempt, tag))
            return
        with app.connection() as conn:
            conn.execute(insert, (job.id, job.attempt, tag))

    @app.task(name="record")
    def record_task(tag: str | None = None) -> None:
        record(tag)

    @app.task(name="arecord")
    async def arecord_task(tag: str | None = None) -> None:
        await asyncio.sleep(0)
        await asyncio.to_thread(record, tag)

    @app.task(name="sleep_then_record")
    def sleep_then_record(seconds: float, tag: str | None = None) -> None:
        time.sleep(seconds)
        record(tag)

    @app.task(name="asleep_then_record")
    async def asleep_then_record(seconds: float, tag: str | None = None) -> None:
        await asyncio.sleep(seconds)
        await asyncio.to_thread(record, tag)

    @app.task(name="fail_until", max_attempts=5, retry_backoff=("constant", 0.2))
    def fail_until(succeed_on: int) -> None:
        job = current_job()
        record(f"attempt {job.attempt}")
        if job.attempt < succeed_on:
            raise RuntimeError(f"failing attempt {job.attempt}")

    @app.task(name="always_fail", max_attempts=3, retry_backoff=("constant", 0.2))
    def always_fail() -> None:
        record(f"attempt {current_job().attempt}")
        raise ValueError("always fails")

    @app.task(name="sleep")
    def sleep(seconds: float) -> None:
        time.sleep(seconds)

    @app.task(name="noop")
    def noop() -> None:
        pass

    @app.task(name="anoop")
    async def anoop() -> None:
        pass

    @app.task(name="record_shutdown")
    def record_shutdown(seconds: float) -> None:
        """Sleep, then record whether the worker was shutting down meanwhile."""
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            time.sleep(0.02)
        record(f"shutting_down={current_job().shutting_down}")

    add_batch_tasks(app, record)
    _add_concurrency_tasks(app)
    return app


def _add_concurrency_tasks(app: App) -> None:
    """Tasks with concurrency limits (tests/integration/test_concurrency.py)."""
    insert = "insert into completions (job_id, attempt, tag) values (%s, %s, %s)"

    @app.task(
        name="limited_pair",
        concurrency={"perform_limit": 2, "key": lambda args, kwargs: f"key-{args[0]}"},
    )
    def limited_pair(key: int, seconds: float) -> None:
        """Sleep; record the job's concurrency key and its wall-clock start and end."""
        job = current_job()
        started = time.time()
        time.sleep(seconds)
        with app.connection() as conn:
            conn.execute(
                insert, (job.id, job.attempt, f"{job.concurrency_key} {started!r} {time.time()!r}")
            )


app = make_app()
