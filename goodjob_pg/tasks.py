"""Tasks: a registered callable and its defaults.

:class:`Task` and :class:`TaskOptions` are re-exported by
:mod:`goodjob_pg.registry`, where :class:`~goodjob_pg.registry.App` creates them.
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any, Generic, ParamSpec, TypeVar
from uuid import UUID

from .bulk import PreparedJob, prepare_job
from .concurrency import NO_CONCURRENCY, Concurrency
from .decoding import ArgumentPlan, plan_for
from .options import (
    NO_OPTIONS,
    EnqueueOptions,
    Enqueuer,
    JobSpec,
    check_labels,
    optional_int,
    optional_str,
)

if TYPE_CHECKING:
    from .registry import App

__all__ = [
    "BACKOFF_KINDS",
    "PRESERVE_POLICIES",
    "Task",
    "TaskOptions",
    "default_task_name",
    "parse_backoff",
]

P = ParamSpec("P")
R = TypeVar("R")

BACKOFF_KINDS = ("constant", "linear", "exponential", "polynomial")
PRESERVE_POLICIES = ("always", "on_discard", "never")

Backoff = str | tuple[str, float]
ExceptionTypes = type[BaseException] | Iterable[type[BaseException]]


def default_task_name(func: Callable[..., Any]) -> str:
    """The name a task gets without ``name=``: ``module.qualname``."""
    return f"{func.__module__}.{func.__qualname__}"


def parse_backoff(value: Backoff | None) -> tuple[str | None, float | None]:
    """Map ``retry_backoff`` to goodjob_define_task's ``(backoff, backoff_base)``.

    Accepts None, a kind (``"constant"``, ``"linear"``, ``"exponential"``,
    ``"polynomial"``) or a ``(kind, base_seconds)`` tuple.
    """
    if value is None:
        return None, None
    if isinstance(value, str):
        kind, base = value, None
    elif isinstance(value, tuple) and len(value) == 2:
        kind, raw_base = value
        if isinstance(raw_base, bool) or not isinstance(raw_base, int | float):
            raise TypeError(f"retry_backoff base must be a number of seconds, not {raw_base!r}")
        if not 0 <= raw_base < float("inf"):
            raise ValueError(f"retry_backoff base must be finite and >= 0, not {raw_base!r}")
        base = float(raw_base)
    else:
        raise TypeError(
            f"retry_backoff must be a kind or a (kind, base_seconds) tuple, not {value!r}"
        )
    if kind not in BACKOFF_KINDS:
        raise ValueError(
            f"retry_backoff kind must be one of {', '.join(BACKOFF_KINDS)}, not {kind!r}"
        )
    return kind, base


def _exception_types(value: ExceptionTypes, what: str) -> tuple[type[BaseException], ...]:
    types = (value,) if isinstance(value, type) else tuple(value)
    for cls in types:
        if not (isinstance(cls, type) and issubclass(cls, BaseException)):
            raise TypeError(f"{what} must hold exception classes, not {cls!r}")
    return types


@dataclass(frozen=True)
class TaskOptions:
    """A task's registered defaults (what ``@app.task(...)`` was given).

    ``queue``, ``priority``, ``max_attempts``, ``backoff``, ``backoff_base``,
    ``preserve`` and ``labels`` are written to goodjob_tasks by
    ``App.sync_task_definitions()``, and so are the limits of ``concurrency``;
    ``retry_on`` and ``discard_on`` are applied by the runner.
    """

    name: str
    queue: str | None = None
    priority: int | None = None
    max_attempts: int | None = None
    backoff: str | None = None
    backoff_base: float | None = None
    preserve: str | None = None
    labels: tuple[str, ...] = ()
    retry_on: tuple[type[BaseException], ...] = ()
    discard_on: tuple[type[BaseException], ...] = ()
    timeout: float | None = None  # seconds an attempt may run (goodjob_pg.running)
    interrupts: str | None = None  # "raise": InterruptError before an interrupted job reruns
    concurrency: Concurrency = NO_CONCURRENCY

    @classmethod
    def build(
        cls,
        name: str,
        *,
        queue: str | None = None,
        priority: int | None = None,
        max_attempts: int | None = None,
        retry_backoff: Backoff | None = None,
        preserve: str | None = None,
        labels: Iterable[str] = (),
        retry_on: ExceptionTypes = (),
        discard_on: ExceptionTypes = (),
        timeout: float | None = None,
        interrupts: str | None = None,
        concurrency: Mapping[str, Any] | None = None,
    ) -> TaskOptions:
        """Check the decorator's arguments (types here, values again in SQL) and build."""
        if not isinstance(name, str) or not 1 <= len(name) <= 255:
            raise ValueError(f"task name must be a str of 1 to 255 characters, not {name!r}")
        if preserve is not None and preserve not in PRESERVE_POLICIES:
            raise ValueError(
                f"preserve must be one of {', '.join(PRESERVE_POLICIES)}, not {preserve!r}"
            )
        if timeout is not None and (
            isinstance(timeout, bool)
            or not isinstance(timeout, int | float)
            or not 0 < timeout < float("inf")
        ):
            raise ValueError(f"timeout must be a positive number of seconds, not {timeout!r}")
        if interrupts not in (None, "raise", "ignore"):
            raise ValueError(f"interrupts must be 'raise', 'ignore' or None, not {interrupts!r}")
        backoff, backoff_base = parse_backoff(retry_backoff)
        return cls(
            name=name,
            queue=optional_str(queue, "queue"),
            priority=optional_int(priority, "priority"),
            max_attempts=optional_int(max_attempts, "max_attempts"),
            backoff=backoff,
            backoff_base=backoff_base,
            preserve=preserve,
            labels=check_labels(labels, "labels") or (),
            retry_on=_exception_types(retry_on, "retry_on"),
            discard_on=_exception_types(discard_on, "discard_on"),
            timeout=float(timeout) if timeout is not None else None,
            interrupts=interrupts if interrupts == "raise" else None,
            concurrency=NO_CONCURRENCY if concurrency is None else Concurrency.build(concurrency),
        )

    def definition(self) -> dict[str, Any]:
        """Keyword arguments for :func:`goodjob_pg.db.define_task`."""
        return {
            "queue": self.queue,
            "priority": self.priority,
            "max_attempts": self.max_attempts,
            "backoff": self.backoff,
            "backoff_base": self.backoff_base,
            "preserve": self.preserve,
            "labels": list(self.labels) if self.labels else None,
        }


