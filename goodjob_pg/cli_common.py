"""Shared pieces of the command line: options, app loading, connections, output."""

from __future__ import annotations

import importlib
import json
import logging
import os
import sys
from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta
from typing import IO, Any, TypeVar
from uuid import UUID

import click
import psycopg

from .errors import InvalidSchemaError
from .registry import App
from .schemas import SCHEMA_ENV, check_schema, with_schema

__all__ = [
    "INTERVAL",
    "CliError",
    "app_option",
    "connect",
    "database_option",
    "echo_json",
    "format_cell",
    "format_table",
    "json_option",
    "load_app",
    "log_level_option",
    "one_line",
    "parse_json",
    "parse_when",
    "resolve_database_url",
    "schema_option_value",
    "when_options",
]

F = TypeVar("F", bound=Callable[..., Any])

LOG_LEVELS = ("debug", "info", "warning", "error", "critical")


class CliError(click.ClickException):
    """An error shown as one line, ``error: ...``, with exit code 1."""

    def show(self, file: IO[Any] | None = None) -> None:
        click.echo(f"error: {self.format_message()}", file=file or sys.stderr)


def one_line(exc: BaseException) -> str:
    """An exception's message (with detail and hint for SQL errors) on one line."""
    parts = [str(exc)]
    for extra in ("detail", "hint"):
        value = getattr(exc, extra, None)
        if isinstance(value, str) and value:
            parts.append(value)
    diag = getattr(exc, "diag", None)
    if isinstance(exc, psycopg.Error) and diag is not None and diag.message_primary:
        parts = [diag.message_primary] + [m for m in (diag.message_detail, diag.message_hint) if m]
    text = " ".join(" ".join(p.split()) for p in parts if p.strip())
    return text or type(exc).__name__


def _remember_schema(ctx: click.Context, param: click.Parameter, value: str | None) -> None:
    if not value:
        return
    try:
        ctx.meta["goodjob_schema"] = check_schema(value)
    except InvalidSchemaError as exc:
        raise CliError(f"--schema: {exc}") from None


def schema_option_value() -> str | None:
    """The command's ``--schema`` (or GOODJOB_SCHEMA), None when not given."""
    ctx = click.get_current_context(silent=True)
    value = ctx.meta.get("goodjob_schema") if ctx is not None else None
    return value if isinstance(value, str) else None


def database_option(f: F) -> F:
    """``--database-url`` (GOODJOB_DATABASE_URL, DATABASE_URL), ``--schema`` (GOODJOB_SCHEMA)."""
    schema = click.option(
        "--schema",
        envvar=SCHEMA_ENV,
        show_envvar=True,
        metavar="NAME",
        expose_value=False,
        is_eager=True,
        callback=_remember_schema,
        help="The schema goodjob-pg is installed in. Default: the --app's, else the search_path's.",
    )
    return schema(
        click.option(
            "--database-url",
            envvar=["GOODJOB_DATABASE_URL", "DATABASE_URL"],
            show_envvar=True,
            metavar="URL",
            help="libpq URL or conninfo. Default: the --app's URL, else libpq's PG* defaults.",
        )(f)
    )


def app_option(*, required: bool) -> Callable[[F], F]:
    """``--app module:attribute`` (GOODJOB_APP)."""
    return click.option(
        "--app",
        "app_spec",
        envvar="GOODJOB_APP",
        show_envvar=True,
        required=required,
        metavar="MODULE:ATTR",
        help="The App to use, e.g. myproject.jobs:app (ATTR defaults to 'app').",
    )


def _configure_logging(ctx: click.Context, param: click.Parameter, value: str | None) -> None:
    if value is None or ctx.resilient_parsing:
        return
    handler = logging.StreamHandler(sys.stderr)
    if ctx.meta.get("goodjob_log_format") == "json":
        from .logjson import JsonFormatter

        handler.setFormatter(JsonFormatter())
    else:
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    logging.basicConfig(level=value.upper(), handlers=[handler])  # no-op if already configured
    logging.getLogger().setLevel(value.upper())


