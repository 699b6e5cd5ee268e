"""Cron entries: parse ``App(cron=...)`` and ``GOODJOB_CRON``, and compute their ticks.

An entry is keyed by a unique name and has:

- ``cron``: a cron expression parsed by croniter (5 fields; 6 fields with
  seconds first, as in GoodJob; or a nickname such as ``@hourly``), all in
  UTC; or a callable ``cron(last_run) -> next_run`` taking the last tick (a
  UTC datetime, or None before the first) and returning the next one;
- ``task``: a registered task (its name, or the Task object);
- ``args``, ``kwargs``, ``options`` (``queue``, ``priority``, ``labels``):
  values, or callables evaluated at each tick;
- ``description``; ``enabled_by_default`` (a bool, or a callable returning
  one, evaluated at start-up; default True).

:func:`load_entries` checks everything and raises
:class:`~goodjob_pg.errors.CronConfigError` with a message that starts with
the entry's key. The scheduler that enqueues the ticks is
:mod:`goodjob_pg.cron_scheduler`.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from croniter import croniter  # type: ignore[import-untyped]

from . import db
from .errors import CronConfigError, SQLError
from .options import check_labels, optional_int, optional_str
from .serialization import check_arguments

__all__ = [
    "CronEntry",
    "CronValues",
    "check_expression",
    "define_entries",
    "load_entries",
    "parse_env",
]

ScheduleFn = Callable[[datetime | None], datetime]

_KEYS = frozenset(
    {"cron", "task", "args", "kwargs", "options", "description", "enabled_by_default"}
)
_OPTION_KEYS = frozenset({"queue", "priority", "labels"})


@dataclass(frozen=True)
class CronValues:
    """What one tick enqueues: arguments and options, evaluated."""

    args: list[Any]
    kwargs: dict[str, Any]
    queue: str | None
    priority: int | None
    labels: tuple[str, ...] | None


@dataclass(frozen=True)
class CronEntry:
    """One checked cron entry (see the module docstring)."""

    key: str
    cron: str | ScheduleFn
    task: str
    args: Sequence[Any] | Callable[[], Sequence[Any]] = ()
    kwargs: Mapping[str, Any] | Callable[[], Mapping[str, Any]] | None = None
    options: Mapping[str, Any] | Callable[[], Mapping[str, Any]] | None = None
    description: str | None = None
    enabled_by_default: bool | Callable[[], bool] = True

    @property
    def schedule(self) -> str:
        """The schedule as text, for display."""
        if isinstance(self.cron, str):
            return self.cron
        return f"<callable {getattr(self.cron, '__qualname__', repr(self.cron))}>"

    def next_after(self, last: datetime | None, now: datetime) -> datetime:
        """The first tick after ``last`` (after ``now`` when there is no last tick)."""
        if isinstance(self.cron, str):
            start = last if last is not None else now
            six = len(self.cron.split()) == 6
            tick: datetime = croniter(self.cron, start, second_at_beginning=six).get_next(datetime)
            return tick
        value = self.cron(last)
        if not isinstance(value, datetime) or value.tzinfo is None:
            raise CronConfigError(
                f"cron entry {self.key!r}: its cron callable must return a timezone-aware"
                f" datetime, not {value!r}"
            )
        return value.astimezone(UTC)

    def values(self) -> CronValues:
        """Evaluate args, kwargs and options for one tick, and check them."""
        args = list(_call(self.args))
        kwargs = dict(_call(self.kwargs) or {})
        options = _options(self.key, _call(self.options) or {})
        try:
            check_arguments(args, kwargs)
        except (TypeError, ValueError) as exc:
            raise CronConfigError(f"cron entry {self.key!r}: {exc}") from None
        return CronValues(args, kwargs, **options)

    def static_values(self) -> dict[str, Any]:
        """Arguments and options for goodjob_define_cron_entry; None where computed per tick."""
        out: dict[str, Any] = {"args": None, "kwargs": None}
        if not callable(self.args) and not callable(self.kwargs):
            values = self.values()
            out.update(args=values.args, kwargs=values.kwargs)
        if not callable(self.options):
            out.update(_options(self.key, self.options or {}))
        else:
            out.update(queue=None, priority=None, labels=None)
        return out

    def is_enabled_by_default(self) -> bool:
        """``enabled_by_default``, evaluated."""
        value = _call(self.enabled_by_default)
        if not isinstance(value, bool):
            raise CronConfigError(
                f"cron entry {self.key!r}: enabled_by_default must be a bool, not {value!r}"
            )
        return value


def _call(value: Any) -> Any:
    return value() if callable(value) else value


def _check_keys(key: str, what: str, value: Any, allowed: frozenset[str]) -> None:
    """CronConfigError unless ``value`` is a mapping whose keys are all in ``allowed``."""
    if not isinstance(value, Mapping):
        raise CronConfigError(f"cron entry {key!r}: {what} must be a mapping, not {value!r}")
    unknown = set(value) - allowed
    if unknown:
        raise CronConfigError(
            f"cron entry {key!r}: unknown {what} key(s) {', '.join(sorted(map(str, unknown)))};"
            f" use {', '.join(sorted(allowed))}"
        )


def _options(key: str, options: Any) -> dict[str, Any]:
    _check_keys(key, "options", options, _OPTION_KEYS)
    try:
        return {
            "queue": optional_str(options.get("queue"), "queue"),
            "priority": optional_int(options.get("priority"), "priority"),
            "labels": check_labels(options.get("labels"), "labels"),
        }
    except TypeError as exc:
        raise CronConfigError(f"cron entry {key!r}: {exc}") from None


def check_expression(key: str, expression: str) -> None:
    """Raise CronConfigError unless ``expression`` is 5 fields, 6 (seconds first) or @nickname."""
    fields = expression.split()
    six = len(fields) == 6
    ok = (len(fields) in (5, 6) or (len(fields) == 1 and fields[0].startswith("@"))) and (
        croniter.is_valid(expression, second_at_beginning=six)
    )
    if not ok:
        raise CronConfigError(
            f"cron entry {key!r}: invalid cron expression {expression!r}"
            " (5 fields, 6 with seconds first, or @hourly-style)"
        )


def _entry(key: Any, spec: Any, task_names: Sequence[str]) -> CronEntry:
    if not isinstance(key, str) or not 1 <= len(key) <= 255:
        raise CronConfigError(f"cron entry {key!r}: the key must be a str of 1 to 255 characters")
    _check_keys(key, "entry", spec, _KEYS)
    cron = spec.get("cron")
    if isinstance(cron, str):
        check_expression(key, cron)
    elif not callable(cron):
        raise CronConfigError(f"cron entry {key!r}: 'cron' must be an expression or a callable")
    task = spec.get("task")
    name = task if isinstance(task, str) else getattr(task, "name", None)
    if not isinstance(name, str) or name not in task_names:
        raise CronConfigError(
            f"cron entry {key!r}: unknown task {name if name is not None else task!r};"
            f" registered: {', '.join(sorted(task_names)) or '(none)'}"
        )
    args = spec.get("args", ())
    if not callable(args) and (isinstance(args, str) or not isinstance(args, Sequence)):
        raise CronConfigError(f"cron entry {key!r}: args must be a list, not {args!r}")
    kwargs = spec.get("kwargs")
    if kwargs is not None and not callable(kwargs) and not isinstance(kwargs, Mapping):
        raise CronConfigError(f"cron entry {key!r}: kwargs must be a mapping, not {kwargs!r}")
    description = spec.get("description")
    if description is not None and not isinstance(description, str):
        raise CronConfigError(f"cron entry {key!r}: description must be a str")
    entry = CronEntry(
        key=key,
        cron=cron,
        task=name,
        args=args,
        kwargs=kwargs,
        options=spec.get("options"),
        description=description,
        enabled_by_default=spec.get("enabled_by_default", True),
    )
    entry.static_values()  # checks the values that are not computed per tick
    return entry


def parse_env(text: str | None) -> dict[str, Any]:
    """The entries of ``GOODJOB_CRON`` (a JSON object of entries); {} when unset or empty."""
    if text is None or not text.strip():
        return {}
    try:
        value = json.loads(text)
    except ValueError as exc:
        raise CronConfigError(f"GOODJOB_CRON is not valid JSON: {exc}") from None
    if not isinstance(value, dict):
        raise CronConfigError("GOODJOB_CRON must be a JSON object of entries keyed by name")
    return value


def load_entries(
    config: Mapping[str, Any], env_text: str | None, task_names: Sequence[str]
) -> dict[str, CronEntry]:
    """Check ``App(cron=...)`` plus ``GOODJOB_CRON`` (which wins for a key in both)."""
    merged = {**config, **parse_env(env_text)}
    return {key: _entry(key, spec, task_names) for key, spec in merged.items()}


def define_entries(conn: db.Conn, entries: Mapping[str, CronEntry]) -> None:
    """Write the entries' definitions (goodjob_define_cron_entry), in one transaction.

    A value SQL refuses (say a queue name with a space) raises CronConfigError naming the entry.
    """
    with conn.transaction():
        for entry in entries.values():
            try:
                db.define_cron_entry(
                    conn,
                    entry.key,
                    entry.schedule,
                    entry.task,
                    description=entry.description,
                    enabled_by_default=entry.is_enabled_by_default(),
                    **entry.static_values(),
                )
            except SQLError as exc:
                raise CronConfigError(f"cron entry {entry.key!r}: {exc}") from exc
