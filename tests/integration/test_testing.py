"""The testing toolkit: manual mode, assert_enqueued, drain with a pinned or advanced clock."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from goodjob_pg import App, current_job
from goodjob_pg.testing import assert_enqueued, assert_not_enqueued


@dataclasses.dataclass
class Reminder:
    to: str
    at: datetime


@pytest.fixture
def goodjob_app(db_url: str) -> Iterator[App]:
    with App(db_url, execution_mode="inline") as app:
        yield app


def test_manual_mode_keeps_jobs_until_drained(goodjob_manual: App) -> None:
    app = goodjob_manual
    ran: list[Any] = []

    @app.task(name="remind", queue="mail")
    def remind(r: Reminder, *, urgent: bool = False) -> None:
        ran.append((r, urgent, current_job().attempt))
        if urgent:
            follow_up.enqueue(r.to)

    @app.task(name="follow_up")
    def follow_up(to: str) -> None:
        ran.append(("follow_up", to))

    reminder = Reminder("a@example.com", datetime(2026, 11, 24, 9, tzinfo=UTC))
    remind.enqueue(reminder, urgent=True)
    remind.options(delay=timedelta(hours=1)).enqueue(reminder)
    assert ran == []
    job = assert_enqueued(app, remind, args=[reminder], kwargs={"urgent": True}, queue="mail")
    assert job.args == [{"to": "a@example.com", "at": "2026-11-24T09:00:00+00:00"}]
    assert_enqueued(app, "remind", count=2)
    assert_not_enqueued(app, follow_up)
    assert [j.task for j in app.jobs_enqueued()] == ["remind", "remind"]

    assert app.drain() == 2  # the due job and the job it enqueued, not the later one
    assert ran == [(reminder, True, 1), ("follow_up", "a@example.com")]
    assert [j.state.value for j in app.jobs_enqueued(remind)] == ["scheduled"]
    assert len(app.jobs_enqueued(remind, include_finished=True)) == 2

    assert app.drain(advance=timedelta(minutes=30)) == 0
    assert app.drain(advance=timedelta(hours=2)) == 1
    assert ran[-1] == (reminder, False, 1)
    assert app.jobs_enqueued() == []


def test_a_frozen_clock_decides_what_is_due_and_when_retries_are(goodjob_manual: App) -> None:
    app = goodjob_manual
    attempts: list[int] = []

    @app.task(retry_backoff=("constant", 60), max_attempts=3)
    def flaky() -> None:
        attempts.append(current_job().attempt)
        raise RuntimeError("down")

    now = datetime.now(UTC)
    flaky.options(run_at=now + timedelta(days=1)).enqueue()
    assert app.drain(as_of=now) == 0
    assert app.drain(as_of=now + timedelta(days=1)) == 1  # fails; next attempt 60 s later
    assert app.drain(as_of=now + timedelta(days=1, seconds=30)) == 0
    assert app.drain(as_of=now + timedelta(days=1, minutes=5)) == 1
    assert attempts == [1, 2]
    with pytest.raises(ValueError, match="timezone-aware"):
        app.drain(as_of=datetime(2030, 1, 1))
    with pytest.raises(ValueError, match="not both"):
        app.drain(as_of=now, advance=timedelta(1))


def test_assertion_errors_list_what_is_waiting(goodjob_manual: App) -> None:
    app = goodjob_manual

    @app.task(name="t")
    def t(x: int) -> None: ...

    t.enqueue(1)
    with pytest.raises(AssertionError, match=r"expected a job\(s\) for task='t', args=\[2\]"):
        assert_enqueued(app, t, args=[2])
    with pytest.raises(AssertionError, match=r"t args=\[1\] kwargs=\{\} queue=default"):
        assert_enqueued(app, t, count=2)
    with pytest.raises(AssertionError, match="expected no job for task='t'"):
        assert_not_enqueued(app, t, args=[1])


def test_inline_fixture_runs_at_enqueue_and_modes_are_restored(
    goodjob_app: App, goodjob_inline: App
) -> None:
    ran: list[datetime] = []

    @goodjob_inline.task
    def f(at: datetime) -> None:
        ran.append(at)

    when = datetime(2026, 1, 1, tzinfo=UTC)
    f.enqueue(when)
    assert ran == [when]  # through JSON and back, decoded by the hint
    assert goodjob_app.execution_mode == "inline"
