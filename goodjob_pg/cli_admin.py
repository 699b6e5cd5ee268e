"""Operator commands: status, cleanup, pause and resume (job commands: :mod:`.cli_jobs`).

Each is a thin wrapper over one goodjob_* SQL function (through
:mod:`goodjob_pg.db`); errors are turned into one line by the group in
:mod:`goodjob_pg.cli`.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

import click

from . import db
from .cli_common import (
    connect,
    database_option,
    echo_json,
    format_cell,
    format_table,
    json_option,
    log_level_option,
    resolve_database_url,
)

__all__ = ["ADMIN_COMMANDS"]

_STATUS_COLUMNS = (
    "queue",
    "scheduled",
    "queued",
    "running",
    "retrying",
    "discarded",
    "succeeded_last_hour",
    "oldest_ready_age",
    "paused",
)

_BATCH_COLUMNS = (
    "id",
    "state",
    "jobs",
    "pending",
    "succeeded",
    "discarded",
    "callbacks_pending",
    "created_at",
    "description",
)


def _url(database_url: str | None) -> str:
    return resolve_database_url(database_url, None)


_KEY_COLUMNS = (
    "concurrency_key",
    "task",
    "scheduled",
    "queued",
    "running",
    "total_limit",
    "enqueue_limit",
    "perform_limit",
    "enqueue_throttle",
    "enqueued_in_period",
    "perform_throttle",
    "started_in_period",
)


def _key_rows(conn: db.Conn) -> list[dict[str, Any]]:
    """Active concurrency keys, each throttle shown as ``n/period``."""
    rows = db.concurrency_keys(conn)
    for row in rows:
        for side in ("enqueue", "perform"):
            limit = row.pop(f"{side}_throttle_limit")
            period = row.pop(f"{side}_throttle_period")
            row[f"{side}_throttle"] = None if limit is None else f"{limit}/{format_cell(period)}"
    return rows


def _echo_keys(conn: db.Conn, json: bool) -> None:
    rows = _key_rows(conn)
    if json:
        echo_json({"keys": rows})
    elif not rows:
        click.echo("no active concurrency keys")
    else:
        click.echo(format_table(_KEY_COLUMNS, [[row[c] for c in _KEY_COLUMNS] for row in rows]))


@click.command()
@click.option(
    "--keys",
    is_flag=True,
    envvar="GOODJOB_STATUS_KEYS",
    show_envvar=True,
    help="Show the active concurrency keys with their limits and counts instead.",
)
@json_option
@database_option
@log_level_option("warning")
def status(keys: bool, json: bool, database_url: str | None) -> None:
    """Per-queue counts, the age of the oldest ready job, and what is paused."""
    with connect(_url(database_url)) as conn:
        if keys:
            _echo_keys(conn, json)
            return
        stats = sorted(db.queue_stats(conn), key=lambda r: str(r["queue"]))
        paused = db.pauses(conn)
        batches = db.list_batches(conn, limit=10)
        notify_usage = db.notification_queue_usage(conn)
    if json:
        echo_json(
            {
                "queues": stats,
                "paused": [{"kind": k, "name": n} for k, n in paused],
                "batches": batches,
                "notify_queue_usage": notify_usage,
            }
        )
        return
    if not stats:
        click.echo("no queues yet")
    else:
        headers = [c for c in _STATUS_COLUMNS if c in stats[0]]
        headers += [c for c in stats[0] if c not in headers]
        click.echo(format_table(headers, [[row[c] for c in headers] for row in stats]))
    # Paused queues show in the table; tasks and labels (and unused queues) below it.
    listed = {str(row["queue"]) for row in stats}
    for kind in ("queue", "task", "label"):
        names = [n for k, n in paused if k == kind and not (kind == "queue" and n in listed)]
        if names:
            click.echo(f"paused {kind}s: {', '.join(names)}")
    if batches:  # the newest ten (goodjob_batch_status has them all)
        click.echo("batches:")
        click.echo(format_table(_BATCH_COLUMNS, [[b[c] for c in _BATCH_COLUMNS] for b in batches]))
    if notify_usage > 0:  # pg_notification_queue_usage(): a listener that falls behind fills it
        click.echo(f"NOTIFY queue in use: {notify_usage:.2%} (every NOTIFY fails when full)")


@click.command("cleanup-preserved-jobs")
@click.option(
    "--before-seconds-ago",
    type=click.FloatRange(min=0),
    default=1209600,
    show_default=True,
    envvar="GOODJOB_BEFORE_SECONDS_AGO",
    show_envvar=True,
    help="Delete finished jobs that finished longer ago than this.",
)
@click.option(
    "--include-discarded/--exclude-discarded",
    default=True,
    show_default=True,
    envvar="GOODJOB_INCLUDE_DISCARDED",
    show_envvar=True,
    help="Also delete discarded jobs, or only succeeded ones.",
)
@database_option
@log_level_option("warning")
def cleanup_preserved_jobs(
    before_seconds_ago: float, include_discarded: bool, database_url: str | None
) -> None:
    """Delete finished jobs (and their executions) older than a cut-off."""
    try:
        older_than = timedelta(seconds=before_seconds_ago)
    except OverflowError:  # inf, or over timedelta's 999,999,999 days
        raise click.BadParameter(
            f"{before_seconds_ago!r} is too large", param_hint="--before-seconds-ago"
        ) from None
    except ValueError:  # nan
        raise click.BadParameter(
            f"{before_seconds_ago!r} is not a number of seconds", param_hint="--before-seconds-ago"
        ) from None
    with connect(_url(database_url)) as conn:
        count = db.cleanup_preserved_jobs(conn, older_than, include_discarded)
    click.echo(f"deleted {count} job(s)")


def _pause_command(name: str, action: Callable[..., None], doc: str) -> click.Command:
    @click.option("--queue", help="A queue name.", show_envvar=True)
    @click.option("--task", help="A task name.", show_envvar=True)
    @click.option("--label", help="A label.", show_envvar=True)
    @database_option
    @log_level_option("warning")
    def command(
        queue: str | None, task: str | None, label: str | None, database_url: str | None
    ) -> None:
        if queue is None and task is None and label is None:
            raise click.UsageError("pass --queue, --task and/or --label")
        with connect(_url(database_url)) as conn:
            action(conn, queue=queue, task=task, label=label)
        targets = [
            f"{k} {v!r}" for k, v in (("queue", queue), ("task", task), ("label", label)) if v
        ]
        click.echo(f"{name}d {', '.join(targets)}")

    command.__doc__ = doc
    return click.command(name)(command)


pause = _pause_command("pause", db.pause, "Stop fetching jobs of a queue, a task or a label.")
resume = _pause_command("resume", db.resume, "Resume a paused queue, task or label.")

ADMIN_COMMANDS: tuple[click.Command, ...] = (
    status,
    cleanup_preserved_jobs,
    pause,
    resume,
)
