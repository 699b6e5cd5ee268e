"""Inline mode: enqueue runs due jobs at once, through the real SQL lifecycle."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any
from uuid import UUID

import psycopg
import pytest

from goodjob_pg import App, Discard, Job, JobContext, Retry, current_job

Conn = psycopg.Connection[Any]


@pytest.fixture
def app(db_url: str) -> Iterator[App]:
    with App(db_url, execution_mode="inline") as app:
        yield app


def state(conn: Conn, job_id: UUID) -> tuple[str, int, str | None]:
    row = conn.execute(
        "select state, attempts, last_error from goodjob_jobs where id = %s", (job_id,)
    ).fetchone()
    assert row is not None
    return row[0], row[1], row[2]


def executions(conn: Conn, job_id: UUID) -> list[tuple[int, str, str | None]]:
    return [
        (r[0], r[1], r[2])
        for r in conn.execute(
            "select attempt, outcome, error_class from goodjob_executions"
            " where job_id = %s order by attempt",
            (job_id,),
        )
    ]


def test_sync_and_async_tasks_run_at_enqueue(app: App, db_conn: Conn) -> None:
    seen: list[Any] = []

    @app.task
    def add(a: int, b: int) -> None:
        seen.append(("sync", a + b, current_job().attempt))

    @app.task(queue="aq")
    async def aadd(a: int, *, b: int) -> None:
        await asyncio.sleep(0)
        seen.append(("async", a + b, current_job().queue))

    first = add.enqueue(1, 2)
    second = aadd.enqueue(3, b=4)
    assert seen == [("sync", 3, 1), ("async", 7, "aq")]
    assert state(db_conn, first) == ("succeeded", 1, None)
    assert state(db_conn, second) == ("succeeded", 1, None)
    assert executions(db_conn, first) == [(1, "succeeded", None)]


def test_arguments_round_trip_through_json(app: App) -> None:
    seen: list[Any] = []

    @app.task
    def f(items: tuple[int, ...], mapping: dict[str, Any]) -> None:
        seen.append((items, mapping))

    f.enqueue((1, 2), {"k": (3,)})
    assert seen == [([1, 2], {"k": [3]})]  # tuples arrive as lists, as from a worker


def test_current_job_context(app: App, db_conn: Conn) -> None:
    seen: list[JobContext] = []

    @app.task(labels=["l1", "l2"])
    def f() -> None:
        seen.append(current_job())

    job_id = f.enqueue()
    (ctx,) = seen
    assert (ctx.id, ctx.attempt, ctx.max_attempts, ctx.queue) == (job_id, 1, 25, "default")
    assert (ctx.labels, ctx.batch_id, ctx.task, ctx.shutting_down) == (
        ("l1", "l2"),
        None,
        f.name,
        False,
    )


def test_retry_runs_again_until_max_attempts(app: App, db_conn: Conn) -> None:
    attempts: list[int] = []

    @app.task(max_attempts=3)
    def again() -> None:
        attempts.append(current_job().attempt)
        raise Retry("once more")

    job_id = again.enqueue()
    assert attempts == [1, 2, 3]
    assert state(db_conn, job_id) == ("discarded", 3, "goodjob_pg.errors.Retry: once more")
    assert [outcome for _, outcome, _ in executions(db_conn, job_id)] == ["failed"] * 2 + [
        "discarded"
    ]


def test_retry_later_is_not_run_now(app: App, db_conn: Conn) -> None:
    calls: list[int] = []

    @app.task
    def later() -> None:
        calls.append(1)
        raise Retry(delay=3600)

    job_id = later.enqueue()
    assert calls == [1]
    assert state(db_conn, job_id)[:2] == ("scheduled", 1)
    assert app.perform_inline() == 0
    db_conn.execute("select goodjob_reschedule_job(id => %s, run_at => now())", (job_id,))
    assert app.perform_inline() == 1
    assert calls == [1, 1]


def test_failure_is_retried_by_sql_policy(app: App, db_conn: Conn) -> None:
    @app.task(max_attempts=2)
    def flaky() -> None:
        raise ValueError("nope")

    job_id = flaky.enqueue()
    # The backoff puts the next attempt in the future, so it does not run inline now.
    status, attempts, error = state(db_conn, job_id)
    assert (status, attempts, error) == ("scheduled", 1, "ValueError: nope")
    row = db_conn.execute(
        "select error_message, error_backtrace from goodjob_executions where job_id = %s",
        (job_id,),
    ).fetchone()
    assert row is not None and row[0] == "nope" and 'raise ValueError("nope")' in row[1]


def test_final_failure_is_discarded_and_logged(
    app: App, db_conn: Conn, caplog: pytest.LogCaptureFixture
) -> None:
    @app.task(max_attempts=1)
    def once() -> None:
        raise ValueError("fatal")

    with caplog.at_level(logging.ERROR, logger="goodjob_pg"):
        job_id = once.enqueue()
    assert state(db_conn, job_id)[0] == "discarded"
    assert any(
        getattr(r, "action", None) == "job_discarded" and r.levelno == logging.ERROR
        for r in caplog.records
    )


def test_discard_and_discard_on_and_retry_on(app: App, db_conn: Conn) -> None:
    @app.task
    def give_up() -> None:
        raise Discard("pointless")

    @app.task(discard_on=KeyError)
    def missing() -> None:
        raise KeyError("k")

    @app.task(retry_on=[ConnectionError])
    def picky(kind: str) -> None:
        raise ConnectionError() if kind == "conn" else ValueError("bad")

    assert state(db_conn, give_up.enqueue()) == (
        "discarded",
        1,
        "goodjob_pg.errors.Discard: pointless",
    )
    assert state(db_conn, missing.enqueue())[:2] == ("discarded", 1)
    assert state(db_conn, picky.enqueue("value"))[:2] == ("discarded", 1)
    assert state(db_conn, picky.enqueue("conn"))[:2] == ("scheduled", 1)


def test_unknown_task_fails_and_waits_for_a_deploy(app: App, db_conn: Conn) -> None:
    @app.task(name="known")
    def known() -> None: ...

    job_id = app.enqueue("not.deployed.yet", 1)
    status, attempts, error = state(db_conn, job_id)
    assert (status, attempts) == ("scheduled", 1)
    assert error is not None and error.startswith(
        "UnknownTaskError: no task named 'not.deployed.yet'"
    )
    assert "known tasks: known" in error


def test_bad_arguments_from_sql_discard(app: App, db_conn: Conn) -> None:
    seen: list[int] = []

    @app.task(name="needs_two")
    def needs_two(a: int, b: int) -> None:
        seen.append(a + b)

    job_id = db_conn.execute(
        "select goodjob_enqueue(task => 'needs_two', args => '[1]')"
    ).fetchone()
    assert job_id is not None
    assert app.perform_inline() == 1
    status, _, error = state(db_conn, job_id[0])
    assert status == "discarded" and error is not None
    assert error.startswith("TypeError: task 'needs_two' cannot take the job's arguments")
    assert seen == []


def test_nested_enqueue_runs_inside(app: App) -> None:
    order: list[str] = []

    @app.task
    def child() -> None:
        order.append("child")

    @app.task
    def parent() -> None:
        order.append("parent start")
        child.enqueue()
        order.append(f"parent end, still {current_job().task.rsplit('.', 1)[-1]}")

    parent.enqueue()
    assert order == ["parent start", "child", "parent end, still parent"]


def test_future_jobs_wait(app: App) -> None:
    calls: list[int] = []

    @app.task
    def f() -> None:
        calls.append(1)

    f.options(run_at=datetime(2040, 1, 1, tzinfo=UTC)).enqueue()
    f.options(delay=600).enqueue()
    assert calls == []


def test_perform_inline_limit_and_queues(app: App, db_url: str, db_conn: Conn) -> None:
    ran: list[str] = []

    @app.task(name="q")
    def q(tag: str) -> None:
        ran.append(tag)

    # Jobs enqueued by another App (external mode) are run by perform_inline.
    with App(db_url) as producer:
        for tag in ("a1", "a2", "a3"):
            producer.options("q", queue="a").enqueue(tag)
        producer.options("q", queue="b").enqueue("b1")
    assert app.perform_inline(queues="b") == 1
    assert ran == ["b1"]
    assert app.perform_inline(limit=2) == 2
    assert app.perform_inline() == 1
    assert sorted(ran) == ["a1", "a2", "a3", "b1"]


def test_preserve_never_deletes_finished_jobs(app: App, db_conn: Conn) -> None:
    @app.task(name="ephemeral", preserve="never")
    def ephemeral() -> None: ...

    app.sync_task_definitions()
    ephemeral.enqueue()
    assert db_conn.execute("select count(*) from goodjob_jobs").fetchone() == (0,)


def test_close_deregisters_the_inline_process(app: App, db_conn: Conn) -> None:
    @app.task
    def f() -> None: ...

    f.enqueue()
    count = "select count(*) from goodjob_processes"
    assert db_conn.execute(count).fetchone() == (1,)
    app.close()
    assert db_conn.execute(count).fetchone() == (0,)


def test_inline_recovers_from_a_dropped_lease_connection(app: App, db_conn: Conn) -> None:
    @app.task
    def f() -> None: ...

    f.enqueue()
    db_conn.execute(
        "select pg_terminate_backend(pid) from pg_stat_activity"
        " where datname = current_database() and pid <> pg_backend_pid()"
    )
    job_id = f.enqueue()
    assert state(db_conn, job_id)[0] == "succeeded"
    # The dead lease's process row is cleaned up; only the new one is left.
    assert db_conn.execute("select count(*) from goodjob_processes").fetchone() == (1,)


def test_inline_mode_in_async_code(app: App, db_conn: Conn) -> None:
    seen: list[int] = []

    @app.task
    async def coro(x: int) -> None:
        seen.append(x)

    async def main() -> UUID:
        return coro.enqueue(5)  # a loop is running here; the job runs on its own loop

    assert state(db_conn, asyncio.run(main()))[0] == "succeeded"
    assert seen == [5]


def test_around_job_wraps_each_run(db_url: str) -> None:
    events: list[str] = []

    @contextlib.contextmanager
    def around(job: Job) -> Iterator[None]:
        events.append(f"enter {job.task}")
        yield
        events.append("exit")

    with App(db_url, execution_mode="inline", around_job=around) as app:

        @app.task(name="s")
        def s() -> None:
            events.append("sync")

        @app.task(name="a")
        async def a() -> None:
            events.append("async")

        s.enqueue()
        a.enqueue()
    assert events == ["enter s", "sync", "exit", "enter a", "async", "exit"]


def test_enqueue_many_runs_what_is_due(app: App) -> None:
    seen: list[int] = []

    @app.task
    def f(x: int) -> None:
        seen.append(x)

    app.enqueue_many([f.job(1), f.options(delay=3600).job(2), f.job(3)])
    assert sorted(seen) == [1, 3]
    app.enqueue_many([f.options(delay=3600).job(4)])  # nothing due: nothing runs
    assert sorted(seen) == [1, 3]
