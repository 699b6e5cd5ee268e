"""Exceptions raised by goodjob-pg, and the two a task raises to steer its job.

Hierarchy::

    Exception
     +-- GoodjobError                       base of every goodjob-pg error
     |    +-- NoCurrentJobError             current_job() outside a job (also RuntimeError)
     |    +-- AppClosedError                the App was closed (also RuntimeError)
     |    +-- DuplicateTaskError            two callables under one task name (also ValueError)
     |    +-- UnknownTaskError              no task registered under a name (also LookupError)
     |    +-- CronConfigError               a bad cron entry (also ValueError)
     |    +-- SQLError                      a goodjob_* SQL function refused (SQLSTATE class GJ)
     |         +-- InvalidInputError        bad argument, nothing changed (also ValueError)
     |         |    +-- InvalidTaskNameError         GJ001
     |         |    +-- InvalidArgsError             GJ002
     |         |    +-- InvalidKwargsError           GJ003
     |         |    +-- InvalidQueueNameError        GJ004
     |         |    +-- InvalidMaxAttemptsError      GJ005
     |         |    +-- InvalidJobSpecError          GJ006
     |         |    +-- InvalidQueueSelectorError    GJ007
     |         |    +-- InvalidMaxJobsError          GJ008
     |         |    +-- InvalidTaskDefinitionError   GJ012
     |         |    +-- InvalidOperatorArgumentError GJ013
     |         |    +-- InvalidCronArgumentError     GJ015
     |         |    +-- InvalidConcurrencyLimitError GJ020
     |         |    +-- InvalidConcurrencyKeyError   GJ021
     |         |    +-- InvalidBatchArgumentError    GJ031
     |         |    +-- ArgumentsTooLargeError       GJ050
     |         |    +-- InvalidSettingError          GJ051
     |         |    +-- InvalidSchemaError           GJ060 (also raised before SQL, by App and CLI)
     |         |    +-- InvalidStaleThresholdError   GJ070
     |         |    +-- InvalidAsOfError             GJ071
     |         +-- ProcessLeaseError                 GJ009 unknown process / lease held elsewhere
     |         +-- JobNotFoundError                  GJ010 (also LookupError)
     |         +-- JobStateError                     GJ011 not allowed in the job's state
     |         +-- CronEntryNotFoundError            GJ014 (also LookupError)
     |         +-- CronArgumentsRequiredError        GJ016 arguments computed in Python only
     |         +-- BatchNotFoundError                GJ030 (also LookupError)
     +-- Retry                              raised by a task: retry now or at ``run_at``
     +-- Discard                            raised by a task: discard the job now
     +-- JobTimeout                         the attempt ran past its task's ``timeout``
     +-- InterruptError                     raised before an interrupted job runs again
                                            (a task with ``interrupts="raise"``)

``SQLSTATE_ERRORS`` maps each SQLSTATE to its class; :func:`goodjob_pg.db.translate`
uses it to turn psycopg errors into these classes, keeping the server's message.
"""

from __future__ import annotations

from datetime import datetime, timedelta

__all__ = [
    "SQLSTATE_ERRORS",
    "AppClosedError",
    "ArgumentsTooLargeError",
    "BatchNotFoundError",
    "CronArgumentsRequiredError",
    "CronConfigError",
    "CronEntryNotFoundError",
    "Discard",
    "DuplicateTaskError",
    "GoodjobError",
    "InterruptError",
    "InvalidArgsError",
    "InvalidAsOfError",
    "InvalidBatchArgumentError",
    "InvalidConcurrencyKeyError",
    "InvalidConcurrencyLimitError",
    "InvalidCronArgumentError",
    "InvalidInputError",
    "InvalidJobSpecError",
    "InvalidKwargsError",
    "InvalidMaxAttemptsError",
    "InvalidMaxJobsError",
    "InvalidOperatorArgumentError",
    "InvalidQueueNameError",
    "InvalidQueueSelectorError",
    "InvalidSchemaError",
    "InvalidSettingError",
    "InvalidStaleThresholdError",
    "InvalidTaskDefinitionError",
    "InvalidTaskNameError",
    "JobNotFoundError",
    "JobStateError",
    "JobTimeout",
    "NoCurrentJobError",
    "ProcessLeaseError",
    "Retry",
    "SQLError",
    "UnknownTaskError",
]


