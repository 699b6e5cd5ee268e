"""Job commands: list and show jobs; retry, discard and reschedule one job or many.

``retry``, ``discard`` and ``reschedule`` take a job ID, or a filter
(``--state``, ``--queue``, ``--task``, ``--label``) to act on every matching
job: they print how many match and ask before acting, unless ``--yes``. Each
job is changed by its own goodjob_* function call; a job that changed state
meanwhile is skipped and counted. Every command takes ``--json``.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any, TypeVar
from uuid import UUID

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
    parse_when,
    resolve_database_url,
    when_options,
)
from .errors import JobNotFoundError, JobStateError
from .jobs import Job, State

__all__ = ["JOB_COMMANDS"]

F = TypeVar("F", bound=Callable[..., Any])

_STATES = [s.value for s in State]
_LIST_COLUMNS = ("id", "task", "queue", "state", "attempts", "run_at", "labels", "last_error")


def _url(database_url: str | None) -> str:
    return resolve_database_url(database_url, None)


def _filter_options(f: F) -> F:
    for option in reversed(
        [
            click.option(
                "--state",
                "state",
                multiple=True,
                type=click.Choice(_STATES),
                help="Only jobs in this state (repeatable).",
                show_envvar=True,
            ),
            click.option("--queue", help="Only jobs of this queue.", show_envvar=True),
            click.option("--task", help="Only jobs of this task.", show_envvar=True),
            click.option("--label", help="Only jobs with this label.", show_envvar=True),
        ]
    ):
        f = option(f)
    return f


def _job_dict(job: Job) -> dict[str, Any]:
    return {k: (v.value if isinstance(v, State) else v) for k, v in dataclasses.asdict(job).items()}


def _short(text: str | None, width: int = 60) -> str | None:
    if text is None:
        return None
    line = " ".join(text.split())
    return line if len(line) <= width else line[: width - 1] + "…"


@click.command()
@_filter_options
@click.option(
    "--limit",
    type=click.IntRange(min=1),
    default=50,
    show_default=True,
    help="Most jobs shown, newest first.",
    show_envvar=True,
)
@json_option
@database_option
@log_level_option("warning")
def jobs(
    state: tuple[str, ...],
    queue: str | None,
    task: str | None,
    label: str | None,
    limit: int,
    json: bool,
    database_url: str | None,
) -> None:
    """List jobs, newest first, as a table."""
    where = db.JobFilter(states=state or None, queue=queue, task=task, label=label)
    with connect(_url(database_url)) as conn:
        found = db.find_jobs(conn, where, limit=limit)
    if json:
        echo_json([_job_dict(j) for j in found])
        return
    if not found:
        click.echo("no matching jobs")
        return
    rows = [
        [j.id, j.task, j.queue, j.state.value, j.attempts, j.run_at, j.labels, _short(j.last_error)]
        for j in found
    ]
    click.echo(format_table(_LIST_COLUMNS, rows))


@click.command()
@click.argument("job_id", metavar="ID", type=click.UUID)
@json_option
@database_option
@log_level_option("warning")
def job(job_id: UUID, json: bool, database_url: str | None) -> None:
    """Show one job with its executions and last error."""
    with connect(_url(database_url)) as conn:
        found = db.get_job(conn, job_id)
        if found is None:
            raise JobNotFoundError(f"job {job_id} not found")
        attempts = db.executions(conn, job_id)
    fields = _job_dict(found)
    if json:
        echo_json({**fields, "executions": attempts})
        return
    last_error = fields.pop("last_error")
    width = max(len(k) for k in fields)
    for key, value in fields.items():
        click.echo(f"{key.ljust(width)}  {format_cell(value)}")
    click.echo("")
    if attempts:
        headers = ["attempt", "started_at", "finished_at", "outcome", "error_class", "process_id"]
        click.echo(format_table(headers, [[a[h] for h in headers] for a in attempts]))
    else:
        click.echo("no executions yet")
    if last_error:
        click.echo(f"\nlast error:\n{last_error}")


def _bulk(verb: str, accepted: Sequence[str], default: Sequence[str]) -> Callable[[F], F]:
    """Shared body of retry/discard/reschedule: one ID, or every job matching a filter.

    The decorated function takes the command's own options and returns the
    per-job action; ``default`` are the states a filter matches without --state.
    """

    def decorate(f: F) -> F:
        @click.argument("job_id", metavar="[ID]", type=click.UUID, required=False)
        @_filter_options
        @click.option("--yes", is_flag=True, help="Act without asking.", show_envvar=True)
        @json_option
        @database_option
        @log_level_option("warning")
        def command(
            job_id: UUID | None,
            state: tuple[str, ...],
            queue: str | None,
            task: str | None,
            label: str | None,
            yes: bool,
            json: bool,
            database_url: str | None,
            **extra: Any,
        ) -> None:
            act = f(**extra)  # the command's own options, turned into the per-job action
            filtering = bool(state or queue or task or label)
            if job_id is not None and filtering:
                raise click.UsageError("pass an ID or filter options, not both")
            if job_id is None and not filtering:
                raise click.UsageError("pass a job ID, or --state/--queue/--task/--label")
            bad = [s for s in state if s not in accepted]
            if bad:
                raise click.BadParameter(
                    f"cannot {verb} {bad[0]} jobs; pass {', '.join(accepted)}",
                    param_hint="--state",
                )
            with connect(_url(database_url)) as conn:
                skipped: list[UUID] = []
                if job_id is not None:
                    ids, done = [job_id], [act(conn, job_id)]
                else:
                    where = db.JobFilter(
                        states=state or default, queue=queue, task=task, label=label
                    )
                    ids = db.find_job_ids(conn, where)
                    if ids and not yes:
                        click.confirm(f"{verb} {len(ids)} job(s)?", abort=True, err=True)
                    done, skipped = _each(act, conn, ids)
            if json:
                echo_json({verb: done, "skipped": skipped})
            elif job_id is not None:
                click.echo(done[0])
            elif not ids:
                click.echo("no matching jobs")
            else:
                past = {"retry": "retried", "discard": "discarded"}.get(verb, verb + "d")
                note = f" ({len(skipped)} skipped: they changed meanwhile)" if skipped else ""
                click.echo(f"{past} {len(done)} job(s){note}")

        command.__doc__ = f.__doc__
        command.__name__ = f.__name__
        return command  # type: ignore[return-value]

    return decorate


def _each(
    act: Callable[[Any, UUID], UUID], conn: Any, ids: Sequence[UUID]
) -> tuple[list[UUID], list[UUID]]:
    """Apply ``act`` to each job; jobs that changed state (or vanished) meanwhile are skipped."""
    done: list[UUID] = []
    skipped: list[UUID] = []
    for one in ids:
        try:
            done.append(act(conn, one))
        except (JobStateError, JobNotFoundError):
            skipped.append(one)
    return done, skipped


@click.command()
@_bulk("retry", ("discarded", "scheduled", "queued"), ("discarded",))
def retry() -> Callable[[Any, UUID], UUID]:
    """Run a job again now: one ID, or all matching (default --state discarded)."""
    return db.retry_job


@click.command()
@click.option("--reason", help="Recorded as the job's last error.", show_envvar=True)
@_bulk("discard", ("queued", "scheduled"), ("queued", "scheduled"))
def discard(reason: str | None = None) -> Callable[[Any, UUID], UUID]:
    """Discard waiting jobs: one ID, or all matching (queued and scheduled)."""
    return lambda conn, job_id: db.discard_job(conn, job_id, reason)


@click.command()
@when_options("New run time")
@_bulk("reschedule", ("scheduled", "queued"), ("scheduled", "queued"))
def reschedule(
    run_at: str | None = None, delay: float | None = None
) -> Callable[[Any, UUID], UUID]:
    """Move waiting jobs to another time: one ID, or all matching (scheduled and queued)."""
    when: datetime | None = parse_when(run_at, delay)
    if when is None:
        raise click.UsageError("pass --run-at or --delay")
    return lambda conn, job_id: db.reschedule_job(conn, job_id, when)


JOB_COMMANDS: tuple[click.Command, ...] = (jobs, job, retry, discard, reschedule)
