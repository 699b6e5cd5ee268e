"""The heartbeat backstop and the worker's own session settings, with real roles and sessions.

* Worker connections override a role's operator timeouts (statement,
  lock, idle, idle-in-transaction) with the worker's own values.
* goodjob_terminate_stale_processes ends another session only with the
  right to signal it: between two plain login roles it reports
  ``terminated = false`` and why, and a worker running the sweep logs one
  clear line and carries on; with sql/roles.sql installed a worker login
  may end another worker login's stale lease (goodjob_owner is a member of
  pg_signal_backend).

Roles are cluster-wide: per-test roles get unique names and are dropped;
the roles.sql logins are created idempotently and kept, as test_roles.py does.
"""

from __future__ import annotations

import contextlib
import logging
import os
from collections.abc import Callable, Iterator
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import psycopg
import pytest

from goodjob_pg import db
from goodjob_pg.reconnect import connect
from goodjob_pg.worker import Worker, WorkerConfig
from tests.tasks_fixture import create_side_table, make_app
from tests.worker_process import ROOT, wait_for

Conn = psycopg.Connection[Any]


def _as(url: str, user: str) -> str:
    parts = urlsplit(url)
    return urlunsplit(parts._replace(netloc=f"{user}@{parts.hostname}:{parts.port}"))


@pytest.fixture
def plain_roles(db_conn: Conn) -> Iterator[Callable[[str], str]]:
    """Create non-superuser login roles with table rights (no roles.sql); dropped after."""
    made: list[str] = []

    def make(suffix: str) -> str:
        name = f"gjt_stale_{suffix}_{os.getpid()}"
        db_conn.execute(f"drop role if exists {name}")
        db_conn.execute(f"create role {name} login")
        made.append(name)
        db_conn.execute(f"grant usage on schema public to {name}")
        db_conn.execute(f"grant all on all tables in schema public to {name}")
        db_conn.execute(f"grant all on all sequences in schema public to {name}")
        return name

    yield make
    gone = "select count(*) = 0 from pg_stat_activity where usename = %s"
    for name in made:
        db_conn.execute(
            "select pg_terminate_backend(pid) from pg_stat_activity where usename = %s", (name,)
        )
        wait_for(lambda name=name: db_conn.execute(gone, (name,)).fetchone()[0], 10)  # type: ignore[index,misc]
        db_conn.execute(f"drop owned by {name}")
        db_conn.execute(f"drop role {name}")


def _stale_lease(url: str, db_conn: Conn) -> tuple[Conn, Any]:
    """A session holding a process lease whose heartbeat is ten minutes old."""
    holder = psycopg.connect(url, autocommit=True)
    process_id = db.register_process(holder, "vanished-host", 1, "*")
    db_conn.execute(
        "update goodjob_processes set heartbeat_at = now() - interval '10 minutes' where id = %s",
        (process_id,),
    )
    return holder, process_id


def test_worker_sessions_override_the_roles_timeouts(
    db_url: str, plain_roles: Callable[[str], str], db_conn: Conn
) -> None:
    role = plain_roles("timeouts")
    for setting, value in (
        ("statement_timeout", "50ms"),
        ("lock_timeout", "10ms"),
        ("idle_session_timeout", "2s"),
        ("idle_in_transaction_session_timeout", "1s"),
    ):
        db_conn.execute(f"alter role {role} set {setting} = '{value}'")
    with psycopg.connect(_as(db_url, role)) as plain:  # what the role gets by default
        assert plain.execute("show statement_timeout").fetchone() == ("50ms",)
    conn = connect(_as(db_url, role), role="lease")
    try:
        shown = {
            name: conn.execute(f"show {name}").fetchone()[0]  # type: ignore[index]
            for name in (
                "statement_timeout",
                "lock_timeout",
                "idle_session_timeout",
                "idle_in_transaction_session_timeout",
                "tcp_user_timeout",
                "tcp_keepalives_idle",
            )
        }
        conn.execute("select pg_sleep(0.2)")  # longer than the role's statement_timeout
    finally:
        conn.close()
    assert shown == {
        "statement_timeout": "0",
        "lock_timeout": "2s",  # the worker's own (reconnect.LOCK_TIMEOUT_S)
        "idle_session_timeout": "0",
        "idle_in_transaction_session_timeout": "0",
        "tcp_user_timeout": "30000",  # ms
        "tcp_keepalives_idle": "10",
    }


def test_without_the_right_to_signal_it_reports_why_and_the_worker_goes_on(
    db_url: str, plain_roles: Callable[[str], str], db_conn: Conn, caplog: pytest.LogCaptureFixture
) -> None:
    vanished, sweeper = plain_roles("vanished"), plain_roles("sweeper")
    holder, process_id = _stale_lease(_as(db_url, vanished), db_conn)
    try:
        with psycopg.connect(_as(db_url, sweeper), autocommit=True) as conn:
            [row] = db.terminate_stale_processes(conn, 60)
        assert (row.process_id, row.backend_pid) == (process_id, holder.info.backend_pid)
        assert row.terminated is False
        assert row.error is not None and "terminate" in row.error, row.error
        assert holder.execute("select 1").fetchone() == (1,)  # untouched

        # A worker running the sweep under that role: one clear line, no crash.
        create_side_table(db_conn)
        db_conn.execute(f"grant all on completions to {sweeper}")
        app = make_app(_as(db_url, sweeper))
        worker = Worker(
            app,
            WorkerConfig(heartbeat_interval=0.2, rescue_interval=0.2, stale_process_threshold=1.0),
        )
        with caplog.at_level(logging.WARNING, logger="goodjob_pg.sweep"):
            worker.start()
            try:
                wait_for(lambda: "cannot be ended" in caplog.text, 10)
                job = db_conn.execute("select goodjob_enqueue('record')").fetchone()[0]  # type: ignore[index]
                done = "select state = 'succeeded' from goodjob_jobs where id = %s"
                wait_for(lambda: db_conn.execute(done, (job,)).fetchone()[0], 10)  # type: ignore[index]
                assert worker.started and worker.connected
            finally:
                worker.stop(timeout=2)
                app.close()
        lines = [r for r in caplog.records if "cannot be ended" in r.getMessage()]
        assert "pg_signal_backend" in lines[0].getMessage()
        assert len(lines) <= 4  # rate-limited: 3, then one per 10 s
    finally:
        holder.close()


def test_with_roles_sql_a_worker_login_ends_another_logins_stale_lease(
    db_url: str, db_conn: Conn
) -> None:
    db_conn.execute((ROOT / "sql" / "roles.sql").read_text())
    for login in ("gjt_worker_login", "gjt_worker2_login"):
        with contextlib.suppress(psycopg.errors.DuplicateObject):
            db_conn.execute(f"create role {login} login")
        db_conn.execute(f"grant goodjob_worker to {login}")
    holder, process_id = _stale_lease(_as(db_url, "gjt_worker2_login"), db_conn)
    try:
        with psycopg.connect(_as(db_url, "gjt_worker_login"), autocommit=True) as conn:
            [row] = db.terminate_stale_processes(conn, 60)
            assert (row.process_id, row.terminated, row.error) == (process_id, True, None)
            assert db.rescue_dead_processes(conn) == 0  # no jobs, but the row goes
        with pytest.raises(psycopg.OperationalError):
            holder.execute("select 1")
        gone = "select count(*) from goodjob_processes where id = %s"
        assert db_conn.execute(gone, (process_id,)).fetchone() == (0,)
    finally:
        holder.close()
