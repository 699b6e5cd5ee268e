"""SQL for production: queue depth, the process list, the xmin horizon, stale leases.

The first three are plain reads of tables and views (allowed for inspection).
The depth query reads only ``queued`` rows, which the per-queue ready index
holds, so its cost grows with the backlog, not with the job history.
:func:`terminate_stale_processes` is the heartbeat backstop of the rescue
sweep (goodjob_terminate_stale_processes).
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any, NamedTuple
from uuid import UUID

from ._core import Conn, interval, translated

_READY = """
select queue, count(*)::bigint, coalesce(extract(epoch from now() - min(run_at)), 0)::float8
  from goodjob_jobs where state = 'queued' group by queue
"""

# What holds back the xmin horizon of this database, so vacuum cannot remove
# the dead job versions newer than it: sessions with a snapshot or a
# transaction id (lazy vacuum's own snapshot is ignored by other vacuums, so
# autovacuum workers are left out; walsenders carry a standby's
# hot_standby_feedback), prepared transactions and replication slots.
# Every role sees the xmin of other roles' sessions, but their start time
# and backend type only with pg_read_all_stats (pg_monitor): without it the
# seconds cover only this role's sessions (and prepared transactions).
_OLDEST_XMIN = """
with holders(xids, since) as (
  select greatest(age(backend_xmin), age(backend_xid)), xact_start
    from pg_stat_activity
   where (datname = current_database() or backend_type = 'walsender')
     and backend_type is distinct from 'autovacuum worker' and pid <> pg_backend_pid()
     and (backend_xmin is not null or backend_xid is not null)
  union all
  select age(transaction), prepared from pg_prepared_xacts where database = current_database()
  union all
  select greatest(age(xmin), age(catalog_xmin)), null from pg_replication_slots
   where xmin is not null or catalog_xmin is not null
)
select coalesce(max(xids), 0)::bigint,
       coalesce(extract(epoch from now() - min(since)), 0)::float8
  from holders
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
def oldest_xmin(conn: Conn) -> tuple[int, float]:
    """The xmin horizon's age: in transaction ids, and in seconds since the oldest holder began.

    0 and 0.0 when nothing else holds a snapshot. The seconds come from the
    oldest session or prepared transaction (a replication slot has no start
    time, only an age in transaction ids).
    """
    row = conn.execute(_OLDEST_XMIN).fetchone()
    assert row is not None
    return int(row[0]), float(row[1])


@translated
def processes(conn: Conn) -> list[dict[str, Any]]:
    """The rows of goodjob_process_status (heartbeat age in seconds), by host and pid."""
    cur = conn.execute(_PROCESSES)
    names = [d.name for d in cur.description or ()]
    return [dict(zip(names, row, strict=True)) for row in cur.fetchall()]


class StaleProcess(NamedTuple):
    """A process whose lease was held but whose heartbeat was too old."""

    process_id: UUID
    backend_pid: int
    heartbeat_at: datetime
    terminated: bool
    error: str | None  # why the backend could not be ended (e.g. permission denied)


@translated
def terminate_stale_processes(conn: Conn, older_than: float | timedelta) -> list[StaleProcess]:
    """End the lease sessions of processes whose heartbeat is older than ``older_than``.

    Rescue their jobs afterwards with :func:`rescue_dead_processes`. A row with
    ``terminated`` false names why in ``error``; nothing is raised for it.
    """
    rows = conn.execute(
        "select process_id, backend_pid, heartbeat_at, terminated, error"
        " from goodjob_terminate_stale_processes(older_than => %s)",
        (interval(older_than),),
    ).fetchall()
    return [StaleProcess(*row) for row in rows]


@translated
def notification_queue_usage(conn: Conn) -> float:
    """The fraction of the server's NOTIFY queue in use (``pg_notification_queue_usage()``)."""
    row = conn.execute("select pg_notification_queue_usage()").fetchone()
    return float(row[0]) if row is not None else 0.0
