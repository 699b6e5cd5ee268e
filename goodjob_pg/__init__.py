"""goodjob-pg: a Postgres-native background job system.

The engine is SQL (goodjob_* functions); this package registers tasks,
enqueues jobs and runs them::

    from goodjob_pg import App, current_job

    app = App()  # GOODJOB_DATABASE_URL, then DATABASE_URL, then libpq defaults

    @app.task(queue="mail", max_attempts=5)
    def send_email(to: str, subject: str) -> None:
        job = current_job()
        ...

    send_email.enqueue("a@example.com", subject="hi")
    send_email.options(delay=60, priority=-10).enqueue("b@example.com", subject="later")
"""

from __future__ import annotations

from . import errors
from .batches import Batch
from .bulk import Bulk, PreparedJob
from .context import JobContext, current_job
from .errors import Discard, GoodjobError, InterruptError, JobTimeout, Retry
from .jobs import Job, Outcome, Result, State
from .registry import App, Task, TaskOptions

__all__ = [
    "App",
    "Batch",
    "Bulk",
    "Discard",
    "GoodjobError",
    "InterruptError",
    "Job",
    "JobContext",
    "JobTimeout",
    "Outcome",
    "PreparedJob",
    "Result",
    "Retry",
    "State",
    "Task",
    "TaskOptions",
    "current_job",
    "errors",
]

__version__ = "0.1.0"
