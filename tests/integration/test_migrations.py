"""The migration runners (sql/install.sh and goodjob_pg.migrations) and sql/schema.sql."""

from __future__ import annotations

import difflib
import os
import subprocess
import threading
from pathlib import Path

import psycopg
import pytest

from goodjob_pg.migrations import (
    MigrationError,
    apply_migrations,
    check_server_version,
    find_migrations,
    migrations_directory,
    pending_migrations,
)
from tests.plugins.database import SESSION_DB, create_database, drop_database, url_for

REPO = Path(__file__).resolve().parents[2]
INSTALL = REPO / "sql" / "install.sh"
DUMP = REPO / "sql" / "dump_schema.sh"
SCHEMA = REPO / "sql" / "schema.sql"
NAMES = [m.full_name for m in find_migrations()]


def run_install(url: str, directory: Path | None = None) -> subprocess.CompletedProcess[str]:
    """Run sql/install.sh, optionally on another migrations directory."""
    env = dict(os.environ)
    if directory is not None:
        env["GOODJOB_MIGRATIONS_DIR"] = str(directory)
    return subprocess.run(
        [str(INSTALL), url], capture_output=True, text=True, env=env, timeout=120, check=False
    )


def install(url: str, directory: Path | None = None) -> subprocess.CompletedProcess[str]:
    """Run sql/install.sh and fail the test if it fails."""
    result = run_install(url, directory)
    assert result.returncode == 0, result.stderr
    return result


def dump(url: str) -> str:
    """The normalised schema of a database, as sql/schema.sql is written."""
    return subprocess.run(
        [str(DUMP), "--as-is", url], capture_output=True, text=True, timeout=120, check=True
    ).stdout


STALE = "sql/schema.sql (if the migrations changed: run `make schema` and commit it)"
FRESH = "a fresh install with sql/install.sh"


def assert_same_text(actual: str, expected: str, what: str, against: str = STALE) -> None:
    """Fail with a unified diff from ``against`` to ``what`` unless the texts are equal."""
    if actual != expected:
        diff = difflib.unified_diff(
            expected.splitlines(keepends=True), actual.splitlines(keepends=True), against, what
        )
        pytest.fail(f"{what} differs from {against}:\n{''.join(diff)}", pytrace=False)


def test_the_repository_ships_migrations() -> None:
    assert migrations_directory() == REPO / "sql" / "migrations"
    assert NAMES, "no migrations found"
    assert NAMES[0] == "0001_core"


@pytest.fixture(scope="module")
def fresh_schema() -> str:
    """The normalised schema of a fresh psql install of sql/migrations."""
    return subprocess.run(
        [str(DUMP), url_for("postgres")], capture_output=True, text=True, timeout=120, check=True
    ).stdout


def test_schema_sql_matches_the_migrations(fresh_schema: str) -> None:
    assert_same_text(fresh_schema, SCHEMA.read_text(), "a fresh install of sql/migrations")


def test_install_twice_is_a_no_op(empty_db_url: str) -> None:
    first = install(empty_db_url)
    assert first.stdout.splitlines() == [f"applied {n}" for n in NAMES] + ["schema is up to date"]
    schema = dump(empty_db_url)

    second = install(empty_db_url)
    assert second.stdout.splitlines() == [f"{n} already applied" for n in NAMES] + [
        "schema is up to date"
    ]
    assert_same_text(dump(empty_db_url), schema, "the schema after a second install", "the first")


def test_concurrent_installs_both_succeed(empty_db_url: str, fresh_schema: str) -> None:
    procs = [
        subprocess.Popen([str(INSTALL), empty_db_url], stdout=subprocess.PIPE, text=True)
        for _ in range(2)
    ]
    outputs = [p.communicate(timeout=120)[0] for p in procs]
    assert [p.returncode for p in procs] == [0, 0]
    lines = [line for out in outputs for line in out.splitlines()]
    for name in NAMES:
        assert lines.count(f"applied {name}") == 1, outputs
        assert lines.count(f"{name} already applied") == 1, outputs
    assert_same_text(
        dump(empty_db_url), fresh_schema, "the schema after concurrent installs", FRESH
    )


def test_python_runner_then_psql_runner(empty_db_url: str, fresh_schema: str) -> None:
    assert pending_migrations(empty_db_url) == NAMES
    assert apply_migrations(empty_db_url) == [(n, True) for n in NAMES]
    assert pending_migrations(empty_db_url) == []
    assert apply_migrations(empty_db_url) == [(n, False) for n in NAMES]
    assert install(empty_db_url).stdout.splitlines()[:-1] == [f"{n} already applied" for n in NAMES]
    assert_same_text(dump(empty_db_url), fresh_schema, "the schema after the Python runner", FRESH)


def test_psql_runner_then_python_runner(empty_db_url: str) -> None:
    install(empty_db_url)
    assert pending_migrations(empty_db_url) == []
    assert apply_migrations(empty_db_url) == [(n, False) for n in NAMES]


