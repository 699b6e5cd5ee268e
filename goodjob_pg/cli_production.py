"""Production commands and ``run`` options: ``processes``, ``--probe-port``, daemon mode."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

import click

from . import db
from .cli_common import (
    CliError,
    connect,
    database_option,
    echo_json,
    format_table,
    json_option,
    log_level_option,
    resolve_database_url,
)
from .daemon import PidfileError, check_pidfile, daemonize, write_pidfile

__all__ = ["PRODUCTION_COMMANDS", "detach", "run_production_options"]

F = TypeVar("F", bound=Callable[..., Any])

_PROCESS_COLUMNS = ("host", "pid", "queues", "threads", "running_jobs", "heartbeat_age", "alive")


def run_production_options(f: F) -> F:
    """``--probe-port``, daemon mode and the lease timings for ``goodjob-pg run``."""
    for option in (
        click.option(
            "--stale-process-threshold",
            type=click.FloatRange(min=0),
            default=120.0,
            show_default=True,
            envvar="GOODJOB_STALE_PROCESS_THRESHOLD",
            show_envvar=True,
            help="Seconds: end the session of a worker whose lease is held but whose heartbeat"
            " is older (a vanished host), so its jobs are rescued; 0 never.",
        ),
        click.option(
            "--rescue-interval",
            type=click.FloatRange(min=0, min_open=True),
            default=10.0,
            show_default=True,
            envvar="GOODJOB_RESCUE_INTERVAL",
            show_envvar=True,
            help="Seconds between sweeps that rescue the jobs of dead workers.",
        ),
        click.option(
            "--heartbeat-interval",
            type=click.FloatRange(min=0, min_open=True),
            default=15.0,
            show_default=True,
            envvar="GOODJOB_HEARTBEAT_INTERVAL",
            show_envvar=True,
            help="Seconds between heartbeats of this worker (and LISTEN self-pings).",
        ),
        click.option(
            "--pidfile",
            type=click.Path(dir_okay=False),
            envvar="GOODJOB_PIDFILE",
            show_envvar=True,
            help="Write the worker's pid here; refuse to start if it names a live process.",
        ),
        click.option(
            "--daemonize",
            is_flag=True,
            envvar="GOODJOB_DAEMONIZE",
            show_envvar=True,
            help="Detach from the terminal and run in the background.",
        ),
        click.option(
            "--probe-port",
            type=click.IntRange(0, 65535),
            envvar="GOODJOB_PROBE_PORT",
            show_envvar=True,
            help="Serve /status, /status/started, /status/connected and /metrics on this port.",
        ),
    ):
        f = option(f)
    return f


def detach(daemon: bool, pidfile: str | None) -> None:
    """Check the pidfile, daemonize when asked, then write the pidfile (before any thread)."""
    if daemon and pidfile is None:
        raise click.UsageError("--daemonize needs --pidfile")
    try:
        if pidfile is not None:
            check_pidfile(pidfile)
        if daemon:
            daemonize()
        if pidfile is not None:
            write_pidfile(pidfile)
    except PidfileError as exc:
        raise CliError(str(exc)) from exc


def _threads(state: Any) -> int | None:
    pools = state.get("pools") if isinstance(state, dict) else None
    if not isinstance(pools, list):
        return None
    return sum(int(p[1]) for p in pools if isinstance(p, list) and len(p) == 2)


@click.command()
@json_option
@database_option
@log_level_option("warning")
def processes(json: bool, database_url: str | None) -> None:
    """Worker processes: host, pid, queues, threads, running jobs, heartbeat age."""
    with connect(resolve_database_url(database_url, None)) as conn:
        rows = db.processes(conn)
    for row in rows:
        row["host"] = row.pop("hostname")
        row["threads"] = _threads(row["state"])
    if json:
        echo_json(rows)
        return
    if not rows:
        click.echo("no worker processes")
        return
    click.echo(
        format_table(
            _PROCESS_COLUMNS,
            [
                [_seconds(row[c]) if c == "heartbeat_age" else row[c] for c in _PROCESS_COLUMNS]
                for row in rows
            ],
        )
    )


def _seconds(value: float | None) -> str:
    return "-" if value is None else f"{value:.1f}s"


PRODUCTION_COMMANDS: tuple[click.Command, ...] = (processes,)
