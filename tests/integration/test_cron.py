"""Cron on a real database: one job per tick across processes, grace period, enable/disable/run."""

from __future__ import annotations

import json
import logging
import signal
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import psycopg
import pytest
from croniter import croniter  # type: ignore[import-untyped]

from goodjob_pg import App, db
from goodjob_pg.cron import define_entries
from goodjob_pg.cron_scheduler import CronScheduler
from tests.tasks_fixture import make_app
from tests.worker_process import spawn_cli, stop_process, wait_for

Conn = psycopg.Connection[Any]


@pytest.fixture
def app(db_url: str) -> Iterator[App]:
    app = make_app(db_url)
    yield app
    app.close()


def cron_ats(conn: Conn, key: str) -> list[datetime]:
    rows = conn.execute(
        "select cron_at from goodjob_jobs where cron_key = %s and cron_at is not null"
        " order by cron_at",
        (key,),
    )
    return [row[0] for row in rows]


def unfinished(conn: Conn, until: datetime) -> int:
    row = conn.execute(
        "select count(*) from goodjob_jobs where cron_at <= %s and state <> 'succeeded'", (until,)
    ).fetchone()
    assert row is not None
    return int(row[0])


def ticks(expression: str, start: datetime, end: datetime) -> list[datetime]:
    """Every tick of a seconds-first expression in [start, end]."""
    it = croniter(expression, start - timedelta(microseconds=1), second_at_beginning=True)
    out: list[datetime] = []
    while (tick := it.get_next(datetime)) <= end:
        out.append(tick)
    return out


@pytest.mark.slow
def test_two_processes_enqueue_each_tick_exactly_once(
    db_url: str, db_conn: Conn, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(
        "GOODJOB_CRON", json.dumps({"every_second": {"cron": "* * * * * *", "task": "noop"}})
    )
    logs = [tmp_path / "a.log", tmp_path / "b.log"]
    procs = [spawn_cli(db_url, log, "--enable-cron", "--queues", "*:2") for log in logs]
    try:
        wait_for(lambda: all("cron started" in log.read_text() for log in logs), 30, 0.1)
        both_since = datetime.now(UTC)
        window_end = both_since + timedelta(seconds=10)
        wait_for(lambda: any(t > window_end for t in cron_ats(db_conn, "every_second")), 40, 0.2)
        wait_for(lambda: unfinished(db_conn, window_end) == 0, 20, 0.1)  # and run them
        for proc in procs:
            proc.send_signal(signal.SIGTERM)
        assert [proc.wait(30) for proc in procs] == [0, 0]
    finally:
        for proc in procs:
            stop_process(proc)
    text = "\n".join(log.read_text() for log in logs)
    assert "Traceback" not in text and " ERROR " not in text, text
    got = cron_ats(db_conn, "every_second")
    assert len(got) == len(set(got))
    window = [t for t in got if both_since <= t <= window_end]
    assert window == ticks("* * * * * *", both_since, window_end), text


def test_missed_ticks_within_the_grace_period_are_enqueued_once_older_skipped(
    app: App, db_conn: Conn, caplog: pytest.LogCaptureFixture
) -> None:
    expression = "*/5 * * * * *"
    app.cron = {"five": {"cron": expression, "task": "noop"}}
    entries = app.cron_entries()
    now = datetime.now(UTC).replace(microsecond=0)
    long_ago = now - timedelta(seconds=300 + now.second % 5)
    with app.connection() as conn:
        define_entries(conn, entries)
        assert db.enqueue_cron_tick(conn, "five", long_ago) is not None  # the last run before
    grace = 17.0
    caplog.set_level(logging.INFO, logger="goodjob_pg.cron_scheduler")
    before = datetime.now(UTC)
    scheduler = CronScheduler(app, entries, grace_period=grace)
    scheduler.start()
    try:
        wait_for(lambda: len(cron_ats(db_conn, "five")) >= 4, 10)
    finally:
        scheduler.stop()
    after = datetime.now(UTC)
    caught_up = [t for t in cron_ats(db_conn, "five") if t != long_ago]
    assert all(t >= before - timedelta(seconds=grace) for t in caught_up), caught_up
    must = ticks(expression, after - timedelta(seconds=grace), before)
    assert len(must) >= 3 and set(must) <= set(caught_up), (must, caught_up)
    assert any("skipped tick(s)" in r.getMessage() for r in caplog.records)
    assert db_conn.execute(
        "select last_tick_at >= %s from goodjob_cron_entries where key = 'five'", (must[-1],)
    ).fetchone() == (True,)


def test_disable_enable_and_run_now_hold_across_schedulers(app: App, db_conn: Conn) -> None:
    app.cron = {
        "sec": {
            "cron": "* * * * * *",
            "task": "record",
            "kwargs": lambda: {"tag": "tick"},
            "enabled_by_default": False,
        }
    }
    entries = app.cron_entries()

    def last_tick() -> datetime | None:
        row = db_conn.execute("select last_tick_at from goodjob_cron_entries").fetchone()
        return None if row is None else row[0]

    scheduler = CronScheduler(app, entries, grace_period=0)
    scheduler.start()
    try:
        first = wait_for(last_tick, 10)
        wait_for(lambda: (last_tick() or first) > first, 10)  # ticks pass, disabled by default
        assert cron_ats(db_conn, "sec") == []
        with app.connection() as conn:
            db.set_cron_entry_enabled(conn, "sec", True)
        wait_for(lambda: cron_ats(db_conn, "sec"), 10)
        with app.connection() as conn:
            db.set_cron_entry_enabled(conn, "sec", False)
        disabled_at = datetime.now(UTC)
        wait_for(lambda: (last_tick() or disabled_at) > disabled_at + timedelta(seconds=1), 10)
    finally:
        scheduler.stop()
    assert all(t <= disabled_at + timedelta(seconds=1) for t in cron_ats(db_conn, "sec"))
    row = db_conn.execute("select kwargs from goodjob_jobs where cron_key = 'sec'").fetchone()
    assert row == ({"tag": "tick"},)  # the callable's value, computed at the tick
    # A new scheduler (a restart) keeps the operator's choice.
    again = CronScheduler(app, app.cron_entries(), grace_period=0)
    again.start()
    again.stop()
    with app.connection() as conn:
        status = {r["key"]: r for r in db.cron_status(conn)}
        assert status["sec"]["enabled"] is False and status["sec"]["set_by_operator"] is True
        # Run now: outside the schedule, disabled or not; cron_at stays null.
        job_id = db.run_cron_entry(conn, "sec", kwargs={"tag": "now"}, args=[])
        job = db.get_job(conn, job_id)
    assert job is not None
    assert (job.cron_key, job.cron_at, job.kwargs, job.state.value) == (
        "sec",
        None,
        {"tag": "now"},
        "queued",
    )


def test_a_failing_argument_callable_skips_the_tick_and_keeps_going(
    app: App, db_conn: Conn, caplog: pytest.LogCaptureFixture
) -> None:
    calls = []

    def flaky() -> list[Any]:
        calls.append(1)
        if len(calls) == 1:
            raise RuntimeError("no data yet")
        return []

    app.cron = {"flaky": {"cron": "* * * * * *", "task": "noop", "args": flaky}}
    scheduler = CronScheduler(app, app.cron_entries(), grace_period=0)
    scheduler.start()
    try:
        wait_for(lambda: cron_ats(db_conn, "flaky"), 10)
    finally:
        scheduler.stop()
    assert any("computing its arguments failed" in r.getMessage() for r in caplog.records)
