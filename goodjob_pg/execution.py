"""Run one claimed job and turn what happened into a :class:`~goodjob_pg.jobs.Result`.

This is the single place that maps a Job to a Result:

- no task registered under the job's name: ``failed`` with error class
  ``UnknownTaskError`` (SQL retries it per policy, so a rolling deploy heals);
- arguments that do not fit the callable's signature: ``discarded`` (TypeError);
- arguments its type hints cannot decode (:mod:`goodjob_pg.decoding`): ``discarded``;
- ``Discard``, or an exception listed in the task's ``discard_on``: ``discarded``;
- ``Retry``: ``retry`` (now, or at its ``run_at``/``delay``), counting the attempt;
- with a non-empty ``retry_on``, an exception not listed there: ``discarded``;
- any other ``Exception``: ``failed`` (SQL decides retry or discard);
- a normal return: ``succeeded``.

``app.around_job(job)``, when set, is a context manager around the call.
``KeyboardInterrupt``, ``SystemExit`` and ``asyncio.CancelledError`` propagate.
``app.on_error(exc, job)`` is called for every error except ``Retry`` and
``Discard``; an exception in it is logged and ignored.
"""

from __future__ import annotations

import asyncio
import logging
import threading
import traceback
from collections.abc import Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING, Any

from .clock import database_clock
from .context import JobContext, _current
from .errors import Discard, InterruptError, Retry, UnknownTaskError
from .jobs import Job, Outcome, Result

if TYPE_CHECKING:
    from .registry import App
    from .tasks import Task

__all__ = ["aexecute", "error_class_name", "execute", "resolve", "was_interrupted"]

logger = logging.getLogger(__name__)

_INTERRUPTED = "interrupted:"  # the last_error prefix of goodjob__interrupt_jobs
_BACKTRACE_FRAMES = 50  # the innermost frames kept in error_backtrace


def resolve(app: App, job: Job) -> Task[Any, Any] | None:
    """The task a job names, or None when this App has none (the worker can test ``is_async``)."""
    return app._tasks.get(job.task)


def execute(app: App, job: Job, shutting_down: threading.Event) -> Result:
    """Run a job in the calling thread and return its Result (never raises for task errors).

    An ``async def`` task is run to completion on a new event loop; a worker
    with its own loop should await :func:`aexecute` instead.
    """
    task = app._tasks.get(job.task)
    if task is None:
        return _unknown_task(app, job)
    if task.is_async:
        return _run_coroutine_blocking(aexecute(app, job, shutting_down))
    if task.defaults.interrupts is not None and was_interrupted(job):
        return _from_exception(app, job, task, _interrupt_error(job))
    arguments = _arguments(app, job, task)
    if isinstance(arguments, Result):
        return arguments
    if app.around_job is None:
        return _call(app, job, task, arguments, shutting_down)
    with app.around_job(job):
        return _call(app, job, task, arguments, shutting_down)


async def aexecute(app: App, job: Job, shutting_down: threading.Event) -> Result:
    """Run a job on the running event loop and return its Result.

    A sync task given here runs in a thread (``asyncio.to_thread``).
    """
    task = app._tasks.get(job.task)
    if task is None:
        return _unknown_task(app, job)
    if not task.is_async:
        return await asyncio.to_thread(execute, app, job, shutting_down)
    if task.defaults.interrupts is not None and was_interrupted(job):
        return _from_exception(app, job, task, _interrupt_error(job))
    arguments = _arguments(app, job, task)
    if isinstance(arguments, Result):
        return arguments
    if app.around_job is None:
        return await _acall(app, job, task, arguments, shutting_down)
    with app.around_job(job):
        return await _acall(app, job, task, arguments, shutting_down)


def was_interrupted(job: Job) -> bool:
    """True when the job's previous attempt was interrupted and rescued.

    Crash rescue and deregistration (``goodjob__interrupt_jobs``) record
    ``last_error = 'interrupted: ...'``; any finished attempt replaces it.
    """
    error = job.last_error
    return error is not None and error.startswith(_INTERRUPTED) and job.attempts > 1


def _interrupt_error(job: Job) -> InterruptError:
    return InterruptError(f"attempt {job.attempts - 1} of job {job.id} was {job.last_error}")


def error_class_name(exc: BaseException) -> str:
    """``module.QualName`` of an exception's class (bare name for builtins)."""
    cls = type(exc)
    if cls.__module__ == "builtins":
        return cls.__qualname__
    return f"{cls.__module__}.{cls.__qualname__}"


# --- internals ------------------------------------------------------------------------------


def _context(app: App, job: Job, shutting_down: threading.Event) -> JobContext:
    return JobContext(
        id=job.id,
        attempt=job.attempts,
        max_attempts=job.max_attempts,
        queue=job.queue,
        labels=tuple(job.labels or ()),
        batch_id=job.batch_id,
        task=job.task,
        interrupted=was_interrupted(job),
        concurrency_key=job.concurrency_key,
        _shutdown=shutting_down,
        _app=app,
    )


def _extra(action: str, job: Job) -> dict[str, Any]:
    return {"action": action, "job_id": job.id, "task": job.task, "attempt": job.attempts}


def _succeeded(job: Job) -> Result:
    if logger.isEnabledFor(logging.DEBUG):
        logger.debug("job %s (%s) succeeded", job.id, job.task, extra=_extra("job_succeeded", job))
    return Result(job.id, job.attempts, Outcome.SUCCEEDED)


Arguments = tuple[Sequence[Any], Mapping[str, Any]]


