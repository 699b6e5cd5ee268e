"""A backend for Django's Tasks framework (Django 6's ``django.tasks``, or ``django-tasks``).

::

    TASKS = {"default": {"BACKEND": "goodjob_pg.contrib.django.tasks_backend.GoodjobBackend"}}

    from django.tasks import task          # or: from django_tasks import task

    @task(priority=10, queue_name="mail")
    def send_receipt(order_id: int) -> None: ...

    send_receipt.enqueue(42)               # a goodjob-pg job, in the current atomic() block

Mapping: the job's task name is the function's module path; ``queue_name``
is the queue; ``run_after`` is ``run_at``; Django's priority runs from -100
to 100 with *larger* meaning sooner, goodjob-pg's the other way round, so the
job's priority is ``-priority``; ``takes_context`` gets a ``TaskContext`` whose
result has the job's id and attempt. The result id is the job id, and
``get_result`` reads the job's state (return values are not stored).
``manage.py goodjob_worker`` runs these tasks: it registers every Django task
it finds in the task modules it imports.
"""

from __future__ import annotations

import functools
import importlib
import inspect
import sys
from datetime import datetime
from types import ModuleType
from typing import Any
from uuid import UUID

from django.utils import timezone
from django.utils.module_loading import import_string

from ... import db as _db
from ...context import current_job
from ...registry import App, Task
from .settings import get_app

__all__ = ["GoodjobBackend", "register_django_tasks"]


def _framework() -> tuple[ModuleType, ModuleType, ModuleType]:
    """``(base, backends.base, signals)`` of django.tasks (Django 6) or of the backport."""
    for package in ("django.tasks", "django_tasks"):
        try:
            return (
                importlib.import_module(f"{package}.base"),
                importlib.import_module(f"{package}.backends.base"),
                importlib.import_module(f"{package}.signals"),
            )
        except ImportError:
            continue
    raise ImportError("Django's Tasks framework needs Django 6 or the django-tasks package")


_base, _backends, _signals = _framework()
_BaseTaskBackend: Any = _backends.BaseTaskBackend

_STATUS = {  # goodjob_jobs.state -> TaskResultStatus name
    "scheduled": "READY",
    "queued": "READY",
    "running": "RUNNING",
    "succeeded": "SUCCESSFUL",
    "discarded": "FAILED",
}


class GoodjobBackend(_BaseTaskBackend):
    """Enqueue Django tasks as goodjob-pg jobs (``OPTIONS``: none needed)."""

    supports_defer = True
    supports_async_task = True
    supports_get_result = True
    supports_priority = True

    @property
    def app(self) -> App:
        """The goodjob-pg App (``GOODJOB["APP"]``)."""
        return get_app()

    def enqueue(self, task: Any, args: Any, kwargs: Any) -> Any:
        """Validate, then enqueue ``task`` on Django's connection; returns a READY TaskResult."""
        self.validate_task(task)
        job_id = self._options(task).enqueue(*args, **kwargs)
        return self._sent(task, job_id, args, kwargs)

    async def aenqueue(self, task: Any, args: Any, kwargs: Any) -> Any:
        """:meth:`enqueue` from async code (on the App's pool, in a thread)."""
        self.validate_task(task)
        job_id = await self._options(task).aenqueue(*args, **kwargs)
        return self._sent(task, job_id, args, kwargs)

    def get_result(self, result_id: str) -> Any:
        """The job's state as a TaskResult; ``TaskResultDoesNotExist`` for an unknown id."""
        exceptions = importlib.import_module(_base.__name__.rsplit(".", 1)[0] + ".exceptions")
        try:
            job_id = UUID(result_id)
        except ValueError:
            raise exceptions.TaskResultDoesNotExist(result_id) from None
        with self.app.connection() as conn:
            job = _db.get_job(conn, job_id)
            failures = conn.execute(
                "select error_class, coalesce(error_backtrace, error_message, '')"
                " from goodjob_executions where job_id = %s and outcome <> 'succeeded'"
                " order by attempt",
                (job_id,),
            ).fetchall()
        if job is None:
            raise exceptions.TaskResultDoesNotExist(result_id)
        return _base.TaskResult(
            task=import_string(job.task),
            id=result_id,
            status=_base.TaskResultStatus[_STATUS[job.state.value]],
            enqueued_at=job.created_at,
            started_at=job.started_at,
            finished_at=job.finished_at,
            last_attempted_at=job.started_at,
            args=job.args,
            kwargs=job.kwargs,
            backend=self.alias,
            errors=[
                _base.TaskError(exception_class_path=cls or "Exception", traceback=tb)
                for cls, tb in failures
            ],
            worker_ids=[str(job.locked_by or "")] * job.attempts,
        )

    def _options(self, task: Any) -> Any:
        goodjob_task = register_django_task(self.app, task)
        run_at: datetime | None = task.run_after
        return goodjob_task.options(queue=task.queue_name, priority=-task.priority, run_at=run_at)

    def _sent(self, task: Any, job_id: UUID, args: Any, kwargs: Any) -> Any:
        result = _base.TaskResult(
            task=task,
            id=str(job_id),
            status=_base.TaskResultStatus.READY,
            enqueued_at=timezone.now(),
            started_at=None,
            last_attempted_at=None,
            finished_at=None,
            args=list(args),
            kwargs=dict(kwargs),
            backend=self.alias,
            errors=[],
            worker_ids=[],
        )
        _signals.task_enqueued.send(type(self), task_result=result)
        return result


def register_django_task(app: App, task: Any) -> Task[Any, Any]:
    """The App's task for a Django ``Task``, registered under its module path on first use."""
    name: str = task.module_path
    existing = app.tasks.get(name)
    if existing is not None:
        return existing
    func = task.func
    if task.takes_context:

        @functools.wraps(func)
        def run(*args: Any, **kwargs: Any) -> Any:
            return task.call(_context(task), *args, **kwargs)

        params = list(inspect.signature(func).parameters.values())[1:]  # without ``context``
        run.__signature__ = inspect.signature(func).replace(parameters=params)  # type: ignore[attr-defined]
    else:

        @functools.wraps(func)
        def run(*args: Any, **kwargs: Any) -> Any:
            return task.call(*args, **kwargs)

    return app.task(name=name)(run)


def register_django_tasks(app: App, modules: list[str]) -> int:
    """Register every Django ``Task`` found in loaded modules named ``<app>.<module>``."""
    task_class = _base.Task
    count = 0
    for module_name, module in list(sys.modules.items()):
        if module is None or module_name.rsplit(".", 1)[-1] not in modules:
            continue
        for value in list(vars(module).values()):
            if isinstance(value, task_class) and value.module_path not in app.tasks:
                register_django_task(app, value)
                count += 1
    return count


def _context(task: Any) -> Any:
    job = current_job()
    result = _base.TaskResult(
        task=task,
        id=str(job.id),
        status=_base.TaskResultStatus.RUNNING,
        enqueued_at=None,
        started_at=timezone.now(),
        last_attempted_at=timezone.now(),
        finished_at=None,
        args=[],
        kwargs={},
        backend=task.backend,
        errors=[],
        worker_ids=[str(job.id)] * job.attempt,
    )
    return _base.TaskContext(task_result=result)
