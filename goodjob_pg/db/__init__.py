"""The only package that runs SQL: one typed function per goodjob_* SQL function.

Every function takes a psycopg ``Connection`` first and neither commits nor
rolls back: with an autocommit connection each call is its own transaction,
inside ``conn.transaction()`` it joins the caller's. Calls use named notation,
as the SQL contract asks. Errors with a goodjob SQLSTATE (class ``GJ``) are
translated once, here, into :mod:`goodjob_pg.errors` classes.
"""

from __future__ import annotations

from ._async import aenqueue, aenqueue_many
from ._batches import (
    batch_job_ids,
    create_batch,
    enqueue_batch,
    get_batch,
    list_batches,
    update_batch,
)
from ._concurrency import concurrency_keys, define_concurrency
from ._core import AsyncExecutor, Conn, Executor, translate
from ._cron import (
    cron_last_ticks,
    cron_status,
    define_cron_entry,
    enqueue_cron_tick,
    run_cron_entry,
    set_cron_entry_enabled,
)
from ._dashboard import (
    Search,
    delete_job,
    job_queues_and_tasks,
    matching_job_ids,
    search_jobs,
    state_counts,
    throughput,
)
from ._inspect import JobFilter, executions, find_job_ids, find_jobs, pauses
from ._operator import (
    cleanup_preserved_jobs,
    discard_job,
    get_job,
    get_trace_context,
    list_jobs,
    pause,
    queue_stats,
    reschedule_job,
    resume,
    retry_job,
)
from ._production import (
    StaleProcess,
    notification_queue_usage,
    oldest_xmin,
    processes,
    ready_queues,
    terminate_stale_processes,
)
from ._runner import (
    define_task,
    deregister_process,
    enqueue,
    enqueue_many,
    fetch_and_lock,
    heartbeat,
    register_process,
    report,
    report_and_fetch,
    report_results,
    rescue_dead_processes,
    server_time,
    unwait,
    upcoming_run_times,
    wait,
)

__all__ = [
    "AsyncExecutor",
    "Conn",
    "Executor",
    "JobFilter",
    "Search",
    "StaleProcess",
    "aenqueue",
    "aenqueue_many",
    "batch_job_ids",
    "cleanup_preserved_jobs",
    "concurrency_keys",
    "create_batch",
    "cron_last_ticks",
    "cron_status",
    "define_concurrency",
    "define_cron_entry",
    "define_task",
    "delete_job",
    "deregister_process",
    "discard_job",
    "enqueue",
    "enqueue_batch",
    "enqueue_cron_tick",
    "enqueue_many",
    "executions",
    "fetch_and_lock",
    "find_job_ids",
    "find_jobs",
    "get_batch",
    "get_job",
    "get_trace_context",
    "heartbeat",
    "job_queues_and_tasks",
    "list_batches",
    "list_jobs",
    "matching_job_ids",
    "notification_queue_usage",
    "oldest_xmin",
    "pause",
    "pauses",
    "processes",
    "queue_stats",
    "ready_queues",
    "register_process",
    "report",
    "report_and_fetch",
    "report_results",
    "reschedule_job",
    "rescue_dead_processes",
    "resume",
    "retry_job",
    "run_cron_entry",
    "search_jobs",
    "server_time",
    "set_cron_entry_enabled",
    "state_counts",
    "terminate_stale_processes",
    "throughput",
    "translate",
    "unwait",
    "upcoming_run_times",
    "update_batch",
    "wait",
]
