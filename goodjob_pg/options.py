"""Enqueue options: what ``task.options(...)`` and ``app.options(name, ...)`` build."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any, Generic, ParamSpec
from uuid import UUID

from .clock import database_clock
from .ids import uuid7

if TYPE_CHECKING:
    from .bulk import PreparedJob
    from .registry import App
    from .tasks import Task, TaskOptions

__all__ = [
    "NO_OPTIONS",
    "EnqueueOptions",
    "Enqueuer",
    "JobSpec",
    "check_labels",
    "optional_int",
    "optional_str",
]

P = ParamSpec("P")


def optional_int(value: Any, what: str) -> int | None:
    """``value`` if None or an int (not a bool), else TypeError naming ``what``."""
    if value is not None and (isinstance(value, bool) or not isinstance(value, int)):
        raise TypeError(f"{what} must be an int, not {value!r}")
    return value


def optional_str(value: Any, what: str) -> str | None:
    """``value`` if None or a str, else TypeError naming ``what``."""
    if value is not None and not isinstance(value, str):
        raise TypeError(f"{what} must be a str, not {value!r}")
    return value


def check_labels(value: Iterable[str] | None, what: str) -> tuple[str, ...] | None:
    """Labels as a tuple of str (None stays None); TypeError for a bare str or a non-str."""
    if value is None:
        return None
    if isinstance(value, str):
        raise TypeError(f"{what} must be a list of str, not the str {value!r}")
    labels = tuple(value)
    for label in labels:
        if not isinstance(label, str):
            raise TypeError(f"{what} must hold str, not {label!r}")
    return labels


@dataclass(frozen=True)
class EnqueueOptions:
    """Per-enqueue options; ``None`` means "the task's default"."""

    queue: str | None = None
    priority: int | None = None
    run_at: datetime | None = None
    delay: timedelta | None = None
    labels: tuple[str, ...] | None = None
    id: UUID | None = None
    max_attempts: int | None = None
    concurrency_key: str | None = None
    connection: object | None = field(default=None, compare=False)

    @classmethod
    def build(
        cls,
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
    ) -> EnqueueOptions:
        """Check option types and build."""
        if run_at is not None and delay is not None:
            raise ValueError("pass run_at or delay, not both")
        if run_at is not None:
            if not isinstance(run_at, datetime):
                raise TypeError(f"run_at must be a datetime, not {run_at!r}")
            if run_at.tzinfo is None:
                raise ValueError("run_at must be timezone-aware (e.g. datetime.now(timezone.utc))")
        if delay is not None and not isinstance(delay, timedelta):
            if isinstance(delay, bool) or not isinstance(delay, int | float):
                raise TypeError(f"delay must be seconds or a timedelta, not {delay!r}")
            delay = timedelta(seconds=delay)
        if id is not None and not isinstance(id, UUID):
            raise TypeError(f"id must be a uuid.UUID, not {id!r}")
        return cls(
            queue=optional_str(queue, "queue"),
            priority=optional_int(priority, "priority"),
            run_at=run_at,
            delay=delay,
            labels=check_labels(labels, "labels"),
            id=id,
            max_attempts=optional_int(max_attempts, "max_attempts"),
            concurrency_key=optional_str(concurrency_key, "concurrency_key"),
            connection=connection,
        )

    def resolve(self, defaults: TaskOptions | None, now: datetime | None = None) -> dict[str, Any]:
        """Keyword arguments for :func:`goodjob_pg.db.enqueue`: these options over the task's.

        The task's defaults are sent explicitly, so they hold even before
        ``sync_task_definitions()``; what neither sets stays null for SQL to
        fill. ``delay`` becomes ``run_at`` from ``now``; ``id`` is generated
        here when not given, so a retry after a dropped connection is idempotent.
        """
        d = defaults
        run_at = self.run_at
        if self.delay is not None and self.delay > timedelta(0):
            run_at = (now or database_clock.now()) + self.delay
        labels = self.labels
        if labels is None and d is not None and d.labels:
            labels = d.labels
        return {
            "queue": self.queue if self.queue is not None or d is None else d.queue,
            "priority": self.priority if self.priority is not None or d is None else d.priority,
            "max_attempts": (
                self.max_attempts if self.max_attempts is not None or d is None else d.max_attempts
            ),
            "run_at": run_at,
            "labels": labels,
            "concurrency_key": self.concurrency_key,
            "id": self.id if self.id is not None else uuid7(),
        }

    def merged(self, other: EnqueueOptions) -> EnqueueOptions:
        """These options overridden by the ones ``other`` sets."""
        changes = {k: v for k, v in vars(other).items() if v is not None}
        if "run_at" in changes:
            changes["delay"] = None
        elif "delay" in changes:
            changes["run_at"] = None
        return replace(self, **changes)


NO_OPTIONS = EnqueueOptions()


@dataclass(frozen=True)
class JobSpec:
    """One job for ``app.enqueue_many``: ``task.job(...)`` or ``task.options(...).job(...)``.

    Nothing is checked until ``enqueue_many``, which checks every job before
    writing any.
    """

    name: str
    task: Task[Any, Any] | None
    args: tuple[Any, ...]
    kwargs: dict[str, Any]
    opts: EnqueueOptions = NO_OPTIONS


class Enqueuer(Generic[P]):
    """A task name bound to enqueue options: ``task.options(...).enqueue(...)``."""

    __slots__ = ("_app", "_name", "_opts", "_task")

    def __init__(
        self, app: App, name: str, task: Task[P, Any] | None, opts: EnqueueOptions
    ) -> None:
        self._app = app
        self._name = name
        self._task = task
        self._opts = opts

    def enqueue(self, *args: P.args, **kwargs: P.kwargs) -> UUID | None:
        """Enqueue a job with these options; returns its id (None if a limit refused it)."""
        return self._app._enqueue(self._name, self._task, args, kwargs, self._opts)

    async def aenqueue(self, *args: P.args, **kwargs: P.kwargs) -> UUID | None:
        """``enqueue`` for async code: natively on an async ``connection=``, else in a thread."""
        return await self._app._aenqueue(self._name, self._task, args, kwargs, self._opts)

    def job(self, *args: P.args, **kwargs: P.kwargs) -> JobSpec:
        """This job with these options, for ``app.enqueue_many([...])``."""
        return JobSpec(self._name, self._task, args, kwargs, self._opts)

    def prepare(self, *args: P.args, **kwargs: P.kwargs) -> PreparedJob:
        """A checked job with these options for ``app.enqueue_many([...])``."""
        from .bulk import prepare_job

        return prepare_job(self._name, self._task, args, kwargs, self._opts)

    def options(self, **options: Any) -> Enqueuer[P]:
        """More options on top of these (same keywords as ``Task.options``)."""
        return Enqueuer(
            self._app, self._name, self._task, self._opts.merged(EnqueueOptions.build(**options))
        )

    def __repr__(self) -> str:
        return f"<Enqueuer {self._name!r} {self._opts}>"
