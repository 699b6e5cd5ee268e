"""The App's enqueue methods: argument checks, the connection to write on, the execution modes.

:class:`EnqueueMixin` is a base of :class:`~goodjob_pg.registry.App`; it is
split out only to keep each module small.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Iterable, Mapping, Sequence
from contextlib import AbstractContextManager
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, cast
from uuid import UUID

from . import db
from .bulk import PreparedJob, prepare_job
from .concurrency import apply_concurrency, log_refusal
from .connections import LazyPool
from .options import EnqueueOptions, JobSpec
from .serialization import bind_arguments, prepare_arguments
from .transactions import aenqueue_on, arun_on, enqueue_on, is_async_connection, run_on

if TYPE_CHECKING:
    from .registry import App, ExecutionMode
    from .tasks import Task
    from .worker import Worker

__all__ = ["EnqueueMixin"]


def earliest_run_at(specs: Iterable[Mapping[str, Any]]) -> datetime | None:
    """None when some job is due now (or there is none), else the earliest run time."""
    times = [spec.get("run_at") for spec in specs]
    return None if not times or None in times else min(t for t in times if t is not None)


logger = logging.getLogger("goodjob_pg.registry")


class EnqueueMixin:
    """Enqueue by name or through a Task; see :class:`~goodjob_pg.registry.App`."""

    _pool: LazyPool
    _tasks: dict[str, Task[Any, Any]]
    _worker: Worker | None
    execution_mode: ExecutionMode
    enqueue_connection: Callable[[], object] | None
    schema: str | None
    around_enqueue: Callable[[str, dict[str, Any]], AbstractContextManager[object]] | None

    # Methods of App this mixin calls (declared for the type checker only).
    perform_inline: Callable[..., int]
    start: Callable[..., None]

    def enqueue_many(
        self, jobs: Iterable[JobSpec | PreparedJob], *, connection: object | None = None
    ) -> list[UUID | None]:
        """Enqueue many jobs in one statement, all or none; returns their ids in order.

        ``jobs`` come from ``task.prepare(...)`` / ``task.options(...).prepare(...)``
        (checked when prepared) or ``task.job(...)`` (checked here); every one
        is checked (signature, arguments, options) before any is written. A
        job a concurrency limit refuses comes back as ``None`` in its place.
        ``connection`` is what ``options(connection=)`` takes (the jobs join
        its transaction); per-job ``connection=`` is refused. Inside
        ``app.bulk()`` (and without ``connection``) the jobs join the block
        and their own ids are returned.
        """
        from .bulk import current_buffer, write

        prepared = [self._prepared(job) for job in jobs]
        block = current_buffer(self) if connection is None else None
        if block is not None:
            return [block.add(job) for job in prepared]
        if not prepared:
            return []
        if connection is None:
            return write(cast("App", self), prepared)
        specs = [job.spec() for job in prepared]
        target = connection
        if target is None and self.enqueue_connection is not None:
            target = self.enqueue_connection()
        ids = run_on(target, lambda conn: db.enqueue_many(conn, specs), schema=self.schema)
        self._after_enqueue(specs[0]["task"], earliest_run_at(specs))
        return ids

    async def aenqueue_many(
        self, jobs: Iterable[JobSpec | PreparedJob], *, connection: object | None = None
    ) -> list[UUID | None]:
        """:meth:`enqueue_many` for async code (natively on an async ``connection``)."""
        if connection is None or not is_async_connection(connection):
            return await asyncio.to_thread(self.enqueue_many, list(jobs), connection=connection)
        specs = [self._prepared(job).spec() for job in jobs]
        if not specs:
            return []
        ids = await arun_on(
            connection, lambda conn: db.aenqueue_many(conn, specs), schema=self.schema
        )
        if self.execution_mode != "external":
            await asyncio.to_thread(self._after_enqueue, specs[0]["task"], earliest_run_at(specs))
        return ids

    def _prepared(self, job: JobSpec | PreparedJob) -> PreparedJob:
        if isinstance(job, PreparedJob):
            return job
        if not isinstance(job, JobSpec):
            raise TypeError(f"enqueue_many takes task.prepare(...) values, not {job!r}")
        if job.opts.connection is not None:
            raise ValueError("pass connection= to enqueue_many, not to each job's options")
        return prepare_job(job.name, job.task, job.args, job.kwargs, job.opts)

    def _prepare(
        self,
        name: str,
        task: Task[Any, Any] | None,
        args: Sequence[Any],
        kwargs: dict[str, Any],
        opts: EnqueueOptions,
    ) -> tuple[Sequence[Any], dict[str, Any], dict[str, Any]]:
        """Check and encode the arguments; resolve the options (everything before the SQL).

        A task with concurrency limits gets its key (from the arguments as
        given, before encoding) and has its limits written before its first
        enqueue, so SQL enforces them at once.
        """
        if task is not None:
            bind_arguments(task.signature, name, args, kwargs)
        options = opts.resolve(task.defaults if task is not None else None)
        if task is not None:
            apply_concurrency(self, task, options, args, kwargs)
        args, kwargs = prepare_arguments(args, kwargs)
        return args, kwargs, options

    def _enqueue(
        self,
        name: str,
        task: Task[Any, Any] | None,
        args: Sequence[Any],
        kwargs: dict[str, Any],
        opts: EnqueueOptions,
    ) -> UUID | None:
        if opts.connection is None:
            from .bulk import current_buffer

            block = current_buffer(self)
            if block is not None:  # inside app.bulk() / batch.add(): written when it exits
                return block.add(prepare_job(name, task, args, kwargs, opts))
        args, kwargs, options = self._prepare(name, task, args, kwargs, opts)
        target = opts.connection
        if target is None and self.enqueue_connection is not None:
            target = self.enqueue_connection()
        if self.around_enqueue is None:
            job_id = self._write(target, name, args, kwargs, options)
        else:
            with self.around_enqueue(name, options):
                job_id = self._write(target, name, args, kwargs, options)
        if job_id is None:
            log_refusal(task, name, options)
            return None
        self._after_enqueue(name, options["run_at"])
        return job_id

    def _write(
        self,
        target: object | None,
        name: str,
        args: Sequence[Any],
        kwargs: dict[str, Any],
        options: dict[str, Any],
    ) -> UUID | None:
        if target is not None:
            return enqueue_on(target, name, args, kwargs, options, self.schema)
        # The id is fixed (options["id"]), so a retry cannot duplicate the job.
        return self._pool.run_idempotent(
            lambda conn: db.enqueue(conn, name, args, kwargs, **options)
        )

    async def _aenqueue(
        self,
        name: str,
        task: Task[Any, Any] | None,
        args: Sequence[Any],
        kwargs: dict[str, Any],
        opts: EnqueueOptions,
    ) -> UUID | None:
        target = opts.connection
        if target is None or not is_async_connection(target):
            # Sync connections and the App's pool: in a thread, so the loop is not blocked.
            return await asyncio.to_thread(self._enqueue, name, task, args, kwargs, opts)
        args, kwargs, options = self._prepare(name, task, args, kwargs, opts)
        if self.around_enqueue is None:
            job_id = await aenqueue_on(target, name, args, kwargs, options, self.schema)
        else:
            with self.around_enqueue(name, options):
                job_id = await aenqueue_on(target, name, args, kwargs, options, self.schema)
        if job_id is None:
            log_refusal(task, name, options)
            return None
        if self.execution_mode != "external":
            await asyncio.to_thread(self._after_enqueue, name, options["run_at"])
        return job_id

    def _after_enqueue(self, name: str, run_at: datetime | None) -> None:
        """Inline mode runs what is due now; async mode starts its worker on first use."""
        if self.execution_mode == "inline":
            if run_at is None or run_at <= datetime.now(UTC):
                self.perform_inline()
        elif self.execution_mode == "async" and self._worker is None:
            try:
                self.start()
            except Exception:
                # The job is written; failing here would invite a duplicate enqueue.
                logger.exception(
                    "could not start the in-process worker; the next enqueue tries again",
                    extra={"action": "worker_start_failed", "task": name},
                )
