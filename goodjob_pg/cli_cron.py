"""``goodjob-pg cron list|enable|disable|run``: manage cron entries stored in the database.

Entries are written to goodjob_cron_entries by every worker started with
``--enable-cron`` (and by these commands when given ``--app``). Enabling and
disabling are stored there, so they hold for every process and restart.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import click

from . import db
from .cli_common import (
    connect,
    database_option,
    echo_json,
    format_table,
    json_option,
    load_app,
    log_level_option,
    resolve_database_url,
)
from .cron import CronEntry, check_expression, define_entries
from .errors import CronConfigError
from .registry import App

__all__ = ["cron"]

_COLUMNS = ("key", "schedule", "task", "state", "next_run", "last_run", "last_job_state")


def _app_option(f: Any) -> Any:
    return click.option(
        "--app",
        "app_spec",
        envvar="GOODJOB_APP",
        show_envvar=True,
        metavar="MODULE:ATTR",
        help="Also write this App's cron entries first (and compute their arguments).",
    )(f)


def _next_run(row: dict[str, Any], entries: dict[str, CronEntry], now: datetime) -> Any:
    """When the entry runs next: from its expression, else what a scheduler recorded."""
    entry = entries.get(row["key"])
    if entry is None:
        try:  # an entry defined from SQL may hold any text as its schedule
            check_expression(row["key"], row["schedule"])
        except CronConfigError:
            return row["next_run_at"]
        entry = CronEntry(key=row["key"], cron=row["schedule"], task=row["task"])
    if isinstance(entry.cron, str):
        return entry.next_after(None, now)
    return row["next_run_at"]


def _open(app_spec: str | None, database_url: str | None) -> tuple[App | None, str]:
    app = load_app(app_spec) if app_spec else None
    return app, resolve_database_url(database_url, app)


@click.group()
def cron() -> None:
    """List, enable, disable and run cron entries."""


@cron.command("list")
@_app_option
@json_option
@database_option
@log_level_option("warning")
def list_entries(app_spec: str | None, json: bool, database_url: str | None) -> None:
    """Show each entry's schedule, next run, last run and state."""
    app, url = _open(app_spec, database_url)
    entries = app.cron_entries() if app is not None else {}
    with connect(url) as conn:
        if entries:
            define_entries(conn, entries)
        rows = db.cron_status(conn)
    now = datetime.now(UTC)
    for row in rows:
        row["next_run_at"] = _next_run(row, entries, now) if row["enabled"] else None
    if json:
        echo_json(rows)
        return
    if not rows:
        click.echo("no cron entries (a worker started with --enable-cron defines them)")
        return
    table = [
        [
            r["key"],
            r["schedule"],
            r["task"],
            "enabled" if r["enabled"] else "disabled",
            r["next_run_at"],
            r["last_run_at"],
            r["last_job_state"],
        ]
        for r in rows
    ]
    click.echo(format_table(_COLUMNS, table))


def _switch(enabled: bool) -> click.Command:
    verb = "enable" if enabled else "disable"

    @click.argument("key")
    @database_option
    @log_level_option("warning")
    def command(key: str, database_url: str | None) -> None:
        with connect(resolve_database_url(database_url, None)) as conn:
            db.set_cron_entry_enabled(conn, key, enabled)
        click.echo(f"{verb}d {key!r}")

    command.__doc__ = (
        f"{verb.capitalize()} the entry KEY for every process (stored in the database)."
    )
    return click.command(verb)(command)


cron.add_command(_switch(True))
cron.add_command(_switch(False))


@cron.command("run")
@click.argument("key")
@_app_option
@database_option
@log_level_option("warning")
def run_now(key: str, app_spec: str | None, database_url: str | None) -> None:
    """Enqueue the entry KEY now, outside its schedule, and print the job id.

    With --app, its arguments and options are computed by the App's entry
    (needed when they are callables); otherwise the stored values are used.
    """
    app, url = _open(app_spec, database_url)
    entries = app.cron_entries() if app is not None else {}
    with connect(url) as conn:
        entry = entries.get(key)
        if entry is None:
            click.echo(db.run_cron_entry(conn, key))
            return
        define_entries(conn, {key: entry})
        values = entry.values()
        click.echo(
            db.run_cron_entry(
                conn,
                key,
                args=values.args,
                kwargs=values.kwargs,
                queue=values.queue,
                priority=values.priority,
                labels=values.labels,
            )
        )
