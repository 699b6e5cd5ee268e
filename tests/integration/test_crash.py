"""Real ``goodjob-pg run`` processes: graceful shutdown on signals, recovery after SIGKILL."""

from __future__ import annotations

import signal
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import psycopg
import pytest

from goodjob_pg import App
from tests.tasks_fixture import create_side_table, make_app
from tests.worker_process import spawn_cli, stop_process, wait_for

Conn = psycopg.Connection[Any]
Spawn = Callable[..., Any]

pytestmark = pytest.mark.slow


@pytest.fixture
def app(db_url: str, db_conn: Conn) -> Iterator[App]:
    create_side_table(db_conn)
    app = make_app(db_url)
    yield app
    app.close()


@pytest.fixture
def spawn(db_url: str, tmp_path: Path) -> Iterator[Spawn]:
    procs = []
    log = tmp_path / "worker.log"

    def start(**config: Any) -> Any:
        # A real ``goodjob-pg run`` (python -m goodjob_pg.cli run --app tests.tasks_fixture:app).
        args = [f"--{key.replace('_', '-')}={value}" for key, value in config.items()]
        proc = spawn_cli(db_url, log, *args)
        procs.append(proc)
        return proc

    yield start
    for proc in procs:
        stop_process(proc)
    if log.exists():
        print(log.read_text())  # shown by pytest when the test fails


def count(conn: Conn, query: str, *params: Any) -> int:
    row = conn.execute(query, params).fetchone()
    assert row is not None
    return int(row[0])


def worker_registered(conn: Conn) -> bool:
    return count(conn, "select count(*) from goodjob_processes") > 0


def test_sigterm_lets_running_job_finish(app: App, spawn: Spawn, db_conn: Conn) -> None:
    proc = spawn(poll_interval=30)
    job_id = app.enqueue("record_shutdown", 1.0)
    wait_for(
        lambda: count(db_conn, "select count(*) from goodjob_jobs where state = 'running'"), 10
    )
    proc.send_signal(signal.SIGTERM)
    assert proc.wait(10) == 0
    state = db_conn.execute("select state, attempts from goodjob_jobs where id = %s", (job_id,))
    assert state.fetchone() == ("succeeded", 1)
    tags = db_conn.execute("select tag from completions").fetchall()
    assert tags == [("shutting_down=True",)]
    assert count(db_conn, "select count(*) from goodjob_processes") == 0


def test_sigint_twice_exits_at_once(app: App, spawn: Spawn, db_conn: Conn) -> None:
    proc = spawn(poll_interval=30)
    app.enqueue("sleep_then_record", 30.0)
    wait_for(
        lambda: count(db_conn, "select count(*) from goodjob_jobs where state = 'running'"), 10
    )
    proc.send_signal(signal.SIGINT)
    time.sleep(0.3)
    assert proc.poll() is None  # first SIGINT: waiting for the job
    proc.send_signal(signal.SIGINT)
    assert proc.wait(3) != 0


def test_sigkill_mid_job_reruns_only_unfinished_jobs(app: App, spawn: Spawn, db_conn: Conn) -> None:
    first = spawn(queues="slow:3;fast:2", poll_interval=30)
    wait_for(lambda: worker_registered(db_conn), 10)
    fast = [app.options("record", queue="fast").enqueue(tag="fast") for _ in range(5)]
    slow = [
        app.options("sleep_then_record", queue="slow").enqueue(30.0, tag="slow") for _ in range(3)
    ]
    wait_for(
        lambda: (
            count(
                db_conn,
                "select count(*) from goodjob_jobs where queue = 'fast' and state = 'succeeded'",
            )
            == 5
            and count(
                db_conn,
                "select count(*) from goodjob_jobs where queue = 'slow' and state = 'running'",
            )
            == 3
        ),
        10,
    )
    first.send_signal(signal.SIGKILL)
    first.wait(5)

    # The slow jobs now run 0.1 s each, so the second worker finishes them quickly.
    db_conn.execute("update goodjob_jobs set args = '[0.1]'::jsonb where queue = 'slow'")
    killed_at = time.monotonic()
    second = spawn(queues="slow:3;fast:2", poll_interval=30)
    wait_for(
        lambda: count(db_conn, "select count(*) from goodjob_jobs where state = 'succeeded'") == 8,
        10,
    )
    assert time.monotonic() - killed_at < 5
    runs = dict(
        db_conn.execute(
            "select job_id, array_agg(attempt order by attempt) from completions group by job_id"
        ).fetchall()
    )
    assert {job: runs[job] for job in fast} == {job: [1] for job in fast}  # never rerun
    assert {job: runs[job] for job in slow} == {job: [2] for job in slow}  # rerun once
    outcomes = db_conn.execute(
        "select outcome, count(*) from goodjob_executions where job_id = any(%s)"
        " group by outcome order by outcome",
        (slow,),
    ).fetchall()
    assert outcomes == [("interrupted", 3), ("succeeded", 3)]
    second.send_signal(signal.SIGTERM)
    assert second.wait(10) == 0


def test_idle_timeout_exits_zero(app: App, spawn: Spawn, db_conn: Conn) -> None:
    for _ in range(3):
        app.enqueue("record")
    started = time.monotonic()
    proc = spawn(idle_timeout=0.5, poll_interval=30)
    assert proc.wait(10) == 0
    assert time.monotonic() - started < 5
    assert count(db_conn, "select count(*) from completions") == 3
