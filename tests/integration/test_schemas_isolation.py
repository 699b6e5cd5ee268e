"""Two installs in one database, schema public and schema jobs, do not see each other.

Leases with the same key, rescue, NOTIFY, and real ``goodjob-pg run``
processes, one per schema, each running only its own jobs; one is killed for
real and only its own install's rescue recovers its job.
"""

from __future__ import annotations

import signal
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any
from uuid import UUID

import psycopg
import pytest

from goodjob_pg import App
from goodjob_pg.migrations import apply_migrations
from goodjob_pg.schemas import with_schema
from tests.tasks_fixture import SIDE_TABLE
from tests.worker_process import spawn_cli, stop_process, wait_for

Conn = psycopg.Connection[Any]
SCHEMAS = ("public", "jobs")

pytestmark = pytest.mark.slow


@pytest.fixture
def url(db_url: str) -> str:
    """The test database (an install in public) with a second install in schema jobs."""
    apply_migrations(db_url, schema="jobs")
    with psycopg.connect(db_url, autocommit=True) as conn:
        for schema in SCHEMAS:
            conn.execute(f"set search_path = {schema}")
            conn.execute(SIDE_TABLE)
    return db_url


@pytest.fixture
def connect(url: str) -> Iterator[Callable[[str], Conn]]:
    """Open an autocommit connection whose search_path is the given schema."""
    opened: list[Conn] = []

    def open_in(schema: str) -> Conn:
        opened.append(psycopg.connect(with_schema(url, schema), autocommit=True))
        return opened[-1]

    yield open_in
    for conn in opened:
        conn.close()


def scalar(conn: Conn, query: str, *params: Any) -> Any:
    row = conn.execute(query, params).fetchone()
    assert row is not None
    return row[0]


def register(conn: Conn) -> UUID:
    process: UUID = scalar(
        conn, "select goodjob_register_process(hostname => 'h', pid => 1, queues => '*')"
    )
    return process


def claim(conn: Conn, process: UUID) -> UUID:
    scalar(conn, "select goodjob_enqueue(task => 't')")
    job: UUID = scalar(conn, "select id from goodjob_fetch_and_lock(process_id => %s)", process)
    return job


def state(conn: Conn, schema: str, job: UUID) -> str:
    return str(scalar(conn, f"select state from {schema}.goodjob_jobs where id = %s", job))


def terminate(admin: Conn, victim: Conn) -> None:
    """End a session for real and wait until the server has released its locks."""
    pid = victim.info.backend_pid
    admin.execute("select pg_terminate_backend(%s)", (pid,))
    wait_for(lambda: scalar(admin, "select count(*) from pg_locks where pid = %s", pid) == 0, 10)


def test_same_lease_key_in_two_installs_and_rescue_stays_in_its_install(
    connect: Callable[[str], Conn],
) -> None:
    lease_public, lease_jobs = connect("public"), connect("jobs")
    p_public, p_jobs = register(lease_public), register(lease_jobs)
    keys = [
        scalar(c, "select lease_key from goodjob_processes where id = %s", p)
        for c, p in ((lease_public, p_public), (lease_jobs, p_jobs))
    ]
    assert keys[0] == keys[1]  # both sequences start at 1: only the lock class tells them apart
    job_public, job_jobs = claim(lease_public, p_public), claim(lease_jobs, p_jobs)

    admin = connect("public")
    for schema in SCHEMAS:
        assert scalar(admin, f"select {schema}.goodjob_rescue_dead_processes()") == 0

    # The jobs install's process dies while public's, with the same lease key, lives on.
    terminate(admin, lease_jobs)
    assert scalar(admin, "select public.goodjob_rescue_dead_processes()") == 0
    assert state(admin, "jobs", job_jobs) == "running"  # public's rescue did not touch it
    assert scalar(admin, "select jobs.goodjob_rescue_dead_processes()") == 1
    assert state(admin, "jobs", job_jobs) == "queued"
    assert state(admin, "public", job_public) == "running"
    assert scalar(admin, "select count(*) from public.goodjob_processes") == 1
    assert scalar(admin, "select count(*) from jobs.goodjob_processes") == 0

    # And the other way round: public's process dies, a new jobs process is alive.
    p_jobs = register(connect("jobs"))
    terminate(admin, lease_public)
    assert scalar(admin, "select jobs.goodjob_rescue_dead_processes()") == 0
    assert scalar(admin, "select public.goodjob_rescue_dead_processes()") == 1
    assert state(admin, "public", job_public) == "queued"
    assert scalar(admin, "select count(*) from jobs.goodjob_processes") == 1


