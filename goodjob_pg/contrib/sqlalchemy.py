"""SQLAlchemy: enqueue inside a ``Session``'s or ``Connection``'s transaction, and migrate.

Needs SQLAlchemy 2 with the psycopg 3 dialect (``postgresql+psycopg://...``)::

    with Session(engine) as session, session.begin():
        session.add(order)
        ship.options(connection=session).enqueue(order.id)   # commits with the order

The job is written on the psycopg connection underneath, in the same
transaction. A ``Connection`` that has not begun one is begun first (as its
own ``execute`` would), so ``conn.commit()`` commits the job.

:func:`apply_migrations` runs goodjob-pg's SQL migrations on a SQLAlchemy
connection, inside its transaction: the Alembic recipe in the README calls it
from a revision's ``upgrade()`` with ``op.get_bind()``.
"""

from __future__ import annotations

from typing import Any

import psycopg

from .. import migrations

__all__ = ["apply_migrations", "async_psycopg_connection", "psycopg_connection"]


def psycopg_connection(bind: object) -> psycopg.Connection[Any]:
    """The psycopg connection of a SQLAlchemy ``Session`` or ``Connection``, in its transaction.

    Raises TypeError for an ``Engine`` (it has no transaction to join) or a
    dialect other than ``postgresql+psycopg``.
    """
    from sqlalchemy.engine import Connection
    from sqlalchemy.orm import Session

    if isinstance(bind, Session):
        conn = bind.connection()
    elif isinstance(bind, Connection):
        conn = bind
    else:
        raise TypeError(
            f"expected a SQLAlchemy Session or Connection (an Engine has no transaction"
            f" to join: use engine.begin()), not {type(bind).__qualname__}"
        )
    if not conn.in_transaction():
        conn.begin()
    driver = conn.connection.driver_connection
    if not isinstance(driver, psycopg.Connection):
        raise _not_psycopg(driver)
    return driver


async def async_psycopg_connection(bind: object) -> psycopg.AsyncConnection[Any]:
    """The psycopg ``AsyncConnection`` of a SQLAlchemy ``AsyncSession`` or ``AsyncConnection``."""
    from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

    if isinstance(bind, AsyncSession):
        conn = await bind.connection()
    elif isinstance(bind, AsyncConnection):
        conn = bind
    else:
        raise TypeError(
            f"expected a SQLAlchemy AsyncSession or AsyncConnection, not {type(bind).__qualname__}"
        )
    if not conn.in_transaction():
        await conn.begin()
    driver = (await conn.get_raw_connection()).driver_connection
    if not isinstance(driver, psycopg.AsyncConnection):
        raise _not_psycopg(driver)
    return driver


def apply_migrations(bind: object, *, schema: str | None = None) -> list[tuple[str, bool]]:
    """Apply goodjob-pg's pending SQL migrations inside ``bind``'s transaction.

    ``bind`` is a SQLAlchemy ``Connection`` or ``Session`` (Alembic's
    ``op.get_bind()``); ``schema`` installs into that schema (created if
    missing; the search_path changes for the transaction only). Returns what
    :func:`goodjob_pg.migrations.apply_migrations` does.
    """
    return migrations.apply_migrations(psycopg_connection(bind), schema=schema)


def _not_psycopg(driver: object) -> TypeError:
    return TypeError(
        "goodjob-pg enqueues through psycopg 3: use the postgresql+psycopg dialect,"
        f" not a {type(driver).__module__} connection"
    )