def _remember_log_format(ctx: click.Context, param: click.Parameter, value: str | None) -> None:
    ctx.meta["goodjob_log_format"] = value


def log_level_option(default: str) -> Callable[[F], F]:
    """``--log-level`` (GOODJOB_LOG_LEVEL) and ``--log-format text|json``
    (GOODJOB_LOG_FORMAT); the only place that configures logging."""
    level = click.option(
        "--log-level",
        type=click.Choice(LOG_LEVELS, case_sensitive=False),
        default=default,
        show_default=True,
        envvar="GOODJOB_LOG_LEVEL",
        show_envvar=True,
        expose_value=False,
        callback=_configure_logging,
        help="Logging level (logs go to stderr).",
    )
    log_format = click.option(
        "--log-format",
        type=click.Choice(("text", "json")),
        default="text",
        show_default=True,
        envvar="GOODJOB_LOG_FORMAT",
        show_envvar=True,
        expose_value=False,
        is_eager=True,  # known before --log-level configures the handler
        callback=_remember_log_format,
        help="text, or json: one JSON object per line with action and job_id.",
    )
    return lambda f: log_format(level(f))


def load_app(spec: str) -> App:
    """Import ``module:attribute`` (attribute default ``app``) and return the App."""
    module_name, _, attr = spec.partition(":")
    if not module_name:
        raise click.BadParameter(f"expected MODULE:ATTR, got {spec!r}", param_hint="--app")
    if os.getcwd() not in sys.path:
        sys.path.insert(0, os.getcwd())  # like python -m: the project directory is importable
    try:
        obj: Any = importlib.import_module(module_name)
    except ImportError as exc:
        raise click.BadParameter(
            f"cannot import {module_name!r}: {exc}", param_hint="--app"
        ) from None
    for part in (attr or "app").split("."):
        try:
            obj = getattr(obj, part)
        except AttributeError:
            raise click.BadParameter(
                f"module {module_name!r} has no attribute {attr or 'app'!r}", param_hint="--app"
            ) from None
    if not isinstance(obj, App) and callable(obj):
        obj = obj()  # an app factory
    if not isinstance(obj, App):
        raise click.BadParameter(
            f"{spec!r} is {type(obj).__name__}, not an App", param_hint="--app"
        )
    return obj


def resolve_database_url(database_url: str | None, app: App | None) -> str:
    """The conninfo a command connects with: --database-url (or its environment
    variables), else the App's URL, else libpq defaults; with the search_path
    of --schema, else of the App's schema. Both are written to the App."""
    schema = schema_option_value()
    if app is None:
        return with_schema(database_url or "", schema)
    if database_url is not None:
        app.database_url = database_url
    if schema is not None:
        app.schema = schema
    return app.conninfo


def connect(url: str) -> psycopg.Connection[Any]:
    """One autocommit connection for a command (fails fast, unlike a pool)."""
    return psycopg.connect(url, autocommit=True)


def parse_json(text: str, kind: type, option: str) -> Any:
    """Parse a JSON option that must hold a ``list`` or a ``dict``."""
    try:
        value = json.loads(text)
    except ValueError as exc:
        raise click.BadParameter(f"not valid JSON: {exc}", param_hint=option) from None
    if not isinstance(value, kind):
        expected = "an array" if kind is list else "an object"
        raise click.BadParameter(f"must be {expected} in JSON, got {text!r}", param_hint=option)
    return value


