"""Read ``settings.GOODJOB`` and ``settings.DATABASES`` and configure the App."""

from __future__ import annotations

import functools
import importlib
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from django.conf import settings
from django.db import connections
from psycopg.conninfo import make_conninfo

from ...jobs import Job
from ...registry import App

__all__ = ["configure", "database_alias", "database_url", "get_app", "goodjob_settings"]

_KEYS = {"APP", "DATABASE", "DATABASE_URL", "USE_DJANGO_CONNECTION", "TASK_MODULES", "WORKER"}


def goodjob_settings() -> dict[str, Any]:
    """``settings.GOODJOB`` (empty if unset); unknown keys are an error, to catch typos."""
    value: dict[str, Any] = dict(getattr(settings, "GOODJOB", {}) or {})
    unknown = set(value) - _KEYS
    if unknown:
        raise ValueError(
            f"unknown GOODJOB setting(s) {', '.join(sorted(unknown))};"
            f" known: {', '.join(sorted(_KEYS))}"
        )
    return value


def get_app() -> App:
    """The App named by ``GOODJOB["APP"]`` (``"module:attribute"``), else the default one."""
    spec = goodjob_settings().get("APP")
    if spec is None:
        from . import app

        return app
    module, _, attribute = str(spec).partition(":")
    found = getattr(importlib.import_module(module), attribute or "app")
    if not isinstance(found, App):
        raise TypeError(f"GOODJOB['APP'] = {spec!r} is not a goodjob_pg App")
    return found


def database_alias() -> str:
    """The ``DATABASES`` alias of the jobs database: ``GOODJOB["DATABASE"]``, else ``default``."""
    return str(goodjob_settings().get("DATABASE", "default"))


def database_url(alias: str | None = None) -> str:
    """A libpq conninfo for a ``DATABASES`` entry (or ``GOODJOB["DATABASE_URL"]`` if set)."""
    explicit = goodjob_settings().get("DATABASE_URL")
    if explicit:
        return str(explicit)
    entry = settings.DATABASES[alias or database_alias()]
    if "postgresql" not in entry.get("ENGINE", ""):
        raise ValueError(f"goodjob-pg needs a PostgreSQL database, not {entry.get('ENGINE')!r}")
    params = {
        "dbname": entry.get("NAME"),
        "user": entry.get("USER"),
        "password": entry.get("PASSWORD"),
        "host": entry.get("HOST"),
        "port": entry.get("PORT"),
    }
    options = {k: v for k, v in entry.get("OPTIONS", {}).items() if isinstance(v, str | int)}
    return make_conninfo("", **{k: v for k, v in {**params, **options}.items() if v})


def configure(app: App) -> None:
    """Give ``app`` the jobs database and, unless disabled, Django's connection for enqueue.

    In inline mode a job enqueued inside ``transaction.atomic()`` runs when
    the outermost block commits (never, if it rolls back). Each job also runs
    between two ``close_old_connections`` (as a request
    does), so worker threads do not keep stale or obsolete connections.
    """
    config = goodjob_settings()
    alias = database_alias()
    if not app.database_url:
        app.database_url = database_url(alias)
    if config.get("USE_DJANGO_CONNECTION", True) and app.enqueue_connection is None:
        app.enqueue_connection = functools.partial(_django_connection, app, alias)
    if app.around_job is None:
        app.around_job = django_job


def _django_connection(app: App, alias: str) -> Any:
    """Django's connection for an enqueue; in inline mode, run the job when atomic() commits."""
    connection = connections[alias]
    if app.execution_mode == "inline" and connection.in_atomic_block:
        # The inline runner's own connection sees the job only after the commit.
        connection.on_commit(app.perform_inline)
    return connection


@contextmanager
def django_job(job: Job) -> Iterator[None]:
    """Close this thread's unusable or obsolete Django connections before and after a job."""
    _close_old_connections()
    try:
        yield
    finally:
        _close_old_connections()


def _close_old_connections() -> None:
    # django.db.close_old_connections, but never inside an atomic block (a
    # drain() called inside a test's transaction must not end it).
    for conn in connections.all(initialized_only=True):
        if not conn.in_atomic_block:
            conn.close_if_unusable_or_obsolete()
