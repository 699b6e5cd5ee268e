"""Least-privilege roles (sql/roles.sql): what each role may do, and what nobody may.

Each test installs the roles in its own database and logs in (trust auth) as
login roles that are members of goodjob_enqueuer, goodjob_worker or
goodjob_admin. Roles are cluster-wide, so they are created idempotently and
never dropped; every grant is per database.
"""

from __future__ import annotations

import contextlib
import signal
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import psycopg
import pytest

from tests.tasks_fixture import create_side_table
from tests.worker_process import ROOT, spawn_cli, wait_for

Conn = psycopg.Connection[Any]
LOGINS = {
    "gjt_enqueuer_login": "goodjob_enqueuer",
    "gjt_worker_login": "goodjob_worker",
    "gjt_admin_login": "goodjob_admin",
    "gjt_hijacker_login": "goodjob_worker",
}
ENQUEUER_REFUSED = [
    "select * from goodjob_jobs",
    "select * from goodjob_executions",
    "select * from goodjob_queue_stats",
    "select * from goodjob_running_jobs",
    "select goodjob_fetch_and_lock(goodjob_uuid_v7())",
    "select * from goodjob_report_results(goodjob_uuid_v7(), '[]')",
    "select goodjob_retry_job(goodjob_uuid_v7())",
    "select goodjob_discard_job(goodjob_uuid_v7())",
    "select goodjob_cleanup_preserved_jobs()",
    "select goodjob_pause(queue => 'q')",
    "select goodjob_register_process('h', 1, '*')",
    "update goodjob_jobs set state = 'succeeded'",
    "delete from goodjob_jobs",
    "insert into goodjob_jobs (id, task) values (goodjob_uuid_v7(), 'x')",
    "update goodjob_settings set value = '1' where key = 'max_arguments_bytes'",
    "create table goodjob_evil (id int)",
    "create function goodjob_evil() returns int language sql as 'select 1'",
    "set role goodjob_owner",
    "grant goodjob_admin to gjt_enqueuer_login",
]


def _as(url: str, user: str) -> str:
    parts = urlsplit(url)
    return urlunsplit(parts._replace(netloc=f"{user}@{parts.hostname}:{parts.port}"))


@pytest.fixture
def roles(db_conn: Conn, db_url: str) -> Callable[[str], Conn]:
    """Install sql/roles.sql; return a connect(login) for the login roles."""
    db_conn.execute((ROOT / "sql" / "roles.sql").read_text())
    for login, role in LOGINS.items():
        with contextlib.suppress(psycopg.errors.DuplicateObject):
            db_conn.execute(f"create role {login} login")
        db_conn.execute(f"grant {role} to {login}")
    opened: list[Conn] = []

    def connect(login: str) -> Conn:
        opened.append(psycopg.connect(_as(db_url, login), autocommit=True))
        return opened[-1]

    yield connect  # type: ignore[misc]
    for conn in opened:
        conn.close()


def test_catalog_no_public_execute_pinned_paths_no_writable_tables(
    roles: Callable[[str], Conn], db_conn: Conn
) -> None:
    functions = db_conn.execute(
        """
        select p.oid::regprocedure::text, r.rolname, p.prosecdef, p.proconfig,
               has_function_privilege('public', p.oid, 'execute'),
               p.proname like 'goodjob\\_\\_%%' or p.prorettype = 'trigger'::regtype
          from pg_proc p join pg_roles r on r.oid = p.proowner
         where p.pronamespace = current_schema()::regnamespace and p.proname like 'goodjob\\_%%'
        """
    ).fetchall()
    assert len(functions) > 40
    for name, owner, definer, config, public, internal in functions:
        assert owner == "goodjob_owner", name
        assert not public, f"PUBLIC may execute {name}"
        assert "search_path=pg_catalog, public, pg_temp" in config, (name, config)
        assert definer == (not internal), name
    writable = db_conn.execute(
        """
        select c.relname, r.rolname from pg_class c
          cross join (values ('goodjob_enqueuer'), ('goodjob_worker'), ('goodjob_admin')) r(rolname)
         where c.relnamespace = current_schema()::regnamespace and c.relname like 'goodjob\\_%%'
           and c.relkind in ('r', 'v')
           and (has_table_privilege(r.rolname, c.oid, 'insert, update, delete, truncate'))
        """
    ).fetchall()
    assert writable == []


