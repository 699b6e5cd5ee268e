"""Cron SQL: define entries, enable and disable them, enqueue ticks and manual runs."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any
from uuid import UUID

from ..serialization import dumps
from ._core import Conn, translated


def _json(value: Any) -> str | None:
    return None if value is None else dumps(value)


def _labels(labels: Sequence[str] | None) -> list[str] | None:
    return None if labels is None else list(labels)


@translated
def define_cron_entry(
    conn: Conn,
    key: str,
    schedule: str,
    task: str,
    *,
    args: Sequence[Any] | None = None,
    kwargs: dict[str, Any] | None = None,
    queue: str | None = None,
    priority: int | None = None,
    labels: Sequence[str] | None = None,
    description: str | None = None,
    enabled_by_default: bool = True,
    next_run_at: datetime | None = None,
) -> None:
    """Create or update a cron entry (goodjob_define_cron_entry); None: computed per tick."""
    conn.execute(
        "select goodjob_define_cron_entry(key => %s::text, schedule => %s::text, task => %s::text,"
        " args => %s::jsonb, kwargs => %s::jsonb, queue => %s::text, priority => %s::int,"
        " labels => %s::text[], description => %s::text, enabled_by_default => %s::boolean,"
        " next_run_at => %s::timestamptz)",
        (
            key,
            schedule,
            task,
            _json(None if args is None else list(args)),
            _json(kwargs),
            queue,
            priority,
            _labels(labels),
            description,
            enabled_by_default,
            next_run_at,
        ),
    )


@translated
def set_cron_entry_enabled(conn: Conn, key: str, enabled: bool) -> None:
    """goodjob_enable_cron_entry or goodjob_disable_cron_entry."""
    if enabled:
        conn.execute("select goodjob_enable_cron_entry(key => %s::text)", (key,))
    else:
        conn.execute("select goodjob_disable_cron_entry(key => %s::text)", (key,))


def _enqueue_params(
    args: Sequence[Any] | None,
    kwargs: dict[str, Any] | None,
    queue: str | None,
    priority: int | None,
    labels: Sequence[str] | None,
) -> tuple[Any, ...]:
    return (
        _json(None if args is None else list(args)),
        _json(kwargs),
        queue,
        priority,
        _labels(labels),
    )


_VALUES = (
    "args => %s::jsonb, kwargs => %s::jsonb, queue => %s::text, priority => %s::int,"
    " labels => %s::text[]"
)


@translated
def enqueue_cron_tick(
    conn: Conn,
    key: str,
    cron_at: datetime,
    *,
    next_run_at: datetime | None = None,
    args: Sequence[Any] | None = None,
    kwargs: dict[str, Any] | None = None,
    queue: str | None = None,
    priority: int | None = None,
    labels: Sequence[str] | None = None,
) -> UUID | None:
    """Enqueue one tick's job once (goodjob_enqueue_cron_tick); None if handled or disabled."""
    row = conn.execute(
        "select goodjob_enqueue_cron_tick(key => %s::text, cron_at => %s::timestamptz,"
        f" next_run_at => %s::timestamptz, {_VALUES})",
        (key, cron_at, next_run_at, *_enqueue_params(args, kwargs, queue, priority, labels)),
    ).fetchone()
    return None if row is None else row[0]


@translated
def run_cron_entry(
    conn: Conn,
    key: str,
    *,
    args: Sequence[Any] | None = None,
    kwargs: dict[str, Any] | None = None,
    queue: str | None = None,
    priority: int | None = None,
    labels: Sequence[str] | None = None,
) -> UUID:
    """Enqueue an entry's job now, outside its schedule (goodjob_run_cron_entry)."""
    row = conn.execute(
        f"select goodjob_run_cron_entry(key => %s::text, {_VALUES})",
        (key, *_enqueue_params(args, kwargs, queue, priority, labels)),
    ).fetchone()
    assert row is not None
    job_id: UUID = row[0]
    return job_id


@translated
def cron_status(conn: Conn) -> list[dict[str, Any]]:
    """The rows of the goodjob_cron_status view, by key."""
    cur = conn.execute("select * from goodjob_cron_status order by key")
    names = [d.name for d in cur.description or ()]
    return [dict(zip(names, row, strict=True)) for row in cur.fetchall()]


@translated
def cron_last_ticks(conn: Conn, keys: Sequence[str]) -> dict[str, datetime | None]:
    """The latest handled tick of each entry that exists (goodjob_cron_entries.last_tick_at)."""
    rows = conn.execute(
        "select key, last_tick_at from goodjob_cron_entries where key = any(%s::text[])",
        (list(keys),),
    ).fetchall()
    return {key: at for key, at in rows}
