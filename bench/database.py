"""Fresh databases on the local server, created for one run and dropped after it.

Every database the harness makes is named ``goodjob_bench_<pid>_<purpose>``
and dropped (with force) when the run ends, also after an error or Ctrl-C.
goodjob-pg's schema is applied once to a template database and copied
(``CREATE DATABASE ... TEMPLATE``), so each scenario starts from the same
clean, migrated state.
"""

from __future__ import annotations

import os
import platform
from collections.abc import Callable
from typing import Any

import psycopg
from psycopg import sql
from psycopg.conninfo import conninfo_to_dict, make_conninfo

__all__ = ["Databases", "connect", "server_facts"]

DEFAULT_SERVER = "postgresql://postgres@127.0.0.1:5432/postgres"

Conn = psycopg.Connection[Any]


def connect(url: str) -> Conn:
    """An autocommit connection to ``url``."""
    return psycopg.connect(url, autocommit=True)


class Databases:
    """Creates and drops the run's databases.

    :param server: a URL of the server (any existing database, e.g. ``postgres``).
    :param prefix: the name prefix; defaults to ``goodjob_bench_<pid>``.
    """

    def __init__(self, server: str | None = None, prefix: str | None = None) -> None:
        self.server = server or os.environ.get("BENCH_DATABASE_URL") or DEFAULT_SERVER
        self.prefix = prefix or f"goodjob_bench_{os.getpid()}"
        self._created: list[str] = []
        self._templates: dict[str, str] = {}

    def url(self, name: str) -> str:
        """The URL of database ``name`` on the server."""
        return make_conninfo(self.server, dbname=name)

    def create(self, purpose: str, *, template: str | None = None) -> str:
        """Create ``<prefix>_<purpose>`` (empty, or a copy of ``template``); return its URL."""
        name = f"{self.prefix}_{purpose}"
        with connect(self.url("postgres")) as conn:
            conn.execute(
                sql.SQL("drop database if exists {} with (force)").format(sql.Identifier(name))
            )
            if template is None:
                conn.execute(sql.SQL("create database {}").format(sql.Identifier(name)))
            else:
                conn.execute(
                    sql.SQL("create database {} template {}").format(
                        sql.Identifier(name), sql.Identifier(template)
                    )
                )
        self._created.append(name)
        return self.url(name)

    def from_template(self, purpose: str, kind: str, install: Callable[[str], None]) -> str:
        """A fresh database holding schema ``kind``, copied from a template installed once.

        :param kind: names the template (``goodjob``, ``procrastinate``, ...).
        :param install: applies the schema to a URL (called once per kind).
        """
        template = self._templates.get(kind)
        if template is None:
            url = self.create(f"tpl_{kind}")
            install(url)
            template = str(conninfo_to_dict(url)["dbname"])
            self._templates[kind] = template
        return self.create(purpose, template=template)

    def drop(self, url: str) -> None:
        """Drop one database made by :meth:`create` now (frees disk between scenarios)."""
        name = str(conninfo_to_dict(url)["dbname"])
        with connect(self.url("postgres")) as conn:
            conn.execute(
                sql.SQL("drop database if exists {} with (force)").format(sql.Identifier(name))
            )
        if name in self._created:
            self._created.remove(name)

    def drop_all(self) -> None:
        """Drop every database this run created (templates last)."""
        names = [n for n in reversed(self._created) if n not in self._templates.values()]
        names += list(self._templates.values())
        if not names:
            return
        with connect(self.url("postgres")) as conn:
            for name in names:
                conn.execute(
                    sql.SQL("drop database if exists {} with (force)").format(sql.Identifier(name))
                )
        self._created.clear()
        self._templates.clear()


_SETTINGS = (
    "server_version",
    "shared_buffers",
    "synchronous_commit",
    "fsync",
    "wal_level",
    "max_connections",
    "work_mem",
    "max_wal_size",
    "checkpoint_timeout",
    "autovacuum",
    "jit",
)


def server_facts(url: str) -> dict[str, Any]:
    """The server settings and machine facts a reader needs to judge the numbers."""
    with connect(url) as conn:
        settings = {
            name: conn.execute(sql.SQL("show {}").format(sql.Identifier(name))).fetchone()[0]  # type: ignore[index]
            for name in _SETTINGS
        }
    return {
        "postgres": settings,
        "cpus": os.cpu_count(),
        "cpu_model": _cpu_model(),
        "python": platform.python_version(),
        "platform": platform.platform(),
    }


def _cpu_model() -> str:
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor()
