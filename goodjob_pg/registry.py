"""The App: task registry, enqueue, task definitions, and the execution modes."""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import AbstractContextManager, contextmanager
from datetime import datetime, timedelta
from types import MappingProxyType, TracebackType
from typing import TYPE_CHECKING, Any, Literal, ParamSpec, TypeVar, overload
from uuid import UUID

import psycopg

from . import db
from .bulk import Bulk
from .concurrency import Concurrency
from .connections import LazyPool
from .enqueueing import EnqueueMixin
from .errors import DuplicateTaskError, UnknownTaskError
from .hooks import Callback as HookCallback
from .hooks import Hooks
from .jobs import Job
from .options import NO_OPTIONS, EnqueueOptions, Enqueuer
from .schemas import check_schema, env_schema, with_schema
from .tasks import Backoff, ExceptionTypes, Task, TaskOptions
from .tasks import default_task_name as _default_task_name

if TYPE_CHECKING:
    from .batches import Batch, Callback
    from .cron import CronEntry
    from .inline import InlineRunner
    from .worker import Worker, WorkerConfig

__all__ = ["App", "ExecutionMode", "Task", "TaskOptions"]

logger = logging.getLogger(__name__)

P = ParamSpec("P")
R = TypeVar("R")

ExecutionMode = Literal["external", "inline", "async"]
_MODES = ("external", "inline", "async")
OnError = Callable[[BaseException, Job], object]


def _env_database_url() -> str:
    return os.environ.get("GOODJOB_DATABASE_URL") or os.environ.get("DATABASE_URL") or ""


