"""Apply goodjob-pg's SQL migrations from Python.

This is the runner behind ``goodjob-pg migrate`` and the test fixtures. It
follows the same protocol as ``sql/install.sh`` (psql), so the two can run at
the same time against the same database:

1. The server must be PostgreSQL 13 or newer.
2. Files named ``NNNN_description.sql`` are applied in order, each in its own
   transaction, which first takes ``pg_advisory_xact_lock(1735028839, 0)``
   (namespace ``'gjpg'``, key 0 = migrations) and creates
   ``goodjob_migrations`` if it is missing.
3. A version already in ``goodjob_migrations`` is skipped. Otherwise the file
   runs; its first statement inserts its own row, so the runner never does.

With ``schema=`` the runner creates that schema if it is missing and installs
there (``goodjob_migrations`` included); without, the install goes to the
first schema of the connection's search_path, normally ``public``. The
migration lock is the same for every schema of a database: migrations of two
installs take turns, which is harmless.

The migration files ship inside the wheel as package data
(``goodjob_pg/_sql/migrations``); in a source checkout they are read from
``<repo>/sql/migrations``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psycopg
from psycopg import errors as pg_errors
from psycopg import sql
from psycopg.pq import TransactionStatus

from .schemas import check_schema

__all__ = [
    "LOCK_KEY",
    "LOCK_NAMESPACE",
    "MIN_SERVER_VERSION_NUM",
    "Migration",
    "MigrationError",
    "apply_migrations",
    "check_server_version",
    "find_migrations",
    "migrations_directory",
    "pending_migrations",
]

LOCK_NAMESPACE = 1735028839  # int.from_bytes(b"gjpg")
LOCK_KEY = 0  # migrations
MIN_SERVER_VERSION_NUM = 130000

_FILE_NAME = re.compile(r"^(?P<version>\d{4})_(?P<name>[a-z0-9_]+)\.sql$")

_LOCK_SQL = b"select pg_advisory_xact_lock(1735028839, 0)"
_CREATE_TABLE_SQL = b"""\
create table if not exists goodjob_migrations (
    version text primary key,
    name text not null,
    applied_at timestamptz not null default now()
)"""


class MigrationError(Exception):
    """A migration could not be applied, or the server cannot run goodjob-pg."""


@dataclass(frozen=True)
class Migration:
    """One migration file.

    :param version: the four-digit version, e.g. ``"0001"``.
    :param name: the description part of the file name, e.g. ``"core"``.
    :param path: where the file is.
    """

    version: str
    name: str
    path: Path

    @property
    def full_name(self) -> str:
        """The file name without ``.sql``, e.g. ``"0001_core"``."""
        return f"{self.version}_{self.name}"


def migrations_directory() -> Path:
    """Return the directory holding the migration files.

    The installed package data wins; a source or editable checkout falls back
    to ``<repo>/sql/migrations``.
    """
    here = Path(__file__).resolve().parent
    packaged = here / "_sql" / "migrations"
    if packaged.is_dir():
        return packaged
    source = here.parent / "sql" / "migrations"
    if source.is_dir():
        return source
    raise MigrationError(
        f"cannot find the migration files: neither {packaged} nor {source} is a directory"
    )


def find_migrations(directory: Path | str | None = None) -> list[Migration]:
    """List the migrations in a directory, ordered by version.

    :param directory: where to look; defaults to :func:`migrations_directory`.
    :raises MigrationError: a ``.sql`` file is misnamed or a version repeats.
    """
    root = Path(directory) if directory is not None else migrations_directory()
    found: dict[str, Migration] = {}
    for path in sorted(root.glob("*.sql")):
        match = _FILE_NAME.match(path.name)
        if match is None:
            raise MigrationError(
                f"bad migration file name {path.name!r}: expected NNNN_description.sql"
            )
        version = match["version"]
        if version in found:
            raise MigrationError(
                f"two migrations have version {version}: {found[version].path.name} and {path.name}"
            )
        found[version] = Migration(version, match["name"], path)
    return [found[version] for version in sorted(found)]


def check_server_version(server_version_num: int, server_version: str) -> None:
    """Fail unless the server is PostgreSQL 13 or newer.

    :param server_version_num: ``current_setting('server_version_num')``, e.g. 150020.
    :param server_version: ``current_setting('server_version')``, e.g. ``"15.20"``.
    :raises MigrationError: the server is too old.
    """
    if server_version_num < MIN_SERVER_VERSION_NUM:
        raise MigrationError(
            f"goodjob-pg needs PostgreSQL 13 or newer; this server is {server_version}"
        )


def apply_migrations(
    conninfo: str | psycopg.Connection[Any],
    directory: Path | str | None = None,
    *,
    schema: str | None = None,
) -> list[tuple[str, bool]]:
    """Apply every migration not yet applied, in order, one transaction each.

    Safe to run from several processes at once, and alongside ``sql/install.sh``.

    :param conninfo: a libpq URL or key=value string, or an open psycopg
        connection (left open). On a connection that is not autocommit the
        migrations run inside its transaction, one savepoint each, and commit
        with it (what Alembic and Django migrations need).
    :param directory: the migration files; defaults to the packaged ones.
    :param schema: install into this schema (created if missing); on a
        caller's connection the search_path is set for its transaction only.
    :returns: one ``(version_name, applied_now)`` pair per migration file, e.g.
        ``[("0001_core", True)]``; ``applied_now`` is false when it was
        already applied.
    :raises MigrationError: the server is too old, a file is misnamed, or a
        migration failed (the database error is chained).
    :raises InvalidSchemaError: ``schema`` is not a lowercase SQL name of 1
        to 55 characters.
    """
    migrations = find_migrations(directory)
    if schema is not None:
        check_schema(schema)
    if isinstance(conninfo, psycopg.Connection):
        conn = conninfo
        if not conn.autocommit and conn.info.transaction_status == TransactionStatus.IDLE:
            conn.execute("select 1")  # open the caller's transaction, so ours are savepoints
        _check_server(conn)
        _enter_schema(conn, schema, local=not conn.autocommit)
        return [(m.full_name, _apply_one(conn, m)) for m in migrations]
    with _connect(conninfo) as conn:
        _check_server(conn)
        _enter_schema(conn, schema, local=False)
        return [(m.full_name, _apply_one(conn, m)) for m in migrations]


def _enter_schema(conn: psycopg.Connection[Any], schema: str | None, *, local: bool) -> None:
    """Create ``schema`` if missing and make it the whole search_path."""
    if schema is None:
        return
    try:
        conn.execute(sql.SQL("create schema if not exists {}").format(sql.Identifier(schema)))
        conn.execute(
            "select pg_catalog.set_config('search_path', pg_catalog.quote_ident(%s), %s)",
            (schema, local),
        )
    except psycopg.Error as exc:
        raise MigrationError(f"cannot use schema {schema!r}: {exc}") from exc


def pending_migrations(
    conninfo: str, directory: Path | str | None = None, *, schema: str | None = None
) -> list[str]:
    """Return the names (``"0001_core"``) of the migrations not yet applied.

    :param conninfo: a libpq URL or key=value string.
    :param directory: the migration files; defaults to the packaged ones.
    :param schema: the install's schema; default: the search_path's first.
    """
    migrations = find_migrations(directory)
    table = (
        "goodjob_migrations" if schema is None else f'"{check_schema(schema)}".goodjob_migrations'
    )
    with _connect(conninfo) as conn:
        _check_server(conn)
        exists = conn.execute("select to_regclass(%s) is not null", (table,)).fetchone()
        applied: set[str] = set()
        if exists and exists[0]:
            rows = conn.execute(sql.SQL("select version from {}").format(sql.SQL(table)))
            applied = {str(row[0]) for row in rows}
    return [m.full_name for m in migrations if m.version not in applied]


def _connect(conninfo: str) -> psycopg.Connection[Any]:
    try:
        return psycopg.connect(conninfo, autocommit=True)
    except psycopg.Error as exc:
        raise MigrationError(f"cannot connect to the database: {exc}") from exc


def _check_server(conn: psycopg.Connection[Any]) -> None:
    row = conn.execute(
        "select current_setting('server_version_num')::int, current_setting('server_version')"
    ).fetchone()
    assert row is not None
    version_num, version = row
    assert isinstance(version_num, int) and isinstance(version, str)
    check_server_version(version_num, version)


def _apply_one(conn: psycopg.Connection[Any], migration: Migration) -> bool:
    """Apply one migration in its own transaction; return False if it was already applied."""
    body = migration.path.read_bytes()
    try:
        with conn.transaction():
            conn.execute(_LOCK_SQL)
            conn.execute(_CREATE_TABLE_SQL)
            if _is_applied(conn, migration.version):
                return False
            conn.execute(body)
            if not _is_applied(conn, migration.version):
                raise MigrationError(
                    f"migration {migration.full_name} did not insert its row into "
                    f"goodjob_migrations (its first statement must be: insert into "
                    f"goodjob_migrations (version, name) values "
                    f"('{migration.version}', '{migration.name}');)"
                )
    except pg_errors.UniqueViolation as exc:
        # Another runner applied it first (only possible without the advisory
        # lock, e.g. an older runner): the version is there, so it is done.
        if exc.diag.table_name == "goodjob_migrations":
            return False
        raise MigrationError(f"migration {migration.full_name} failed: {exc}") from exc
    except psycopg.Error as exc:
        raise MigrationError(f"migration {migration.full_name} failed: {exc}") from exc
    return True


def _is_applied(conn: psycopg.Connection[Any], version: str) -> bool:
    row = conn.execute(
        "select exists (select 1 from goodjob_migrations where version = %s)", (version,)
    ).fetchone()
    return bool(row and row[0])