def test_enqueuer_enqueues_and_nothing_else(roles: Callable[[str], Conn], db_conn: Conn) -> None:
    secret = db_conn.execute(
        "select goodjob_enqueue('billing.charge', args => '[\"card 4242\"]')"
    ).fetchone()[0]  # type: ignore[index]
    enqueuer = roles("gjt_enqueuer_login")
    job = enqueuer.execute("select goodjob_enqueue('t', args => '[1]')").fetchone()
    assert job is not None
    assert enqueuer.execute('select count(*) from goodjob_enqueue_many(\'[{"task": "a"}]\')')
    # Re-enqueueing another job's id returns the id only: never its args, never a change.
    again = enqueuer.execute("select goodjob_enqueue('other', id => %s, args => '[2]')", (secret,))
    assert again.fetchall() == [(secret,)]
    row = db_conn.execute("select task, args from goodjob_jobs where id = %s", (secret,)).fetchone()
    assert row == ("billing.charge", ["card 4242"])
    for query in ENQUEUER_REFUSED:
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            enqueuer.execute(query)


def test_lookalike_functions_and_tables_are_never_used(
    roles: Callable[[str], Conn], db_conn: Conn
) -> None:
    db_conn.execute("create schema if not exists evil authorization gjt_hijacker_login")
    hijacker = roles("gjt_hijacker_login")
    hijacker.execute("create table evil.calls (name text)")
    for fn, args, result in [
        ("now", "", "timestamptz"),
        ("clock_timestamp", "", "timestamptz"),
        ("jsonb_build_object", "variadic a text[]", "jsonb"),
        ("jsonb_typeof", "a jsonb", "text"),
        ("coalesce_", "a text", "text"),
        ("goodjob_uuid_v7", "", "uuid"),
        ("gen_random_uuid", "", "uuid"),
        ("lower", "a text", "text"),
    ]:
        hijacker.execute(
            f"create function evil.{fn}({args}) returns {result} language plpgsql as"
            f" $$ begin insert into evil.calls values ('{fn}'); return null; end $$"
        )
    for table in ("goodjob_jobs", "goodjob_queues", "goodjob_settings", "goodjob_processes"):
        hijacker.execute(f"create table evil.{table} (like public.{table})")
        hijacker.execute(f"create temp table {table} (like public.{table})")
    hijacker.execute("set search_path = pg_temp, evil, public")
    job = hijacker.execute("select goodjob_enqueue('t', queue => 'hij')").fetchone()[0]  # type: ignore[index]
    hijacker.execute('select goodjob_enqueue_many(\'[{"task": "m", "labels": ["x"]}]\')')
    process = hijacker.execute(
        "select goodjob_register_process(hostname => 'h', pid => 1, queues => '*')"
    ).fetchone()[0]  # type: ignore[index]
    hijacker.execute("select goodjob_heartbeat(%s)", (process,))
    rows = hijacker.execute(
        "select id, attempts from goodjob_fetch_and_lock(%s, 'hij', 5)", (process,)
    ).fetchall()
    assert [r[0] for r in rows] == [job]
    hijacker.execute(
        "select * from goodjob_report_results(%s, jsonb_build_array(jsonb_build_object("
        "'id', %s::text, 'attempt', 1, 'outcome', 'succeeded')))",
        (process, job),
    )
    hijacker.execute("select goodjob_rescue_dead_processes()")
    hijacker.execute("select goodjob_cleanup_preserved_jobs()")
    hijacker.execute("select goodjob_deregister_process(%s)", (process,))
    assert hijacker.execute("select count(*) from evil.calls").fetchone() == (0,)
    assert db_conn.execute("select state from goodjob_jobs where id = %s", (job,)).fetchone() == (
        "succeeded",
    )
    for table in ("goodjob_jobs", "goodjob_queues", "goodjob_processes"):
        assert hijacker.execute(f"select count(*) from evil.{table}").fetchone() == (0,)
        assert hijacker.execute(f"select count(*) from pg_temp.{table}").fetchone() == (0,)


@pytest.mark.slow
def test_a_worker_login_runs_jobs_through_the_functions_only(
    roles: Callable[[str], Conn], db_conn: Conn, db_url: str, tmp_path: Path
) -> None:
    create_side_table(db_conn)  # the test tasks' side table is the app's, not goodjob's
    db_conn.execute("grant insert, select on completions to gjt_worker_login")
    ids = [
        db_conn.execute(
            "select goodjob_enqueue('record', kwargs => '{\"tag\": \"role\"}')"
        ).fetchone()[0]  # type: ignore[index]
        for _ in range(5)
    ]
    log = tmp_path / "worker.log"
    proc = spawn_cli(_as(db_url, "gjt_worker_login"), log, "--poll-interval", "1")
    try:
        wait_for(
            lambda: db_conn.execute(
                "select count(*) = 5 from goodjob_jobs where state = 'succeeded'"
            ).fetchone()[0],  # type: ignore[index]
            30,
        )
    except AssertionError:
        print(log.read_text())
        raise
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(15)
    done = db_conn.execute("select count(*) from completions where job_id = any(%s)", (ids,))
    assert done.fetchone() == (5,)