def _call(
    app: App, job: Job, task: Task[Any, Any], arguments: Arguments, shutting_down: threading.Event
) -> Result:
    token = _current.set(_context(app, job, shutting_down))
    try:
        task.func(*arguments[0], **arguments[1])
    except Exception as exc:
        return _from_exception(app, job, task, exc)
    finally:
        _current.reset(token)
    return _succeeded(job)


async def _acall(
    app: App, job: Job, task: Task[Any, Any], arguments: Arguments, shutting_down: threading.Event
) -> Result:
    token = _current.set(_context(app, job, shutting_down))
    try:
        await task.func(*arguments[0], **arguments[1])
    except Exception as exc:
        return _from_exception(app, job, task, exc)
    finally:
        _current.reset(token)
    return _succeeded(job)


def _arguments(app: App, job: Job, task: Task[Any, Any]) -> Arguments | Result:
    """The job's arguments decoded by the task's hints, or a discard when they do not decode.

    A batch's callback job is called as ``cb(batch, params)``: its first
    argument, the batch id, becomes the :class:`~goodjob_pg.batches.Batch`.
    """
    if job.batch_callback_id is not None:
        from .batches import callback_args

        try:
            return callback_args(app, job), job.kwargs
        except Exception as exc:  # the batch could not be loaded: a failed attempt
            return _from_exception(app, job, task, exc)
    plan = task.argument_plan
    if plan is None:
        return job.args, job.kwargs
    try:
        return plan.apply(job.args, job.kwargs)
    except ValueError as exc:
        message = f"task {job.task!r} cannot take the job's arguments: {exc}"
        logger.error(
            "job %s (%s) discarded: %s",
            job.id,
            job.task,
            message,
            extra=_extra("job_bad_arguments", job),
        )
        _report_error(app, exc, job)
        return Result(job.id, job.attempts, Outcome.DISCARDED, "ValueError", message)


def _unknown_task(app: App, job: Job) -> Result:
    known = ", ".join(sorted(app._tasks)) or "(none)"
    message = f"no task named {job.task!r} is registered in this worker; known tasks: {known}"
    logger.warning("job %s: %s", job.id, message, extra=_extra("job_unknown_task", job))
    _report_error(app, UnknownTaskError(message), job)
    return Result(job.id, job.attempts, Outcome.FAILED, "UnknownTaskError", message)


def _from_exception(app: App, job: Job, task: Task[Any, Any], exc: Exception) -> Result:
    if isinstance(exc, Retry):
        run_at = exc.run_at
        if run_at is None and exc.delay is not None:
            run_at = database_clock.now() + exc.delay
        logger.info(
            "job %s (%s) asked for a retry: %s",
            job.id,
            job.task,
            exc.reason,
            extra=_extra("job_retry_requested", job),
        )
        return Result(
            job.id, job.attempts, Outcome.RETRY, error_class_name(exc), exc.reason, run_at=run_at
        )
    if isinstance(exc, Discard):
        logger.warning(
            "job %s (%s) discarded itself: %s",
            job.id,
            job.task,
            exc.reason,
            extra=_extra("job_discarded", job),
        )
        return Result(job.id, job.attempts, Outcome.DISCARDED, error_class_name(exc), exc.reason)
    if isinstance(exc, TypeError) and _bad_arguments(task, job):
        outcome = Outcome.DISCARDED
        action = "job_bad_arguments"
        message = f"task {job.task!r} cannot take the job's arguments: {exc}"
    else:
        discard_on, retry_on = task.defaults.discard_on, task.defaults.retry_on
        final = isinstance(exc, discard_on) or bool(retry_on and not isinstance(exc, retry_on))
        outcome = Outcome.DISCARDED if final else Outcome.FAILED
        action = "job_discarded" if final else "job_failed"
        message = str(exc)
    level = logging.ERROR if outcome is Outcome.DISCARDED else logging.WARNING
    logger.log(
        level,
        "job %s (%s) %s on attempt %d: %s: %s",
        job.id,
        job.task,
        "discarded" if outcome is Outcome.DISCARDED else "failed",
        job.attempts,
        error_class_name(exc),
        message,
        extra=_extra(action, job),
    )
    _report_error(app, exc, job)
    return Result(job.id, job.attempts, outcome, error_class_name(exc), message, _backtrace(exc))


def _bad_arguments(task: Task[Any, Any], job: Job) -> bool:
    # Called only after a TypeError, so the success path pays no bind() cost.
    try:
        task.signature.bind(*job.args, **job.kwargs)
    except TypeError:
        return True
    return False


def _backtrace(exc: BaseException) -> str:
    tb = exc.__traceback__
    if tb is not None and tb.tb_next is not None:
        tb = tb.tb_next  # drop the frame of execute() itself
    return "".join(traceback.format_exception(type(exc), exc, tb, limit=-_BACKTRACE_FRAMES))


def _report_error(app: App, exc: BaseException, job: Job) -> None:
    hook = app.on_error
    if hook is None:
        return
    try:
        hook(exc, job)
    except Exception:
        logger.exception(
            "on_error hook failed for job %s (%s)",
            job.id,
            job.task,
            extra=_extra("on_error_failed", job),
        )


def _run_coroutine_blocking(coro: Any) -> Result:
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        result: Result = asyncio.run(coro)
        return result
    # Called from inside a running loop (e.g. inline mode in async code): use a fresh thread.
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="goodjob-inline") as pool:
        result = pool.submit(asyncio.run, coro).result()
    return result
