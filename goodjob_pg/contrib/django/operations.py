"""The Django migration operation that applies goodjob-pg's SQL migration files."""

from __future__ import annotations

from typing import Any

from django.db import migrations

from ...migrations import apply_migrations
from .connection import psycopg_connection

__all__ = ["ApplySqlMigrations"]


def _apply(apps: Any, schema_editor: Any) -> None:
    # Inside the Django migration's transaction: the SQL files commit with it,
    # into the schema of the configured App (App(schema=) or GOODJOB_SCHEMA).
    from .settings import get_app

    apply_migrations(psycopg_connection(schema_editor.connection), schema=get_app().schema)


class ApplySqlMigrations(migrations.RunPython):
    """Apply the pending SQL migrations (idempotent; reversing it does nothing)."""

    def __init__(self) -> None:
        super().__init__(_apply, migrations.RunPython.noop, elidable=False)

    def deconstruct(self) -> tuple[str, list[Any], dict[str, Any]]:
        """Serialise as ``ApplySqlMigrations()`` (makemigrations)."""
        return (f"{__name__}.ApplySqlMigrations", [], {})
