"""Running in production: probes, metrics, hooks, processes, timeouts, interrupts (in process)."""

from __future__ import annotations

import asyncio
import json
import re
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import psycopg
import pytest
from click.testing import CliRunner

from goodjob_pg import App, current_job, db
from goodjob_pg.cli import main
from goodjob_pg.errors import InterruptError
from goodjob_pg.hooks import HookEvent
from goodjob_pg.worker import Worker, WorkerConfig
from tests.integration import test_worker
from tests.proxy import TCPProxy
from tests.tasks_fixture import make_app
from tests.worker_process import wait_for

Conn = psycopg.Connection[Any]

app = test_worker.app  # the fixtures: an App with the test tasks, workers stopped after
start_worker = test_worker.start_worker


def get(worker: Worker, path: str) -> tuple[int, str]:
    assert worker.probe is not None
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{worker.probe.port}{path}", timeout=5) as r:
            return r.status, r.read().decode()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read().decode()


def state(conn: Conn, job_id: Any) -> tuple[str, int]:
    row = conn.execute(
        "select state, attempts from goodjob_jobs where id = %s", (job_id,)
    ).fetchone()
    assert row is not None
    return row[0], row[1]


def finished(conn: Conn, *ids: Any) -> bool:
    return all(state(conn, i)[0] in ("succeeded", "discarded") for i in ids)


# -- probes ------------------------------------------------------------------------------------


def test_probes_answer_from_worker_state(start_worker: Callable[..., Worker]) -> None:
    worker = start_worker(probe_port=0, poll_interval=30)
    assert get(worker, "/") == (200, "OK\n")
    assert get(worker, "/status") == (200, "OK\n")
    assert get(worker, "/status/started") == (200, "started\n")
    assert get(worker, "/status/connected") == (200, "connected\n")
    assert get(worker, "/nope")[0] == 404
    port = worker.probe.port if worker.probe else 0
    worker.stop(timeout=5)
    with pytest.raises(OSError):
        urllib.request.urlopen(f"http://127.0.0.1:{port}/status", timeout=2)


def test_no_probe_port_serves_and_counts_nothing(start_worker: Callable[..., Worker]) -> None:
    worker = start_worker(poll_interval=30)
    assert worker.probe is None and worker.metrics is None


@pytest.fixture
def proxied_url(db_url: str) -> Iterator[tuple[str, TCPProxy]]:
    parts = urlsplit(db_url)
    with TCPProxy(parts.hostname or "127.0.0.1", parts.port or 5432) as proxy:
        netloc = f"{parts.username}@127.0.0.1:{proxy.port}" if parts.username else ""
        yield urlunsplit(parts._replace(netloc=netloc or f"127.0.0.1:{proxy.port}")), proxy


def test_connected_probe_fails_while_database_unreachable(
    proxied_url: tuple[str, TCPProxy], db_url: str
) -> None:
    url, proxy = proxied_url
    app = make_app(url, record_url=db_url)
    worker = Worker(app, WorkerConfig(probe_port=0, poll_interval=30))
    worker.start()
    try:
        assert get(worker, "/status/connected")[0] == 200
        proxy.refuse()
        proxy.cut()
        wait_for(lambda: get(worker, "/status/connected") == (503, "not connected\n"), 10)
        assert get(worker, "/status")[0] == 200  # the process is still up
        proxy.accept()
        wait_for(lambda: get(worker, "/status/connected")[0] == 200, 20, interval=0.1)
    finally:
        worker.stop(timeout=2)
        app.close()


def test_worker_started_while_database_down_waits_for_it(
    proxied_url: tuple[str, TCPProxy], db_url: str, db_conn: Conn
) -> None:
    """A worker starting during a restart waits for the server (not exit at once)."""
    url, proxy = proxied_url
    app = make_app(url, record_url=db_url)
    with make_app(db_url) as direct:
        job = direct.enqueue("noop")
    proxy.refuse()
    worker = Worker(app, WorkerConfig(poll_interval=1))
    starting = threading.Thread(target=worker.start)
    starting.start()
    try:
        time.sleep(1.5)
        assert starting.is_alive() and worker.process_id is None  # still waiting
        proxy.accept()
        starting.join(30)
        assert not starting.is_alive() and worker.process_id is not None
        wait_for(lambda: finished(db_conn, job), 15)
    finally:
        proxy.accept()
        starting.join(30)
        worker.stop(timeout=2)
        app.close()


