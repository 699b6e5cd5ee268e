"""Automatic cleanup of preserved jobs: thresholds in jobs and seconds, age, discarded jobs."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import psycopg
import pytest

from goodjob_pg import App
from goodjob_pg.cleanup import Cleaner
from goodjob_pg.worker import Worker, WorkerConfig
from tests.tasks_fixture import make_app
from tests.worker_process import wait_for

Conn = psycopg.Connection[Any]


@pytest.fixture
def app(db_url: str) -> Iterator[App]:
    app = make_app(db_url)
    yield app
    app.close()


def finished(conn: Conn, state: str, age: str) -> str:
    """A job that finished ``age`` ago in ``state``; returns its id."""
    new = conn.execute("select goodjob_enqueue(task => 't')::text").fetchone()
    assert new is not None
    conn.execute(
        "update goodjob_jobs set state = %s, finished_at = now() - %s::interval where id = %s",
        (state, age, new[0]),
    )
    return str(new[0])


def remaining(conn: Conn) -> set[str]:
    return {row[0] for row in conn.execute("select id::text from goodjob_jobs")}


def test_cleans_after_the_given_number_of_jobs(app: App, db_conn: Conn) -> None:
    old = finished(db_conn, "succeeded", "2 hours")
    recent = finished(db_conn, "succeeded", "1 minute")
    cleaner = Cleaner(
        app, older_than=3600, interval_jobs=3, interval_seconds=None, include_discarded=True
    )
    cleaner.start()
    try:
        cleaner.jobs_finished(2)
        assert cleaner.runs == 0  # below the threshold nothing wakes the thread
        cleaner.jobs_finished()
        wait_for(lambda: cleaner.runs == 1, 10)
    finally:
        cleaner.stop()
    assert remaining(db_conn) == {recent}, old


def test_cleans_every_interval_and_keeps_discarded_when_asked(app: App, db_conn: Conn) -> None:
    succeeded = finished(db_conn, "succeeded", "1 day")
    discarded = finished(db_conn, "discarded", "1 day")
    waiting = db_conn.execute("select goodjob_enqueue(task => 't')::text").fetchone()
    cleaner = Cleaner(
        app, older_than=60, interval_jobs=None, interval_seconds=0.2, include_discarded=False
    )
    cleaner.start()
    try:
        wait_for(lambda: cleaner.runs >= 2, 10)
    finally:
        cleaner.stop()
    assert waiting is not None
    assert remaining(db_conn) == {discarded, waiting[0]}, succeeded


def test_disabled_cleaner_starts_no_thread(app: App) -> None:
    cleaner = WorkerConfig(cleanup_interval_jobs=None, cleanup_interval_seconds=None).cleaner(app)
    assert not cleaner.enabled
    cleaner.start()
    cleaner.jobs_finished(10_000)
    cleaner.stop()
    assert cleaner.runs == 0


@pytest.mark.parametrize(
    ("config", "message"),
    [
        ({"cleanup_interval_jobs": 0}, "cleanup_interval_jobs must be >= 1, -1 or None"),
        ({"cleanup_interval_jobs": -2}, "cleanup_interval_jobs must be >= 1, -1 or None"),
        ({"cleanup_interval_seconds": 0}, "cleanup_interval_seconds must be > 0, -1 or None"),
        ({"cleanup_preserved_jobs_before_seconds_ago": -1}, "must be >= 0"),
        ({"cron_grace_period": -1}, "cron_grace_period must be >= 0"),
    ],
)
def test_config_checks(config: dict[str, Any], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        WorkerConfig(**config)


def test_worker_cleans_after_every_job(app: App, db_conn: Conn) -> None:
    kept = finished(db_conn, "discarded", "1 hour")
    worker = Worker(
        app,
        WorkerConfig(
            poll_interval=30,
            cleanup_interval_jobs=-1,
            cleanup_interval_seconds=None,
            cleanup_preserved_jobs_before_seconds_ago=0,
            cleanup_discarded_jobs=False,
        ),
    )
    worker.start()
    try:
        for _ in range(3):
            app.enqueue("noop")
        # Each finished job triggers a cleanup of everything that finished before it.
        wait_for(lambda: remaining(db_conn) == {kept} and worker.cleaner.runs >= 1, 15)
    finally:
        worker.stop(timeout=5)