def test_python_and_psql_runners_at_once(empty_db_url: str, fresh_schema: str) -> None:
    results: list[list[tuple[str, bool]]] = []
    proc = subprocess.Popen([str(INSTALL), empty_db_url], stdout=subprocess.PIPE, text=True)
    thread = threading.Thread(target=lambda: results.append(apply_migrations(empty_db_url)))
    thread.start()
    out = proc.communicate(timeout=120)[0]
    thread.join(timeout=120)
    assert proc.returncode == 0
    applied_by_python = {name for name, now in results[0] if now}
    applied_by_psql = {line.split()[1] for line in out.splitlines() if line.startswith("applied ")}
    assert applied_by_python | applied_by_psql == set(NAMES)
    assert not applied_by_python & applied_by_psql
    assert_same_text(dump(empty_db_url), fresh_schema, "the schema after mixed runners", FRESH)


def test_fixture_database_is_fully_migrated(db_url: str) -> None:
    assert pending_migrations(db_url) == []


def test_server_version_check() -> None:
    with pytest.raises(MigrationError) as info:
        check_server_version(120017, "12.17")
    assert str(info.value) == "goodjob-pg needs PostgreSQL 13 or newer; this server is 12.17"
    check_server_version(130000, "13.0")
    check_server_version(150020, "15.20 (Debian 15.20-0+deb12u1)")


# Throwaway migration directories, to test the protocol apart from 0001_core.


def write(directory: Path, files: dict[str, str]) -> Path:
    directory.mkdir(exist_ok=True)
    for name, body in files.items():
        (directory / name).write_text(body)
    return directory


def record(version: str, name: str) -> str:
    return f"insert into goodjob_migrations (version, name) values ('{version}', '{name}');\n"


def tables(url: str) -> set[str]:
    with psycopg.connect(url) as conn:
        rows = conn.execute("select tablename from pg_tables where schemaname = 'public'")
        return {str(row[0]) for row in rows}


def test_a_failing_migration_rolls_back_only_itself(empty_db_url: str, tmp_path: Path) -> None:
    migrations = write(
        tmp_path / "m",
        {
            "0001_one.sql": record("0001", "one") + "create table one (x int);",
            "0002_two.sql": record("0002", "two") + "create table two (x int);\nselect 1 / 0;",
            "0003_three.sql": record("0003", "three") + "create table three (x int);",
        },
    )
    with pytest.raises(MigrationError, match=r"migration 0002_two failed: division by zero"):
        apply_migrations(empty_db_url, migrations)
    assert tables(empty_db_url) == {"goodjob_migrations", "one"}
    assert pending_migrations(empty_db_url, migrations) == ["0002_two", "0003_three"]

    (migrations / "0002_two.sql").write_text(record("0002", "two") + "create table two (x int);")
    assert apply_migrations(empty_db_url, migrations) == [
        ("0001_one", False),
        ("0002_two", True),
        ("0003_three", True),
    ]


def test_psql_runner_stops_at_a_failing_migration(empty_db_url: str, tmp_path: Path) -> None:
    migrations = write(
        tmp_path / "m",
        {
            "0001_one.sql": record("0001", "one") + "create table one (x int);",
            "0002_two.sql": record("0002", "two") + "create table two (x int);\nselect 1 / 0;",
        },
    )
    result = run_install(empty_db_url, migrations)
    assert result.returncode != 0
    assert result.stdout.splitlines() == ["applied 0001_one"]
    assert "division by zero" in result.stderr
    assert tables(empty_db_url) == {"goodjob_migrations", "one"}


def test_a_migration_must_record_itself(empty_db_url: str, tmp_path: Path) -> None:
    migrations = write(tmp_path / "m", {"0001_forgetful.sql": "create table forgetful (x int);"})
    with pytest.raises(MigrationError, match="did not insert its row into goodjob_migrations"):
        apply_migrations(empty_db_url, migrations)
    result = run_install(empty_db_url, migrations)
    assert result.returncode != 0
    assert "must insert its own row into goodjob_migrations" in result.stderr
    assert tables(empty_db_url) == set()


@pytest.mark.parametrize(
    ("files", "message"),
    [
        ({"1_short.sql": ""}, "bad migration file name '1_short.sql'"),
        ({"0001_Upper.sql": ""}, "bad migration file name '0001_Upper.sql'"),
        ({"0001_a.sql": "", "0001_b.sql": ""}, "two migrations have version 0001"),
    ],
)
def test_misnamed_migrations_are_refused(
    tmp_path: Path, files: dict[str, str], message: str
) -> None:
    with pytest.raises(MigrationError, match=message):
        find_migrations(write(tmp_path / "m", files))


def test_migrations_from_a_fixture_directory(empty_db_url: str, tmp_path: Path) -> None:
    migrations = write(tmp_path / "m", {"0001_one.sql": record("0001", "one")})
    assert install(empty_db_url, migrations).stdout == "applied 0001_one\nschema is up to date\n"
    write(migrations, {"0002_two.sql": record("0002", "two")})
    assert apply_migrations(empty_db_url, migrations) == [("0001_one", False), ("0002_two", True)]


def test_an_unreachable_database_is_a_migration_error() -> None:
    with pytest.raises(MigrationError, match="cannot connect to the database"):
        apply_migrations(url_for("goodjob_no_such_database"))


def test_drop_database_ends_open_connections() -> None:
    name = f"{SESSION_DB}_drop_probe"
    drop_database(name)
    create_database(name)
    leaked = psycopg.connect(url_for(name))
    try:
        drop_database(name)
        with psycopg.connect(url_for("postgres")) as conn:
            row = conn.execute("select count(*) from pg_database where datname = %s", (name,))
            assert row.fetchone() == (0,)
    finally:
        leaked.close()
