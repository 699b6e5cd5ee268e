"""App in external mode: enqueue from Python, task definitions, pooled connections."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID, uuid4

import psycopg
import pytest

from goodjob_pg import App, State, errors
from goodjob_pg import db as gdb
from tests.worker_process import wait_for

Conn = psycopg.Connection[Any]


@pytest.fixture
def app(db_url: str) -> Iterator[App]:
    with App(db_url) as app:
        yield app


def job_row(conn: Conn, job_id: UUID) -> dict[str, Any]:
    cur = conn.execute(
        "select task, args, kwargs, queue, priority, run_at, state, max_attempts, labels,"
        " concurrency_key from goodjob_jobs where id = %s",
        (job_id,),
    )
    row = cur.fetchone()
    assert row is not None
    return dict(zip([d.name for d in cur.description or ()], row, strict=True))


def test_enqueue_writes_the_row(app: App, db_conn: Conn) -> None:
    @app.task(name="mail.send", queue="mail", priority=5, max_attempts=3, labels=["m"])
    def send(to: str, *, subject: str, tags: tuple[str, ...] = ()) -> None: ...

    job_id = send.enqueue("a@example.com", subject="hi", tags=("x", "y"))
    assert isinstance(job_id, UUID)
    row = job_row(db_conn, job_id)
    assert row == {
        "task": "mail.send",
        "args": ["a@example.com"],
        "kwargs": {"subject": "hi", "tags": ["x", "y"]},
        "queue": "mail",
        "priority": 5,
        "run_at": row["run_at"],
        "state": "queued",
        "max_attempts": 3,
        "labels": ["m"],
        "concurrency_key": None,
    }


def test_enqueue_options(app: App, db_conn: Conn) -> None:
    @app.task(queue="base", labels=["a"])
    def f(x: int) -> None: ...

    before = datetime.now(UTC)
    delayed = f.options(delay=3600, priority=-1, labels=["b", "c"], max_attempts=9).enqueue(1)
    row = job_row(db_conn, delayed)
    assert (row["state"], row["priority"], row["labels"], row["max_attempts"]) == (
        "scheduled",
        -1,
        ["b", "c"],
        9,
    )
    assert before + timedelta(seconds=3590) < row["run_at"] < before + timedelta(seconds=3610)

    when = datetime(2031, 6, 1, 12, tzinfo=UTC)
    fixed = uuid4()
    assert f.options(run_at=when, queue="other", id=fixed, concurrency_key="k").enqueue(2) == fixed
    row = job_row(db_conn, fixed)
    assert (row["run_at"], row["queue"], row["labels"], row["concurrency_key"]) == (
        when,
        "other",
        ["a"],
        "k",
    )
    # Enqueueing an existing id returns it and changes nothing.
    assert f.options(id=fixed).enqueue(3) == fixed
    assert job_row(db_conn, fixed)["args"] == [2]


def test_enqueue_by_name(app: App, db_conn: Conn) -> None:
    @app.task(name="known", queue="kq")
    def known(a: int) -> None: ...

    assert job_row(db_conn, app.enqueue("known", 1))["queue"] == "kq"
    # A task this process does not know (another service runs it) is fine.
    other = app.options("elsewhere.task", queue="eq").enqueue(1, k="v")
    row = job_row(db_conn, other)
    assert (row["task"], row["args"], row["kwargs"], row["queue"]) == (
        "elsewhere.task",
        [1],
        {"k": "v"},
        "eq",
    )


def test_sync_task_definitions_give_sql_callers_the_defaults(app: App, db_conn: Conn) -> None:
    @app.task(
        name="defined",
        queue="dq",
        priority=2,
        max_attempts=4,
        retry_backoff=("exponential", 2),
        preserve="on_discard",
        labels=["x"],
    )
    def defined() -> None: ...

    @app.task(name="plain")
    def plain() -> None: ...

    assert app.sync_task_definitions() == 2
    rows = db_conn.execute(
        "select name, queue, priority, max_attempts, backoff, backoff_base, preserve, labels"
        " from goodjob_tasks order by name"
    ).fetchall()
    assert rows == [
        ("defined", "dq", 2, 4, "exponential", 2.0, "on_discard", ["x"]),
        ("plain", None, None, None, None, None, None, []),
    ]
    job_id = db_conn.execute("select goodjob_enqueue(task => 'defined')").fetchone()
    assert job_id is not None
    row = job_row(db_conn, job_id[0])
    assert (row["queue"], row["priority"], row["max_attempts"], row["labels"]) == (
        "dq",
        2,
        4,
        ["x"],
    )
    # Running it again follows the code (re-registering the same function replaces it).
    app.task(name="plain", queue="pq")(plain.func)
    assert app.sync_task_definitions(db_conn) == 2
    assert db_conn.execute("select queue from goodjob_tasks where name = 'plain'").fetchone() == (
        "pq",
    )


def test_sync_with_a_bad_definition_changes_nothing(app: App, db_conn: Conn) -> None:
    @app.task(name="good")
    def good() -> None: ...

    @app.task(name="bad", queue="no good")
    def bad() -> None: ...

    with pytest.raises(errors.InvalidQueueNameError, match="invalid queue name 'no good'"):
        app.sync_task_definitions()
    assert db_conn.execute("select count(*) from goodjob_tasks").fetchone() == (0,)


def test_sql_errors_are_translated(app: App) -> None:
    @app.task
    def f() -> None: ...

    with pytest.raises(errors.InvalidQueueNameError) as info:
        f.options(queue="bad queue").enqueue()
    assert info.value.sqlstate == "GJ004"
    assert info.value.detail is not None and "1 to 128 characters" in info.value.detail
    with pytest.raises(errors.InvalidMaxAttemptsError):
        f.options(max_attempts=0).enqueue()
    with pytest.raises(errors.InvalidTaskNameError):
        app.enqueue("")


def test_enqueue_in_the_callers_transaction(app: App, db_conn: Conn, db_url: str) -> None:
    @app.task
    def f() -> None: ...

    with psycopg.connect(db_url) as conn:
        kept = f.options(connection=conn).enqueue()
        conn.commit()
        dropped = f.options(connection=conn).enqueue()
        assert gdb.get_job(db_conn, dropped) is None  # not visible before commit
        conn.rollback()
    assert gdb.get_job(db_conn, kept) is not None
    assert gdb.get_job(db_conn, dropped) is None


def test_enqueue_is_thread_safe(app: App, db_conn: Conn) -> None:
    @app.task
    def f(i: int) -> None: ...

    ids: list[UUID] = []
    lock = threading.Lock()

    def work(n: int) -> None:
        for i in range(25):
            job_id = f.enqueue(n * 100 + i)
            with lock:
                ids.append(job_id)

    threads = [threading.Thread(target=work, args=(n,)) for n in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(set(ids)) == 200
    assert db_conn.execute("select count(*) from goodjob_jobs").fetchone() == (200,)


def test_enqueue_survives_a_dropped_pooled_connection(app: App, db_conn: Conn) -> None:
    @app.task
    def f() -> None: ...

    f.enqueue()
    # Kill every session of the pool; the next enqueue gets a broken connection once.
    db_conn.execute(
        "select pg_terminate_backend(pid) from pg_stat_activity"
        " where datname = current_database() and pid <> pg_backend_pid()"
    )
    f.enqueue()
    assert db_conn.execute("select count(*) from goodjob_jobs").fetchone() == (2,)


def test_closed_app_does_not_reconnect(app: App, db_conn: Conn) -> None:
    @app.task
    def f() -> None: ...

    with pytest.raises(RuntimeError, match="cannot change"), app.connection():
        app.database_url = "postgresql:///elsewhere"
    f.enqueue()
    assert not app.closed
    app.close()
    app.close()  # idempotent
    assert app.closed
    with pytest.raises(errors.AppClosedError, match="this App is closed"):
        f.enqueue()
    with pytest.raises(RuntimeError):
        app.perform_inline()
    with pytest.raises(errors.AppClosedError), app.connection():
        pass
    assert db_conn.execute("select count(*) from goodjob_jobs").fetchone() == (1,)

    # Nothing was left open: only the test's own session stays connected (the
    # server process of a closed connection leaves a moment after it).
    def sessions() -> Any:
        return db_conn.execute(
            "select count(*) from pg_stat_activity where datname = current_database()"
        ).fetchone()

    wait_for(lambda: sessions() == (1,), 5)


def test_scheduled_state_from_python(app: App, db_connect: Callable[..., Conn]) -> None:
    @app.task
    def f() -> None: ...

    job = gdb.get_job(db_connect(), f.options(delay=timedelta(minutes=5)).enqueue())
    assert job is not None and job.state is State.SCHEDULED


def test_aenqueue(app: App, db_conn: Conn) -> None:
    @app.task(queue="aq")
    def f(x: int) -> None: ...

    async def main() -> tuple[UUID, UUID]:
        return await f.aenqueue(1), await f.options(priority=9).aenqueue(2)

    first, second = asyncio.run(main())
    assert (job_row(db_conn, first)["queue"], job_row(db_conn, first)["args"]) == ("aq", [1])
    assert job_row(db_conn, second)["priority"] == 9
    with pytest.raises(TypeError, match="missing a required argument"):
        asyncio.run(f.aenqueue())  # type: ignore[call-arg]
