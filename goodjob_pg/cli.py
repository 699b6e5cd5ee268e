"""The ``goodjob-pg`` command: run a worker, migrate, enqueue, and operate the queue.

Every option also reads an environment variable, shown in ``--help``.
Settings read ``GOODJOB_<OPTION>`` (``--max-threads`` reads
``GOODJOB_MAX_THREADS``, ``--app`` ``GOODJOB_APP``); the database URL reads
``GOODJOB_DATABASE_URL``, then ``DATABASE_URL``. Per-invocation options of
the job commands are scoped by command (``enqueue --queue`` reads
``GOODJOB_ENQUEUE_QUEUE``, ``pause --queue`` ``GOODJOB_PAUSE_QUEUE``), so a
variable meant for one command never retargets another. Errors from the
database or the SQL functions print one line, ``error: ...``, and exit 1;
usage errors exit 2.
"""

from __future__ import annotations

from typing import Any

import click
import psycopg

from . import db
from .cli_admin import ADMIN_COMMANDS
from .cli_common import (
    INTERVAL,
    CliError,
    app_option,
    connect,
    database_option,
    load_app,
    log_level_option,
    one_line,
    parse_json,
    parse_when,
    resolve_database_url,
    schema_option_value,
    when_options,
)
from .cli_cron import cron
from .cli_dashboard import dashboard
from .cli_jobs import JOB_COMMANDS
from .cli_production import PRODUCTION_COMMANDS, detach, run_production_options
from .errors import GoodjobError
from .migrations import MigrationError, apply_migrations
from .options import EnqueueOptions
from .pools import parse_queues
from .serialization import bind_arguments, check_arguments

__all__ = ["main"]


_NOT_INSTALLED = (psycopg.errors.UndefinedFunction, psycopg.errors.UndefinedTable)


