"""The goodjob-pg command line, driven with click's CliRunner against a real database."""

from __future__ import annotations

import itertools
import logging
import sys
import textwrap
import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import psycopg
import pytest
from click.testing import CliRunner, Result

from goodjob_pg.cli import main

Conn = psycopg.Connection[Any]
_names = itertools.count()


@pytest.fixture(autouse=True)
def _restore_logging_and_path(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    # --log-level configures the root logger and --app may extend sys.path; undo both.
    root = logging.getLogger()
    level, handlers = root.level, list(root.handlers)
    monkeypatch.setattr(sys, "path", list(sys.path))
    for name in ("GOODJOB_DATABASE_URL", "DATABASE_URL", "GOODJOB_APP", "GOODJOB_LOG_LEVEL"):
        monkeypatch.delenv(name, raising=False)
    yield
    root.setLevel(level)
    root.handlers[:] = handlers


@pytest.fixture
def cli(db_url: str) -> Callable[..., Result]:
    """Invoke the CLI against the test database; the URL comes from the environment."""

    def invoke(*args: str, env: dict[str, str] | None = None) -> Result:
        runner = CliRunner()
        return runner.invoke(main, list(args), env={"GOODJOB_DATABASE_URL": db_url, **(env or {})})

    return invoke


@pytest.fixture
def app_module(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    """Write an importable app module into the working directory; returns its name."""
    name = f"gj_cli_app_{next(_names)}_{uuid.uuid4().hex[:8]}"
    (tmp_path / f"{name}.py").write_text(
        textwrap.dedent(
            """
            from goodjob_pg import App, current_job

            app = App()
            RAN = []

            @app.task(name="greet", queue="greetings", priority=3, labels=["cli"])
            def greet(who: str, *, punctuation: str = "!") -> None:
                RAN.append((who + punctuation, current_job().queue))

            @app.task(name="noop")
            def noop() -> None:
                pass

            def factory():
                return app
            """
        )
    )
    monkeypatch.chdir(tmp_path)
    return name


def one_error_line(result: Result) -> str:
    lines = result.output.strip().splitlines()
    assert len(lines) == 1, result.output
    assert lines[0].startswith("error: "), result.output
    return lines[0]


def job(conn: Conn, job_id: str) -> dict[str, Any]:
    cur = conn.execute("select * from goodjob_jobs where id = %s", (job_id,))
    row = cur.fetchone()
    assert row is not None
    return dict(zip([d.name for d in cur.description or ()], row, strict=True))


# --- migrate ------------------------------------------------------------------------------


def test_migrate_fresh_database_then_up_to_date(empty_db_url: str, app_module: str) -> None:
    runner = CliRunner()
    first = runner.invoke(main, ["migrate", "--database-url", empty_db_url])
    assert first.exit_code == 0, first.output
    assert first.output.startswith("applied: 0001_core")
    second = runner.invoke(
        main, ["migrate", "--app", app_module], env={"DATABASE_URL": empty_db_url}
    )
    assert second.exit_code == 0, second.output
    assert "up to date: 0001_core" in second.output
    assert second.output.strip().endswith("defined 2 task(s)")
    with psycopg.connect(empty_db_url) as conn:
        rows = conn.execute("select name, queue, priority from goodjob_tasks order by name")
        assert rows.fetchall() == [("greet", "greetings", 3), ("noop", None, None)]


# --- enqueue ------------------------------------------------------------------------------


def test_enqueue_prints_the_id_and_writes_the_row(
    cli: Callable[..., Result], db_conn: Conn
) -> None:
    result = cli(
        "enqueue",
        "some.task",
        "--args",
        '[1, "two"]',
        "--kwargs",
        '{"k": [true, null]}',
        "--queue",
        "q1",
        "--priority",
        "-2",
        "--label",
        "a",
        "--label",
        "b",
        "--max-attempts",
        "4",
    )
    assert result.exit_code == 0, result.output
    row = job(db_conn, result.output.strip())
    assert (row["task"], row["args"], row["kwargs"]) == (
        "some.task",
        [1, "two"],
        {"k": [True, None]},
    )
    assert (row["queue"], row["priority"], row["labels"], row["max_attempts"]) == (
        "q1",
        -2,
        ["a", "b"],
        4,
    )
    assert row["state"] == "queued"


def test_enqueue_later(cli: Callable[..., Result], db_conn: Conn) -> None:
    delayed = cli("enqueue", "t", "--delay", "600")
    assert job(db_conn, delayed.output.strip())["state"] == "scheduled"
    at = cli("enqueue", "t", "--run-at", "2031-02-03T04:05:06Z")
    assert job(db_conn, at.output.strip())["run_at"] == datetime(2031, 2, 3, 4, 5, 6, tzinfo=UTC)
    fixed = str(uuid.uuid4())
    assert cli("enqueue", "t", "--id", fixed).output.strip() == fixed
    from_env = cli("enqueue", "t", env={"GOODJOB_ENQUEUE_QUEUE": "envq"})
    assert job(db_conn, from_env.output.strip())["queue"] == "envq"


def test_enqueue_with_app_uses_defaults_and_checks_the_signature(
    cli: Callable[..., Result], db_conn: Conn, app_module: str
) -> None:
    ok = cli("enqueue", "greet", "--args", '["Ann"]', "--app", app_module)
    assert ok.exit_code == 0, ok.output
    row = job(db_conn, ok.output.strip())
    assert (row["queue"], row["priority"], row["labels"]) == ("greetings", 3, ["cli"])
    bad = cli("enqueue", "greet", "--kwargs", '{"who": "x", "volume": 11}', "--app", app_module)
    assert bad.exit_code == 1
    assert "unexpected keyword argument 'volume'" in one_error_line(bad)
    via_env = cli("enqueue", "greet", env={"GOODJOB_APP": f"{app_module}:factory"})
    assert via_env.exit_code == 1
    assert "missing a required argument: 'who'" in one_error_line(via_env)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--args", "{not json"], "not valid JSON"),
        (["--args", '{"a": 1}'], "must be an array in JSON"),
        (["--kwargs", "[1]"], "must be an object in JSON"),
        (["--run-at", "2030-01-01T10:00"], "has no UTC offset"),
        (["--run-at", "tomorrow"], "not an ISO 8601 time"),
        (["--run-at", "2030-01-01T10:00Z", "--delay", "5"], "not both"),
        (["--priority", "high"], "'high' is not a valid integer"),
        (["--id", "nope"], "not a valid UUID"),
    ],
)
def test_enqueue_usage_errors_exit_2(
    cli: Callable[..., Result], db_conn: Conn, args: list[str], message: str
) -> None:
    result = cli("enqueue", "t", *args)
    assert result.exit_code == 2
    assert message in result.output
    assert db_conn.execute("select count(*) from goodjob_jobs").fetchone() == (0,)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            ["--queue", "bad queue"],
            "error: invalid queue name 'bad queue' A queue name is 1 to 128",
        ),
        (["--max-attempts", "0"], "error: invalid max_attempts 0: must be at least 1"),
        (["--label", ""], "error: invalid label '': must be 1 to 128 characters"),
    ],
)
def test_enqueue_sql_errors_are_one_line_exit_1(
    cli: Callable[..., Result], db_conn: Conn, args: list[str], message: str
) -> None:
    result = cli("enqueue", "t", *args)
    assert result.exit_code == 1
    assert one_error_line(result).startswith(message)
    assert db_conn.execute("select count(*) from goodjob_jobs").fetchone() == (0,)


