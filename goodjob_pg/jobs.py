"""Plain data: a job row, its states, and the result of one attempt."""

from __future__ import annotations

import enum
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from uuid import UUID

__all__ = ["JOB_COLUMNS", "Job", "Outcome", "ReportOutcome", "Result", "State"]


class State(enum.StrEnum):
    """The ``state`` column of goodjob_jobs."""

    SCHEDULED = "scheduled"
    QUEUED = "queued"
    RUNNING = "running"
    SUCCEEDED = "succeeded"
    DISCARDED = "discarded"


class Outcome(enum.StrEnum):
    """What the runner reports for one attempt (``goodjob_report``)."""

    SUCCEEDED = "succeeded"
    FAILED = "failed"  # SQL decides: retry after backoff, or discard at max_attempts
    DISCARDED = "discarded"
    RETRY = "retry"  # the task asked for another attempt (now or at run_at)


# The columns of goodjob_jobs that Job mirrors, in Job's field order.
JOB_COLUMNS = (
    "id",
    "task",
    "args",
    "kwargs",
    "queue",
    "priority",
    "run_at",
    "state",
    "attempts",
    "max_attempts",
    "labels",
    "concurrency_key",
    "batch_id",
    "cron_key",
    "cron_at",
    "created_at",
    "started_at",
    "finished_at",
    "last_error",
    "locked_by",
    "batch_callback_id",
)


@dataclass(frozen=True, slots=True)
class Job:
    """One row of goodjob_jobs.

    A job returned by fetch-and-lock is already ``running`` with ``attempts``
    equal to the current attempt and ``locked_by`` set to the claiming process.
    """

    id: UUID
    task: str
    args: list[Any]
    kwargs: dict[str, Any]
    queue: str
    priority: int
    run_at: datetime
    state: State
    attempts: int
    max_attempts: int
    labels: list[str]
    concurrency_key: str | None
    batch_id: UUID | None
    cron_key: str | None
    cron_at: datetime | None
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None
    last_error: str | None
    locked_by: UUID | None
    batch_callback_id: UUID | None = None  # set on a batch's callback jobs

    @classmethod
    def from_row(cls, row: Sequence[Any]) -> Job:
        """Build a Job from a row selected in ``JOB_COLUMNS`` order.

        This is on the fetch hot path: it fills the slots directly (about a
        third of the cost of the frozen ``__init__``); the result is the same
        immutable Job.
        """
        job = object.__new__(cls)
        for set_slot, value in zip(_SLOT_SETTERS, row, strict=True):
            set_slot(job, value)
        _SET_STATE(job, _STATES[row[7]])
        return job


_STATES = {state.value: state for state in State}
_SLOT_SETTERS = tuple(getattr(Job, name).__set__ for name in JOB_COLUMNS)
_SET_STATE = _SLOT_SETTERS[JOB_COLUMNS.index("state")]


@dataclass(frozen=True, slots=True)
class Result:
    """The result of one attempt, as reported to ``goodjob_report``.

    Parameters:
        job_id: the job.
        attempt: the attempt number the job was claimed with (the fence).
        outcome: see :class:`Outcome`.
        error_class, error_message, error_backtrace: for failed/discarded/retry.
        run_at: for ``retry`` only: when to run again (``None`` = now).
    """

    job_id: UUID
    attempt: int
    outcome: Outcome
    error_class: str | None = None
    error_message: str | None = None
    error_backtrace: str | None = None
    run_at: datetime | None = None

    def to_json(self) -> dict[str, Any]:
        """The JSON object goodjob_report_results expects for this result."""
        obj: dict[str, Any] = {
            "id": str(self.job_id),
            "attempt": self.attempt,
            "outcome": self.outcome.value,
        }
        if self.error_class is not None:
            obj["error_class"] = self.error_class
        if self.error_message is not None:
            obj["error_message"] = self.error_message
        if self.error_backtrace is not None:
            obj["error_backtrace"] = self.error_backtrace
        if self.run_at is not None:
            obj["run_at"] = self.run_at.isoformat()
        return obj


@dataclass(frozen=True, slots=True)
class ReportOutcome:
    """What SQL did with one reported result.

    ``accepted`` is false when the fence (process, attempt) no longer matched,
    e.g. the job was rescued from this process meanwhile; ``state`` and
    ``run_at`` are the job's state and run time after the report.
    """

    job_id: UUID
    accepted: bool
    state: State | None
    run_at: datetime | None