class Task(Generic[P, R]):
    """A registered callable. Call it to run the function directly; ``enqueue`` to run it later.

    Attributes:
        name: the task name SQL callers use.
        func: the wrapped callable.
        defaults: the registered :class:`TaskOptions`.
        is_async: whether ``func`` is an ``async def``.
        signature: ``inspect.signature(func)``, used to check arguments at enqueue.
    """

    def __init__(self, app: App, func: Callable[P, R], defaults: TaskOptions) -> None:
        functools.update_wrapper(self, func)
        self.app = app
        self.func = func
        self.defaults = defaults
        self.name = defaults.name
        self.is_async = inspect.iscoroutinefunction(func)
        self.signature = inspect.signature(func)

    @functools.cached_property
    def argument_plan(self) -> ArgumentPlan | None:
        """How the worker decodes this task's JSON arguments (None: no decoding needed).

        Built from the type hints on first use, when every name they mention exists.
        """
        return plan_for(self.func)

    def __call__(self, *args: P.args, **kwargs: P.kwargs) -> R:
        return self.func(*args, **kwargs)

    def enqueue(self, *args: P.args, **kwargs: P.kwargs) -> UUID | None:
        """Check the arguments (signature and JSON) and enqueue a job; returns its id.

        Returns None (and logs why) when the task's concurrency limits refuse the job.
        """
        return self.app._enqueue(self.name, self, args, kwargs, NO_OPTIONS)

    async def aenqueue(self, *args: P.args, **kwargs: P.kwargs) -> UUID | None:
        """``enqueue`` for async code (on the App's pool, in a thread: the loop is not blocked)."""
        return await self.app._aenqueue(self.name, self, args, kwargs, NO_OPTIONS)

    def job(self, *args: P.args, **kwargs: P.kwargs) -> JobSpec:
        """A job of this task for ``app.enqueue_many([...])`` (checked there)."""
        return JobSpec(self.name, self, args, kwargs)

    def prepare(self, *args: P.args, **kwargs: P.kwargs) -> PreparedJob:
        """A checked job for ``app.enqueue_many([...])``; nothing is written yet."""
        return prepare_job(self.name, self, args, kwargs, NO_OPTIONS)

    def options(
        self,
        *,
        queue: str | None = None,
        priority: int | None = None,
        run_at: datetime | None = None,
        delay: float | timedelta | None = None,
        labels: Iterable[str] | None = None,
        id: UUID | None = None,
        max_attempts: int | None = None,
        concurrency_key: str | None = None,
        connection: object | None = None,
    ) -> Enqueuer[P]:
        """Options for the next enqueue; ``None`` keeps the task's default.

        Parameters:
            queue, priority, max_attempts: override the task's defaults.
            run_at: when to run (timezone-aware); exclusive with ``delay``.
            delay: seconds (or a timedelta) from now.
            labels: replace the task's default labels.
            id: the job id; enqueueing an existing id returns it unchanged.
            concurrency_key: the job's concurrency key (instead of the task's ``key``).
            connection: enqueue on this connection, inside its current
                transaction (the job exists only if the caller commits): a
                psycopg connection or cursor (async ones with ``aenqueue``), a
                psycopg_pool pool, a SQLAlchemy Connection or Session, a Django
                connection (see :mod:`goodjob_pg.transactions`).
        """
        opts = EnqueueOptions.build(
            queue=queue,
            priority=priority,
            run_at=run_at,
            delay=delay,
            labels=labels,
            id=id,
            max_attempts=max_attempts,
            concurrency_key=concurrency_key,
            connection=connection,
        )
        return Enqueuer(self.app, self.name, self, opts)

    def __repr__(self) -> str:
        kind = "async task" if self.is_async else "task"
        return f"<{kind} {self.name!r}>"
