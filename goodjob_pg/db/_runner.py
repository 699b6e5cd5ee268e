"""The runner's SQL: enqueue, task definitions, process leases, fetch and report."""

from __future__ import annotations

import contextlib
from collections.abc import Sequence
from datetime import datetime
from typing import Any, TypedDict, TypeVar, Unpack
from uuid import UUID

import psycopg
from psycopg.pq import TransactionStatus

from ..jobs import Job, ReportOutcome, Result, State
from ..serialization import dumps
from ._core import COLS, Conn, Executor, one, translated

T = TypeVar("T")

# --- enqueue -------------------------------------------------------------------------------

ENQUEUE = (
    "select goodjob_enqueue(task => %s, args => %s::jsonb, kwargs => %s::jsonb,"
    " queue => %s::text, priority => %s::int, run_at => %s::timestamptz, labels => %s::text[],"
    " concurrency_key => %s::text, batch_id => %s::uuid, max_attempts => %s::int, id => %s::uuid)"
)


class EnqueueFields(TypedDict, total=False):
    """goodjob_enqueue's options; missing or None takes the task's, then the global default."""

    queue: str | None
    priority: int | None
    run_at: datetime | None
    labels: Sequence[str] | None
    concurrency_key: str | None
    batch_id: UUID | None
    max_attempts: int | None
    id: UUID | None
    trace_context: dict[str, str] | None  # W3C carrier, stored by goodjob_set_trace_context


# The same enqueue, also storing the trace context, in one statement.
ENQUEUE_TRACED = (
    "select goodjob_set_trace_context(id => "
    + ENQUEUE.removeprefix("select ")
    + ", trace_context => %s::jsonb)"
)


def enqueue_statement(
    task: str,
    args: Sequence[Any] = (),
    kwargs: dict[str, Any] | None = None,
    **options: Unpack[EnqueueFields],
) -> tuple[str, tuple[Any, ...]]:
    """The query and parameters of one enqueue (shared by the sync and async enqueue)."""
    params = enqueue_params(task, args, kwargs, **options)
    trace = options.get("trace_context")
    if trace is None:
        return ENQUEUE, params
    return ENQUEUE_TRACED, (*params, dumps(trace))


def enqueue_params(
    task: str,
    args: Sequence[Any] = (),
    kwargs: dict[str, Any] | None = None,
    **options: Unpack[EnqueueFields],
) -> tuple[Any, ...]:
    """The parameters of :data:`ENQUEUE`."""
    labels = options.get("labels")
    return (
        task,
        dumps(args),
        dumps(kwargs or {}),
        options.get("queue"),
        options.get("priority"),
        options.get("run_at"),
        None if labels is None else list(labels),
        options.get("concurrency_key"),
        options.get("batch_id"),
        options.get("max_attempts"),
        options.get("id"),
    )


@translated
def enqueue(
    conn: Executor,
    task: str,
    args: Sequence[Any] = (),
    kwargs: dict[str, Any] | None = None,
    **options: Unpack[EnqueueFields],
) -> UUID | None:
    """Insert one job with goodjob_enqueue and return its id (None: refused by a limit).

    ``conn`` is a connection or a cursor; on a connection in a transaction
    (or one of its cursors) the job joins that transaction. ``args``/``kwargs``
    must already be plain JSON (see :mod:`goodjob_pg.serialization`).
    ``options`` are goodjob_enqueue's (``queue``, ``priority``, ``run_at``,
    ``labels``, ``concurrency_key``, ``batch_id``, ``max_attempts``, ``id``);
    ``None`` takes the task's registered defaults, then the global ones. An
    ``id`` that exists returns that job unchanged. None: the task's
    concurrency limits refused the job (nothing was written).
    """
    job_id: UUID | None = one(conn, *enqueue_statement(task, args, kwargs, **options))
    return job_id


ENQUEUE_MANY = "select * from goodjob_enqueue_many(jobs => %s::jsonb)"


@translated
def enqueue_many(conn: Executor, jobs: Sequence[dict[str, Any]]) -> list[UUID | None]:
    """Insert many jobs in one statement (goodjob_enqueue_many); ids in input order.

    None in the place of a job that its task's concurrency limits refused.

    Each job is an object with goodjob_enqueue's keys (``task``, ``args``,
    ``kwargs``, ``queue``, ...), values already plain JSON; datetimes and
    UUIDs are sent as ISO text. ``conn`` is a connection or a cursor.
    """
    rows = conn.execute(ENQUEUE_MANY, (enqueue_many_spec(jobs),)).fetchall()
    return [row[0] for row in rows]


def enqueue_many_spec(jobs: Sequence[dict[str, Any]]) -> str:
    """The ``jobs`` JSON of goodjob_enqueue_many (None values left out)."""
    return dumps([_json_job(job) for job in jobs])


