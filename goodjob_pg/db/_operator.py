"""Operator SQL: inspect, retry, discard, reschedule, clean up, pause and resume."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any
from uuid import UUID

from ..jobs import Job
from ._core import COLS, Conn, interval, one, translated

# --- operators -----------------------------------------------------------------------------


@translated
def get_job(conn: Conn, id: UUID) -> Job | None:
    """Read one job row, or None."""
    row = conn.execute(f"select {COLS} from goodjob_jobs where id = %s", (id,)).fetchone()
    return None if row is None else Job.from_row(row)


@translated
def get_trace_context(conn: Conn, id: UUID) -> dict[str, str] | None:
    """The trace context a job was enqueued in (goodjob_jobs.trace_context), or None."""
    row = conn.execute("select trace_context from goodjob_jobs where id = %s", (id,)).fetchone()
    return None if row is None else row[0]


@translated
def list_jobs(
    conn: Conn,
    *,
    task: str | None = None,
    queue: str | None = None,
    states: Sequence[str] | None = None,
) -> list[Job]:
    """Jobs matching every filter given (None: any), oldest first (created_at, id)."""
    cur = conn.execute(
        f"select {COLS} from goodjob_jobs where (%s::text is null or task = %s)"
        " and (%s::text is null or queue = %s) and (%s::text[] is null or state = any(%s))"
        " order by created_at, id",
        (task, task, queue, queue, *(None if states is None else list(states),) * 2),
    )
    return [Job.from_row(row) for row in cur.fetchall()]


@translated
def retry_job(conn: Conn, id: UUID) -> UUID:
    """Make a finished or scheduled job run again now (goodjob_retry_job)."""
    job_id: UUID = one(conn, "select goodjob_retry_job(id => %s)", (id,))
    return job_id


@translated
def discard_job(conn: Conn, id: UUID, reason: str | None = None) -> UUID:
    """Discard a job that has not finished (goodjob_discard_job)."""
    job_id: UUID = one(
        conn, "select goodjob_discard_job(id => %s, reason => %s::text)", (id, reason)
    )
    return job_id


@translated
def reschedule_job(conn: Conn, id: UUID, run_at: datetime) -> UUID:
    """Move a waiting job to a new run time (goodjob_reschedule_job)."""
    job_id: UUID = one(
        conn, "select goodjob_reschedule_job(id => %s, run_at => %s::timestamptz)", (id, run_at)
    )
    return job_id


@translated
def cleanup_preserved_jobs(
    conn: Conn,
    older_than: float | timedelta = timedelta(days=14),
    include_discarded: bool = True,
    *,
    as_of: datetime | None = None,
) -> int:
    """Delete finished jobs older than ``older_than`` (seconds or timedelta); returns how many."""
    older = interval(older_than)
    if as_of is None:
        count: int = one(
            conn,
            "select goodjob_cleanup_preserved_jobs(older_than => %s::interval,"
            " include_discarded => %s)",
            (older, include_discarded),
        )
    else:
        count = one(
            conn,
            "select goodjob_cleanup_preserved_jobs(older_than => %s::interval,"
            " include_discarded => %s, as_of => %s)",
            (older, include_discarded, as_of),
        )
    return count


@translated
def pause(
    conn: Conn, *, queue: str | None = None, task: str | None = None, label: str | None = None
) -> None:
    """Stop fetching jobs of a queue, a task or a label (goodjob_pause)."""
    conn.execute(
        "select goodjob_pause(queue => %s::text, task => %s::text, label => %s::text)",
        (queue, task, label),
    )


@translated
def resume(
    conn: Conn, *, queue: str | None = None, task: str | None = None, label: str | None = None
) -> None:
    """Undo a pause (goodjob_resume)."""
    conn.execute(
        "select goodjob_resume(queue => %s::text, task => %s::text, label => %s::text)",
        (queue, task, label),
    )


@translated
def queue_stats(conn: Conn) -> list[dict[str, Any]]:
    """The rows of the goodjob_queue_stats view, as dicts keyed by column."""
    cur = conn.execute("select * from goodjob_queue_stats")
    names = [d.name for d in cur.description or ()]
    return [dict(zip(names, row, strict=True)) for row in cur.fetchall()]