class _Group(click.Group):
    """Turns domain and database errors into one line and exit code 1, in one place."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except _NOT_INSTALLED as exc:
            raise CliError(
                f"{one_line(exc)} (is the goodjob-pg schema installed? run: goodjob-pg migrate)"
            ) from exc
        except psycopg.errors.LockNotAvailable as exc:
            raise CliError(
                "a job's row is locked by another session (lock timeout, SQLSTATE 55P03);"
                " that job was not changed: try again once the session commits or rolls back"
            ) from exc
        except (GoodjobError, MigrationError, psycopg.Error) as exc:
            raise CliError(one_line(exc)) from exc


@click.group(cls=_Group, context_settings={"auto_envvar_prefix": "GOODJOB"})
@click.version_option(package_name="goodjob-pg")
def main() -> None:
    """goodjob-pg: background jobs in PostgreSQL."""


@main.command()
@app_option(required=True)
@click.option(
    "--queues",
    default="*",
    show_default=True,
    envvar="GOODJOB_QUEUES",
    show_envvar=True,
    help='Pools as "queues:threads" separated by ";", e.g. "mice:2;elephants,mice:1;*".',
)
@click.option(
    "--max-threads",
    type=click.IntRange(min=1),
    default=5,
    show_default=True,
    envvar="GOODJOB_MAX_THREADS",
    show_envvar=True,
    help="Threads of a pool that gives no count.",
)
@click.option(
    "--poll-interval",
    type=float,
    default=10.0,
    show_default=True,
    envvar="GOODJOB_POLL_INTERVAL",
    show_envvar=True,
    help="Seconds between safety-net fetches; -1 disables polling.",
)
@click.option(
    "--max-cache",
    type=click.IntRange(min=0),
    default=10000,
    show_default=True,
    envvar="GOODJOB_MAX_CACHE",
    show_envvar=True,
    help="Future run times kept for exact wake-ups (0 disables).",
)
@click.option(
    "--shutdown-timeout",
    type=float,
    default=-1.0,
    show_default=True,
    envvar="GOODJOB_SHUTDOWN_TIMEOUT",
    show_envvar=True,
    help="Seconds running jobs get to finish on SIGTERM; -1 waits forever.",
)
@click.option(
    "--enable-listen-notify/--disable-listen-notify",
    default=True,
    show_default=True,
    envvar="GOODJOB_ENABLE_LISTEN_NOTIFY",
    show_envvar=True,
    help="Wake on NOTIFY, or rely on polling only.",
)
@click.option(
    "--idle-timeout",
    type=click.FloatRange(min=0, min_open=True),
    default=None,
    envvar="GOODJOB_IDLE_TIMEOUT",
    show_envvar=True,
    help="Exit after this many seconds with no job to run.",
)
@click.option(
    "--enable-cron/--disable-cron",
    default=False,
    show_default=True,
    envvar="GOODJOB_ENABLE_CRON",
    show_envvar=True,
    help="Enqueue the App's cron entries from this process (any number of processes may).",
)
@click.option(
    "--cron-grace-period",
    type=click.FloatRange(min=0),
    default=60.0,
    show_default=True,
    envvar="GOODJOB_CRON_GRACE_PERIOD",
    show_envvar=True,
    help="Seconds: at start, ticks missed within this period are enqueued, older ones skipped.",
)
@click.option(
    "--cleanup-preserved-jobs-before-seconds-ago",
    "cleanup_before",
    type=click.FloatRange(min=0),
    default=1209600.0,
    show_default=True,
    envvar="GOODJOB_CLEANUP_PRESERVED_JOBS_BEFORE_SECONDS_AGO",
    show_envvar=True,
    help="Automatic cleanup deletes finished jobs older than this.",
)
@click.option(
    "--cleanup-interval-jobs",
    type=INTERVAL,
    default="1000",
    show_default=True,
    envvar="GOODJOB_CLEANUP_INTERVAL_JOBS",
    show_envvar=True,
    help="Clean up after this many finished jobs; -1 after every job; false (or 0) never.",
)
@click.option(
    "--cleanup-interval-seconds",
    type=INTERVAL,
    default="600",
    show_default=True,
    envvar="GOODJOB_CLEANUP_INTERVAL_SECONDS",
    show_envvar=True,
    help="Clean up this often; -1 after every job; false (or 0) never.",
)
@click.option(
    "--cleanup-discarded-jobs/--keep-discarded-jobs",
    default=True,
    show_default=True,
    envvar="GOODJOB_CLEANUP_DISCARDED_JOBS",
    show_envvar=True,
    help="Whether cleanup deletes discarded jobs too.",
)
@run_production_options
@database_option
@log_level_option("info")
@click.pass_context
def run(
    ctx: click.Context,
    app_spec: str,
    queues: str,
    max_threads: int,
    poll_interval: float,
    max_cache: int,
    shutdown_timeout: float,
    enable_listen_notify: bool,
    idle_timeout: float | None,
    enable_cron: bool,
    cron_grace_period: float,
    cleanup_before: float,
    cleanup_interval_jobs: int | None,
    cleanup_interval_seconds: int | None,
    cleanup_discarded_jobs: bool,
    probe_port: int | None,
    heartbeat_interval: float,
    rescue_interval: float,
    stale_process_threshold: float,
    daemonize: bool,
    pidfile: str | None,
    database_url: str | None,
) -> None:
    """Run a worker until SIGTERM or SIGINT.

    At start-up a database that is down or restarting is waited for (up to
    30 s) and a read-only one until it accepts writes; a wrong password or
    database name exits at once with one error line.
    """
    from .worker import Worker, WorkerConfig

    try:
        parse_queues(queues, default_threads=max_threads)
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint="--queues") from None
    app = load_app(app_spec)
    resolve_database_url(database_url, app)
    if enable_cron:
        app.cron_entries()  # a bad entry: one line naming it, before anything starts
    try:
        config = WorkerConfig(
            queues=queues,
            max_threads=max_threads,
            poll_interval=poll_interval,
            max_cache=max_cache,
            shutdown_timeout=shutdown_timeout,
            listen_notify=enable_listen_notify,
            idle_timeout=idle_timeout,
            enable_cron=enable_cron,
            cron_grace_period=cron_grace_period,
            cleanup_preserved_jobs_before_seconds_ago=cleanup_before,
            cleanup_interval_jobs=cleanup_interval_jobs,
            cleanup_interval_seconds=cleanup_interval_seconds,
            cleanup_discarded_jobs=cleanup_discarded_jobs,
            probe_port=probe_port,
            heartbeat_interval=heartbeat_interval,
            rescue_interval=rescue_interval,
            stale_process_threshold=stale_process_threshold or None,
        )
    except ValueError as exc:
        raise click.UsageError(str(exc)) from exc
    detach(daemonize, pidfile)
    ctx.exit(Worker(app, config).run())


@main.command()
@app_option(required=False)
@database_option
@log_level_option("warning")
def migrate(app_spec: str | None, database_url: str | None) -> None:
    """Apply pending SQL migrations; with --app, also write its task definitions.

    With --schema (or the App's schema) the schema is created if missing and
    the install goes there."""
    app = load_app(app_spec) if app_spec else None
    url = resolve_database_url(database_url, app)
    schema = schema_option_value() or (app.schema if app is not None else None)
    for name, applied in apply_migrations(url, schema=schema):
        click.echo(f"{'applied' if applied else 'up to date'}: {name}")
    if app is not None:
        with connect(url) as conn:
            count = app.sync_task_definitions(conn)
        click.echo(f"defined {count} task(s)")


@main.command()
@click.argument("task")
@click.option(
    "--args",
    "args_json",
    default="[]",
    metavar="JSON",
    help="Positional arguments.",
    show_envvar=True,
)
@click.option(
    "--kwargs",
    "kwargs_json",
    default="{}",
    metavar="JSON",
    help="Keyword arguments.",
    show_envvar=True,
)
@click.option("--queue", help="Queue (default: the task's, else 'default').", show_envvar=True)
@click.option(
    "--priority",
    type=int,
    help="Smaller runs first (default: the task's, else 0).",
    show_envvar=True,
)
@when_options("When to run")
@click.option("--label", "labels", multiple=True, help="A label (repeatable).", show_envvar=True)
@click.option(
    "--max-attempts", type=int, help="Attempts before the job is discarded.", show_envvar=True
)
@click.option(
    "--id", "job_id", type=click.UUID, help="Job id (enqueueing an existing id is a no-op)."
)
@app_option(required=False)
@database_option
@log_level_option("warning")
def enqueue(
    task: str,
    args_json: str,
    kwargs_json: str,
    queue: str | None,
    priority: int | None,
    run_at: str | None,
    delay: float | None,
    labels: tuple[str, ...],
    max_attempts: int | None,
    job_id: Any,
    app_spec: str | None,
    database_url: str | None,
) -> None:
    """Enqueue a job for TASK and print its id.

    With --app, the arguments are checked against the task's signature and
    its registered defaults apply.
    """
    args = parse_json(args_json, list, "--args")
    kwargs = parse_json(kwargs_json, dict, "--kwargs")
    when = parse_when(run_at, delay)
    app = load_app(app_spec) if app_spec else None
    registered = app.tasks.get(task) if app is not None else None
    try:
        if registered is not None:
            bind_arguments(registered.signature, task, args, kwargs)
        check_arguments(args, kwargs)
        opts = EnqueueOptions.build(
            queue=queue,
            priority=priority,
            run_at=when,
            labels=labels or None,
            id=job_id,
            max_attempts=max_attempts,
        )
    except (TypeError, ValueError) as exc:
        raise CliError(str(exc)) from exc
    options = opts.resolve(registered.defaults if registered is not None else None)
    with connect(resolve_database_url(database_url, app)) as conn:
        click.echo(db.enqueue(conn, task, args, kwargs, **options))


for _command in (*ADMIN_COMMANDS, *JOB_COMMANDS, *PRODUCTION_COMMANDS, cron, dashboard):
    main.add_command(_command)


if __name__ == "__main__":  # pragma: no cover
    main()
