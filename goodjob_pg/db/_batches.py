"""Batches: create, arm, update and read them (goodjob_*_batch functions and the status view)."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from ..serialization import dumps
from ._core import Conn, one, translated

BATCH_COLUMNS = (
    "id",
    "description",
    "state",
    "jobs",
    "pending",
    "succeeded",
    "discarded",
    "callbacks",
    "callbacks_pending",
    "on_finish",
    "on_success",
    "on_discard",
    "callback_queue",
    "callback_priority",
    "created_at",
    "enqueued_at",
    "discarded_at",
    "finished_at",
    "callbacks_finished_at",
    "properties",
)
_SELECT = f"select {', '.join(BATCH_COLUMNS)} from goodjob_batch_status"


@translated
def create_batch(
    conn: Conn,
    *,
    id: UUID,
    description: str | None = None,
    properties: dict[str, Any] | None = None,
    on_finish: str | None = None,
    on_success: str | None = None,
    on_discard: str | None = None,
    callback_queue: str | None = None,
    callback_priority: int | None = None,
) -> UUID:
    """Create a batch with goodjob_create_batch (an existing id is left unchanged)."""
    batch_id: UUID = one(
        conn,
        "select goodjob_create_batch(description => %s::text, properties => %s::jsonb,"
        " on_finish => %s::text, on_success => %s::text, on_discard => %s::text,"
        " callback_queue => %s::text, callback_priority => %s::int, id => %s::uuid)",
        (
            description,
            dumps(properties or {}),
            on_finish,
            on_success,
            on_discard,
            callback_queue,
            callback_priority,
            id,
        ),
    )
    return batch_id


@translated
def enqueue_batch(conn: Conn, id: UUID, properties: dict[str, Any] | None = None) -> None:
    """Arm a batch's callbacks (goodjob_enqueue_batch), merging ``properties``."""
    conn.execute(
        "select goodjob_enqueue_batch(id => %s, properties => %s::jsonb)",
        (id, None if properties is None else dumps(properties)),
    )


@translated
def update_batch(
    conn: Conn,
    id: UUID,
    *,
    properties: dict[str, Any] | None = None,
    description: str | None = None,
) -> None:
    """Replace a batch's properties and/or description (goodjob_update_batch)."""
    conn.execute(
        "select goodjob_update_batch(id => %s, properties => %s::jsonb, description => %s::text)",
        (id, None if properties is None else dumps(properties), description),
    )


def get_batch(conn: Conn, id: UUID) -> dict[str, Any] | None:
    """One row of goodjob_batch_status as a dict, or None."""
    row = conn.execute(f"{_SELECT} where id = %s", (id,)).fetchone()
    return None if row is None else dict(zip(BATCH_COLUMNS, row, strict=True))


def list_batches(conn: Conn, limit: int = 20) -> list[dict[str, Any]]:
    """The newest batches from goodjob_batch_status, newest first."""
    rows = conn.execute(f"{_SELECT} order by created_at desc, id desc limit %s", (limit,))
    return [dict(zip(BATCH_COLUMNS, row, strict=True)) for row in rows.fetchall()]


def batch_job_ids(conn: Conn, id: UUID) -> list[UUID]:
    """The ids of a batch's jobs, oldest first."""
    rows = conn.execute(
        "select id from goodjob_jobs where batch_id = %s order by created_at, id", (id,)
    ).fetchall()
    return [row[0] for row in rows]
