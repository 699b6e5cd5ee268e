"""Cron entries without a database: parsing, checks, schedules and per-tick values."""

from __future__ import annotations

import itertools
import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from goodjob_pg import App
from goodjob_pg.cron import load_entries, parse_env
from goodjob_pg.errors import CronConfigError

T0 = datetime(2026, 3, 1, 12, 0, 30, tzinfo=UTC)
TASKS = ["report", "ping"]


def entry(**spec: Any) -> Any:
    return load_entries({"e": {"task": "report", **spec}}, None, TASKS)["e"]


@pytest.mark.parametrize(
    ("cron", "after", "expected"),
    [
        ("*/15 * * * *", T0, datetime(2026, 3, 1, 12, 15, tzinfo=UTC)),
        ("0 0,12 * * *", T0, datetime(2026, 3, 2, 0, 0, tzinfo=UTC)),
        ("*/10 * * * * *", T0, datetime(2026, 3, 1, 12, 0, 40, tzinfo=UTC)),  # seconds first
        ("30 5 * * * *", T0, datetime(2026, 3, 1, 12, 5, 30, tzinfo=UTC)),
        ("@hourly", T0, datetime(2026, 3, 1, 13, 0, tzinfo=UTC)),
        ("@daily", T0, datetime(2026, 3, 2, 0, 0, tzinfo=UTC)),
    ],
)
def test_expressions(cron: str, after: datetime, expected: datetime) -> None:
    assert entry(cron=cron).next_after(after, T0 + timedelta(days=9)) == expected
    assert entry(cron=cron).next_after(None, after) == expected  # no last tick: after now


def test_a_callable_schedule_gets_the_last_run() -> None:
    seen: list[datetime | None] = []

    def every_14_hours(last: datetime | None) -> datetime:
        seen.append(last)
        return (last or T0) + timedelta(hours=14)

    e = entry(cron=every_14_hours)
    assert e.next_after(None, T0) == T0 + timedelta(hours=14)
    assert e.next_after(T0, T0) == T0 + timedelta(hours=14)
    assert seen == [None, T0]
    assert e.schedule.startswith("<callable ")
    naive = entry(cron=lambda last: datetime(2030, 1, 1))
    with pytest.raises(CronConfigError, match="'e': its cron callable must return a timezone"):
        naive.next_after(None, T0)


def test_values_and_callables_evaluated_at_each_tick() -> None:
    counter = itertools.count(1)
    e = entry(
        cron="* * * * *",
        args=lambda: [next(counter)],
        kwargs={"k": "v"},
        options={"queue": "reports", "priority": -1, "labels": ["a", "b"]},
    )
    first, second = e.values(), e.values()
    assert (first.args, second.args) == ([1], [2])
    assert (first.kwargs, first.queue, first.priority, first.labels) == (
        {"k": "v"},
        "reports",
        -1,
        ("a", "b"),
    )
    static = e.static_values()
    assert static["args"] is None and static["kwargs"] is None  # computed per tick
    assert static["queue"] == "reports"
    fixed = entry(cron="* * * * *", args=[1], options=lambda: {"queue": "q"})
    assert fixed.static_values() == {
        "args": [1],
        "kwargs": {},
        "queue": None,
        "priority": None,
        "labels": None,
    }
    assert entry(cron="@hourly", enabled_by_default=lambda: False).is_enabled_by_default() is False


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ({"cron": "* * * *"}, "'e': invalid cron expression '* * * *'"),
        ({"cron": "61 * * * *"}, "'e': invalid cron expression"),
        ({"cron": "* * * * * * *"}, "'e': invalid cron expression"),
        ({"cron": "@sometimes"}, "'e': invalid cron expression"),
        ({"cron": 5}, "'e': 'cron' must be an expression or a callable"),
        ({"cron": "@hourly", "task": "nope"}, "'e': unknown task 'nope'; registered: ping, report"),
        ({"cron": "@hourly", "class": "X"}, "'e': unknown entry key(s) class"),
        ({"cron": "@hourly", "args": "x"}, "'e': args must be a list"),
        ({"cron": "@hourly", "kwargs": [1]}, "'e': kwargs must be a mapping"),
        ({"cron": "@hourly", "args": [object()]}, "'e': "),
        ({"cron": "@hourly", "options": {"wait": 1}}, "'e': unknown options key(s) wait"),
        ({"cron": "@hourly", "options": {"priority": "high"}}, "'e': priority must be an int"),
        ({"cron": "@hourly", "options": {"labels": "x"}}, "'e': labels must be a list of str"),
        ({"cron": "@hourly", "description": 3}, "'e': description must be a str"),
    ],
)
def test_bad_entries_name_the_entry(spec: dict[str, Any], message: str) -> None:
    with pytest.raises(CronConfigError) as info:
        load_entries({"e": {"task": "report", **spec}}, None, TASKS)
    assert str(info.value).startswith("cron entry " + message), str(info.value)


def test_environment_entries_are_added_and_win() -> None:
    env = json.dumps(
        {"nightly": {"cron": "0 3 * * *", "task": "ping"}, "e": {"cron": "@daily", "task": "ping"}}
    )
    entries = load_entries({"e": {"cron": "@hourly", "task": "report"}}, env, TASKS)
    assert sorted(entries) == ["e", "nightly"]
    assert (entries["e"].cron, entries["e"].task) == ("@daily", "ping")
    assert parse_env("  ") == {}
    with pytest.raises(CronConfigError, match="GOODJOB_CRON is not valid JSON"):
        parse_env("{nope")
    with pytest.raises(CronConfigError, match="GOODJOB_CRON must be a JSON object"):
        parse_env("[1]")


def test_app_cron_takes_task_objects(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("GOODJOB_CRON", raising=False)
    app = App("", cron={"hourly": {"cron": "@hourly", "task": "later"}})

    @app.task(name="later")
    def later() -> None:
        pass

    app.cron["direct"] = {"cron": "*/5 * * * *", "task": later}
    assert {k: e.task for k, e in app.cron_entries().items()} == {
        "hourly": "later",
        "direct": "later",
    }
    with pytest.raises(TypeError, match="cron must be a mapping"):
        App("", cron=[("a", {})])  # type: ignore[arg-type]
