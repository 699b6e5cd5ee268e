"""Instrumentation hooks: ``app.on(event, callback)``.

Events and when they fire (in a worker: ``goodjob-pg run`` or ``app.start()``):

- ``job_started``: a claimed job is about to run, in the thread (or on the
  event loop) that runs it;
- ``job_succeeded``: the task returned;
- ``job_failed``: the task raised (including ``Retry`` and a timeout); the job
  may run again, as the retry policy decides;
- ``job_discarded``: the job will not run again (``Discard``, ``discard_on``,
  bad arguments, or a failure on its last attempt);
- ``worker_started``, ``worker_stopped``: the worker registered / deregistered.

Every callback gets one :class:`HookEvent`. A callback that raises is logged
(action ``hook_failed``) and ignored: a hook never changes a job's result.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass
from uuid import UUID

from .jobs import Job, Outcome, Result

__all__ = ["EVENTS", "HookEvent", "Hooks"]

logger = logging.getLogger(__name__)

EVENTS = (
    "job_started",
    "job_succeeded",
    "job_failed",
    "job_discarded",
    "worker_started",
    "worker_stopped",
)


@dataclass(frozen=True, slots=True)
class HookEvent:
    """What a hook is told.

    Parameters:
        name: the event, one of :data:`EVENTS`.
        job: the job (job events), else None.
        result: the attempt's result (``job_succeeded``/``failed``/``discarded``).
        process_id: the worker's process id when known.
    """

    name: str
    job: Job | None = None
    result: Result | None = None
    process_id: UUID | None = None


Callback = Callable[[HookEvent], object]


class Hooks:
    """The callbacks registered per event; :meth:`fire` runs them safely."""

    def __init__(self) -> None:
        self._callbacks: dict[str, tuple[Callback, ...]] = {}
        self._lock = threading.Lock()

    def add(self, event: str, callback: Callback) -> None:
        """Register ``callback`` for ``event``; ValueError for an unknown event."""
        if event not in EVENTS:
            raise ValueError(f"unknown hook event {event!r}; expected one of {', '.join(EVENTS)}")
        if not callable(callback):
            raise TypeError(f"hook callback must be callable, not {callback!r}")
        with self._lock:
            self._callbacks[event] = (*self._callbacks.get(event, ()), callback)

    def __bool__(self) -> bool:
        return bool(self._callbacks)

    def fire(self, event: HookEvent) -> None:
        """Call every callback of ``event.name``; log and swallow their exceptions."""
        for callback in self._callbacks.get(event.name, ()):
            try:
                callback(event)
            except Exception:
                job = event.job
                logger.exception(
                    "%s hook %r failed",
                    event.name,
                    callback,
                    extra={
                        "action": "hook_failed",
                        "job_id": str(job.id) if job is not None else None,
                        "event": event.name,
                    },
                )

    def finished(self, job: Job, result: Result, process_id: UUID | None) -> None:
        """Fire the events a finished attempt stands for."""
        names: tuple[str, ...]
        if result.outcome is Outcome.SUCCEEDED:
            names = ("job_succeeded",)
        elif result.outcome is Outcome.DISCARDED:
            names = ("job_discarded",)
        elif result.outcome is Outcome.FAILED and job.attempts >= job.max_attempts:
            names = ("job_failed", "job_discarded")
        else:
            names = ("job_failed",)
        for name in names:
            self.fire(HookEvent(name, job, result, process_id))
