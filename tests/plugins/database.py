"""Database fixtures: every test gets its own fresh, fully migrated database.

The tests use the running server (127.0.0.1:5432, user postgres, trust auth);
set ``GOODJOB_TEST_PGHOST``, ``GOODJOB_TEST_PGPORT`` or ``GOODJOB_TEST_PGUSER``
to point elsewhere.

Once per session, pytest-postgresql's ``postgresql_noproc`` fixture creates a
template database and loads every migration into it with
:func:`goodjob_pg.migrations.apply_migrations`. Each test that asks for a
database gets a clone of it (``create database ... template ...``, which is
fast) under a name unique to that test and session, so several pytest
sessions can share one server. Databases are dropped ``with (force)`` at
teardown, so a connection left open (say by a killed worker subprocess) does
not break it. Databases left behind by a session that died are dropped when
the next session starts.

Fixtures:

- ``db_url``: libpq URL of a fresh, migrated database unique to this test.
- ``db_conn``: an autocommit ``psycopg.Connection`` to it, closed afterwards.
- ``db_connect``: a callable that opens more autocommit connections to it
  (keyword arguments go to ``psycopg.connect``); all closed afterwards.
- ``empty_db_url``: libpq URL of a fresh database with no migrations applied.
- ``template_db_url``: the session's migrated template (do not connect to it
  from a test: a connection there blocks cloning).
- ``pg_server``: the session's ``NoopExecutor`` (host, port, user).
"""

from __future__ import annotations

import itertools
import os
import re
import socket
from collections.abc import Callable, Iterator
from typing import Any

import psycopg
import pytest
from psycopg import sql
from pytest_postgresql import factories
from pytest_postgresql.executors import NoopExecutor

from goodjob_pg.migrations import apply_migrations

PGHOST = os.environ.get("GOODJOB_TEST_PGHOST", "127.0.0.1")
PGPORT = int(os.environ.get("GOODJOB_TEST_PGPORT", "5432"))
PGUSER = os.environ.get("GOODJOB_TEST_PGUSER", "postgres")
MAINTENANCE_DB = "postgres"

# gjt_<host>_<pid>: unique per live pytest process on this host; the pid lets
# a later session find and drop what a dead one left behind.
_HOST_TAG = re.sub(r"[^a-z0-9]", "", socket.gethostname().lower())[:12] or "host"
_PREFIX = "gjt_"
SESSION_DB = f"{_PREFIX}{_HOST_TAG}_{os.getpid()}"
_STALE = re.compile(rf"^{_PREFIX}{_HOST_TAG}_(\d+)(_.*)?$")

_counter = itertools.count(1)


def url_for(dbname: str) -> str:
    """Return the libpq URL of a database on the test server."""
    return f"postgresql://{PGUSER}@{PGHOST}:{PGPORT}/{dbname}"


def _admin() -> psycopg.Connection[tuple[Any, ...]]:
    return psycopg.connect(url_for(MAINTENANCE_DB), autocommit=True)


def drop_database(dbname: str) -> None:
    """Drop a database, ending any session still connected to it."""
    name = sql.Identifier(dbname)
    with _admin() as conn:
        if not _exists(conn, dbname):
            return
        try:  # a template cannot be dropped
            conn.execute(sql.SQL("alter database {} with is_template false").format(name))
        except psycopg.errors.InvalidCatalogName:
            return  # dropped meanwhile (another session cleaning up)
        conn.execute(sql.SQL("drop database if exists {} with (force)").format(name))


def create_database(dbname: str, template: str | None = None) -> None:
    """Create a database, optionally as a copy of ``template``."""
    query = sql.SQL("create database {}").format(sql.Identifier(dbname))
    if template is not None:
        query += sql.SQL(" template {}").format(sql.Identifier(template))
    with _admin() as conn:
        conn.execute(query)


def _exists(conn: psycopg.Connection[tuple[Any, ...]], dbname: str) -> bool:
    return (
        conn.execute("select 1 from pg_database where datname = %s", (dbname,)).fetchone()
        is not None
    )


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _drop_stale_databases() -> None:
    """Drop test databases whose pytest process (on this host) is gone."""
    with _admin() as conn:
        names = [
            row[0]
            for row in conn.execute(
                "select datname from pg_database where datname like %s", (f"{_PREFIX}%",)
            )
        ]
    for name in names:
        match = _STALE.match(name)
        if match and int(match[1]) != os.getpid() and not _pid_alive(int(match[1])):
            drop_database(name)


def _load_migrations(*, host: str, port: int | str, user: str, dbname: str, **_: Any) -> None:
    """pytest-postgresql loader: apply all migrations to the template."""
    _drop_stale_databases()
    apply_migrations(f"postgresql://{user}@{host}:{port}/{dbname}")


# Session scoped: creates (and at the end drops) f"{SESSION_DB}_tmpl".
pg_server = factories.postgresql_noproc(
    host=PGHOST,
    port=PGPORT,
    user=PGUSER,
    dbname=SESSION_DB,
    maintenance_dbname=MAINTENANCE_DB,
    load=[_load_migrations],
)


@pytest.fixture(scope="session")
def template_db_url(pg_server: NoopExecutor) -> str:
    """URL of this session's migrated template database."""
    return url_for(pg_server.template_dbname)


def _fresh_database(template: str | None) -> Iterator[str]:
    dbname = f"{SESSION_DB}_{next(_counter)}"
    create_database(dbname, template)
    try:
        yield url_for(dbname)
    finally:
        drop_database(dbname)


@pytest.fixture
def db_url(pg_server: NoopExecutor) -> Iterator[str]:
    """URL of a fresh, fully migrated database unique to this test."""
    yield from _fresh_database(pg_server.template_dbname)


@pytest.fixture
def empty_db_url(pg_server: NoopExecutor) -> Iterator[str]:
    """URL of a fresh database with no migrations applied, unique to this test."""
    yield from _fresh_database(None)


@pytest.fixture
def db_connect(db_url: str) -> Iterator[Callable[..., psycopg.Connection[tuple[Any, ...]]]]:
    """A callable opening new autocommit connections to ``db_url``; all closed afterwards."""
    opened: list[psycopg.Connection[tuple[Any, ...]]] = []

    def connect(**kwargs: Any) -> psycopg.Connection[tuple[Any, ...]]:
        kwargs.setdefault("autocommit", True)
        conn = psycopg.connect(db_url, **kwargs)
        opened.append(conn)
        return conn

    yield connect
    for conn in opened:
        conn.close()


@pytest.fixture
def db_conn(
    db_connect: Callable[..., psycopg.Connection[tuple[Any, ...]]],
) -> psycopg.Connection[tuple[Any, ...]]:
    """An autocommit connection to ``db_url``, closed after the test."""
    return db_connect()
