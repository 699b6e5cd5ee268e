"""Read-only SQL for operators: find jobs by filter, a job's executions, what is paused.

Tables may be read for inspection (writes go through functions), so these
are plain queries. A label filter repeats the predicate of the partial
index goodjob_jobs_labels_idx (``labels <> '{}'``) so the planner uses it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any
from uuid import UUID

from psycopg import sql

from ..jobs import Job
from ._core import COLS, Conn, translated


@dataclass(frozen=True)
class JobFilter:
    """Which jobs: every given field must match (None matches anything)."""

    states: Sequence[str] | None = None
    queue: str | None = None
    task: str | None = None
    label: str | None = None

    def where(self) -> tuple[sql.Composable, list[Any]]:
        """A ``where`` clause (possibly ``true``) and its parameters."""
        clauses: list[sql.Composable] = []
        params: list[Any] = []
        if self.states:
            clauses.append(sql.SQL("state = any(%s::text[])"))
            params.append(list(self.states))
        if self.queue is not None:
            clauses.append(sql.SQL("queue = %s"))
            params.append(self.queue)
        if self.task is not None:
            clauses.append(sql.SQL("task = %s"))
            params.append(self.task)
        if self.label is not None:
            clauses.append(sql.SQL("labels @> array[%s::text] and labels <> '{}'"))
            params.append(self.label)
        if not clauses:
            return sql.SQL("true"), params
        return sql.SQL(" and ").join(clauses), params


@translated
def find_jobs(conn: Conn, where: JobFilter, *, limit: int | None = None) -> list[Job]:
    """Jobs matching ``where``, newest first (at most ``limit``)."""
    clause, params = where.where()
    query = sql.SQL(
        "select {} from goodjob_jobs where {} order by created_at desc, id desc"
    ).format(sql.SQL(COLS), clause)
    if limit is not None:
        query += sql.SQL(" limit %s")
        params.append(limit)
    return [Job.from_row(row) for row in conn.execute(query, params).fetchall()]


@translated
def find_job_ids(conn: Conn, where: JobFilter) -> list[UUID]:
    """Ids of every job matching ``where``, oldest first."""
    clause, params = where.where()
    query = sql.SQL("select id from goodjob_jobs where {} order by id").format(clause)
    return [row[0] for row in conn.execute(query, params).fetchall()]


@translated
def executions(conn: Conn, job_id: UUID) -> list[dict[str, Any]]:
    """The attempts of a job (goodjob_executions), in order."""
    cur = conn.execute(
        "select attempt, process_id, started_at, finished_at, outcome, error_class,"
        " error_message, error_backtrace from goodjob_executions where job_id = %s"
        " order by attempt",
        (job_id,),
    )
    names = [d.name for d in cur.description or ()]
    return [dict(zip(names, row, strict=True)) for row in cur.fetchall()]


@translated
def pauses(conn: Conn) -> list[tuple[str, str]]:
    """What is paused: ``(kind, name)`` pairs (kind is queue, task or label)."""
    rows = conn.execute("select kind, name from goodjob_pauses order by kind, name").fetchall()
    return [(kind, name) for kind, name in rows]