def notifications(listener: Conn, sentinel_sender: Conn, channel: str) -> list[str]:
    """The payloads ``listener`` received on ``channel`` before a sentinel sent after them."""
    sentinel_sender.execute(f"notify {channel}, 'sentinel'")
    payloads = []
    for notify in listener.notifies(timeout=10):
        if notify.payload == "sentinel":
            return payloads
        payloads.append(notify.payload)
    raise AssertionError(f"no sentinel on {channel} within 10 s")


def test_notify_of_one_install_does_not_wake_the_other(connect: Callable[[str], Conn]) -> None:
    listeners = {}
    for schema in SCHEMAS:
        conn = connect(schema)
        channel = scalar(conn, "select goodjob__channel()")
        conn.execute(f"listen {channel}")
        # A waiting pool, so enqueues in this install notify at all.
        assert scalar(conn, "select goodjob_wait(process_id => %s)", register(conn)) is True
        listeners[schema] = (conn, channel)
    assert [c for _, c in listeners.values()] == ["goodjob", "goodjob_jobs"]

    sender = {schema: connect(schema) for schema in SCHEMAS}
    scalar(sender["jobs"], "select goodjob_enqueue(task => 't', queue => 'only_jobs')")
    scalar(sender["public"], "select goodjob_enqueue(task => 't', queue => 'only_public')")
    got = {s: notifications(conn, sender[s], channel) for s, (conn, channel) in listeners.items()}
    assert got == {"public": ['{"queue" : "only_public"}'], "jobs": ['{"queue" : "only_jobs"}']}


@pytest.fixture
def spawn(url: str, tmp_path: Path) -> Iterator[Callable[..., Any]]:
    procs = []
    logs = []

    def start(schema: str, *args: str) -> Any:
        log = tmp_path / f"worker-{schema}-{len(procs)}.log"
        logs.append(log)
        procs.append(spawn_cli(url, log, "--schema", schema, *args))
        return procs[-1]

    yield start
    for proc in procs:
        stop_process(proc)
    for log in logs:
        if log.exists():
            print(log.name, log.read_text())  # shown by pytest when the test fails


def test_two_workers_in_two_schemas_run_only_their_own_jobs(
    url: str, connect: Callable[[str], Conn], spawn: Callable[..., Any]
) -> None:
    admin = connect("public")

    def count(query: str, *params: Any) -> int:
        return int(scalar(admin, query, *params))

    # Polling off: a worker only hears of new jobs through its own channel.
    workers = {schema: spawn(schema, "--poll-interval=-1") for schema in SCHEMAS}
    for schema in SCHEMAS:
        wait_for(lambda s=schema: count(f"select count(*) from {s}.goodjob_waiting_pools"), 30)
    assert count("select count(distinct lease_key) from public.goodjob_processes") == 1
    assert count("select min(lease_key) from public.goodjob_processes") == count(
        "select min(lease_key) from jobs.goodjob_processes"
    )

    apps = {schema: App(url, schema=schema) for schema in SCHEMAS}
    try:
        for schema, app in apps.items():
            for _ in range(20):
                app.enqueue("record", schema)
        for schema in SCHEMAS:
            wait_for(lambda s=schema: count(f"select count(*) from {s}.completions") == 20, 30)
            # Every completion in this schema is of its own jobs, run by its own worker.
            assert count(f"select count(*) from {schema}.completions where tag <> %s", schema) == 0
            assert (
                count(
                    f"select count(*) from {schema}.completions c"
                    f" join {schema}.goodjob_jobs j on j.id = c.job_id where j.state = 'succeeded'"
                )
                == 20
            )
            assert (
                count(
                    f"select count(distinct e.process_id) from {schema}.goodjob_executions e"
                    f" join {schema}.goodjob_processes p on p.id = e.process_id"
                )
                == 1
            )

        # Kill the jobs worker mid-job; public's worker and its rescue leave that job alone.
        stuck = apps["jobs"].enqueue("sleep_then_record", 60, "stuck")
        wait_for(lambda: state(admin, "jobs", stuck) == "running", 30)
        workers["jobs"].send_signal(signal.SIGKILL)
        workers["jobs"].wait(10)
        wait_for(
            lambda: (
                count(
                    "select count(*) from pg_stat_activity"
                    " where application_name = 'goodjob-pg lease' and datname = current_database()"
                )
                == 1
            ),
            10,
        )
        assert count("select public.goodjob_rescue_dead_processes()") == 0
        assert state(admin, "jobs", stuck) == "running"
        assert count("select count(*) from public.goodjob_processes") == 1
        assert count("select jobs.goodjob_rescue_dead_processes()") == 1
        assert state(admin, "jobs", stuck) == "queued"
        assert workers["public"].poll() is None  # still running, still registered
        apps["public"].enqueue("record", "after")
        wait_for(lambda: count("select count(*) from public.completions") == 21, 30)
    finally:
        for app in apps.values():
            app.close()
