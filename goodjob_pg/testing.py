"""Test helpers: inline and manual modes, ``assert_enqueued``, and ``drain`` with a clock.

Two modes, both on the real database (the same SQL as production):

- **inline**: an enqueue runs the job at once in the calling thread, after its
  arguments went through JSON and back, with the production retry rules
  (``App(execution_mode="inline")`` or ``with inline(app):``);
- **manual**: enqueues only write rows; the test looks at them with
  ``app.jobs_enqueued(...)`` / :func:`assert_enqueued` and runs them with
  ``app.drain()``, which can pin or advance the clock to run jobs scheduled
  for later (``app.drain(advance=timedelta(hours=1))``).

:mod:`goodjob_pg.pytest_plugin` wraps these in fixtures.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from . import db
from .jobs import Job
from .serialization import prepare_arguments

if TYPE_CHECKING:
    from .registry import App, ExecutionMode
    from .tasks import Task

__all__ = ["assert_enqueued", "assert_not_enqueued", "drain", "inline", "jobs_enqueued", "manual"]

WAITING = ("scheduled", "queued")  # jobs that have not run (or wait for another attempt)


def jobs_enqueued(
    app: App,
    task: Task[Any, Any] | str | None = None,
    *,
    queue: str | None = None,
    include_finished: bool = False,
) -> list[Job]:
    """Jobs waiting to run (state scheduled or queued), oldest first.

    Parameters:
        task: a Task or a task name; None for every task.
        queue: only this queue.
        include_finished: also running, succeeded and discarded jobs.
    """
    name = task if task is None or isinstance(task, str) else task.name
    with app.connection() as conn:
        return db.list_jobs(
            conn, task=name, queue=queue, states=None if include_finished else WAITING
        )


def assert_enqueued(
    app: App,
    task: Task[Any, Any] | str | None = None,
    *,
    args: Sequence[Any] | None = None,
    kwargs: dict[str, Any] | None = None,
    queue: str | None = None,
    priority: int | None = None,
    count: int | None = None,
) -> Job:
    """Assert that a waiting job matches; returns the first match.

    ``args`` and ``kwargs`` are compared after the enqueue encoding (so a
    ``datetime`` or a dataclass matches what was stored); what is not given
    is not compared. ``count`` asks for exactly that many matches (at least
    one). The AssertionError lists the waiting jobs.
    """
    jobs, matches = _matching(app, task, args, kwargs, queue, priority)
    if not matches or (count is not None and len(matches) != count):
        wanted = f"{count if count is not None else 'a'} job(s)"
        raise AssertionError(
            f"expected {wanted} for {_describe(task, args, kwargs, queue, priority)}, found"
            f" {len(matches)}; waiting jobs:\n{_listing(jobs)}"
        )
    return matches[0]


def assert_not_enqueued(
    app: App,
    task: Task[Any, Any] | str | None = None,
    *,
    args: Sequence[Any] | None = None,
    kwargs: dict[str, Any] | None = None,
    queue: str | None = None,
) -> None:
    """Assert that no waiting job matches (same matching as :func:`assert_enqueued`)."""
    jobs, matches = _matching(app, task, args, kwargs, queue, None)
    if matches:
        raise AssertionError(
            f"expected no job for {_describe(task, args, kwargs, queue, None)}, found"
            f" {len(matches)}; waiting jobs:\n{_listing(jobs)}"
        )


def _matching(
    app: App,
    task: Task[Any, Any] | str | None,
    args: Sequence[Any] | None,
    kwargs: dict[str, Any] | None,
    queue: str | None,
    priority: int | None,
) -> tuple[list[Job], list[Job]]:
    jobs = jobs_enqueued(app, task, queue=queue)
    want_args, want_kwargs = prepare_arguments(args or (), kwargs or {})
    matches = [
        job
        for job in jobs
        if (args is None or job.args == list(want_args))
        and (kwargs is None or job.kwargs == want_kwargs)
        and (priority is None or job.priority == priority)
    ]
    return jobs, matches


def drain(
    app: App,
    queues: str = "*",
    *,
    as_of: datetime | None = None,
    advance: timedelta | None = None,
    limit: int | None = None,
) -> int:
    """Run every job that is due, in this thread, until none is; returns how many ran.

    Jobs the tasks enqueue run too when they are due. ``as_of`` pins the
    clock (a frozen time, timezone-aware); ``advance`` runs what will be due
    that far from now. A failed attempt is retried within the same drain only
    if its backoff makes it due by then. The tasks' definitions (backoff,
    preservation) are written first, as a worker does when it starts.
    """
    if as_of is not None and advance is not None:
        raise ValueError("pass as_of or advance, not both")
    if as_of is not None and as_of.tzinfo is None:
        raise ValueError("as_of must be timezone-aware")
    if advance is not None:
        as_of = datetime.now(UTC) + advance
    app.sync_task_definitions()
    return app.perform_inline(queues, limit, as_of=as_of)


@contextmanager
def inline(app: App) -> Iterator[App]:
    """Run ``app`` in inline mode inside the block, then restore its mode."""
    with _mode(app, "inline"):
        yield app


@contextmanager
def manual(app: App) -> Iterator[App]:
    """Make enqueues only write rows inside the block (external mode), then restore."""
    with _mode(app, "external"):
        yield app


@contextmanager
def _mode(app: App, mode: ExecutionMode) -> Iterator[None]:
    old = app.execution_mode
    app.execution_mode = mode
    try:
        yield
    finally:
        app.execution_mode = old


def _describe(task: object, args: object, kwargs: object, queue: object, priority: object) -> str:
    name = task if task is None or isinstance(task, str) else getattr(task, "name", task)
    parts = [f"task={name!r}"] + [
        f"{key}={value!r}"
        for key, value in (
            ("args", args),
            ("kwargs", kwargs),
            ("queue", queue),
            ("priority", priority),
        )
        if value is not None
    ]
    return ", ".join(parts)


def _listing(jobs: list[Job]) -> str:
    if not jobs:
        return "  (none)"
    return "\n".join(
        f"  {job.task} args={job.args} kwargs={job.kwargs} queue={job.queue}"
        f" priority={job.priority} run_at={job.run_at.isoformat()}"
        for job in jobs
    )