def test_worker_start_fails_at_once_on_an_unknown_database(db_url: str) -> None:
    app = make_app(urlunsplit(urlsplit(db_url)._replace(path="/goodjob_no_such_database")))
    try:
        began = time.monotonic()
        with pytest.raises(psycopg.OperationalError, match="goodjob_no_such_database"):
            Worker(app, WorkerConfig(poll_interval=1)).start()
        assert time.monotonic() - began < 10  # no wait for a mistake
    finally:
        app.close()


# -- metrics -----------------------------------------------------------------------------------


def scrape(worker: Worker) -> dict[str, float]:
    code, body = get(worker, "/metrics")
    assert code == 200
    values = {}
    for line in body.splitlines():
        if line and not line.startswith("#"):
            name, value = line.rsplit(" ", 1)
            values[name] = float(value)
    return values


def test_metrics_after_a_known_set_of_jobs(
    app: App, start_worker: Callable[..., Worker], db_conn: Conn
) -> None:
    @app.task(name="boom", max_attempts=1)
    def boom() -> None:
        raise ValueError("boom")

    db.pause(db_conn, queue="parked")
    parked = [app.options("noop", queue="parked").enqueue() for _ in range(2)]
    worker = start_worker(probe_port=0, poll_interval=30, queues="default:3")
    ids = [app.enqueue("noop") for _ in range(3)]
    ids.append(app.enqueue("fail_until", 2))  # fails once, retried, then succeeds
    ids.append(app.enqueue("boom"))  # fails on its only attempt: discarded
    wait_for(lambda: finished(db_conn, *ids), 15)

    def counters() -> dict[str, float]:
        values = scrape(worker)
        return values if values.get('goodjob_queue_ready_jobs{queue="parked"}') == 2 else {}

    values = wait_for(counters, 15, interval=0.2)  # depth is read in the background
    job = 'queue="default",task="{}"'
    assert values[f"goodjob_jobs_succeeded_total{{{job.format('noop')}}}"] == 3
    assert values[f"goodjob_jobs_succeeded_total{{{job.format('fail_until')}}}"] == 1
    assert values[f"goodjob_jobs_failed_total{{{job.format('fail_until')}}}"] == 1
    assert values[f"goodjob_jobs_retried_total{{{job.format('fail_until')}}}"] == 1
    assert values[f"goodjob_jobs_failed_total{{{job.format('boom')}}}"] == 1
    assert values[f"goodjob_jobs_discarded_total{{{job.format('boom')}}}"] == 1
    assert f"goodjob_jobs_discarded_total{{{job.format('noop')}}}" not in values
    assert values['goodjob_pool_capacity{pool="0"}'] == 3
    assert values['goodjob_jobs_running{pool="0"}'] == 0
    assert values["goodjob_job_pickup_latency_seconds_count"] == 6  # 5 jobs, one twice
    assert values['goodjob_job_pickup_latency_seconds_bucket{le="+Inf"}'] == 6
    assert values['goodjob_queue_oldest_ready_age_seconds{queue="parked"}'] >= 0
    assert len(parked) == 2


