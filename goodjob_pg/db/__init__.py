"""The only package that runs SQL: one typed function per goodjob_* SQL function.

Every function takes a psycopg ``Connection`` first and neither commits nor
rolls back: with an autocommit connection each call is its own transaction,
inside ``conn.transaction()`` it joins the caller's. Calls use named notation,
as the SQL contract asks. Errors with a goodjob SQLSTATE (class ``GJ``) are
translated once, here, into :mod:`goodjob_pg.errors` classes.
"""

from __future__ import annotations

from ._concurrency import concurrency_keys, define_concurrency
from ._core import Conn, translate
from ._cron import (
    cron_last_ticks,
    cron_status,
    define_cron_entry,
    enqueue_cron_tick,
    run_cron_entry,
    set_cron_entry_enabled,
)
from ._inspect import JobFilter, executions, find_job_ids, find_jobs, pauses
from ._operator import (
    cleanup_preserved_jobs,
    discard_job,
    get_job,
    pause,
    queue_stats,
    reschedule_job,
    resume,
    retry_job,
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
    unwait,
    upcoming_run_times,
    wait,
)

__all__ = [
    "Conn",
    "JobFilter",
    "cleanup_preserved_jobs",
    "concurrency_keys",
    "cron_last_ticks",
    "cron_status",
    "define_concurrency",
    "define_cron_entry",
    "define_task",
    "deregister_process",
    "discard_job",
    "enqueue",
    "enqueue_cron_tick",
    "enqueue_many",
    "executions",
    "fetch_and_lock",
    "find_job_ids",
    "find_jobs",
    "get_job",
    "heartbeat",
    "pause",
    "pauses",
    "queue_stats",
    "register_process",
    "report",
    "report_and_fetch",
    "report_results",
    "reschedule_job",
    "rescue_dead_processes",
    "resume",
    "retry_job",
    "run_cron_entry",
    "set_cron_entry_enabled",
    "translate",
    "unwait",
    "upcoming_run_times",
    "wait",
]
