"""The worker end to end, in process: enqueue -> fetch -> run -> report, on a real database."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import psycopg
import pytest

from goodjob_pg import App, db
from goodjob_pg.worker import Worker, WorkerConfig
from tests.tasks_fixture import create_side_table, make_app
from tests.worker_process import wait_for

Conn = psycopg.Connection[Any]


@pytest.fixture
def app(db_url: str, db_conn: Conn) -> Iterator[App]:
    create_side_table(db_conn)
    app = make_app(db_url)
    yield app
    app.close()


@pytest.fixture
def start_worker(app: App) -> Iterator[Callable[..., Worker]]:
    workers: list[Worker] = []

    def start(**config: Any) -> Worker:
        worker = Worker(app, WorkerConfig(**config))
        worker.start()
        workers.append(worker)
        return worker

    yield start
    for worker in workers:
        worker.stop(timeout=5)


def completions(conn: Conn) -> list[tuple[Any, ...]]:
    return conn.execute("select job_id, attempt, tag from completions order by at").fetchall()


def job_state(conn: Conn, job_id: Any) -> tuple[str, int]:
    row = conn.execute(
        "select state, attempts from goodjob_jobs where id = %s", (job_id,)
    ).fetchone()
    assert row is not None
    return row[0], row[1]


def test_sync_and_async_tasks_run(
    app: App, start_worker: Callable[..., Worker], db_conn: Conn
) -> None:
    start_worker(poll_interval=30)
    sync_id = app.enqueue("record", tag="sync")
    async_id = app.enqueue("arecord", tag="async")
    wait_for(lambda: job_state(db_conn, sync_id)[0] == "succeeded", 5)
    wait_for(lambda: job_state(db_conn, async_id)[0] == "succeeded", 5)
    assert sorted((r[0], r[1], r[2]) for r in completions(db_conn)) == sorted(
        [(sync_id, 1, "sync"), (async_id, 1, "async")]
    )


def test_jobs_enqueued_from_sql_run(start_worker: Callable[..., Worker], db_conn: Conn) -> None:
    start_worker(poll_interval=30)
    ids = [
        db_conn.execute(
            "select goodjob_enqueue('record', kwargs => %s::jsonb)", (f'{{"tag": "sql{i}"}}',)
        ).fetchone()[0]  # type: ignore[index]
        for i in range(3)
    ]
    db_conn.execute(
        """select goodjob_enqueue_many('[{"task": "arecord", "kwargs": {"tag": "many"}}]')"""
    )
    wait_for(lambda: all(job_state(db_conn, i) == ("succeeded", 1) for i in ids), 5)
    wait_for(lambda: len(completions(db_conn)) == 4, 5)


def test_retry_with_backoff_then_succeed(
    app: App, start_worker: Callable[..., Worker], db_conn: Conn
) -> None:
    start_worker(poll_interval=30)  # retries are woken by the cache, not by polling
    job_id = app.enqueue("fail_until", 3)
    wait_for(lambda: job_state(db_conn, job_id)[0] == "succeeded", 5)
    rows = completions(db_conn)
    assert [r[1] for r in rows] == [1, 2, 3]
    gaps = db_conn.execute(
        "select extract(epoch from started_at - lag(finished_at) over (order by attempt))"
        " from goodjob_executions where job_id = %s order by attempt",
        (job_id,),
    ).fetchall()
    # Constant backoff of 0.2 s between attempts: not sooner, and not a poll interval later.
    assert all(0.19 <= g[0] < 1.5 for g in gaps[1:]), gaps
    outcomes = db_conn.execute(
        "select outcome from goodjob_executions where job_id = %s order by attempt", (job_id,)
    ).fetchall()
    assert [o[0] for o in outcomes] == ["failed", "failed", "succeeded"]


def test_discard_after_max_attempts(
    app: App, start_worker: Callable[..., Worker], db_conn: Conn
) -> None:
    start_worker(poll_interval=30)
    job_id = app.enqueue("always_fail")
    wait_for(lambda: job_state(db_conn, job_id)[0] == "discarded", 5)
    assert job_state(db_conn, job_id) == ("discarded", 3)
    assert [r[1] for r in completions(db_conn)] == [1, 2, 3]
    time.sleep(0.5)
    assert len(completions(db_conn)) == 3  # no fourth attempt


def test_pool_isolation(app: App, start_worker: Callable[..., Worker], db_conn: Conn) -> None:
    start_worker(queues="elephants:2;mice:1", poll_interval=30)
    for _ in range(4):
        app.options("sleep_then_record", queue="elephants").enqueue(1.5, tag="elephant")
    wait_for(
        lambda: db_conn.execute(
            "select count(*) = 2 from goodjob_jobs where queue = 'elephants' and state = 'running'"
        ).fetchone()[0],  # type: ignore[index]
        3,
    )
    started = time.monotonic()
    for _ in range(3):
        app.options("record", queue="mice").enqueue(tag="mouse")
    wait_for(lambda: sum(r[2] == "mouse" for r in completions(db_conn)) == 3, 3)
    assert time.monotonic() - started < 1.0
    # The elephants pool stayed saturated and never took more than its two threads.
    assert [r[2] for r in completions(db_conn)] == ["mouse"] * 3


def test_scheduled_job_starts_on_time_via_cache(
    app: App, start_worker: Callable[..., Worker], db_conn: Conn
) -> None:
    start_worker(poll_interval=-1)  # no polling at all: only the cache can wake the pool
    run_at = datetime.now(UTC) + timedelta(seconds=1)
    job_id = app.options("record", run_at=run_at).enqueue(tag="scheduled")
    wait_for(lambda: job_state(db_conn, job_id)[0] == "succeeded", 4)
    (started,) = db_conn.execute(
        "select started_at from goodjob_executions where job_id = %s", (job_id,)
    ).fetchone()  # type: ignore[misc]
    assert run_at <= started < run_at + timedelta(seconds=0.3)


def test_scheduled_jobs_loaded_at_start(
    app: App, start_worker: Callable[..., Worker], db_conn: Conn
) -> None:
    run_at = datetime.now(UTC) + timedelta(seconds=1)
    job_id = app.options("record", run_at=run_at).enqueue(tag="preloaded")
    start_worker(poll_interval=-1, listen_notify=False)  # only goodjob_upcoming_run_times
    wait_for(lambda: job_state(db_conn, job_id)[0] == "succeeded", 4)
    (started,) = db_conn.execute(
        "select started_at from goodjob_executions where job_id = %s", (job_id,)
    ).fetchone()  # type: ignore[misc]
    assert run_at <= started < run_at + timedelta(seconds=0.3)


def test_polling_only(app: App, start_worker: Callable[..., Worker], db_conn: Conn) -> None:
    start_worker(listen_notify=False, poll_interval=0.3)
    job_id = app.enqueue("record", tag="polled")
    wait_for(lambda: job_state(db_conn, job_id)[0] == "succeeded", 3)


def test_one_lease_lock_per_worker(start_worker: Callable[..., Worker], db_conn: Conn) -> None:
    worker = start_worker(queues="a:1;b:1;*:2")
    locks = db_conn.execute(
        "select l.pid, a.application_name from pg_locks l join pg_stat_activity a using (pid)"
        " where l.locktype = 'advisory' and l.classid = 1735028839 and l.granted"
        " and l.database = (select oid from pg_database where datname = current_database())"
    ).fetchall()
    assert len(locks) == 1
    assert locks[0][1] == "goodjob-pg lease"
    (count,) = db_conn.execute(
        "select count(*) from goodjob_processes where id = %s", (worker.process_id,)
    ).fetchone()  # type: ignore[misc]
    assert count == 1


def test_stop_waits_for_running_job_and_sets_shutting_down(
    app: App, start_worker: Callable[..., Worker], db_conn: Conn
) -> None:
    worker = start_worker()
    job_id = app.enqueue("record_shutdown", 0.5)
    wait_for(lambda: job_state(db_conn, job_id)[0] == "running", 3)
    worker.stop()
    assert job_state(db_conn, job_id) == ("succeeded", 1)
    assert [r[2] for r in completions(db_conn)] == ["shutting_down=True"]
    (processes,) = db_conn.execute("select count(*) from goodjob_processes").fetchone()  # type: ignore[misc]
    assert processes == 0


def test_stop_timeout_interrupts_running_job(
    app: App, start_worker: Callable[..., Worker], db_conn: Conn
) -> None:
    worker = start_worker()
    job_id = app.enqueue("sleep", 3.0)  # left running in its thread; touches nothing after
    async_id = app.enqueue("asleep_then_record", 3.0)  # cancelled with the event loop
    wait_for(lambda: job_state(db_conn, async_id)[0] == "running", 3)
    started = time.monotonic()
    worker.stop(timeout=0.2)
    assert time.monotonic() - started < 2.5
    # Deregistering made both ready again, the interrupted attempt counted.
    assert job_state(db_conn, job_id) == ("queued", 1)
    assert job_state(db_conn, async_id) == ("queued", 1)
    outcomes = db_conn.execute("select outcome from goodjob_executions").fetchall()
    assert [o[0] for o in outcomes] == ["interrupted", "interrupted"]


def test_idle_timeout_returns_zero(app: App) -> None:
    worker = Worker(app, WorkerConfig(idle_timeout=0.5, poll_interval=30))
    started = time.monotonic()
    assert worker.run() == 0
    assert time.monotonic() - started < 3


def test_idle_timeout_waits_for_jobs(app: App, db_conn: Conn) -> None:
    for _ in range(3):
        app.enqueue("sleep_then_record", 0.4)
    worker = Worker(app, WorkerConfig(idle_timeout=0.3, max_threads=1, poll_interval=30))
    assert worker.run() == 0
    assert len(completions(db_conn)) == 3


def test_report_and_fetch_cut_midway_loses_nothing(
    app: App,
    start_worker: Callable[..., Worker],
    db_conn: Conn,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A result goes out with the next fetch, in one transaction. Cut the connection
    inside it: both roll back, the pool retries the report after its backoff, and
    every job runs exactly once (no claim lost, no result lost)."""
    real = db.report_and_fetch
    cuts: list[int] = []

    def cut_once(conn: Any, process_id: Any, results: Any, *args: Any) -> Any:
        if results and not cuts:
            cuts.append(len(results))
            with psycopg.connect(app.database_url, autocommit=True) as killer:
                killer.execute("select pg_terminate_backend(%s)", (conn.info.backend_pid,))
        return real(conn, process_id, results, *args)

    monkeypatch.setattr(db, "report_and_fetch", cut_once)
    start_worker(queues="*:1", poll_interval=30)
    ids = [app.enqueue("sleep_then_record", 0.05, tag=str(i)) for i in range(4)]
    wait_for(lambda: all(job_state(db_conn, i) == ("succeeded", 1) for i in ids), 10)
    assert cuts == [1]
    executions = db_conn.execute("select attempt, outcome from goodjob_executions").fetchall()
    assert sorted(executions) == [(1, "succeeded")] * 4
    assert sorted(r[2] for r in completions(db_conn)) == ["0", "1", "2", "3"]
