"""App in "async" execution mode: a worker runs inside this process, in background threads."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from typing import Any

import psycopg
import pytest

from goodjob_pg import App, current_job
from goodjob_pg.worker import WorkerConfig

Conn = psycopg.Connection[Any]


@pytest.fixture
def app(db_url: str) -> Iterator[App]:
    app = App(db_url, execution_mode="async")
    try:
        yield app
    finally:
        app.close()


def test_first_enqueue_starts_the_worker(app: App, db_conn: Conn) -> None:
    done = threading.Event()
    seen: list[Any] = []

    @app.task
    def f(x: int) -> None:
        seen.append(
            (x, current_job().attempt, threading.current_thread() is threading.main_thread())
        )
        done.set()

    f.enqueue(7)
    assert done.wait(10), "the in-process worker did not run the job"
    assert seen == [(7, 1, False)]
    app.stop(timeout=5)
    row = db_conn.execute("select state from goodjob_jobs").fetchone()
    assert row == ("succeeded",)
    assert db_conn.execute("select count(*) from goodjob_processes").fetchone() == (0,)


def test_async_tasks_run_on_the_workers_loop(app: App) -> None:
    done = threading.Event()

    @app.task
    async def f() -> None:
        done.set()

    app.start(WorkerConfig(queues="*", max_threads=1, poll_interval=0.5))
    app.start()  # already running: no-op
    f.enqueue()
    assert done.wait(10)


def test_external_app_can_start_and_stop_explicitly(db_url: str, db_conn: Conn) -> None:
    done = threading.Event()
    with App(db_url) as app:

        @app.task
        def f() -> None:
            done.set()

        f.enqueue()
        assert not done.wait(0.3)  # external mode: nothing runs in this process
        app.start()
        assert done.wait(10)
    # close() stopped the worker and deregistered it.
    assert db_conn.execute("select count(*) from goodjob_processes").fetchone() == (0,)
