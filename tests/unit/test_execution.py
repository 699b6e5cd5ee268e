"""execute()/aexecute(): the one mapping from a Job to a Result, without a database."""

from __future__ import annotations

import asyncio
import logging
import threading
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import uuid4

import pytest

from goodjob_pg import App, Discard, JobContext, Retry, current_job
from goodjob_pg.errors import NoCurrentJobError, UnknownTaskError
from goodjob_pg.execution import aexecute, error_class_name, execute, resolve
from goodjob_pg.jobs import Job, Outcome, Result, State

NOWHERE = "host=/nonexistent-goodjob-socket-dir connect_timeout=1"


def make_job(task: str, *args: Any, attempts: int = 1, **kwargs: Any) -> Job:
    now = datetime.now(UTC)
    return Job(
        id=uuid4(),
        task=task,
        args=list(args),
        kwargs=kwargs,
        queue="default",
        priority=0,
        run_at=now,
        state=State.RUNNING,
        attempts=attempts,
        max_attempts=5,
        labels=["l1"],
        concurrency_key=None,
        batch_id=None,
        cron_key=None,
        cron_at=None,
        created_at=now,
        started_at=now,
        finished_at=None,
        last_error=None,
        locked_by=uuid4(),
    )


class Boom(Exception):
    pass


@pytest.fixture
def errors_seen() -> list[tuple[BaseException, Job]]:
    return []


@pytest.fixture
def app(errors_seen: list[tuple[BaseException, Job]]) -> App:
    app = App(NOWHERE, on_error=lambda exc, job: errors_seen.append((exc, job)))

    @app.task(name="ok")
    def ok(a: int, b: int = 0) -> int:
        return a + b

    @app.task(name="boom")
    def boom() -> None:
        raise Boom("it broke")

    @app.task(name="retry_later")
    def retry_later(seconds: float) -> None:
        raise Retry("not yet", delay=seconds)

    @app.task(name="retry_at")
    def retry_at(when: str) -> None:
        raise Retry(run_at=datetime.fromisoformat(when))

    @app.task(name="discard")
    def discard() -> None:
        raise Discard("no point")

    @app.task(name="discard_on", discard_on=[KeyError])
    def discard_on(key: str) -> None:
        raise KeyError(key)

    @app.task(name="retry_on", retry_on=ConnectionError)
    def retry_on(kind: str) -> None:
        raise ConnectionError("flaky") if kind == "conn" else ValueError("bad input")

    @app.task(name="inner_type_error")
    def inner_type_error() -> None:
        len(5)  # type: ignore[arg-type]

    @app.task(name="interrupt")
    def interrupt() -> None:
        raise KeyboardInterrupt

    @app.task(name="exit")
    def exit_() -> None:
        raise SystemExit(3)

    @app.task(name="async_ok")
    async def async_ok(x: int) -> int:
        await asyncio.sleep(0)
        return x

    @app.task(name="async_boom")
    async def async_boom() -> None:
        await asyncio.sleep(0)
        raise Boom("async broke")

    return app


def run(app: App, job: Job) -> Result:
    return execute(app, job, threading.Event())


def test_success(app: App, errors_seen: list[Any]) -> None:
    job = make_job("ok", 1, b=2, attempts=3)
    assert run(app, job) == Result(job.id, 3, Outcome.SUCCEEDED)
    assert errors_seen == []


def test_failure_carries_class_message_and_backtrace(app: App, errors_seen: list[Any]) -> None:
    job = make_job("boom")
    result = run(app, job)
    assert result.outcome is Outcome.FAILED
    assert result.error_class == "tests.unit.test_execution.Boom"
    assert result.error_message == "it broke"
    assert result.error_backtrace is not None
    assert 'raise Boom("it broke")' in result.error_backtrace
    assert "in execute" not in result.error_backtrace  # our own frame is dropped
    assert [(type(e), j) for e, j in errors_seen] == [(Boom, job)]


def test_unknown_task_fails_and_lists_known_tasks(app: App, errors_seen: list[Any]) -> None:
    job = make_job("gone.task")
    result = run(app, job)
    assert result.outcome is Outcome.FAILED
    assert result.error_class == "UnknownTaskError"
    assert result.error_message is not None
    assert "'gone.task'" in result.error_message
    assert "known tasks: async_boom, async_ok, boom," in result.error_message
    assert isinstance(errors_seen[0][0], UnknownTaskError)
    assert resolve(app, job) is None
    assert resolve(app, make_job("ok")) is app.tasks["ok"]


@pytest.mark.parametrize(
    ("args", "kwargs"),
    [((), {}), ((1, 2, 3), {}), ((1,), {"c": 1})],
)
def test_arguments_not_fitting_the_signature_discard(
    app: App, args: tuple[Any, ...], kwargs: dict[str, Any]
) -> None:
    result = run(app, make_job("ok", *args, **kwargs))
    assert result.outcome is Outcome.DISCARDED
    assert result.error_class == "TypeError"
    assert result.error_message is not None
    assert result.error_message.startswith("task 'ok' cannot take the job's arguments:")


def test_type_error_inside_the_task_is_an_ordinary_failure(app: App) -> None:
    result = run(app, make_job("inner_type_error"))
    assert result.outcome is Outcome.FAILED
    assert result.error_class == "TypeError"


