"""How a worker starts one claimed job: hooks, metrics and timeouts around execution.

:func:`submit` is what :meth:`goodjob_pg.worker.Worker.submit` calls. A job
of a task with no ``timeout`` in an App with no hooks takes the plain path
(:func:`goodjob_pg.execution.execute` on the pool's thread), so it pays
nothing for these features.

Timeouts (``@app.task(timeout=seconds)``):

- an ``async def`` task is cancelled at the deadline (``asyncio.wait_for``);
- a sync task runs on a thread of its own while the pool's thread waits for
  it up to the deadline; then the attempt is reported as failed with
  :class:`~goodjob_pg.errors.JobTimeout` (retried by the task's policy) and
  the pool slot is given back. Python cannot stop a thread: the task's
  thread goes on until it returns by itself, and whatever it returns or
  raises then is ignored. A task that may hang should poll
  ``current_job().shutting_down`` or use timeouts of its own.
"""

from __future__ import annotations

import asyncio
import threading
from concurrent.futures import Future
from concurrent.futures import TimeoutError as FutureTimeout
from typing import TYPE_CHECKING, Any

from .errors import JobTimeout
from .execution import _from_exception, aexecute, execute, resolve
from .hooks import HookEvent
from .jobs import Job, Result

if TYPE_CHECKING:
    from .tasks import Task
    from .threadpool import DaemonExecutor
    from .worker import Worker

__all__ = ["submit"]


def submit(worker: Worker, job: Job, executor: DaemonExecutor) -> Future[Result]:
    """Start a claimed job: sync tasks on the pool's threads, async ones on the loop."""
    app = worker.app
    task = resolve(app, job)
    timeout = task.defaults.timeout if task is not None else None
    if worker.metrics is not None:
        worker.metrics.job_started(job)
    if task is not None and task.is_async:
        return worker._aio.submit(_arun(worker, task, job, timeout))
    if not app.hooks and timeout is None:
        return executor.submit(execute, app, job, worker.stopping)
    return executor.submit(_run, worker, task, job, timeout)


def _run(worker: Worker, task: Task[Any, Any] | None, job: Job, timeout: float | None) -> Result:
    """Run a sync job with its hooks, on its own thread when it has a timeout."""
    hooks, app = worker.app.hooks, worker.app
    hooks.fire(HookEvent("job_started", job, process_id=worker.process_id))
    if timeout is None or task is None:
        result = execute(app, job, worker.stopping)
    else:
        box: Future[Result] = Future()
        thread = threading.Thread(
            target=_fill, args=(box, app, job, worker.stopping), name="goodjob-timed", daemon=True
        )
        thread.start()
        try:
            result = box.result(timeout)
        except FutureTimeout:
            result = _timed_out(worker, task, job, timeout)
    hooks.finished(job, result, worker.process_id)
    return result


def _fill(box: Future[Result], app: Any, job: Job, stopping: threading.Event) -> None:
    if box.set_running_or_notify_cancel():
        try:
            box.set_result(execute(app, job, stopping))
        except BaseException as exc:
            box.set_exception(exc)


async def _arun(worker: Worker, task: Task[Any, Any], job: Job, timeout: float | None) -> Result:
    """Run an async job with its hooks, cancelled at its timeout."""
    hooks, app = worker.app.hooks, worker.app
    if hooks:
        hooks.fire(HookEvent("job_started", job, process_id=worker.process_id))
    if timeout is None:
        result = await aexecute(app, job, worker.stopping)
    else:
        try:
            result = await asyncio.wait_for(aexecute(app, job, worker.stopping), timeout)
        except TimeoutError:
            result = _timed_out(worker, task, job, timeout)
    if hooks:
        hooks.finished(job, result, worker.process_id)
    return result


def _timed_out(worker: Worker, task: Task[Any, Any], job: Job, timeout: float) -> Result:
    exc = JobTimeout(f"job {job.id} ({job.task}) exceeded its timeout of {timeout:g} s")
    return _from_exception(worker.app, job, task, exc)