def _json_job(job: dict[str, Any]) -> dict[str, Any]:
    """One job object: datetimes and UUIDs as ISO text, tuples as lists, no None values.

    Hot in bulk enqueue (once per job): exact type tests first, so plain
    values cost one dictionary lookup each.
    """
    out: dict[str, Any] = {}
    for key, value in job.items():
        kind = type(value)
        if kind in _PLAIN:
            out[key] = value
        elif value is None:
            continue
        elif isinstance(value, datetime):
            out[key] = value.isoformat()
        elif isinstance(value, UUID):
            out[key] = str(value)
        elif isinstance(value, tuple):
            out[key] = list(value)
        else:
            out[key] = value
    return out


_PLAIN = frozenset({str, int, list, dict, bool, float})


@translated
def define_task(
    conn: Conn,
    name: str,
    *,
    queue: str | None = None,
    priority: int | None = None,
    max_attempts: int | None = None,
    backoff: str | None = None,
    backoff_base: float | None = None,
    preserve: str | None = None,
    labels: Sequence[str] | None = None,
) -> None:
    """Write a task's defaults into goodjob_tasks (goodjob_define_task)."""
    conn.execute(
        "select goodjob_define_task(name => %s, queue => %s::text, priority => %s::int,"
        " max_attempts => %s::int, backoff => %s::text, backoff_base => %s::float8,"
        " preserve => %s::text, labels => %s::text[])",
        (
            name,
            queue,
            priority,
            max_attempts,
            backoff,
            backoff_base,
            preserve,
            None if labels is None else list(labels),
        ),
    )


# --- processes -----------------------------------------------------------------------------


@translated
def register_process(
    conn: Conn,
    hostname: str,
    pid: int,
    queues: str,
    state: dict[str, Any] | None = None,
    id: UUID | None = None,
) -> UUID:
    """Register a worker process and take its lease on ``conn`` (keep it open)."""
    process_id: UUID = one(
        conn,
        "select goodjob_register_process(hostname => %s, pid => %s::int, queues => %s,"
        " state => %s::jsonb, id => %s::uuid)",
        (hostname, pid, queues, dumps(state or {}), id),
    )
    return process_id


@translated
def heartbeat(conn: Conn, process_id: UUID, state: dict[str, Any] | None = None) -> bool:
    """Record a heartbeat; False when the process row is gone."""
    alive: bool = one(
        conn,
        "select goodjob_heartbeat(process_id => %s, state => %s::jsonb)",
        (process_id, None if state is None else dumps(state)),
    )
    return alive


@translated
def deregister_process(conn: Conn, process_id: UUID) -> int:
    """Interrupt the process's running jobs, delete it, release its lease."""
    count: int = one(conn, "select goodjob_deregister_process(process_id => %s)", (process_id,))
    return count


@translated
def rescue_dead_processes(conn: Conn) -> int:
    """Rescue the running jobs of processes whose lease is free; returns how many."""
    count: int = one(conn, "select goodjob_rescue_dead_processes()", ())
    return count


# --- hot path ------------------------------------------------------------------------------

_FETCH = (
    f"select {COLS} from goodjob_fetch_and_lock(process_id => %s, queues => %s, max_jobs => %s)"
)
_FETCH_AS_OF = (
    f"select {COLS} from goodjob_fetch_and_lock(process_id => %s, queues => %s,"
    " max_jobs => %s, as_of => %s)"
)


@translated
def fetch_and_lock(
    conn: Conn,
    process_id: UUID,
    queues: str = "*",
    max_jobs: int = 1,
    *,
    as_of: datetime | None = None,
) -> list[Job]:
    """Claim up to ``max_jobs`` ready jobs for this process, in one statement."""
    if as_of is None:
        cur = conn.execute(_FETCH, (process_id, queues, max_jobs))
    else:
        cur = conn.execute(_FETCH_AS_OF, (process_id, queues, max_jobs, as_of))
    from_row = Job.from_row
    return [from_row(row) for row in cur.fetchall()]


_REPORT_JSON = (
    "select id, accepted, state, run_at"
    " from goodjob_report_results(process_id => %s, results => %s::jsonb)"
)
_REPORT_JSON_AS_OF = (
    "select id, accepted, state, run_at"
    " from goodjob_report_results(process_id => %s, results => %s::jsonb, as_of => %s)"
)


@translated
def report_results(
    conn: Conn,
    process_id: UUID,
    results: Sequence[Result],
    *,
    as_of: datetime | None = None,
) -> list[ReportOutcome]:
    """Report a batch of attempt results as JSON (goodjob_report_results).

    The same as :func:`report`, through the JSON wrapper; the worker uses
    :func:`report`.
    """
    if not results:
        return []
    payload = dumps([r.to_json() for r in results])
    if as_of is None:
        cur = conn.execute(_REPORT_JSON, (process_id, payload))
    else:
        cur = conn.execute(_REPORT_JSON_AS_OF, (process_id, payload, as_of))
    return _outcomes(cur.fetchall())