def test_unreachable_database_is_one_line() -> None:
    result = CliRunner().invoke(
        main,
        ["status", "--database-url", "postgresql://postgres@127.0.0.1:1/none?connect_timeout=2"],
    )
    assert result.exit_code == 1
    assert "127.0.0.1" in one_error_line(result)


def test_missing_schema_says_to_migrate(empty_db_url: str) -> None:
    result = CliRunner().invoke(main, ["status", "--database-url", empty_db_url])
    assert result.exit_code == 1
    assert one_error_line(result).endswith("run: goodjob-pg migrate)")


# --- status and operator commands ---------------------------------------------------------


def test_status_table(cli: Callable[..., Result], db_conn: Conn) -> None:
    assert cli("status").output.strip() == "no queues yet"
    for queue in ("alpha", "alpha", "b"):
        db_conn.execute("select goodjob_enqueue(task => 't', queue => %s)", (queue,))
    db_conn.execute("select goodjob_pause(queue => 'b')")
    result = cli("status")
    assert result.exit_code == 0, result.output
    header, first, second = result.output.rstrip("\n").splitlines()
    assert header.split() == [
        "queue",
        "scheduled",
        "queued",
        "running",
        "retrying",
        "discarded",
        "succeeded_last_hour",
        "oldest_ready_age",
        "paused",
    ]
    assert first.split()[:3] == ["alpha", "0", "2"] and first.endswith("no")
    assert second.split()[:3] == ["b", "0", "1"] and second.endswith("yes")
    # Columns line up: every "queued" count ends under the end of its header.
    end = header.index("queued") + len("queued")
    assert first[end - 1] == "2" and second[end - 1] == "1"


def test_retry_discard_reschedule(cli: Callable[..., Result], db_conn: Conn) -> None:
    job_id = cli("enqueue", "t").output.strip()
    assert cli("discard", job_id, "--reason", "not needed").output.strip() == job_id
    assert job(db_conn, job_id)["last_error"] == "not needed"
    assert cli("retry", job_id).output.strip() == job_id
    assert job(db_conn, job_id)["state"] == "queued"
    assert cli("reschedule", job_id, "--delay", "3600").output.strip() == job_id
    assert job(db_conn, job_id)["state"] == "scheduled"
    assert cli("reschedule", job_id, "--run-at", "2020-01-01T00:00:00+00:00").exit_code == 0
    assert job(db_conn, job_id)["state"] == "queued"
    missing = cli("reschedule", job_id)
    assert missing.exit_code == 2 and "pass --run-at or --delay" in missing.output


