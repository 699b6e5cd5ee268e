"""App and Task behaviour that needs no database: registration, names, options."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID

import pytest

from goodjob_pg import App, Task, TaskOptions
from goodjob_pg.errors import DuplicateTaskError, UnknownTaskError
from goodjob_pg.options import EnqueueOptions
from goodjob_pg.tasks import parse_backoff

# Any connection attempt to this fails at once, so a test passing with it
# proves nothing touched the database.
NOWHERE = "host=/nonexistent-goodjob-socket-dir connect_timeout=1"


@pytest.fixture
def app() -> App:
    return App(NOWHERE)


def test_database_url_precedence(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("GOODJOB_DATABASE_URL", raising=False)
    monkeypatch.delenv("DATABASE_URL", raising=False)
    assert App().database_url == ""
    monkeypatch.setenv("DATABASE_URL", "postgresql:///b")
    assert App().database_url == "postgresql:///b"
    monkeypatch.setenv("GOODJOB_DATABASE_URL", "postgresql:///a")
    assert App().database_url == "postgresql:///a"
    assert App("postgresql:///explicit").database_url == "postgresql:///explicit"


def test_bad_execution_mode() -> None:
    with pytest.raises(ValueError, match="execution_mode must be one of external, inline, async"):
        App(NOWHERE, execution_mode="eager")  # type: ignore[arg-type]


def test_bare_decorator_and_default_name(app: App) -> None:
    @app.task
    def send(to: str) -> str:
        return f"sent {to}"

    assert isinstance(send, Task)
    assert send.name == f"{__name__}.test_bare_decorator_and_default_name.<locals>.send"
    assert app.tasks[send.name] is send
    assert app.get_task(send.name) is send
    assert send("a") == "sent a"  # calling runs the function directly
    assert send.__name__ == "send"
    assert not send.is_async
    assert send.defaults == TaskOptions(name=send.name)


def test_decorator_with_options(app: App) -> None:
    @app.task(
        name="mail.send",
        queue="mail",
        priority=-5,
        max_attempts=3,
        retry_backoff=("linear", 10),
        retry_on=ConnectionError,
        discard_on=(ValueError, KeyError),
        labels=["a", "b"],
        preserve="on_discard",
    )
    async def send(to: str) -> None: ...

    assert send.name == "mail.send"
    assert send.is_async
    d = send.defaults
    assert (d.queue, d.priority, d.max_attempts) == ("mail", -5, 3)
    assert (d.backoff, d.backoff_base, d.preserve, d.labels) == (
        "linear",
        10.0,
        "on_discard",
        ("a", "b"),
    )
    assert d.retry_on == (ConnectionError,)
    assert d.discard_on == (ValueError, KeyError)
    assert d.definition() == {
        "queue": "mail",
        "priority": -5,
        "max_attempts": 3,
        "backoff": "linear",
        "backoff_base": 10.0,
        "preserve": "on_discard",
        "labels": ["a", "b"],
    }
    asyncio.run(send("x"))  # still callable directly


def test_definition_of_a_bare_task_is_all_null(app: App) -> None:
    @app.task
    def f() -> None: ...

    assert set(f.defaults.definition().values()) == {None}


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (None, (None, None)),
        ("constant", ("constant", None)),
        ("linear", ("linear", None)),
        ("exponential", ("exponential", None)),
        ("polynomial", ("polynomial", None)),
        (("exponential", 2), ("exponential", 2.0)),
        (("constant", 0.5), ("constant", 0.5)),
    ],
)
def test_backoff_mapping(value: Any, expected: tuple[Any, Any]) -> None:
    assert parse_backoff(value) == expected


@pytest.mark.parametrize(
    ("value", "error", "match"),
    [
        ("fibonacci", ValueError, "retry_backoff kind must be one of constant, linear"),
        (("linear", -1), ValueError, "finite and >= 0"),
        (("linear", float("inf")), ValueError, "finite and >= 0"),
        (("linear", "3"), TypeError, "number of seconds"),
        (("linear", True), TypeError, "number of seconds"),
        (3, TypeError, "a kind or a"),
        (("linear", 1, 2), TypeError, "a kind or a"),
    ],
)
def test_bad_backoff(value: Any, error: type[Exception], match: str) -> None:
    with pytest.raises(error, match=match):
        parse_backoff(value)


@pytest.mark.parametrize(
    ("options", "error", "match"),
    [
        ({"name": ""}, ValueError, "1 to 255 characters"),
        ({"name": "x" * 256}, ValueError, "1 to 255 characters"),
        ({"preserve": "sometimes"}, ValueError, "preserve must be one of always"),
        ({"priority": "high"}, TypeError, "priority must be an int"),
        ({"priority": True}, TypeError, "priority must be an int"),
        ({"max_attempts": 2.0}, TypeError, "max_attempts must be an int"),
        ({"queue": 3}, TypeError, "queue must be a str"),
        ({"labels": "abc"}, TypeError, "labels must be a list of str"),
        ({"labels": ["a", 1]}, TypeError, "labels must hold str"),
        ({"retry_on": [ValueError, "x"]}, TypeError, "retry_on must hold exception classes"),
        ({"discard_on": int}, TypeError, "discard_on must hold exception classes"),
        ({"retry_backoff": "never"}, ValueError, "retry_backoff kind"),
    ],
)
def test_bad_decorator_arguments(
    app: App, options: dict[str, Any], error: type[Exception], match: str
) -> None:
    def f() -> None: ...

    with pytest.raises(error, match=match):
        app.task(**options)(f)
    assert not app.tasks


def test_duplicate_name_is_refused_but_reload_replaces(app: App) -> None:
    def first() -> None: ...

    def second() -> None: ...

    app.task(name="same")(first)
    with pytest.raises(DuplicateTaskError, match="task name 'same' is already registered"):
        app.task(name="same")(second)

    # A module reload creates a new function object with the same identity.
    def first_again() -> None: ...

    first_again.__qualname__ = first.__qualname__
    task = app.task(name="same")(first_again)
    assert app.tasks["same"] is task


def test_unknown_task_lookup(app: App) -> None:
    app.task(name="known")(lambda: None)
    with pytest.raises(UnknownTaskError, match="no task named 'nope'; registered: known"):
        app.get_task("nope")
    with pytest.raises(LookupError):
        app.get_task("nope")


def test_bad_arguments_fail_at_enqueue_without_touching_the_database(app: App) -> None:
    @app.task
    def f(a: int, *, b: str = "") -> None: ...

    with pytest.raises(TypeError, match="missing a required argument: 'a'"):
        f.enqueue()
    with pytest.raises(TypeError, match="unexpected keyword argument 'c'"):
        f.enqueue(1, c=2)  # type: ignore[call-arg]
    with pytest.raises(TypeError, match=r"argument args\[0\] has type complex"):
        f.enqueue(1j)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match=r"argument kwargs\['b'\] has type bytes"):
        f.options(queue="q").enqueue(1, b=b"x")  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="cannot take these arguments"):
        app.enqueue(f.name, 1, 2)
    with pytest.raises(TypeError, match=r"argument args\[0\] has type set"):
        app.enqueue("not.registered.anywhere", {1})


@pytest.mark.parametrize(
    ("options", "error", "match"),
    [
        ({"run_at": datetime(2030, 1, 1)}, ValueError, "timezone-aware"),
        ({"run_at": "2030-01-01"}, TypeError, "run_at must be a datetime"),
        (
            {"run_at": datetime(2030, 1, 1, tzinfo=UTC), "delay": 5},
            ValueError,
            "run_at or delay, not both",
        ),
        ({"delay": "5"}, TypeError, "delay must be seconds or a timedelta"),
        ({"id": "not-a-uuid"}, TypeError, "id must be a uuid.UUID"),
        ({"priority": 1.5}, TypeError, "priority must be an int"),
        ({"labels": "x"}, TypeError, "labels must be a list of str"),
        ({"bogus": 1}, TypeError, "unexpected keyword argument 'bogus'"),
    ],
)
def test_bad_enqueue_options(
    app: App, options: dict[str, Any], error: type[Exception], match: str
) -> None:
    @app.task
    def f() -> None: ...

    with pytest.raises(error, match=match):
        f.options(**options)
    with pytest.raises(error, match=match):
        app.options(f.name, **options)


def test_resolve_takes_task_defaults_then_options() -> None:
    defaults = TaskOptions.build(
        "t", queue="q", priority=3, max_attempts=4, labels=("a",), retry_backoff="linear"
    )
    resolved = EnqueueOptions().resolve(defaults)
    assert isinstance(resolved.pop("id"), UUID)
    assert resolved == {
        "queue": "q",
        "priority": 3,
        "max_attempts": 4,
        "run_at": None,
        "labels": ("a",),
        "concurrency_key": None,
    }
    job_id = UUID(int=7)
    now = datetime(2030, 1, 1, tzinfo=UTC)
    opts = EnqueueOptions.build(
        queue="other", priority=0, max_attempts=1, labels=[], delay=30, id=job_id
    )
    assert opts.resolve(defaults, now) == {
        "queue": "other",
        "priority": 0,
        "max_attempts": 1,
        "run_at": now + timedelta(seconds=30),
        "labels": (),
        "concurrency_key": None,
        "id": job_id,
    }


def test_resolve_without_a_task_leaves_nulls_for_sql() -> None:
    resolved = EnqueueOptions().resolve(None)
    resolved.pop("id")
    assert set(resolved.values()) == {None}


def test_resolve_non_positive_delay_means_now() -> None:
    assert EnqueueOptions.build(delay=0).resolve(None)["run_at"] is None
    assert EnqueueOptions.build(delay=timedelta(seconds=-3)).resolve(None)["run_at"] is None


def test_generated_ids_differ() -> None:
    assert EnqueueOptions().resolve(None)["id"] != EnqueueOptions().resolve(None)["id"]


def test_options_chain_and_override(app: App) -> None:
    @app.task
    def f() -> None: ...

    run_at = datetime(2030, 1, 1, tzinfo=UTC)
    chained = f.options(queue="a", delay=5).options(priority=2, run_at=run_at)
    opts = chained._opts
    assert (opts.queue, opts.priority, opts.run_at, opts.delay) == ("a", 2, run_at, None)


def test_inline_app_cannot_start() -> None:
    with pytest.raises(RuntimeError, match="inline"):
        App(NOWHERE, execution_mode="inline").start()


def test_close_without_use_is_a_no_op(app: App) -> None:
    app.close()
    assert app.closed
    with App(NOWHERE) as other:
        assert repr(other) == "<App mode=external tasks=0>"


def test_database_url_is_settable_until_connected(app: App) -> None:
    app.database_url = "postgresql:///other"
    assert app.database_url == "postgresql:///other"