# Binary parameters (%b): arrays of uuids and times travel as bytes, not text to parse.
_REPORT_ARGS = (
    "process_id => %b, ids => %b::uuid[], attempts => %b::int[], outcomes => %b::text[],"
    " error_classes => %b::text[], error_messages => %b::text[],"
    " error_backtraces => %b::text[], run_ats => %b::timestamptz[]"
)
_REPORT = f"select id, accepted, state, run_at from goodjob_report({_REPORT_ARGS})"
_REPORT_AS_OF = (
    f"select id, accepted, state, run_at from goodjob_report({_REPORT_ARGS}, as_of => %b)"
)


@translated
def report(
    conn: Conn,
    process_id: UUID,
    results: Sequence[Result],
    *,
    as_of: datetime | None = None,
) -> list[ReportOutcome]:
    """Report a batch of attempt results in one statement (goodjob_report, arrays).

    Returns what SQL did with each result, in input order.
    """
    if not results:
        return []
    params = _report_params(process_id, results)
    if as_of is None:
        cur = conn.execute(_REPORT, params)
    else:
        cur = conn.execute(_REPORT_AS_OF, (*params, as_of))
    return _outcomes(cur.fetchall())


@translated
def report_and_fetch(
    conn: Conn,
    process_id: UUID,
    results: Sequence[Result],
    queues: str,
    max_jobs: int,
) -> tuple[list[ReportOutcome], list[Job]]:
    """Report results, then claim up to ``max_jobs`` jobs: one transaction, one round trip.

    Both statements, between ``begin`` and ``commit``, go out in pipeline
    mode and are answered together, so the cycle costs one commit (one WAL
    flush) instead of two. Either both take effect or neither: on any error
    the transaction is rolled back (when the connection still works) and the
    error raised, so no job is claimed whose claim the caller never saw, and
    the results can be reported again. ``conn`` must be autocommit and idle.
    """
    if not results:
        return [], fetch_and_lock(conn, process_id, queues, max_jobs)
    params = _report_params(process_id, results)
    try:
        with conn.pipeline():
            conn.execute("begin")
            reported = conn.execute(_REPORT, params)
            fetched = conn.execute(_FETCH, (process_id, queues, max_jobs))
            conn.execute("commit")
    except BaseException:
        _rollback_quietly(conn)
        raise
    from_row = Job.from_row
    return _outcomes(reported.fetchall()), [from_row(row) for row in fetched.fetchall()]


def _rollback_quietly(conn: Conn) -> None:
    """End a failed explicit transaction; a broken connection is left to the caller."""
    if conn.closed or conn.info.transaction_status == TransactionStatus.IDLE:
        return
    with contextlib.suppress(psycopg.Error):
        conn.execute("rollback")


def _report_params(process_id: UUID, results: Sequence[Result]) -> tuple[Any, ...]:
    """goodjob_report's arguments: parallel arrays; error and run_at arrays only when used."""
    return (
        process_id,
        [r.job_id for r in results],
        [r.attempt for r in results],
        [r.outcome.value for r in results],
        _column([r.error_class for r in results]),
        _column([r.error_message for r in results]),
        _column([r.error_backtrace for r in results]),
        _column([r.run_at for r in results]),
    )


def _column(values: list[T]) -> list[T] | None:
    """An optional array argument: None (SQL null) when every value is None."""
    return None if all(v is None for v in values) else values


def _outcomes(rows: Sequence[Sequence[Any]]) -> list[ReportOutcome]:
    states = _STATES
    return [
        ReportOutcome(row[0], row[1], None if row[2] is None else states[row[2]], row[3])
        for row in rows
    ]


_STATES = {state.value: state for state in State}


@translated
def wait(conn: Conn, process_id: UUID, pool: int = 0) -> bool:
    """Mark a worker pool as waiting on LISTEN (goodjob_wait): enqueues NOTIFY from now on.

    Run it in its own transaction (autocommit). True: registered; fetch once
    more before sleeping, since jobs committed before it were not announced.
    False: enqueues were in flight and nothing changed (it never waits for
    them); fetch again after a short pause and try again.
    """
    registered: bool = one(
        conn, "select goodjob_wait(process_id => %s, pool => %s::int)", (process_id, pool)
    )
    return registered


@translated
def unwait(conn: Conn, process_id: UUID, pool: int = 0) -> None:
    """The pool has a backlog and fetches on its own (goodjob_unwait)."""
    conn.execute("select goodjob_unwait(process_id => %s, pool => %s::int)", (process_id, pool))


@translated
def upcoming_run_times(conn: Conn, max_rows: int = 10000) -> list[tuple[str, datetime]]:
    """The next scheduled run times per queue (for the worker's wake-up cache)."""
    rows = conn.execute(
        "select queue, run_at from goodjob_upcoming_run_times(max_rows => %s)", (max_rows,)
    ).fetchall()
    return [(row[0], row[1]) for row in rows]


@translated
def server_time(conn: Conn) -> float:
    """The server's clock now (``clock_timestamp()``), POSIX seconds."""
    seconds: float = one(conn, "select extract(epoch from clock_timestamp())::float8", ())
    return seconds
