"""Installs in named schemas: migrate --schema, install.sh SCHEMA=, names, the App's connections.

The isolation of two installs in one database (leases, NOTIFY, workers) is
proved in ``test_schemas_isolation.py``.
"""

from __future__ import annotations

import asyncio
import os
import subprocess
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import psycopg
import pytest
from click.testing import CliRunner, Result

from goodjob_pg import App
from goodjob_pg.cli import main
from goodjob_pg.errors import InvalidSchemaError
from goodjob_pg.migrations import (
    MigrationError,
    apply_migrations,
    find_migrations,
    pending_migrations,
)
from goodjob_pg.schemas import with_schema

Conn = psycopg.Connection[Any]
ROOT = Path(__file__).resolve().parents[2]
VERSIONS = [m.version for m in find_migrations()]


@pytest.fixture(autouse=True)
def _clean_env(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    for name in ("GOODJOB_DATABASE_URL", "DATABASE_URL", "GOODJOB_APP", "GOODJOB_SCHEMA"):
        monkeypatch.delenv(name, raising=False)
    yield


@pytest.fixture
def cli(db_url: str) -> Callable[..., Result]:
    def invoke(*args: str, env: dict[str, str] | None = None) -> Result:
        return CliRunner().invoke(
            main, list(args), env={"GOODJOB_DATABASE_URL": db_url, **(env or {})}
        )

    return invoke


def scalar(conn: Conn, query: str, *params: Any) -> Any:
    row = conn.execute(query, params).fetchone()
    assert row is not None
    return row[0]


def versions(conn: Conn, schema: str) -> list[str]:
    rows = conn.execute(f"select version from {schema}.goodjob_migrations order by 1")
    return [r[0] for r in rows]


def one_error_line(result: Result) -> str:
    lines = result.output.strip().splitlines()
    assert result.exit_code == 1, result.output
    assert len(lines) == 1, result.output
    assert lines[0].startswith("error: "), result.output
    return lines[0]


def test_migrate_into_a_schema_is_idempotent_and_records_there(
    empty_db_url: str, db_connect: Callable[..., Conn]
) -> None:
    first = apply_migrations(empty_db_url, schema="jobs_a")
    assert [applied for _, applied in first] == [True] * len(VERSIONS)
    assert [applied for _, applied in apply_migrations(empty_db_url, schema="jobs_a")] == [
        False
    ] * len(VERSIONS)
    apply_migrations(empty_db_url, schema="jobs_b")
    assert pending_migrations(empty_db_url, schema="jobs_a") == []
    assert len(pending_migrations(empty_db_url)) == len(VERSIONS)  # public: nothing installed
    with psycopg.connect(empty_db_url, autocommit=True) as conn:
        assert versions(conn, "jobs_a") == VERSIONS
        assert versions(conn, "jobs_b") == VERSIONS
        assert scalar(conn, "select to_regclass('public.goodjob_jobs')") is None
        functions = conn.execute(
            "select count(*) filter (where n.nspname = 'jobs_a'),"
            " count(*) filter (where n.nspname = 'jobs_b')"
            " from pg_proc p join pg_namespace n on n.oid = p.pronamespace"
            " where p.proname like 'goodjob%'"
        ).fetchone()
        assert functions is not None and functions[0] == functions[1] > 60
        classes = [scalar(conn, f"select {s}.goodjob__lock_class()") for s in ("jobs_a", "jobs_b")]
        channels = [scalar(conn, f"select {s}.goodjob__channel()") for s in ("jobs_a", "jobs_b")]
    assert channels == ["goodjob_jobs_a", "goodjob_jobs_b"]
    assert len(set(classes)) == 2 and 1735028839 not in classes
    # Their lock classes and the concurrency classes (class + 1, class + 2) never overlap.
    assert all(abs(a - b) > 2 for a in classes for b in [*classes, 1735028839] if a != b)


def test_public_install_keeps_its_lock_class_and_channel(db_conn: Conn) -> None:
    assert scalar(db_conn, "select goodjob__lock_class()") == 1735028839
    assert scalar(db_conn, "select goodjob__channel()") == "goodjob"


def test_cli_migrate_schema_creates_it_and_is_idempotent(
    cli: Callable[..., Result], db_conn: Conn
) -> None:
    first = cli("migrate", "--schema", "jobs")
    assert first.exit_code == 0, first.output
    assert first.output.count("applied: ") == len(VERSIONS)
    again = cli("migrate", env={"GOODJOB_SCHEMA": "jobs"})
    assert again.exit_code == 0, again.output
    assert again.output.count("up to date: ") == len(VERSIONS)
    assert versions(db_conn, "jobs") == VERSIONS
    assert versions(db_conn, "public") == VERSIONS  # the public install is untouched


def test_install_sh_schema_is_idempotent_and_shares_the_protocol(empty_db_url: str) -> None:
    def install(schema: str) -> subprocess.CompletedProcess[str]:
        env = {**os.environ, "SCHEMA": schema}
        return subprocess.run(
            [str(ROOT / "sql" / "install.sh"), empty_db_url],
            env=env,
            capture_output=True,
            text=True,
            check=False,
        )

    first = install("jobs_sh")
    assert first.returncode == 0, first.stderr
    assert first.stdout.count("applied ") == len(VERSIONS)
    second = install("jobs_sh")
    assert second.returncode == 0, second.stderr
    assert second.stdout.count("already applied") == len(VERSIONS)
    # The Python runner sees the same install as applied.
    assert not any(applied for _, applied in apply_migrations(empty_db_url, schema="jobs_sh"))
    with psycopg.connect(empty_db_url, autocommit=True) as conn:
        assert versions(conn, "jobs_sh") == VERSIONS
        assert scalar(conn, "select to_regclass('public.goodjob_migrations')") is None
    bad = install("Jobs")
    assert bad.returncode == 1
    assert len(bad.stderr.strip().splitlines()) == 1
    assert "bad SCHEMA 'Jobs'" in bad.stderr


@pytest.mark.parametrize(
    "name", ["Jobs", "pg_jobs", "1jobs", "jobs-a", "x" * 56, "jobs;drop table x", " "]
)
def test_bad_schema_names_give_one_line(cli: Callable[..., Result], name: str) -> None:
    for args, env in (
        (["migrate", "--schema", name], None),
        (["status", "--schema", name], None),
        (["jobs"], {"GOODJOB_SCHEMA": name}),
    ):
        line = one_error_line(cli(*args, env=env))
        assert "invalid schema" in line and repr(name) in line
    with pytest.raises(InvalidSchemaError, match="invalid schema"):
        App("", schema=name)
    with pytest.raises(InvalidSchemaError):
        apply_migrations("", schema=name)


def test_a_55_character_name_works_and_sql_refuses_a_longer_one(
    empty_db_url: str, db_connect: Callable[..., Conn]
) -> None:
    longest = "s" * 55
    apply_migrations(empty_db_url, schema=longest)
    with psycopg.connect(empty_db_url, autocommit=True) as conn:
        assert scalar(conn, f"select {longest}.goodjob__channel()") == "goodjob_" + longest
        # Installed by hand into a 56-byte schema, the migration itself refuses (GJ060).
        too_long = "t" * 56
        conn.execute(f"create schema {too_long}")
        conn.execute(f"set search_path = {too_long}")
        with pytest.raises(MigrationError, match="too long for goodjob-pg") as caught:
            apply_migrations(conn)
        cause = caught.value.__cause__
        assert isinstance(cause, psycopg.Error) and cause.diag.sqlstate == "GJ060"
        assert scalar(conn, f"select to_regclass('{too_long}.goodjob_jobs')") is None


def test_with_schema_adds_to_the_options() -> None:
    assert with_schema("dbname=x", None) == "dbname=x"
    conninfo = with_schema("postgresql://u@h/db?options=-c%20work_mem%3D8MB", "jobs")
    assert "work_mem=8MB" in conninfo and 'search_path="jobs"' in conninfo


@pytest.fixture
def jobs_url(db_url: str) -> str:
    """The test database with a second install in schema jobs (public has one too)."""
    apply_migrations(db_url, schema="jobs")
    return db_url


def job_counts(conn: Conn) -> tuple[int, int]:
    row = conn.execute(
        "select (select count(*) from public.goodjob_jobs),"
        " (select count(*) from jobs.goodjob_jobs)"
    ).fetchone()
    assert row is not None
    return int(row[0]), int(row[1])


def test_app_connections_and_caller_transactions_use_the_schema(
    jobs_url: str, db_connect: Callable[..., Conn]
) -> None:
    app = App(jobs_url, schema="jobs")
    other = App(jobs_url)
    task = app.task(name="t")(lambda: None)
    try:
        assert app.database_url == jobs_url and app.schema == "jobs"
        with app.connection() as conn:
            assert scalar(conn, "show search_path") == '"jobs"'
        task.enqueue()
        other.enqueue("t")
        probe = db_connect()
        assert job_counts(probe) == (1, 1)

        # The caller's transaction: the job joins it, the search_path comes back as it was.
        caller = db_connect(autocommit=False)
        caller.execute("set search_path = public, pg_catalog")
        caller.commit()
        with caller.transaction():
            task.options(connection=caller).enqueue()
            app.enqueue_many([task.prepare(), task.prepare()], connection=caller)
            assert scalar(caller, "show search_path") == "public, pg_catalog"
            assert job_counts(probe) == (1, 1)  # not committed yet
        assert job_counts(probe) == (1, 4)
        with pytest.raises(psycopg.errors.QueryCanceled), caller.transaction():
            task.options(connection=caller).enqueue()
            caller.execute("select pg_cancel_backend(pg_backend_pid())")
        assert job_counts(probe) == (1, 4)  # rolled back with the caller
        assert scalar(caller, "show search_path") == "public, pg_catalog"
        caller.rollback()

        # An idle autocommit connection and a cursor.
        auto = db_connect()
        task.options(connection=auto).enqueue()
        with auto.cursor() as cur:
            task.options(connection=cur).enqueue()
        assert scalar(auto, "show search_path") == '"$user", public'
        assert job_counts(probe) == (1, 6)
    finally:
        app.close()
        other.close()


def test_async_caller_connection_uses_the_schema(jobs_url: str, db_conn: Conn) -> None:
    app = App(jobs_url, schema="jobs")
    task = app.task(name="t")(lambda: None)

    async def scenario() -> str:
        async with await psycopg.AsyncConnection.connect(jobs_url) as conn:
            async with conn.transaction():
                await task.options(connection=conn).aenqueue()
                await app.aenqueue_many([task.prepare()], connection=conn)
            cur = await conn.execute("show search_path")
            row = await cur.fetchone()
            assert row is not None
            return str(row[0])

    try:
        assert asyncio.run(scenario()) == '"$user", public'
        assert job_counts(db_conn) == (0, 2)
    finally:
        app.close()


def test_cli_commands_work_in_the_schema(
    cli: Callable[..., Result], jobs_url: str, db_conn: Conn
) -> None:
    enqueued = cli("enqueue", "report", "--queue", "in_jobs", "--schema", "jobs")
    assert enqueued.exit_code == 0, enqueued.output
    job_id = enqueued.output.strip()
    assert scalar(db_conn, "select queue from jobs.goodjob_jobs where id = %s", job_id) == "in_jobs"
    assert job_counts(db_conn) == (0, 1)

    listed = cli("jobs", "--json", env={"GOODJOB_SCHEMA": "jobs"})
    assert listed.exit_code == 0 and job_id in listed.output
    assert job_id not in cli("jobs", "--json").output  # public has no such job
    status = cli("status", "--schema", "jobs")
    assert status.exit_code == 0 and "in_jobs" in status.output
    assert "in_jobs" not in cli("status").output
    assert cli("job", job_id, "--schema", "jobs").exit_code == 0
    assert cli("job", job_id).exit_code == 1
    assert cli("processes", "--schema", "jobs").exit_code == 0
    paused = cli("pause", "--queue", "in_jobs", "--schema", "jobs")
    assert paused.exit_code == 0, paused.output
    assert scalar(db_conn, "select count(*) from jobs.goodjob_pauses") == 1
    assert scalar(db_conn, "select count(*) from public.goodjob_pauses") == 0