def test_oldest_xmin_age_rises_with_a_long_snapshot_and_falls_after(
    start_worker: Callable[..., Worker], db_url: str, db_conn: Conn
) -> None:
    worker = start_worker(probe_port=0, poll_interval=30)
    scrape(worker)  # the first scrape starts the background readings
    assert worker.queue_depth is not None
    worker.queue_depth.interval = 0.1

    def horizon() -> tuple[float, float] | None:
        values = scrape(worker)
        xids = values.get("goodjob_oldest_xmin_age_xids")
        seconds = values.get("goodjob_oldest_xmin_age_seconds")
        return None if xids is None or seconds is None else (xids, seconds)

    wait_for(horizon, 15, interval=0.1)
    with psycopg.connect(db_url) as reader:
        reader.execute("set transaction isolation level repeatable read")
        reader.execute("select count(*) from goodjob_jobs")  # takes the snapshot
        for _ in range(200):  # transaction ids burnt while the snapshot is held
            db_conn.execute("select txid_current()")
        pinned = wait_for(lambda: (h := horizon()) is not None and h[0] >= 200 and h, 15, 0.1)
        time.sleep(0.2)
        later = wait_for(lambda: (h := horizon()) is not None and h[1] > pinned[1] and h, 15, 0.1)
        assert later[0] >= pinned[0]
        reader.rollback()
    # Xids are counted cluster-wide, so the age after is judged against the pinned one.
    wait_for(lambda: (h := horizon()) is not None and h[0] < pinned[0] and h[1] < later[1], 15, 0.1)


# -- hooks -------------------------------------------------------------------------------------


def test_hooks_see_the_lifecycle_and_a_failing_hook_breaks_nothing(
    app: App, start_worker: Callable[..., Worker], db_conn: Conn
) -> None:
    events: list[tuple[str, str | None]] = []

    def remember(event: HookEvent) -> None:
        events.append((event.name, event.job.task if event.job else None))

    for name in ("job_started", "job_succeeded", "job_failed", "job_discarded"):
        app.on(name, remember)

    @app.on("job_started")
    def broken(event: HookEvent) -> None:
        raise RuntimeError("a broken hook")

    app.on("worker_started", remember)
    app.on("worker_stopped", remember)
    with pytest.raises(ValueError, match="unknown hook event"):
        app.on("job_exploded", remember)

    @app.task(name="aboom", max_attempts=1)
    async def aboom() -> None:
        raise ValueError("boom")

    worker = start_worker(poll_interval=30)
    ok, bad = app.enqueue("noop"), app.enqueue("aboom")
    wait_for(lambda: finished(db_conn, ok, bad), 10)
    assert state(db_conn, ok) == ("succeeded", 1)
    worker.stop(timeout=5)
    assert events[0] == ("worker_started", None)
    assert events[-1] == ("worker_stopped", None)
    jobs = sorted(events[1:-1])
    assert jobs == sorted(
        [
            ("job_started", "noop"),
            ("job_succeeded", "noop"),
            ("job_started", "aboom"),
            ("job_failed", "aboom"),
            ("job_discarded", "aboom"),
        ]
    )


# -- processes ---------------------------------------------------------------------------------


def test_processes_lists_live_workers_and_rescue_removes_stale_rows(
    db_url: str, db_connect: Callable[..., Conn], start_worker: Callable[..., Worker]
) -> None:
    worker = start_worker(poll_interval=30, queues="mail:2;*:3")
    ghost = db_connect()
    ghost_id = db.register_process(ghost, "ghost-host", 99999, "*", {"pools": [["*", 1]]})
    ghost.close()  # its lease is free: a dead process

    runner = CliRunner()
    result = runner.invoke(main, ["processes", "--json", "--database-url", db_url])
    assert result.exit_code == 0, result.output
    rows = {row["id"]: row for row in json.loads(result.output)}
    mine = rows[str(worker.process_id)]
    assert mine["threads"] == 5 and mine["queues"] == "mail:2;*:3" and mine["alive"] is True
    assert mine["running_jobs"] == 0 and mine["heartbeat_age"] >= 0
    assert rows[str(ghost_id)]["alive"] is False

    with psycopg.connect(db_url, autocommit=True) as conn:
        db.rescue_dead_processes(conn)
    table = runner.invoke(main, ["processes", "--database-url", db_url])
    assert table.exit_code == 0, table.output
    assert "ghost-host" not in table.output
    assert re.search(rf"\s{worker.listener._registration['pid']}\s", table.output)
    assert table.output.splitlines()[0].split() == [
        "host",
        "pid",
        "queues",
        "threads",
        "running_jobs",
        "heartbeat_age",
        "alive",
    ]


# -- timeouts ----------------------------------------------------------------------------------