class GoodjobError(Exception):
    """Base class of every error goodjob-pg raises."""


class NoCurrentJobError(GoodjobError, RuntimeError):
    """``current_job()`` was called outside a running job."""


class AppClosedError(GoodjobError, RuntimeError):
    """The App was closed; it does not connect again."""


class DuplicateTaskError(GoodjobError, ValueError):
    """A different callable is already registered under this task name."""


class UnknownTaskError(GoodjobError, LookupError):
    """No task is registered under this name in this App."""


class CronConfigError(GoodjobError, ValueError):
    """A cron entry is malformed: bad expression, unknown task, wrong option type.

    The message starts with the entry's key.
    """


class SQLError(GoodjobError):
    """A goodjob_* SQL function raised one of its documented SQLSTATEs.

    ``str(err)`` is the server's message; ``sqlstate``, ``detail`` and ``hint``
    carry the rest of the diagnostic.
    """

    sqlstate: str = ""

    def __init__(self, message: str, *, detail: str | None = None, hint: str | None = None) -> None:
        super().__init__(message)
        self.detail = detail
        self.hint = hint


class InvalidInputError(SQLError, ValueError):
    """An argument was refused; the call changed nothing."""


class InvalidTaskNameError(InvalidInputError):
    """GJ001: task name empty, null or longer than 255 characters."""

    sqlstate = "GJ001"


class InvalidArgsError(InvalidInputError):
    """GJ002: ``args`` is not a JSON array."""

    sqlstate = "GJ002"


class InvalidKwargsError(InvalidInputError):
    """GJ003: ``kwargs`` is not a JSON object."""

    sqlstate = "GJ003"


class InvalidQueueNameError(InvalidInputError):
    """GJ004: queue name empty, too long, or with a reserved character."""

    sqlstate = "GJ004"


class InvalidMaxAttemptsError(InvalidInputError):
    """GJ005: ``max_attempts`` below 1."""

    sqlstate = "GJ005"


class InvalidJobSpecError(InvalidInputError):
    """GJ006: a bad job spec in goodjob_enqueue_many, or a bad option value."""

    sqlstate = "GJ006"


class InvalidQueueSelectorError(InvalidInputError):
    """GJ007: a queue selector for fetch with bad syntax."""

    sqlstate = "GJ007"


class InvalidMaxJobsError(InvalidInputError):
    """GJ008: ``max_jobs`` outside 1..1000."""

    sqlstate = "GJ008"


class ProcessLeaseError(SQLError):
    """GJ009: unknown process id, or its lease is held by another session."""

    sqlstate = "GJ009"


class JobNotFoundError(SQLError, LookupError):
    """GJ010: no job with this id."""

    sqlstate = "GJ010"


class JobStateError(SQLError):
    """GJ011: the operation is not allowed in the job's current state."""

    sqlstate = "GJ011"


class InvalidTaskDefinitionError(InvalidInputError):
    """GJ012: bad backoff kind, backoff base or preservation policy."""

    sqlstate = "GJ012"


class InvalidOperatorArgumentError(InvalidInputError):
    """GJ013: bad argument to an operator function."""

    sqlstate = "GJ013"


class CronEntryNotFoundError(SQLError, LookupError):
    """GJ014: no cron entry with this key."""

    sqlstate = "GJ014"


class InvalidCronArgumentError(InvalidInputError):
    """GJ015: bad cron key, schedule or tick time."""

    sqlstate = "GJ015"


class CronArgumentsRequiredError(SQLError):
    """GJ016: the entry computes its arguments in Python; SQL alone cannot run it."""

    sqlstate = "GJ016"


class InvalidConcurrencyLimitError(InvalidInputError):
    """GJ020: a concurrency limit below 1, or a throttle without its count or period."""

    sqlstate = "GJ020"


