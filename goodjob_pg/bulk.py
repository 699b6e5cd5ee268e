"""Bulk enqueue: prepared jobs, and ``with app.bulk():`` buffering every enqueue in a block.

Every job written here goes through one ``goodjob_enqueue_many`` call per
flush: one statement, all or nothing, one NOTIFY per queue (from the insert
trigger). Ids are made in Python when a job is prepared, so an enqueue inside
a block returns the id the job will have once the block exits.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from contextvars import ContextVar, Token
from dataclasses import dataclass, field
from types import TracebackType
from typing import TYPE_CHECKING, Any
from uuid import UUID

import psycopg

from . import db
from .concurrency import apply_concurrency
from .options import EnqueueOptions
from .serialization import bind_arguments, prepare_arguments
from .transactions import run_on

if TYPE_CHECKING:
    from .batches import Batch
    from .registry import App
    from .tasks import Task

__all__ = ["Bulk", "PreparedJob", "prepare_job"]

logger = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class PreparedJob:
    """A checked job ready to be written: what ``task.prepare(...)`` returns.

    Parameters:
        id: the job's id (made in Python; the job gets it when written).
        task: the task name.
        args, kwargs: the arguments, already plain JSON.
        options: goodjob_enqueue's options (queue, priority, run_at, labels, ...).
    """

    id: UUID
    task: str
    args: Sequence[Any]
    kwargs: dict[str, Any]
    options: dict[str, Any] = field(repr=False)

    def spec(self, batch_id: UUID | None = None) -> dict[str, Any]:
        """The job as one element of goodjob_enqueue_many's array."""
        spec = {"task": self.task, "args": list(self.args), "kwargs": self.kwargs, **self.options}
        if batch_id is not None:
            spec["batch_id"] = batch_id
        return spec


def prepare_job(
    name: str,
    task: Task[Any, Any] | None,
    args: Sequence[Any],
    kwargs: dict[str, Any],
    opts: EnqueueOptions,
) -> PreparedJob:
    """Check a job's arguments (signature, JSON) and resolve its options over the task's."""
    if task is not None:
        bind_arguments(task.signature, name, args, kwargs)
    options = opts.resolve(task.defaults if task is not None else None)
    if task is not None:
        apply_concurrency(task.app, task, options, args, kwargs)
    args, kwargs = prepare_arguments(args, kwargs)
    return PreparedJob(options["id"], name, args, kwargs, options)


_current: ContextVar[Bulk | None] = ContextVar("goodjob_bulk", default=None)


def current_buffer(app: object) -> Bulk | None:
    """The innermost open bulk block of this App in this context, or None."""
    bulk = _current.get()
    return bulk if bulk is not None and bulk.app is app else None


class Bulk:
    """A block whose enqueues are written together when it exits: ``with app.bulk() as bulk:``.

    Inside, ``enqueue`` returns the job's id at once and writes nothing; on
    a normal exit every job is written with one goodjob_enqueue_many call (in
    a batch block, together with the batch), and ``bulk.ids`` holds what SQL
    returned for each, in order (``None`` for a job a concurrency limit
    refused). If the block raises, nothing is written. A nested
    ``app.bulk()`` adds to the enclosing block. Enqueues with
    ``options(connection=...)`` are written at once on that connection.
    """

    def __init__(self, app: App, batch: Batch | None = None, *, arm: bool = False) -> None:
        self.app = app
        self.batch = batch
        self.arm = arm
        self.jobs: list[PreparedJob] = []
        self.ids: list[UUID | None] = []
        self._token: Token[Bulk | None] | None = None
        self._outer: Bulk | None = None

    def add(self, job: PreparedJob) -> UUID:
        """Buffer one prepared job; returns its id."""
        self.jobs.append(job)
        return job.id

    def __enter__(self) -> Bulk:
        outer = current_buffer(self.app)
        if self.batch is None and outer is not None:
            self._outer = outer  # a plain nested block joins the enclosing one
            return outer
        self._token = _current.set(self)
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self._outer is not None:
            return
        assert self._token is not None
        _current.reset(self._token)
        if exc_type is None and (self.jobs or self.batch is not None):
            self.ids = write(self.app, self.jobs, self.batch, arm=self.arm)


def write(
    app: App, jobs: Sequence[PreparedJob], batch: Batch | None = None, *, arm: bool = False
) -> list[UUID | None]:
    """Write jobs in one goodjob_enqueue_many call; with a batch, create it first and
    (``arm``) enqueue it after, all in one transaction. Returns SQL's ids in order."""
    batch_id = batch.id if batch is not None else None
    specs = [job.spec(batch_id) for job in jobs]

    def run(executor: db.Executor) -> list[UUID | None]:
        conn = executor if isinstance(executor, psycopg.Connection) else executor.connection
        with conn.transaction():
            if batch is not None:
                batch._create(conn)
            ids: list[UUID | None] = list(db.enqueue_many(conn, specs)) if specs else []
            if batch is not None and arm:
                batch._arm(conn)
            return ids

    if app.enqueue_connection is not None:
        ids = run_on(app.enqueue_connection(), run, schema=app.schema)
    else:
        # Every id is fixed and batch creation is idempotent, so a retry cannot duplicate.
        ids = app._pool.run_idempotent(run)
    if batch is not None:
        batch.reload()
    after_write(app, jobs)
    return ids


def after_write(app: App, jobs: Sequence[PreparedJob]) -> None:
    """What an enqueue does next in the App's execution mode (inline: run due jobs).

    Also after a write of no jobs: arming an empty batch enqueues its callbacks.
    """
    from .enqueueing import earliest_run_at

    earliest = earliest_run_at(job.options for job in jobs)
    app._after_enqueue(jobs[0].task if jobs else "batch callbacks", earliest)