def test_sync_task_past_its_timeout_is_failed_retried_and_its_slot_given_back(
    app: App, start_worker: Callable[..., Worker], db_conn: Conn
) -> None:
    late: list[int] = []

    @app.task(name="stuck", timeout=0.3, max_attempts=3, retry_backoff=("constant", 0.1))
    def stuck() -> str:
        attempt = current_job().attempt
        if attempt == 1:
            time.sleep(2.0)  # past the deadline: abandoned, its return is ignored
            late.append(attempt)
        return "done"

    start_worker(poll_interval=30, queues="*:1")  # one slot: the retry needs it back
    job_id = app.enqueue("stuck")
    wait_for(lambda: state(db_conn, job_id) == ("succeeded", 2), 15)
    assert not late  # attempt 2 finished while attempt 1's thread still slept
    rows = db_conn.execute(
        "select attempt, outcome, error_class from goodjob_executions where job_id = %s"
        " order by attempt",
        (job_id,),
    ).fetchall()
    assert rows == [
        (1, "failed", "goodjob_pg.errors.JobTimeout"),
        (2, "succeeded", None),
    ]
    wait_for(lambda: late == [1], 10)  # the stuck thread returned at last: ignored
    assert state(db_conn, job_id) == ("succeeded", 2)


def test_async_task_is_cancelled_at_its_timeout(
    app: App, start_worker: Callable[..., Worker], db_conn: Conn
) -> None:
    cancelled: list[bool] = []

    @app.task(name="astuck", timeout=0.2, max_attempts=1)
    async def astuck() -> None:
        try:
            await asyncio.sleep(30)
        except asyncio.CancelledError:
            cancelled.append(True)
            raise

    start_worker(poll_interval=30)
    job_id = app.enqueue("astuck")
    wait_for(lambda: state(db_conn, job_id)[0] == "discarded", 10)
    error = db_conn.execute(
        "select last_error from goodjob_jobs where id = %s", (job_id,)
    ).fetchone()
    assert error is not None and error[0].startswith("goodjob_pg.errors.JobTimeout: ")
    assert cancelled == [True]


def test_timeout_must_be_positive(app: App) -> None:
    with pytest.raises(ValueError, match="timeout must be a positive number"):
        app.task(name="bad_timeout", timeout=0)(lambda: None)
    with pytest.raises(ValueError, match="interrupts must be"):
        app.task(name="bad_interrupts", interrupts="explode")(lambda: None)


# -- interrupts --------------------------------------------------------------------------------


def interrupt(conn_factory: Callable[..., Conn], *ids: Any) -> None:
    """Claim the jobs under a process that then dies (its session ends)."""
    doomed = conn_factory()
    pid = db.register_process(doomed, "doomed", 1, "*")
    claimed = db.fetch_and_lock(doomed, pid, "*", len(ids))
    assert {j.id for j in claimed} == set(ids)
    doomed.close()


def test_an_interrupted_job_knows_it_and_raise_lets_the_policy_decide(
    app: App, start_worker: Callable[..., Worker], db_conn: Conn, db_connect: Callable[..., Conn]
) -> None:
    seen: dict[int, bool] = {}

    @app.task(name="notes_interrupt")
    def notes_interrupt() -> None:
        job = current_job()
        seen[job.attempt] = job.interrupted

    @app.task(name="strict", interrupts="raise", discard_on=(InterruptError,))
    def strict() -> None:
        raise AssertionError("never runs after an interrupt")

    plain, strict_id = app.enqueue("notes_interrupt"), app.enqueue("strict")
    interrupt(db_connect, plain, strict_id)
    start_worker(poll_interval=30)  # rescues at start-up
    wait_for(lambda: finished(db_conn, plain, strict_id), 10)
    assert seen == {2: True}
    assert state(db_conn, plain) == ("succeeded", 2)
    assert state(db_conn, strict_id) == ("discarded", 2)
    error = db_conn.execute(
        "select error_class from goodjob_executions where job_id = %s and attempt = 2",
        (strict_id,),
    ).fetchone()
    assert error == ("goodjob_pg.errors.InterruptError",)
    # A fresh job is not interrupted.
    fresh = app.enqueue("notes_interrupt")
    wait_for(lambda: finished(db_conn, fresh), 10)
    assert seen[1] is False