def test_retry_with_delay(app: App, errors_seen: list[Any]) -> None:
    before = datetime.now(UTC)
    result = run(app, make_job("retry_later", 60))
    assert result.outcome is Outcome.RETRY
    assert result.error_class == "goodjob_pg.errors.Retry"
    assert result.error_message == "not yet"
    assert result.run_at is not None
    assert (
        before + timedelta(seconds=59) < result.run_at < datetime.now(UTC) + timedelta(seconds=61)
    )
    assert errors_seen == []  # Retry is not an error


def test_retry_at(app: App) -> None:
    when = datetime(2031, 5, 1, tzinfo=UTC)
    result = run(app, make_job("retry_at", when.isoformat()))
    assert (result.outcome, result.run_at) == (Outcome.RETRY, when)


def test_discard(app: App, errors_seen: list[Any]) -> None:
    result = run(app, make_job("discard"))
    assert (result.outcome, result.error_message) == (Outcome.DISCARDED, "no point")
    assert result.error_class == "goodjob_pg.errors.Discard"
    assert errors_seen == []


def test_discard_on(app: App, errors_seen: list[Any]) -> None:
    result = run(app, make_job("discard_on", "k"))
    assert (result.outcome, result.error_class) == (Outcome.DISCARDED, "KeyError")
    assert len(errors_seen) == 1


def test_retry_on(app: App) -> None:
    assert run(app, make_job("retry_on", "conn")).outcome is Outcome.FAILED
    assert run(app, make_job("retry_on", "value")).outcome is Outcome.DISCARDED


@pytest.mark.parametrize(
    ("task", "error"), [("interrupt", KeyboardInterrupt), ("exit", SystemExit)]
)
def test_base_exceptions_propagate(app: App, task: str, error: type[BaseException]) -> None:
    with pytest.raises(error):
        run(app, make_job(task))


def test_async_tasks(app: App, errors_seen: list[Any]) -> None:
    job = make_job("async_ok", 4)
    assert run(app, job).outcome is Outcome.SUCCEEDED  # execute() runs coroutines too
    assert asyncio.run(aexecute(app, job, threading.Event())).outcome is Outcome.SUCCEEDED
    failed = asyncio.run(aexecute(app, make_job("async_boom"), threading.Event()))
    assert (failed.outcome, failed.error_message) == (Outcome.FAILED, "async broke")
    bad = asyncio.run(aexecute(app, make_job("async_ok"), threading.Event()))
    assert (bad.outcome, bad.error_class) == (Outcome.DISCARDED, "TypeError")
    assert len(errors_seen) == 2


def test_execute_of_an_async_task_inside_a_running_loop(app: App) -> None:
    async def main() -> Result:
        return execute(app, make_job("async_ok", 1), threading.Event())

    assert asyncio.run(main()).outcome is Outcome.SUCCEEDED


def test_aexecute_runs_sync_tasks_in_a_thread(app: App) -> None:
    seen: list[str] = []

    @app.task(name="where")
    def where() -> None:
        seen.append(threading.current_thread().name)
        seen.append(current_job().task)

    result = asyncio.run(aexecute(app, make_job("where"), threading.Event()))
    assert result.outcome is Outcome.SUCCEEDED
    assert seen[0] != threading.main_thread().name
    assert seen[1] == "where"


def test_current_job_inside_and_outside(app: App) -> None:
    seen: list[JobContext] = []

    @app.task(name="ctx")
    def ctx() -> None:
        seen.append(current_job())

    @app.task(name="actx")
    async def actx() -> None:
        seen.append(current_job())

    stop = threading.Event()
    job = make_job("ctx", attempts=2)
    assert execute(app, job, stop).outcome is Outcome.SUCCEEDED
    asyncio.run(aexecute(app, make_job("actx"), stop))
    context = seen[0]
    assert (context.id, context.attempt, context.max_attempts) == (job.id, 2, 5)
    assert (context.queue, context.labels, context.batch_id, context.task) == (
        "default",
        ("l1",),
        None,
        "ctx",
    )
    assert not context.shutting_down
    assert not context.is_last_attempt
    stop.set()
    assert context.shutting_down and seen[1].shutting_down
    with pytest.raises(NoCurrentJobError, match="outside a running job"):
        current_job()
    with pytest.raises(RuntimeError):
        current_job()
    with pytest.raises(AttributeError):
        context.attempt = 3  # type: ignore[misc]


def test_on_error_failure_is_logged_not_raised(caplog: pytest.LogCaptureFixture) -> None:
    def bad_hook(exc: BaseException, job: Job) -> None:
        raise RuntimeError("hook broke")

    app = App(NOWHERE, on_error=bad_hook)

    @app.task(name="boom")
    def boom() -> None:
        raise Boom("x")

    with caplog.at_level(logging.WARNING, logger="goodjob_pg.execution"):
        result = run(app, make_job("boom"))
    assert result.outcome is Outcome.FAILED
    hook_records = [r for r in caplog.records if getattr(r, "action", None) == "on_error_failed"]
    assert len(hook_records) == 1
    failed = [r for r in caplog.records if getattr(r, "action", None) == "job_failed"]
    assert failed and failed[0].task == "boom"  # type: ignore[attr-defined]


def test_error_class_name() -> None:
    assert error_class_name(ValueError()) == "ValueError"
    assert error_class_name(Boom()) == "tests.unit.test_execution.Boom"