class App(EnqueueMixin):
    """A registry of tasks bound to one database.

    Parameters:
        database_url: libpq URL or conninfo; default ``GOODJOB_DATABASE_URL``,
            then ``DATABASE_URL``, then libpq's defaults (``PGHOST`` etc.).
        execution_mode: ``"external"`` (jobs run in a ``goodjob-pg run``
            process), ``"inline"`` (enqueue runs due jobs at once in the calling
            thread; for tests) or ``"async"`` (a worker runs in background
            threads of this process, started by ``start()`` or the first enqueue).
        on_error: called as ``on_error(exc, job)`` for every exception a task
            raises (not for ``Retry``/``Discard``); its own errors are logged.
        pool_size: most connections the enqueue pool opens.
        cron: recurring jobs keyed by a unique name (see :mod:`goodjob_pg.cron`);
            entries in the ``GOODJOB_CRON`` environment variable (JSON) are added,
            and win for a key in both. Scheduled by a worker with ``enable_cron``.
        around_job: called as ``around_job(job)`` for a context manager that
            wraps each job's run, in the thread that runs it (a Flask app
            context; the Django integration closes stale connections with it).
        around_enqueue: called as ``around_enqueue(task_name, options)`` for a
            context manager around each enqueue's write; it may add
            ``options["trace_context"]`` (the OpenTelemetry integration does).
        enqueue_connection: called at each enqueue without ``connection=``
            for the connection to write on (anything ``connection=`` takes);
            the Django integration passes Django's own. Default: the App's pool.
        schema: the schema goodjob-pg is installed in (default
            ``GOODJOB_SCHEMA``, else whatever the connection's search_path
            finds, normally ``public``). Every connection the App opens uses
            ``search_path`` = this schema; on a caller's connection the
            App sets it for its own statements only and restores it.

    The constructor does not touch the database; the pool opens on first use.
    ``close()`` (or leaving ``with app:``) releases connections and stops
    what ``start()`` or inline mode started; a closed App does not reconnect.
    """

    def __init__(
        self,
        database_url: str | None = None,
        *,
        execution_mode: ExecutionMode = "external",
        on_error: OnError | None = None,
        pool_size: int = 4,
        cron: Mapping[str, Mapping[str, Any]] | None = None,
        enqueue_connection: Callable[[], object] | None = None,
        around_job: Callable[[Job], AbstractContextManager[object]] | None = None,
        around_enqueue: Callable[[str, dict[str, Any]], AbstractContextManager[object]]
        | None = None,
        schema: str | None = None,
    ) -> None:
        if execution_mode not in _MODES:
            raise ValueError(
                f"execution_mode must be one of {', '.join(_MODES)}, not {execution_mode!r}"
            )
        url = database_url if database_url is not None else _env_database_url()
        self._database_url = url
        self._schema = check_schema(schema) if schema is not None else env_schema()
        self._pool = LazyPool(with_schema(url, self._schema), pool_size)
        self.execution_mode: ExecutionMode = execution_mode
        self.on_error = on_error
        self.enqueue_connection = enqueue_connection
        self.around_job = around_job
        self.around_enqueue = around_enqueue
        self._tasks: dict[str, Task[Any, Any]] = {}
        self.hooks = Hooks()
        self._concurrency_defined: set[str] = set()
        self._lock = threading.RLock()
        self._inline: InlineRunner | None = None
        self._worker: Worker | None = None
        if cron is not None and not isinstance(cron, Mapping):
            raise TypeError(f"cron must be a mapping of entries keyed by name, not {cron!r}")
        self.cron: dict[str, Mapping[str, Any]] = dict(cron or {})

    def __repr__(self) -> str:
        schema = f" schema={self._schema}" if self._schema is not None else ""
        return f"<App mode={self.execution_mode}{schema} tasks={len(self._tasks)}>"

    # --- configuration ---------------------------------------------------------------------

    @property
    def database_url(self) -> str:
        """The database's conninfo as given ("" means libpq defaults).

        Settable until the App first connects (the CLI's --database-url does this).
        """
        return self._database_url

    @database_url.setter
    def database_url(self, value: str) -> None:
        self._configure(value, self._schema)

    @property
    def schema(self) -> str | None:
        """The schema of the install (None: the connection's search_path decides).

        Settable until the App first connects (the CLI's --schema does this).
        """
        return self._schema

    @schema.setter
    def schema(self, value: str | None) -> None:
        self._configure(self._database_url, None if value is None else check_schema(value))

    @property
    def conninfo(self) -> str:
        """What every connection of the App uses: ``database_url`` plus the schema's search_path."""
        return self._pool.conninfo

    def _configure(self, database_url: str, schema: str | None) -> None:
        with self._lock:
            if self._inline is not None or self._worker is not None:
                raise RuntimeError(
                    "database_url and schema cannot change once the App has connected"
                )
            self._pool.conninfo = with_schema(database_url, schema)
            self._database_url, self._schema = database_url, schema

    @property
    def tasks(self) -> Mapping[str, Task[Any, Any]]:
        """Registered tasks by name (read-only view)."""
        return MappingProxyType(self._tasks)

    def get_task(self, name: str) -> Task[Any, Any]:
        """The task registered under ``name``; UnknownTaskError if none."""
        try:
            return self._tasks[name]
        except KeyError:
            raise UnknownTaskError(
                f"no task named {name!r}; registered: {', '.join(sorted(self._tasks)) or '(none)'}"
            ) from None

    def cron_entries(self) -> dict[str, CronEntry]:
        """The checked cron entries: ``cron=`` plus ``GOODJOB_CRON``; CronConfigError if bad."""
        from .cron import load_entries

        return load_entries(self.cron, os.environ.get("GOODJOB_CRON"), list(self._tasks))

    # --- registration ----------------------------------------------------------------------

    @overload
    def task(self, func: Callable[P, R], /) -> Task[P, R]: ...

    @overload
    def task(
        self,
        func: None = None,
        /,
        *,
        name: str | None = None,
        queue: str | None = None,
        priority: int | None = None,
        max_attempts: int | None = None,
        retry_backoff: Backoff | None = None,
        retry_on: ExceptionTypes = (),
        discard_on: ExceptionTypes = (),
        labels: Iterable[str] = (),
        preserve: str | None = None,
        timeout: float | None = None,
        interrupts: str | None = None,
        concurrency: Mapping[str, Any] | None = None,
    ) -> Callable[[Callable[P, R]], Task[P, R]]: ...

    def task(
        self,
        func: Callable[P, R] | None = None,
        /,
        *,
        name: str | None = None,
        queue: str | None = None,
        priority: int | None = None,
        max_attempts: int | None = None,
        retry_backoff: Backoff | None = None,
        retry_on: ExceptionTypes = (),
        discard_on: ExceptionTypes = (),
        labels: Iterable[str] = (),
        preserve: str | None = None,
        timeout: float | None = None,
        interrupts: str | None = None,
        concurrency: Mapping[str, Any] | None = None,
    ) -> Task[P, R] | Callable[[Callable[P, R]], Task[P, R]]:
        """Register a sync or ``async def`` callable as a task (bare or with options).

        Parameters:
            name: the name SQL callers use; default ``module.qualname``.
            queue, priority, max_attempts, labels: defaults for its jobs.
            retry_backoff: ``"constant"``, ``"linear"``, ``"exponential"``,
                ``"polynomial"`` (the default) or ``(kind, base_seconds)``.
            retry_on: if given, only these exceptions are retried; others discard.
            discard_on: these exceptions discard the job at once.
            preserve: keep finished rows: ``"always"``, ``"on_discard"``, ``"never"``.
            timeout: seconds an attempt may run in a worker (see :mod:`goodjob_pg.running`).
            interrupts: ``"raise"``: an attempt after an interrupted one raises
                :class:`~goodjob_pg.errors.InterruptError` before the task runs.
            concurrency: limits per concurrency key, enforced in SQL:
                ``total_limit``, ``enqueue_limit``, ``perform_limit``,
                ``enqueue_throttle`` and ``perform_throttle`` (``(n, seconds)``),
                and ``key`` (a str, ``key(args, kwargs) -> str``, or None for
                no control; default the task name). See :mod:`goodjob_pg.concurrency`.
        """

        def register(f: Callable[P, R]) -> Task[P, R]:
            options = TaskOptions.build(
                name if name is not None else _default_task_name(f),
                queue=queue,
                priority=priority,
                max_attempts=max_attempts,
                retry_backoff=retry_backoff,
                preserve=preserve,
                labels=labels,
                retry_on=retry_on,
                discard_on=discard_on,
                timeout=timeout,
                interrupts=interrupts,
                concurrency=concurrency,
            )
            task = Task(self, f, options)
            with self._lock:
                old = self._tasks.get(options.name)
                if old is not None and _identity(old.func) != _identity(f):
                    raise DuplicateTaskError(
                        f"task name {options.name!r} is already registered for"
                        f" {_identity(old.func)}; pass a distinct name="
                    )
                self._tasks[options.name] = task
            return task

        if func is not None:
            return register(func)
        return register

    def on(self, event: str, callback: HookCallback | None = None) -> Any:
        """Call ``callback(event)`` on a worker event (see :mod:`goodjob_pg.hooks`).

        ``event``: ``job_started``, ``job_succeeded``, ``job_failed``,
        ``job_discarded``, ``worker_started`` or ``worker_stopped``. Without
        ``callback``, returns a decorator. A callback that raises is logged.
        """
        if callback is None:

            def decorator(f: HookCallback) -> HookCallback:
                self.hooks.add(event, f)
                return f

            return decorator
        self.hooks.add(event, callback)
        return callback

    # --- enqueue ---------------------------------------------------------------------------

    def enqueue(self, task_name: str, /, *args: Any, **kwargs: Any) -> UUID | None:
        """Enqueue a job by task name; a registered task's signature is checked.

        Returns None (and logs why) when the task's concurrency limits refuse the job.
        """
        return self._enqueue(task_name, self._tasks.get(task_name), args, kwargs, NO_OPTIONS)

    def options(self, task_name: str, /, **options: Any) -> Enqueuer[...]:
        """Enqueue options for a task given by name (keywords as ``Task.options``)."""
        return Enqueuer(
            self, task_name, self._tasks.get(task_name), EnqueueOptions.build(**options)
        )

    # --- bulk enqueue and batches (goodjob_pg.bulk, goodjob_pg.batches) --------------------

    def bulk(self) -> Bulk:
        """``with app.bulk() as bulk:`` buffer every enqueue in the block; write them in one
        statement on exit (nothing if it raises). Inside, enqueue returns the job's id."""
        return Bulk(self)

    def batch(
        self,
        *,
        on_finish: Callback = None,
        on_success: Callback = None,
        on_discard: Callback = None,
        description: str | None = None,
        callback_queue: str | None = None,
        callback_priority: int | None = None,
        properties: dict[str, Any] | None = None,
    ) -> Batch:
        """A new batch: ``with app.batch(...) as batch:`` (enqueued on exit) or
        ``batch.add()`` then ``batch.enqueue()``. Written to the database on first use."""
        from .batches import Batch

        return Batch(
            self,
            on_finish=on_finish,
            on_success=on_success,
            on_discard=on_discard,
            description=description,
            callback_queue=callback_queue,
            callback_priority=callback_priority,
            properties=properties,
        )

    def find_batch(self, id: UUID) -> Batch:
        """The batch with this id; BatchNotFoundError if there is none."""
        from .batches import find_batch

        return find_batch(self, id)

    # --- connections and definitions -------------------------------------------------------

    @contextmanager
    def connection(self) -> Iterator[psycopg.Connection[Any]]:
        """Borrow an autocommit connection from the App's pool (opened on first use)."""
        with self._pool.connection() as conn:
            yield conn

    def sync_task_definitions(self, conn: psycopg.Connection[Any] | None = None) -> int:
        """Write every registered task's defaults with goodjob_define_task, in one transaction.

        Returns the number of tasks written. ``migrate`` and worker start-up call it.
        """
        if conn is None:
            with self.connection() as pooled:
                return self.sync_task_definitions(pooled)
        with conn.transaction():
            for task in list(self._tasks.values()):
                db.define_task(conn, task.name, **task.defaults.definition())
                db.define_concurrency(conn, task.name, **task.defaults.concurrency.definition())
        with self._lock:
            self._concurrency_defined.update(self._tasks)
        return len(self._tasks)

    def _define_concurrency(self, name: str, limits: Concurrency) -> None:
        """Write a task's limits before its first enqueue, so SQL enforces them at once."""
        if name in self._concurrency_defined:
            return
        self._pool.run_idempotent(
            lambda conn: db.define_concurrency(conn, name, **limits.definition())
        )
        with self._lock:
            self._concurrency_defined.add(name)

    # --- running jobs ----------------------------------------------------------------------

    def perform_inline(
        self, queues: str = "*", limit: int | None = None, *, as_of: datetime | None = None
    ) -> int:
        """Run due jobs in the calling thread until none is left (or ``limit`` ran).

        Runs whatever is due in the selected queues, not only jobs this App
        enqueued. Returns how many jobs ran. Works in every execution mode.
        ``as_of`` pins the clock (see :meth:`drain`).
        """
        with self._lock:
            self._pool.check_open()
            if self._inline is None:
                from .inline import InlineRunner

                self._inline = InlineRunner(self)
            runner = self._inline
        return runner.perform(queues, limit, as_of=as_of)

    def drain(
        self,
        queues: str = "*",
        *,
        as_of: datetime | None = None,
        advance: timedelta | None = None,
        limit: int | None = None,
    ) -> int:
        """Run every due job in this thread until none is (tests); see :func:`testing.drain`.

        ``as_of`` pins the clock; ``advance=timedelta(hours=1)`` also runs what
        is scheduled within the next hour. Returns how many jobs ran.
        """
        from .testing import drain

        return drain(self, queues, as_of=as_of, advance=advance, limit=limit)

    def jobs_enqueued(
        self,
        task: Task[Any, Any] | str | None = None,
        *,
        queue: str | None = None,
        include_finished: bool = False,
    ) -> list[Job]:
        """Jobs waiting to run, oldest first (tests); see :func:`testing.jobs_enqueued`."""
        from .testing import jobs_enqueued

        return jobs_enqueued(self, task, queue=queue, include_finished=include_finished)

    def start(self, config: WorkerConfig | None = None) -> None:
        """Start a worker in background threads of this process (no-op if running)."""
        if self.execution_mode == "inline":
            raise RuntimeError(
                "an inline App runs jobs at enqueue; start() needs external or async mode"
            )
        with self._lock:
            self._pool.check_open()
            if self._worker is not None:
                return
            from .worker import Worker, WorkerConfig

            worker = Worker(self, config if config is not None else WorkerConfig())
            worker.start()
            self._worker = worker

    def stop(self, timeout: float | None = None) -> None:
        """Stop the worker ``start()`` started, waiting up to ``timeout`` seconds."""
        with self._lock:
            worker, self._worker = self._worker, None
        if worker is not None:
            worker.stop(timeout)

    def close(self) -> None:
        """Stop the worker, end the inline lease and close the pool; idempotent.

        A closed App stays closed: using its database afterwards raises
        AppClosedError (so a task still running after shutdown cannot reopen
        a pool nobody closes). Create a new App to connect again.
        """
        self.stop()
        with self._lock:
            inline, self._inline = self._inline, None
        if inline is not None:
            inline.close()
        self._pool.close()

    @property
    def closed(self) -> bool:
        """Whether ``close()`` was called."""
        return self._pool.closed

    def __enter__(self) -> App:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()


def _identity(func: Callable[..., Any]) -> str:
    return f"{getattr(func, '__module__', '?')}.{getattr(func, '__qualname__', repr(func))}"