class InvalidConcurrencyKeyError(InvalidInputError):
    """GJ021: a concurrency key that is empty or over 255 characters."""

    sqlstate = "GJ021"


class BatchNotFoundError(SQLError, LookupError):
    """GJ030: no batch with this id (also a job enqueued with an unknown batch_id)."""

    sqlstate = "GJ030"


class InvalidBatchArgumentError(InvalidInputError):
    """GJ031: batch properties that are not a JSON object, a bad callback task or queue name."""

    sqlstate = "GJ031"


class ArgumentsTooLargeError(InvalidInputError):
    """GJ050: a job's args or kwargs over goodjob_settings ``max_arguments_bytes``."""

    sqlstate = "GJ050"


class InvalidSettingError(InvalidInputError):
    """GJ051: a goodjob_settings value out of range (``max_arguments_bytes``)."""

    sqlstate = "GJ051"


class InvalidSchemaError(InvalidInputError):
    """GJ060: a schema name that cannot hold an install (its NOTIFY channel would not fit)."""

    sqlstate = "GJ060"


class InvalidStaleThresholdError(InvalidInputError):
    """GJ070: a stale-process threshold that is null, zero or negative."""

    sqlstate = "GJ070"


class InvalidAsOfError(InvalidInputError):
    """GJ071: a null ``as_of`` given to goodjob_terminate_stale_processes."""

    sqlstate = "GJ071"


SQLSTATE_ERRORS: dict[str, type[SQLError]] = {
    cls.sqlstate: cls
    for cls in (
        InvalidTaskNameError,
        InvalidArgsError,
        InvalidKwargsError,
        InvalidQueueNameError,
        InvalidMaxAttemptsError,
        InvalidJobSpecError,
        InvalidQueueSelectorError,
        InvalidMaxJobsError,
        ProcessLeaseError,
        JobNotFoundError,
        JobStateError,
        InvalidTaskDefinitionError,
        InvalidOperatorArgumentError,
        CronEntryNotFoundError,
        InvalidCronArgumentError,
        CronArgumentsRequiredError,
        BatchNotFoundError,
        InvalidBatchArgumentError,
        InvalidConcurrencyLimitError,
        InvalidConcurrencyKeyError,
        ArgumentsTooLargeError,
        InvalidSettingError,
        InvalidSchemaError,
        InvalidStaleThresholdError,
        InvalidAsOfError,
    )
}


class Retry(Exception):
    """Raised by a task to ask for another attempt now, or at a given time.

    The attempt counts towards ``max_attempts``.

    Parameters:
        run_at: when to run again (timezone-aware), or ``None`` for now.
        delay: seconds (or a timedelta) from now; exclusive with ``run_at``.
        reason: recorded as the attempt's error message.
    """

    def __init__(
        self,
        reason: str = "retry requested",
        *,
        run_at: datetime | None = None,
        delay: float | timedelta | None = None,
    ) -> None:
        super().__init__(reason)
        if run_at is not None and delay is not None:
            raise ValueError("Retry takes run_at or delay, not both")
        if run_at is not None and run_at.tzinfo is None:
            raise ValueError("Retry(run_at=...) must be timezone-aware")
        self.reason = reason
        self.run_at = run_at
        self.delay = (
            delay if isinstance(delay, timedelta) or delay is None else timedelta(seconds=delay)
        )


class Discard(Exception):
    """Raised by a task to discard its job now, without further attempts.

    Parameters:
        reason: recorded as the attempt's error message.
    """

    def __init__(self, reason: str = "discarded by the task") -> None:
        super().__init__(reason)
        self.reason = reason


class JobTimeout(Exception):
    """An attempt ran longer than its task's ``timeout``: reported as failed.

    Retried by the task's policy like any failure (``retry_on`` and
    ``discard_on`` may name it).
    """


class InterruptError(Exception):
    """The job's previous attempt was interrupted (its worker died or shut down).

    Raised before the task runs, for tasks registered with
    ``interrupts="raise"``, so ``retry_on``/``discard_on`` and the retry
    policy decide what happens (GoodJob's InterruptErrors extension).
    """
