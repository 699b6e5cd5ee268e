"""Read-only SQL of the web dashboard: counts, throughput, a keyset-paged job search.

Every value from a URL arrives here as a query parameter, never as SQL text.
The job listing pages on the primary key (``id < cursor order by id desc``):
ids are UUIDv7, so this is newest first, and each page is one backward range
scan of goodjob_jobs_pkey that stops after ``limit`` matching rows, however
many millions of rows the table holds.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID

from psycopg import sql

from ._core import Conn, one, translated

STATES = ("scheduled", "retrying", "queued", "running", "succeeded", "discarded")
"""The states a dashboard filters on: the five of goodjob_jobs plus ``retrying``
(scheduled again after a failure, as goodjob_queue_stats counts it)."""

LIST_COLUMNS = (
    "id",
    "task",
    "queue",
    "priority",
    "state",
    "attempts",
    "max_attempts",
    "labels",
    "batch_id",
    "run_at",
    "created_at",
    "finished_at",
    "last_error",
)


@dataclass(frozen=True)
class Search:
    """A dashboard job filter: every given field must match (None or empty matches all)."""

    state: str | None = None
    queue: str | None = None
    task: str | None = None
    label: str | None = None
    batch: UUID | None = None
    q: str | None = None

    def where(self) -> tuple[sql.Composable, list[Any]]:
        """A ``where`` clause (possibly ``true``) and its parameters."""
        clauses: list[sql.Composable] = []
        params: list[Any] = []
        if self.state == "retrying":
            clauses.append(sql.SQL("state = 'scheduled' and last_error is not null"))
        elif self.state == "scheduled":
            clauses.append(sql.SQL("state = 'scheduled' and last_error is null"))
        elif self.state:
            clauses.append(sql.SQL("state = %s"))
            params.append(self.state)
        for column, value in (("queue", self.queue), ("task", self.task)):
            if value:
                clauses.append(sql.SQL("{} = %s").format(sql.Identifier(column)))
                params.append(value)
        if self.label:
            # repeats the predicate of the partial GIN index goodjob_jobs_labels_idx
            clauses.append(sql.SQL("labels @> array[%s::text] and labels <> '{}'"))
            params.append(self.label)
        if self.batch is not None:
            clauses.append(sql.SQL("batch_id = %s"))
            params.append(self.batch)
        if self.q:
            clauses.append(_text_search(self.q, params))
        if not clauses:
            return sql.SQL("true"), params
        return sql.SQL(" and ").join(clauses), params


def _text_search(q: str, params: list[Any]) -> sql.Composable:
    """``q`` as a job or batch id when it is a UUID, else a substring of task or arguments."""
    try:
        as_id = UUID(q.strip())
    except ValueError:
        params.extend([q.lower()] * 3)
        return sql.SQL(
            "(strpos(lower(task), %s) > 0 or strpos(lower(args::text), %s) > 0"
            " or strpos(lower(kwargs::text), %s) > 0)"
        )
    params.extend([as_id, as_id])
    return sql.SQL("(id = %s or batch_id = %s)")


@translated
def search_jobs(
    conn: Conn, search: Search, *, before: UUID | None = None, limit: int = 50
) -> list[dict[str, Any]]:
    """One page of matching jobs, newest first, with ids below ``before`` (None: the first page).

    Returns up to ``limit`` + 1 rows: an extra row means there is a next page.
    """
    clause, params = search.where()
    if before is not None:
        clause = sql.SQL("id < %s and ") + clause
        params.insert(0, before)
    query = sql.SQL("select {} from goodjob_jobs where {} order by id desc limit %s").format(
        sql.SQL(", ").join(map(sql.Identifier, LIST_COLUMNS)), clause
    )
    rows = conn.execute(query, [*params, limit + 1]).fetchall()
    return [dict(zip(LIST_COLUMNS, row, strict=True)) for row in rows]


@translated
def matching_job_ids(conn: Conn, search: Search, states: tuple[str, ...]) -> list[UUID]:
    """Ids of the jobs matching ``search`` whose state is one of ``states``, oldest first."""
    clause, params = search.where()
    query = sql.SQL("select id from goodjob_jobs where state = any(%s) and {} order by id").format(
        clause
    )
    return [row[0] for row in conn.execute(query, [list(states), *params]).fetchall()]


@translated
def state_counts(conn: Conn) -> dict[str, int]:
    """How many jobs are in each of :data:`STATES` (zero included)."""
    rows = conn.execute(
        "select case when state = 'scheduled' and last_error is not null then 'retrying'"
        " else state end, count(*) from goodjob_jobs group by 1"
    ).fetchall()
    counts = dict.fromkeys(STATES, 0)
    counts.update({state: count for state, count in rows})
    return counts


@translated
def throughput(conn: Conn, *, buckets: int, bucket_seconds: int) -> list[tuple[datetime, int, int]]:
    """Jobs finished per time bucket, oldest first: ``(bucket start, succeeded, discarded)``.

    Covers the last ``buckets`` buckets of ``bucket_seconds`` each, the
    current one included and empty ones as zeros; one range scan of the
    partial index goodjob_jobs_finished_at_idx.
    """
    step = timedelta(seconds=bucket_seconds)
    now: datetime = conn.execute("select now()").fetchone()[0]  # type: ignore[index]
    epoch = datetime(2000, 1, 1, tzinfo=UTC)
    current = epoch + ((now - epoch) // step) * step
    since = current - (buckets - 1) * step
    rows = conn.execute(
        "select %s::timestamptz + floor(extract(epoch from finished_at - %s::timestamptz)"
        " / %s::int)::float8 * %s::interval as start,"
        " count(*) filter (where state = 'succeeded'), count(*) filter (where state = 'discarded')"
        " from goodjob_jobs where state in ('succeeded', 'discarded') and finished_at >= %s"
        " group by 1",
        (epoch, epoch, bucket_seconds, step, since),
    ).fetchall()
    found = {start: (ok, bad) for start, ok, bad in rows}
    out = []
    for i in range(buckets):
        start = since + i * step
        ok, bad = found.get(start, (0, 0))
        out.append((start, ok, bad))
    return out


@translated
def job_queues_and_tasks(conn: Conn) -> tuple[list[str], list[str]]:
    """Known queue names (goodjob_queues) and task names (goodjob_tasks), for filter menus."""
    queues = [r[0] for r in conn.execute("select name from goodjob_queues order by name")]
    tasks = [r[0] for r in conn.execute("select name from goodjob_tasks order by name")]
    return queues, tasks


@translated
def delete_job(conn: Conn, id: UUID) -> UUID:
    """Delete a finished job and its executions (goodjob_delete_job)."""
    job_id: UUID = one(conn, "select goodjob_delete_job(id => %s)", (id,))
    return job_id
