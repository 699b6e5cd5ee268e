"""Installs in a named schema: checking the name, and pointing connections at it.

An App with ``schema="jobs"`` (or ``GOODJOB_SCHEMA=jobs``) opens every
connection of its own with ``options=-c search_path="jobs"``
(:func:`with_schema`), so the unqualified ``goodjob_*`` names in every
statement find that install. A connection the caller passes in
(``connection=``, ``enqueue_connection``) keeps its own search_path: our
statements run inside :func:`scoped_search_path`, which sets it for the
transaction, runs them and puts the caller's value back.

Schema names are lowercase SQL names so that they need no quoting in a
conninfo, ``PGOPTIONS`` or psql, and at most 55 bytes so that the install's
NOTIFY channel ``goodjob_<schema>`` fits in PostgreSQL's 63 bytes.
"""

from __future__ import annotations

import os
import re
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from typing import Any

import psycopg
from psycopg.conninfo import conninfo_to_dict, make_conninfo
from psycopg.pq import TransactionStatus

from .errors import InvalidSchemaError

__all__ = [
    "MAX_SCHEMA_LENGTH",
    "SCHEMA_ENV",
    "ascoped_search_path",
    "check_schema",
    "env_schema",
    "scoped_search_path",
    "with_schema",
]

SCHEMA_ENV = "GOODJOB_SCHEMA"
MAX_SCHEMA_LENGTH = 55  # len("goodjob_") + 55 = 63, the longest NOTIFY channel
_NAME = re.compile(r"[a-z_][a-z0-9_]*")

# Read the caller's search_path, then set ours for the rest of the transaction.
_ENTER = (
    "with old as materialized (select pg_catalog.current_setting('search_path') as path)"
    " select old.path, pg_catalog.set_config('search_path', %s, true) from old"
)
_RESTORE = "select pg_catalog.set_config('search_path', %s, true)"


def check_schema(name: object) -> str:
    """Return ``name`` if it can hold a goodjob-pg install, else raise InvalidSchemaError.

    :param name: a lowercase SQL name (``a-z``, ``0-9``, ``_``, not starting
        with a digit or ``pg_``) of 1 to 55 characters.
    """
    if (
        not isinstance(name, str)
        or not _NAME.fullmatch(name)
        or len(name) > MAX_SCHEMA_LENGTH
        or name.startswith("pg_")
    ):
        raise InvalidSchemaError(
            f"invalid schema {name!r}: expected a lowercase SQL name (a-z, 0-9, _) of 1 to"
            f" {MAX_SCHEMA_LENGTH} characters, not starting with a digit or pg_"
        )
    return name


def env_schema() -> str | None:
    """``GOODJOB_SCHEMA`` if it is set and not empty (checked), else None."""
    value = os.environ.get(SCHEMA_ENV)
    return check_schema(value) if value else None


def with_schema(conninfo: str, schema: str | None) -> str:
    """``conninfo`` with ``-c search_path="<schema>"`` added to its options (unchanged for None).

    :param conninfo: a libpq URL or key=value string ("" for libpq's defaults).
    :param schema: a name accepted by :func:`check_schema`, or None.
    """
    if schema is None:
        return conninfo
    option = f'-c search_path="{check_schema(schema)}"'
    extra = conninfo_to_dict(conninfo).get("options")
    return make_conninfo(conninfo, options=f"{extra} {option}" if extra else option)


def _path(schema: str) -> str:
    return f'"{check_schema(schema)}"'


@contextmanager
def scoped_search_path(conn: psycopg.Connection[Any], schema: str) -> Iterator[None]:
    """Run the block with ``search_path`` set to ``schema``, then restore the caller's.

    Inside the caller's open transaction the setting is transaction-local and
    put back afterwards; an idle autocommit connection gets a transaction of
    its own around the block. If the block fails, the transaction is aborted
    and its rollback restores the setting.
    """
    own = conn.autocommit and conn.info.transaction_status == TransactionStatus.IDLE
    if own:
        with conn.transaction():
            conn.execute(_RESTORE, (_path(schema),))
            yield
        return
    row = conn.execute(_ENTER, (_path(schema),)).fetchone()
    assert row is not None
    yield
    conn.execute(_RESTORE, (row[0],))


@asynccontextmanager
async def ascoped_search_path(
    conn: psycopg.AsyncConnection[Any], schema: str
) -> AsyncIterator[None]:
    """:func:`scoped_search_path` for an async connection."""
    own = conn.autocommit and conn.info.transaction_status == TransactionStatus.IDLE
    if own:
        async with conn.transaction():
            await conn.execute(_RESTORE, (_path(schema),))
            yield
        return
    cur = await conn.execute(_ENTER, (_path(schema),))
    row = await cur.fetchone()
    assert row is not None
    yield
    await conn.execute(_RESTORE, (row[0],))
