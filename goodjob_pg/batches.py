"""Batches: a set of jobs whose callbacks SQL enqueues when they finish.

``Batch`` is the Python face of a row of goodjob_batches. The counting and
the callbacks live in SQL (triggers in migration 0006): the result that
finishes a batch's last job enqueues ``on_finish`` (and ``on_success``) in
its own transaction, exactly once. A callback task is called as
``cb(batch, params)`` with this class and ``params["event"]`` one of
``"finish"``, ``"success"``, ``"discard"``.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import TYPE_CHECKING, Any
from uuid import UUID

from . import db
from .bulk import Bulk
from .errors import BatchNotFoundError
from .ids import uuid7
from .options import optional_int, optional_str
from .serialization import check_json

if TYPE_CHECKING:
    from .jobs import Job
    from .registry import App

__all__ = ["Batch", "callback_args"]

Callback = str | Callable[..., Any] | None


def _task_name(value: Callback, what: str) -> str | None:
    if value is None or isinstance(value, str):
        return value
    name = getattr(value, "name", None)
    if not isinstance(name, str):
        raise TypeError(f"{what} must be a task or a task name, not {value!r}")
    return name


class Batch:
    """A batch of jobs with callbacks; made by ``app.batch(...)`` or ``app.find_batch(id)``.

    Attributes:
        id: the batch id (made in Python; the row is written on first use).
        description, properties: free text and a JSON object; change them and
            call ``save()`` (``enqueue(**more)`` merges more properties).
        on_finish, on_success, on_discard: callback task names.
        callback_queue, callback_priority: options of the callback jobs.
        created_at, enqueued_at, discarded_at, finished_at: times, from SQL.
        jobs, pending, succeeded_jobs, discarded_jobs: counts, from SQL.
    """

    def __init__(
        self,
        app: App,
        *,
        id: UUID | None = None,
        on_finish: Callback = None,
        on_success: Callback = None,
        on_discard: Callback = None,
        description: str | None = None,
        callback_queue: str | None = None,
        callback_priority: int | None = None,
        properties: dict[str, Any] | None = None,
    ) -> None:
        if properties is not None and not isinstance(properties, dict):
            raise TypeError(f"properties must be a dict, not {properties!r}")
        check_json(properties or {}, "properties")
        self.app = app
        self.id: UUID = id if id is not None else uuid7()
        self.on_finish = _task_name(on_finish, "on_finish")
        self.on_success = _task_name(on_success, "on_success")
        self.on_discard = _task_name(on_discard, "on_discard")
        self.description = optional_str(description, "description")
        self.callback_queue = optional_str(callback_queue, "callback_queue")
        self.callback_priority = optional_int(callback_priority, "callback_priority")
        self.properties: dict[str, Any] = dict(properties or {})
        self.created_at: datetime | None = None
        self.enqueued_at: datetime | None = None
        self.discarded_at: datetime | None = None
        self.finished_at: datetime | None = None
        self.jobs = self.pending = self.succeeded_jobs = self.discarded_jobs = 0
        self._created = False
        self._block: Bulk | None = None

    # --- state ---------------------------------------------------------------------------

    @property
    def finished(self) -> bool:
        """Whether the finish callbacks were enqueued (every job finished, batch enqueued)."""
        return self.finished_at is not None

    @property
    def succeeded(self) -> bool:
        """Whether the batch finished with every job succeeded."""
        return self.finished and self.discarded_jobs == 0 and self.succeeded_jobs == self.jobs

    @property
    def discarded(self) -> bool:
        """Whether a job of the batch was discarded."""
        return self.discarded_jobs > 0

    def _load(self, row: dict[str, Any]) -> Batch:
        self.description = row["description"]
        self.properties = dict(row["properties"])
        for name in ("on_finish", "on_success", "on_discard", "callback_queue"):
            setattr(self, name, row[name])
        self.callback_priority = row["callback_priority"]
        self.created_at, self.enqueued_at = row["created_at"], row["enqueued_at"]
        self.discarded_at, self.finished_at = row["discarded_at"], row["finished_at"]
        self.jobs, self.pending = row["jobs"], row["pending"]
        self.succeeded_jobs, self.discarded_jobs = row["succeeded"], row["discarded"]
        self._created = True
        return self

    def reload(self) -> Batch:
        """Read the batch's row again (times, counts, properties)."""
        with self.app.connection() as conn:
            row = db.get_batch(conn, self.id)
        if row is None:
            raise BatchNotFoundError(f"batch {self.id} not found")
        return self._load(row)

    def job_ids(self) -> list[UUID]:
        """The ids of the batch's jobs, oldest first (callbacks are not members)."""
        with self.app.connection() as conn:
            return db.batch_job_ids(conn, self.id)

    # --- changes -------------------------------------------------------------------------

    def _create(self, conn: db.Conn) -> None:
        if not self._created:
            db.create_batch(
                conn,
                id=self.id,
                description=self.description,
                properties=self.properties,
                on_finish=self.on_finish,
                on_success=self.on_success,
                on_discard=self.on_discard,
                callback_queue=self.callback_queue,
                callback_priority=self.callback_priority,
            )

    def _arm(self, conn: db.Conn, more: dict[str, Any] | None = None) -> None:
        # Only the new keys: SQL merges them, so properties a concurrent callback
        # saved are not overwritten by this object's older copy.
        db.enqueue_batch(conn, self.id, more or None)

    def add(self) -> Bulk:
        """``with batch.add():`` jobs enqueued in the block join the batch, written on exit.

        Adding does not enqueue the batch: a finished batch fires nothing
        more until ``enqueue()`` is called again.
        """
        return Bulk(self.app, self)

    def enqueue(self, **more_properties: Any) -> Batch:
        """Arm (or re-arm) the callbacks, merging ``more_properties`` into the properties.

        Other changes to ``properties`` are written by ``save()``. With no job
        pending (an empty batch, or all finished) the callbacks are enqueued at
        once; otherwise by the last job's result.
        """
        check_json(more_properties, "properties")

        def run(conn: db.Conn) -> None:
            with conn.transaction():
                self._create(conn)
                self._arm(conn, more_properties)

        self.app._pool.run_idempotent(run)
        self.reload()
        from .bulk import after_write

        after_write(self.app, ())
        return self

    def save(self) -> Batch:
        """Write ``properties`` and ``description`` to the batch's row."""
        with self.app.connection() as conn:
            if not self._created:
                self._create(conn)
            db.update_batch(conn, self.id, properties=self.properties, description=self.description)
        return self.reload()

    # --- with app.batch(...) as batch: ---------------------------------------------------

    def __enter__(self) -> Batch:
        self._block = Bulk(self.app, self, arm=True)
        self._block.__enter__()
        return self

    def __exit__(self, *exc_info: Any) -> None:
        block, self._block = self._block, None
        assert block is not None
        block.__exit__(*exc_info)

    def __repr__(self) -> str:
        return f"<Batch {self.id} jobs={self.jobs} pending={self.pending}>"


def find_batch(app: App, id: UUID) -> Batch:
    """The batch with this id, loaded from the database; BatchNotFoundError if none."""
    return Batch(app, id=id).reload()


def callback_args(app: App, job: Job) -> list[Any]:
    """The positional arguments to call a job's task with: a batch callback gets its Batch."""
    if job.batch_callback_id is None:
        return job.args
    return [find_batch(app, job.batch_callback_id), *job.args[1:]]