def test_operator_errors_are_one_line(cli: Callable[..., Result], db_conn: Conn) -> None:
    unknown = str(uuid.uuid4())
    result = cli("retry", unknown)
    assert result.exit_code == 1
    assert one_error_line(result) == f"error: job {unknown} not found"
    job_id = cli("enqueue", "t").output.strip()
    db_conn.execute("select goodjob_discard_job(id => %s)", (job_id,))
    result = cli("discard", job_id)
    assert result.exit_code == 1
    assert one_error_line(result) == (
        f"error: cannot discard job {job_id}: it is discarded"
        " Only scheduled or queued jobs can be discarded."
    )
    assert cli("retry", "not-a-uuid").exit_code == 2


def test_pause_and_resume(cli: Callable[..., Result], db_conn: Conn) -> None:
    result = cli("pause", "--queue", "q", "--label", "slow")
    assert (result.exit_code, result.output.strip()) == (0, "paused queue 'q', label 'slow'")
    rows = db_conn.execute("select kind, name from goodjob_pauses order by kind").fetchall()
    assert rows == [("label", "slow"), ("queue", "q")]
    assert cli("resume", "--queue", "q").output.strip() == "resumed queue 'q'"
    assert db_conn.execute("select count(*) from goodjob_pauses").fetchone() == (1,)
    nothing = cli("pause")
    assert nothing.exit_code == 2 and "pass --queue, --task and/or --label" in nothing.output
    bad = cli("pause", "--queue", "a:b")
    assert bad.exit_code == 1 and one_error_line(bad).startswith("error: invalid queue name")


def test_cleanup_preserved_jobs(cli: Callable[..., Result], db_conn: Conn) -> None:
    kept = cli("enqueue", "t").output.strip()
    gone = cli("enqueue", "t").output.strip()
    db_conn.execute("select goodjob_discard_job(id => %s)", (kept,))
    db_conn.execute(
        "update goodjob_jobs set state = 'succeeded', finished_at = now() - interval '1 hour'"
        " where id = %s",
        (gone,),
    )
    assert cli("cleanup-preserved-jobs").output.strip() == "deleted 0 job(s)"
    result = cli("cleanup-preserved-jobs", "--before-seconds-ago", "60", "--exclude-discarded")
    assert result.output.strip() == "deleted 1 job(s)"
    assert [r[0] for r in db_conn.execute("select id::text from goodjob_jobs")] == [kept]
    env = {"GOODJOB_BEFORE_SECONDS_AGO": "0"}
    assert cli("cleanup-preserved-jobs", env=env).output.strip() == "deleted 1 job(s)"
    assert cli("cleanup-preserved-jobs", "--before-seconds-ago", "-1").exit_code == 2


# --- run ----------------------------------------------------------------------------------


def test_run_executes_jobs_then_exits_when_idle(
    cli: Callable[..., Result], db_conn: Conn, app_module: str
) -> None:
    job_id = cli("enqueue", "greet", "--args", '["Bo"]', "--app", app_module).output.strip()
    result = cli(
        "run",
        "--app",
        app_module,
        "--idle-timeout",
        "0.5",
        "--poll-interval",
        "0.2",
        env={"GOODJOB_MAX_THREADS": "2", "GOODJOB_LOG_LEVEL": "warning"},
    )
    assert result.exit_code == 0, result.output
    assert sys.modules[app_module].RAN == [("Bo!", "greetings")]
    assert job(db_conn, job_id)["state"] == "succeeded"
    # The worker wrote the task definitions at start.
    assert db_conn.execute("select count(*) from goodjob_tasks").fetchone() == (2,)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ([], "Missing option '--app'"),
        (["--app", "no_such_module_here"], "cannot import 'no_such_module_here'"),
        (["--app", "{mod}:nope"], "has no attribute 'nope'"),
        (["--app", "{mod}:RAN"], "is list, not an App"),
        (["--app", "{mod}", "--queues", "a:b:c"], "Invalid value for --queues: pool"),
        (["--app", "{mod}", "--max-threads", "0"], "0 is not in the range x>=1"),
        (["--app", "{mod}", "--log-level", "loud"], "'loud' is not one of"),
    ],
)
def test_run_usage_errors(
    cli: Callable[..., Result], app_module: str, args: list[str], message: str
) -> None:
    result = cli("run", *[a.format(mod=app_module) for a in args])
    assert result.exit_code == 2, result.output
    assert message in result.output


def test_help_lists_environment_variables(cli: Callable[..., Result]) -> None:
    out = cli("run", "--help").output
    for name in (
        "GOODJOB_APP",
        "GOODJOB_QUEUES",
        "GOODJOB_MAX_THREADS",
        "GOODJOB_POLL_INTERVAL",
        "GOODJOB_MAX_CACHE",
        "GOODJOB_SHUTDOWN_TIMEOUT",
        "GOODJOB_ENABLE_LISTEN_NOTIFY",
        "GOODJOB_IDLE_TIMEOUT",
        "GOODJOB_DATABASE_URL",
        "GOODJOB_LOG_LEVEL",
    ):
        assert name in out, name
