"""Read-only SQL for running in production: ready-queue depth, the process list.

Plain reads of tables and views (allowed for inspection). The depth query
reads only ``queued`` rows, which the per-queue ready index holds, so its
cost grows with the backlog, not with the job history.
"""

from __future__ import annotations

from typing import Any

from ._core import Conn, translated

_READY = """
select queue, count(*)::bigint, coalesce(extract(epoch from now() - min(run_at)), 0)::float8
  from goodjob_jobs where state = 'queued' group by queue
"""

_PROCESSES = """
select id, hostname, pid, queues, state, started_at, heartbeat_at,
       extract(epoch from heartbeat_age)::float8 as heartbeat_age, alive, running_jobs
  from goodjob_process_status order by hostname, pid
"""


@translated
def ready_queues(conn: Conn) -> dict[str, tuple[int, float]]:
    """Per queue with ready jobs: how many, and the age in seconds of the oldest."""
    return {queue: (int(n), float(age)) for queue, n, age in conn.execute(_READY).fetchall()}


@translated
def processes(conn: Conn) -> list[dict[str, Any]]:
    """The rows of goodjob_process_status (heartbeat age in seconds), by host and pid."""
    cur = conn.execute(_PROCESSES)
    names = [d.name for d in cur.description or ()]
    return [dict(zip(names, row, strict=True)) for row in cur.fetchall()]


@translated
def notification_queue_usage(conn: Conn) -> float:
    """The fraction of the server's NOTIFY queue in use (``pg_notification_queue_usage()``)."""
    row = conn.execute("select pg_notification_queue_usage()").fetchone()
    return float(row[0]) if row is not None else 0.0
