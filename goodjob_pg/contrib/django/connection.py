"""Django's own database connection as a psycopg connection, inside its transaction."""

from __future__ import annotations

from typing import Any

import psycopg

__all__ = ["psycopg_connection"]


def psycopg_connection(connection: Any) -> psycopg.Connection[Any]:
    """The psycopg 3 connection under a Django connection (``django.db.connection``).

    Inside ``transaction.atomic()`` it is in Django's transaction, so a job
    written on it commits or rolls back with the block; outside one it is in
    autocommit, as every Django query is. Raises TypeError for a backend
    other than PostgreSQL on psycopg 3.
    """
    if getattr(connection, "vendor", None) != "postgresql":
        raise TypeError(
            f"goodjob-pg needs a PostgreSQL database, not {getattr(connection, 'vendor', '?')}"
        )
    connection.ensure_connection()
    raw = connection.connection
    if not isinstance(raw, psycopg.Connection):
        raise TypeError(
            "goodjob-pg enqueues through psycopg 3: install psycopg (Django 4.2+ then uses it),"
            f" not {type(raw).__module__}"
        )
    return raw
