"""SQL of the concurrency controls: a task's limits, and the view of active keys."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from ._core import Conn, translated


@translated
def define_concurrency(
    conn: Conn,
    task: str,
    *,
    total_limit: int | None = None,
    enqueue_limit: int | None = None,
    perform_limit: int | None = None,
    enqueue_throttle_limit: int | None = None,
    enqueue_throttle_period: timedelta | None = None,
    perform_throttle_limit: int | None = None,
    perform_throttle_period: timedelta | None = None,
) -> None:
    """Set (or, with all None, clear) a task's limits (goodjob_define_concurrency)."""
    conn.execute(
        "select goodjob_define_concurrency(task => %s, total_limit => %s::int,"
        " enqueue_limit => %s::int, perform_limit => %s::int,"
        " enqueue_throttle_limit => %s::int, enqueue_throttle_period => %s::interval,"
        " perform_throttle_limit => %s::int, perform_throttle_period => %s::interval)",
        (
            task,
            total_limit,
            enqueue_limit,
            perform_limit,
            enqueue_throttle_limit,
            enqueue_throttle_period,
            perform_throttle_limit,
            perform_throttle_period,
        ),
    )


def concurrency_keys(conn: Conn) -> list[dict[str, Any]]:
    """The rows of the goodjob_concurrency_keys view, by key then task."""
    cur = conn.execute("select * from goodjob_concurrency_keys order by concurrency_key, task")
    names = [d.name for d in cur.description or ()]
    return [dict(zip(names, row, strict=True)) for row in cur.fetchall()]
