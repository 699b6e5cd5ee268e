"""``current_job()``: what a running task knows about its own job."""

from __future__ import annotations

import threading
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any
from uuid import UUID

from .errors import NoCurrentJobError

if TYPE_CHECKING:
    from .batches import Batch

__all__ = ["JobContext", "current_job"]


@dataclass(frozen=True, slots=True)
class JobContext:
    """The running job, as seen from inside its task.

    Parameters:
        id: the job id.
        attempt: this attempt's number, from 1.
        max_attempts: the job's attempt limit.
        queue: the job's queue.
        labels: the job's labels.
        batch_id: the job's batch, or None.
        task: the task name.
        interrupted: True when the previous attempt was interrupted (its
            worker died or shut down while it ran) and crash rescue made the
            job ready again.
        concurrency_key: the job's concurrency key, or None.
    """

    id: UUID
    attempt: int
    max_attempts: int
    queue: str
    labels: tuple[str, ...]
    batch_id: UUID | None
    task: str
    interrupted: bool
    concurrency_key: str | None
    _shutdown: threading.Event = field(repr=False, compare=False)
    _app: Any = field(default=None, repr=False, compare=False)

    @property
    def shutting_down(self) -> bool:
        """True once the worker running this job has been asked to stop.

        A long task can poll this and return early (or raise ``Retry``).
        """
        return self._shutdown.is_set()

    @property
    def batch(self) -> Batch | None:
        """The job's batch, read from the database (None outside a batch)."""
        if self.batch_id is None or self._app is None:
            return None
        from .batches import find_batch

        return find_batch(self._app, self.batch_id)

    @property
    def is_last_attempt(self) -> bool:
        """True when a failure now would discard the job."""
        return self.attempt >= self.max_attempts


_current: ContextVar[JobContext | None] = ContextVar("goodjob_current_job", default=None)


def current_job() -> JobContext:
    """Return the context of the job the calling task is running.

    Raises:
        NoCurrentJobError: when called outside a job (also a RuntimeError).
    """
    ctx = _current.get()
    if ctx is None:
        raise NoCurrentJobError(
            "current_job() was called outside a running job; it works only inside a task"
            " run by a worker or by inline mode"
        )
    return ctx