def parse_when(run_at: str | None, delay: float | None) -> datetime | None:
    """``--run-at`` (ISO 8601 with an offset) or ``--delay`` seconds as a time; None for now."""
    if run_at is not None and delay is not None:
        raise click.UsageError("pass --run-at or --delay, not both")
    if delay is not None:
        try:
            return datetime.now(UTC) + timedelta(seconds=delay)
        except (OverflowError, ValueError):  # inf, nan, or past year 9999
            raise click.BadParameter(
                f"{delay!r} seconds is not a time before the year 10000", param_hint="--delay"
            ) from None
    if run_at is None:
        return None
    try:
        when = datetime.fromisoformat(run_at)
    except ValueError:
        raise click.BadParameter(
            f"not an ISO 8601 time: {run_at!r}", param_hint="--run-at"
        ) from None
    if when.tzinfo is None:
        raise click.BadParameter(
            f"{run_at!r} has no UTC offset; add one, e.g. {run_at}+00:00 or {run_at}Z",
            param_hint="--run-at",
        )
    return when


class _Interval(click.ParamType):  # type: ignore[type-arg]
    """A cleanup interval: a whole number >= 1, -1 (after every job), or false/0 (never)."""

    name = "N|-1|false"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        if value is None or isinstance(value, int):
            return value
        text = str(value).strip().lower()
        if text in ("false", "0", "off", "no"):
            return None
        try:
            number = int(text)
        except ValueError:
            self.fail(f"{value!r} is not a whole number, -1 or false", param, ctx)
        if number < -1:
            self.fail(f"{value!r} must be >= 1, -1 (after every job) or false", param, ctx)
        return number


INTERVAL = _Interval()


def when_options(what: str) -> Callable[[F], F]:
    """``--run-at ISO8601`` and ``--delay SECONDS`` (read with :func:`parse_when`)."""

    def decorate(f: F) -> F:
        f = click.option(
            "--delay",
            type=float,
            metavar="SECONDS",
            help="Run this many seconds from now.",
            show_envvar=True,
        )(f)
        return click.option(
            "--run-at", metavar="ISO8601", help=f"{what}, with a UTC offset.", show_envvar=True
        )(f)

    return decorate


def json_option(f: F) -> F:
    """``--json``: print JSON for scripts instead of text for people."""
    return click.option(
        "--json", is_flag=True, help="Print JSON instead of a table.", show_envvar=True
    )(f)


def _json_default(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, timedelta):
        return value.total_seconds()
    if isinstance(value, UUID):
        return str(value)
    raise TypeError(f"{type(value).__name__} is not JSON serialisable")


def echo_json(value: Any) -> None:
    """Print ``value`` as JSON (times as ISO 8601, durations as seconds, uuids as text)."""
    click.echo(json.dumps(value, default=_json_default, indent=2))


def format_cell(value: Any) -> str:
    """One value as table text: - for None, yes/no, ISO 8601 UTC times, short durations."""
    if value is None:
        return "-"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, datetime):
        return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    if isinstance(value, list | tuple):
        return ",".join(map(str, value)) or "-"
    if isinstance(value, timedelta):
        seconds = max(value.total_seconds(), 0.0)
        if seconds < 60:
            return f"{seconds:.1f}s"
        minutes, secs = divmod(int(seconds), 60)
        hours, minutes = divmod(minutes, 60)
        return f"{hours}h{minutes:02d}m" if hours else f"{minutes}m{secs:02d}s"
    return str(value)


def format_table(headers: Sequence[str], rows: Sequence[Sequence[Any]]) -> str:
    """Rows as an aligned text table (numbers right-aligned)."""
    cells = [[format_cell(v) for v in row] for row in rows]
    widths = [max([len(h)] + [len(r[i]) for r in cells]) for i, h in enumerate(headers)]
    numeric = [
        all(isinstance(row[i], int | float) and not isinstance(row[i], bool) for row in rows)
        for i in range(len(headers))
    ]

    def line(values: Sequence[str]) -> str:
        out = [
            v.rjust(w) if num and rows else v.ljust(w)
            for v, w, num in zip(values, widths, numeric, strict=True)
        ]
        return "  ".join(out).rstrip()

    return "\n".join([line(headers), *(line(r) for r in cells)])
