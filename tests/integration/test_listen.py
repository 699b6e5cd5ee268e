"""LISTEN/NOTIFY wake-ups, and a worker surviving broken connections (through tests/proxy.py).

Enqueues NOTIFY only while a pool is registered as waiting (goodjob_wait): a
pool registers when a fetch comes back short and leaves when one comes back
full. The tests below run with polling effectively off (poll_interval 30 s or
more), so every quick pickup is a NOTIFY delivered through that protocol.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import psycopg
import pytest

from goodjob_pg import App
from goodjob_pg.worker import Worker, WorkerConfig
from tests.proxy import TCPProxy
from tests.tasks_fixture import create_side_table, make_app
from tests.worker_process import wait_for

Conn = psycopg.Connection[Any]


@pytest.fixture
def proxy(db_url: str) -> Iterator[TCPProxy]:
    parts = urlsplit(db_url)
    with TCPProxy(parts.hostname or "127.0.0.1", parts.port or 5432) as proxy:
        yield proxy


@pytest.fixture
def proxied_url(db_url: str, proxy: TCPProxy) -> str:
    parts = urlsplit(db_url)
    netloc = (
        f"{parts.username}@127.0.0.1:{proxy.port}" if parts.username else f"127.0.0.1:{proxy.port}"
    )
    return urlunsplit(parts._replace(netloc=netloc))


@pytest.fixture
def start_worker(db_url: str, db_conn: Conn) -> Iterator[Callable[..., Worker]]:
    create_side_table(db_conn)
    started: list[tuple[Worker, App]] = []

    def start(url: str, setup: Callable[[Worker], None] | None = None, **config: Any) -> Worker:
        app = make_app(url, record_url=db_url)  # tasks write around the proxy
        worker = Worker(app, WorkerConfig(**config))
        if setup is not None:
            setup(worker)
        worker.start()
        started.append((worker, app))
        return worker

    yield start
    for worker, app in started:
        worker.stop(timeout=2)
        app.close()


def enqueue(conn: Conn, tag: str, task: str = "record") -> Any:
    row = conn.execute(
        "select goodjob_enqueue(%s, kwargs => jsonb_build_object('tag', %s::text))", (task, tag)
    ).fetchone()
    assert row is not None
    return row[0]


def done(conn: Conn, job_id: Any) -> bool:
    row = conn.execute("select state from goodjob_jobs where id = %s", (job_id,)).fetchone()
    return row is not None and row[0] == "succeeded"


def waiting(conn: Conn) -> list[tuple[Any, int]]:
    """The goodjob_waiting_pools rows, (process_id, pool), sorted."""
    return conn.execute(
        "select process_id, pool from goodjob_waiting_pools order by process_id, pool"
    ).fetchall()


def picked_up_within(conn: Conn, seconds: float, tag: str) -> float:
    """Enqueue one job and return how long it took to finish; fail past ``seconds``."""
    started = time.monotonic()
    job_id = enqueue(conn, tag)
    wait_for(lambda: done(conn, job_id), seconds, interval=0.002)
    return time.monotonic() - started


def test_notify_wakes_an_idle_worker(
    db_url: str, start_worker: Callable[..., Worker], db_conn: Conn
) -> None:
    start_worker(db_url, queues="mice:1;-mice:1", poll_interval=30)
    latencies = []
    for i in range(10):
        started = time.monotonic()
        job_id = enqueue(db_conn, f"n{i}")
        wait_for(lambda job_id=job_id: done(db_conn, job_id), 2, interval=0.002)
        latencies.append(time.monotonic() - started)
    assert max(latencies) < 0.5, latencies


def test_drained_pools_wait_one_row_each_until_deregistered(
    db_url: str, start_worker: Callable[..., Worker], db_conn: Conn
) -> None:
    worker = start_worker(db_url, queues="mice:1;-mice:2;*:1", poll_interval=3600)
    pid = worker.process_id
    wait_for(lambda: waiting(db_conn) == [(pid, 0), (pid, 1), (pid, 2)], 5)
    for i in range(5):  # short fetches again and again: still one row per pool
        picked_up_within(db_conn, 2, f"j{i}")
    # The pool that ran the job registers again once its next fetch comes back
    # short, a moment after the job's result is written; a duplicate row would
    # never settle back to one row per pool.
    wait_for(lambda: waiting(db_conn) == [(pid, 0), (pid, 1), (pid, 2)], 5)
    worker.stop(timeout=2)
    assert waiting(db_conn) == []


def test_listen_notify_off_never_waits(
    db_url: str, start_worker: Callable[..., Worker], db_conn: Conn
) -> None:
    start_worker(db_url, listen_notify=False, poll_interval=0.2)
    job_id = enqueue(db_conn, "polled")
    wait_for(lambda: done(db_conn, job_id), 3)
    time.sleep(0.3)  # more short fetches
    assert waiting(db_conn) == []


def test_a_backlog_stops_the_wait_and_a_drained_pool_waits_again(
    db_url: str, start_worker: Callable[..., Worker], db_conn: Conn
) -> None:
    worker = start_worker(db_url, queues="*:1", poll_interval=3600)
    pid = worker.process_id
    wait_for(lambda: waiting(db_conn) == [(pid, 0)], 5)
    assert picked_up_within(db_conn, 2, "idle") < 0.5

    # Three slow jobs for one slot: full batches, so the pool stops waiting
    # and enqueues stop notifying while it works through them.
    db_conn.execute(
        "select goodjob_enqueue_many(jsonb_build_array("
        " jsonb_build_object('task', 'sleep_then_record', 'args', jsonb_build_array(0.3)),"
        " jsonb_build_object('task', 'sleep_then_record', 'args', jsonb_build_array(0.3)),"
        " jsonb_build_object('task', 'sleep_then_record', 'args', jsonb_build_array(0.3))))"
    )
    wait_for(lambda: waiting(db_conn) == [], 2, interval=0.005)
    wait_for(
        lambda: db_conn.execute(
            "select count(*) = 0 from goodjob_jobs where state in ('queued', 'running')"
        ).fetchone()[0],  # type: ignore[index]
        5,
    )
    # Drained: it waits again, and NOTIFY wakes it at once.
    wait_for(lambda: waiting(db_conn) == [(pid, 0)], 2)
    latencies = [picked_up_within(db_conn, 2, f"after {i}") for i in range(5)]
    assert max(latencies) < 0.5, latencies


def test_survives_cut_connections(
    proxied_url: str, proxy: TCPProxy, start_worker: Callable[..., Worker], db_conn: Conn
) -> None:
    worker = start_worker(proxied_url, poll_interval=30)
    first_id = worker.process_id
    job = enqueue(db_conn, "before")
    wait_for(lambda: done(db_conn, job), 3)

    assert proxy.cut() >= 2  # the lease/listen connection and the pool's
    missed = enqueue(db_conn, "while down")  # its NOTIFY reaches nobody
    wait_for(lambda: done(db_conn, missed), 5)  # found by the catch-up fetch, not the 30 s poll

    started = time.monotonic()
    after = enqueue(db_conn, "after")
    wait_for(lambda: done(db_conn, after), 3)
    assert time.monotonic() - started < 0.5  # LISTEN is back
    assert worker.process_id == first_id  # same lease re-taken
    rows = db_conn.execute("select id from goodjob_processes").fetchall()
    assert rows == [(first_id,)]


def test_survives_refused_connections(
    proxied_url: str, proxy: TCPProxy, start_worker: Callable[..., Worker], db_conn: Conn
) -> None:
    start_worker(proxied_url, poll_interval=30)
    proxy.refuse()
    proxy.cut()
    job_id = enqueue(db_conn, "during outage")
    time.sleep(1.0)  # several failed reconnects, with backoff
    assert not done(db_conn, job_id)
    proxy.accept()
    wait_for(lambda: done(db_conn, job_id), 5)
    job = enqueue(db_conn, "later")
    wait_for(lambda: done(db_conn, job), 2)


def test_survives_black_holed_connections(
    proxied_url: str, proxy: TCPProxy, start_worker: Callable[..., Worker], db_conn: Conn
) -> None:
    def fast_detection(worker: Worker) -> None:
        worker.watchdog.limit = 1.0
        worker.listener.heartbeat_interval = 0.3
        worker.listener.ping_timeout = 0.5

    worker = start_worker(proxied_url, setup=fast_detection, poll_interval=30)
    first_id = worker.process_id
    job = enqueue(db_conn, "before")
    wait_for(lambda: done(db_conn, job), 3)

    assert proxy.freeze() >= 2  # packets vanish; no side sees the link close
    # The old session still holds the lease, so the worker comes back as a new process.
    wait_for(lambda: worker.process_id not in (None, first_id), 5)
    job_id = enqueue(db_conn, "after freeze")
    wait_for(lambda: done(db_conn, job_id), 5)
    registered = {row[0] for row in db_conn.execute("select id from goodjob_processes")}
    assert worker.process_id in registered
    # The pool waits again under its new process id.
    wait_for(lambda: (worker.process_id, 0) in waiting(db_conn), 5)


def test_junk_notifications_are_ignored(
    db_url: str, start_worker: Callable[..., Worker], db_conn: Conn
) -> None:
    start_worker(db_url, poll_interval=30)
    for payload in [
        "",
        "not json",
        "[]",
        '{"queue": 5}',
        '{"run_at": "x"}',
        '{"queue": "q", "run_at": 1}',
    ]:
        db_conn.execute("select pg_notify('goodjob', %s)", (payload,))
    db_conn.execute(
        "select pg_notify('goodjob', json_build_object('queue', 'q' || g)::text)"
        " from generate_series(1, 2000) g"
    )
    job = enqueue(db_conn, "still alive")
    wait_for(lambda: done(db_conn, job), 3)


def test_result_reported_after_cut(
    proxied_url: str, proxy: TCPProxy, start_worker: Callable[..., Worker], db_conn: Conn
) -> None:
    start_worker(proxied_url, poll_interval=30)
    row = db_conn.execute(
        "select goodjob_enqueue('sleep_then_record', args => '[0.5]'::jsonb)"
    ).fetchone()
    assert row is not None
    job_id = row[0]
    wait_for(
        lambda: db_conn.execute(
            "select state = 'running' from goodjob_jobs where id = %s", (job_id,)
        ).fetchone()[0],  # type: ignore[index]
        3,
    )
    proxy.cut()  # the job finishes while its pool reconnects and the lease is re-taken
    wait_for(lambda: done(db_conn, job_id), 5)
    attempts = db_conn.execute(
        "select attempt, outcome from goodjob_executions where job_id = %s", (job_id,)
    ).fetchall()
    assert attempts == [(1, "succeeded")]  # same attempt, accepted: never rerun


def test_reregisters_when_its_process_row_is_deleted(
    db_url: str, start_worker: Callable[..., Worker], db_conn: Conn
) -> None:
    worker = start_worker(db_url, poll_interval=30)
    first_id = worker.process_id
    db_conn.execute("delete from goodjob_processes")  # e.g. an operator's cleanup
    job_id = enqueue(db_conn, "after delete")  # the fetch finds no process: re-register
    wait_for(lambda: done(db_conn, job_id), 5)
    assert db_conn.execute("select id from goodjob_processes").fetchall() == [(first_id,)]


def test_result_and_fetch_when_the_process_row_is_gone(
    db_url: str, start_worker: Callable[..., Worker], db_conn: Conn
) -> None:
    """A result reported together with a fetch that finds no process row: the fetch's
    error must not take the result down with it (reported on its own)."""
    worker = start_worker(db_url, queues="*:1", poll_interval=30)
    first_id = worker.process_id
    rows = db_conn.execute(
        "select goodjob_enqueue_many(jsonb_build_array("
        " jsonb_build_object('task', 'sleep_then_record', 'args', jsonb_build_array(0.5)),"
        " jsonb_build_object('task', 'sleep_then_record', 'args', jsonb_build_array(0.1))))"
    ).fetchall()
    wait_for(
        lambda: db_conn.execute(
            "select count(*) = 1 from goodjob_jobs where state = 'running'"
        ).fetchone()[0],  # type: ignore[index]
        3,
    )
    db_conn.execute("delete from goodjob_processes")  # while the first job runs
    ids = [row[0] for row in rows]
    wait_for(lambda: all(done(db_conn, job_id) for job_id in ids), 5)
    executions = db_conn.execute(
        "select attempt, outcome from goodjob_executions order by started_at"
    ).fetchall()
    assert executions == [(1, "succeeded"), (1, "succeeded")]  # nothing rerun
    assert db_conn.execute("select id from goodjob_processes").fetchall() == [(first_id,)]
