"""The operator's CLI on a real database: jobs, job, bulk repairs, cron, status, run options."""

# The CLI fixtures (cli, app_module, ...) are imported from test_cli, so the test
# arguments that name them look like redefinitions to ruff.
# ruff: noqa: F811

from __future__ import annotations

import json
import re
import textwrap
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import psycopg
import pytest
from click.testing import CliRunner, Result

from goodjob_pg.cli import main
from tests.integration.test_cli import (  # noqa: F401  (fixtures)
    _restore_logging_and_path,
    app_module,
    cli,
    job,
    one_error_line,
)

Conn = psycopg.Connection[Any]
Cli = Callable[..., Result]


def enqueue(conn: Conn, task: str = "t", **options: Any) -> str:
    names = ", ".join(f"{k} => %({k})s" for k in options)
    row = conn.execute(
        f"select goodjob_enqueue(task => %(task)s{', ' if names else ''}{names})::text",
        {"task": task, **options},
    ).fetchone()
    assert row is not None
    return str(row[0])


# --- jobs and job -------------------------------------------------------------------------


def test_jobs_lists_and_filters(cli: Cli, db_conn: Conn) -> None:
    assert cli("jobs").output.strip() == "no matching jobs"
    a = enqueue(db_conn, "mail", queue="q1", labels=["vip", "eu"])
    b = enqueue(db_conn, "mail", queue="q2", labels=["eu"])
    c = enqueue(db_conn, "report", queue="q1")
    db_conn.execute("select goodjob_discard_job(%s::uuid, reason => 'bad data')", (c,))
    result = cli("jobs")
    assert result.exit_code == 0, result.output
    header, *rows = result.output.strip().splitlines()
    assert header.split() == [
        "id",
        "task",
        "queue",
        "state",
        "attempts",
        "run_at",
        "labels",
        "last_error",
    ]
    assert [r.split()[0] for r in rows] == [c, b, a]  # newest first
    assert rows[0].split()[3] == "discarded" and rows[0].endswith("bad data")
    assert rows[2].split()[6] == "vip,eu"

    def ids(*args: str) -> list[str]:
        out = cli("jobs", "--json", *args)
        assert out.exit_code == 0, out.output
        return [j["id"] for j in json.loads(out.output)]

    assert ids("--label", "eu") == [b, a]
    assert ids("--label", "vip", "--queue", "q1") == [a]
    assert ids("--task", "report") == [c]
    assert ids("--state", "queued") == [b, a]
    assert ids("--state", "discarded", "--state", "queued", "--limit", "2") == [c, b]
    assert ids("--queue", "q2") == [b]
    first = json.loads(cli("jobs", "--json", "--task", "report").output)[0]
    assert (first["state"], first["last_error"], first["labels"]) == ("discarded", "bad data", [])
    assert cli("jobs", "--state", "lost").exit_code == 2
    assert cli("jobs", "--limit", "0").exit_code == 2


def test_job_shows_executions_and_last_error(cli: Cli, db_conn: Conn) -> None:
    job_id = enqueue(db_conn, "fragile", max_attempts=2)
    pid = db_conn.execute("select goodjob_register_process('h', 1, '*')").fetchone()
    assert pid is not None
    db_conn.execute("select * from goodjob_fetch_and_lock(%s, '*', 1)", (pid[0],))
    db_conn.execute(
        "select goodjob_fail_job(%s::uuid, %s, 1, 'KeyError', 'missing key: id')",
        (job_id, pid[0]),
    )
    result = cli("job", job_id)
    assert result.exit_code == 0, result.output
    out = result.output
    assert re.search(rf"^id +{job_id}$", out, re.M) and re.search(r"^state +scheduled$", out, re.M)
    assert "KeyError" in out and "failed" in out
    assert "\nlast error:\n" in out and "missing key: id" in out.split("last error:")[1]
    data = json.loads(cli("job", job_id, "--json").output)
    assert data["id"] == job_id and data["attempts"] == 1
    assert [(e["attempt"], e["outcome"], e["error_class"]) for e in data["executions"]] == [
        (1, "failed", "KeyError")
    ]
    unknown = str(uuid.uuid4())
    missing = cli("job", unknown)
    assert missing.exit_code == 1
    assert one_error_line(missing) == f"error: job {unknown} not found"
    assert cli("job", "nope").exit_code == 2


# --- bulk retry, discard, reschedule -------------------------------------------------------


def test_bulk_retry_asks_first_then_acts(cli: Cli, db_conn: Conn, db_url: str) -> None:
    def answer(reply: str) -> Result:
        env = {"GOODJOB_DATABASE_URL": db_url}
        return CliRunner().invoke(main, ["retry", "--label", "nightly"], input=reply, env=env)

    dead = [enqueue(db_conn, "sync", labels=["nightly"]) for _ in range(3)]
    other = enqueue(db_conn, "sync")
    for job_id in [*dead, other]:
        db_conn.execute("select goodjob_discard_job(%s::uuid)", (job_id,))
    declined = answer("n\n")
    assert declined.exit_code == 1
    assert "retry 3 job(s)? [y/N]" in declined.output
    assert {job(db_conn, j)["state"] for j in dead} == {"discarded"}
    accepted = answer("y\n")
    assert accepted.exit_code == 0, accepted.output
    assert accepted.output.strip().endswith("retried 3 job(s)")
    assert {job(db_conn, j)["state"] for j in dead} == {"queued"}
    assert job(db_conn, other)["state"] == "discarded"
    again = cli("retry", "--label", "nightly", "--yes")
    assert again.output.strip() == "no matching jobs"  # default --state discarded
    data = json.loads(cli("retry", "--task", "sync", "--yes", "--json").output)
    assert data == {"retry": [other], "skipped": []}


def test_bulk_discard_and_reschedule(cli: Cli, db_conn: Conn) -> None:
    waiting = [enqueue(db_conn, "t", queue="old") for _ in range(2)]
    later = enqueue(db_conn, "t", queue="old", run_at="2099-01-01T00:00:00Z")
    keep = enqueue(db_conn, "t", queue="new")
    moved = cli("reschedule", "--queue", "old", "--delay", "3600", "--yes")
    assert moved.output.strip() == "rescheduled 3 job(s)"
    assert {job(db_conn, j)["state"] for j in [*waiting, later]} == {"scheduled"}
    result = cli(
        "discard", "--queue", "old", "--state", "scheduled", "--reason", "obsolete", "--yes"
    )
    assert result.output.strip() == "discarded 3 job(s)"
    assert {job(db_conn, j)["last_error"] for j in [*waiting, later]} == {"obsolete"}
    assert job(db_conn, keep)["state"] == "queued"
    one = cli("discard", keep, "--json")
    assert json.loads(one.output) == {"discard": [keep], "skipped": []}


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["retry"], "pass a job ID, or --state/--queue/--task/--label"),
        (["retry", str(uuid.UUID(int=1)), "--queue", "q"], "pass an ID or filter options"),
        (["retry", "--state", "running"], "cannot retry running jobs"),
        (["discard", "--state", "succeeded"], "cannot discard succeeded jobs"),
        (["reschedule", "--queue", "q"], "pass --run-at or --delay"),
        (["reschedule", "--queue", "q", "--run-at", "soon"], "not an ISO 8601 time"),
    ],
)
def test_bulk_usage_errors(cli: Cli, db_conn: Conn, args: list[str], message: str) -> None:
    result = cli(*args)
    assert result.exit_code == 2, result.output
    assert message in result.output


# --- status ---------------------------------------------------------------------------------


def test_status_shows_paused_tasks_and_labels(cli: Cli, db_conn: Conn) -> None:
    enqueue(db_conn, queue="mail")
    db_conn.execute("select goodjob_pause(queue => 'mail', task => 'slow', label => 'heavy')")
    db_conn.execute("select goodjob_pause(queue => 'unused')")
    out = cli("status").output.strip().splitlines()
    assert out[1].startswith("mail") and out[1].endswith("yes")
    assert out[2:] == ["paused queues: unused", "paused tasks: slow", "paused labels: heavy"]
    data = json.loads(cli("status", "--json").output)
    assert [q["queue"] for q in data["queues"]] == ["mail"]
    assert {(p["kind"], p["name"]) for p in data["paused"]} == {
        ("queue", "mail"),
        ("queue", "unused"),
        ("task", "slow"),
        ("label", "heavy"),
    }


def test_pause_by_label_stops_fetching_only_those_jobs(cli: Cli, db_conn: Conn) -> None:
    heavy = enqueue(db_conn, labels=["heavy"])
    light = enqueue(db_conn, labels=["light"])
    assert cli("pause", "--label", "heavy").exit_code == 0
    pid = db_conn.execute("select goodjob_register_process('h', 1, '*')").fetchone()
    assert pid is not None
    got = db_conn.execute("select id::text from goodjob_fetch_and_lock(%s, '*', 10)", pid)
    assert [r[0] for r in got] == [light]
    assert cli("resume", "--label", "heavy").exit_code == 0
    got = db_conn.execute("select id::text from goodjob_fetch_and_lock(%s, '*', 10)", pid)
    assert [r[0] for r in got] == [heavy]


# --- cron ----------------------------------------------------------------------------------


@pytest.fixture
def cron_app(tmp_path: Path, app_module: str) -> str:
    """An app module with cron entries (one with computed arguments)."""
    name = f"{app_module}_cron"
    (tmp_path / f"{name}.py").write_text(
        textwrap.dedent(
            f"""
            from {app_module} import app, greet
            app.cron["hello"] = {{"cron": "*/5 * * * *", "task": "greet", "args": ["cron"],
                                  "description": "says hello"}}
            app.cron["computed"] = {{"cron": "@daily", "task": greet,
                                     "args": lambda: ["computed"],
                                     "options": {{"labels": ["cron"]}}}}
            """
        )
    )
    return name


def test_cron_list_enable_disable_run(cli: Cli, db_conn: Conn, cron_app: str) -> None:
    assert cli("cron", "list").output.startswith("no cron entries")
    listed = cli("cron", "list", "--app", cron_app)
    assert listed.exit_code == 0, listed.output
    header, computed, hello = listed.output.strip().splitlines()
    assert header.split() == [
        "key",
        "schedule",
        "task",
        "state",
        "next_run",
        "last_run",
        "last_job_state",
    ]
    assert computed.split()[:4] == ["computed", "@daily", "greet", "enabled"]
    assert hello.split()[:6] == ["hello", "*/5", "*", "*", "*", "*"]
    assert cli("cron", "disable", "hello").output.strip() == "disabled 'hello'"
    data = {e["key"]: e for e in json.loads(cli("cron", "list", "--json").output)}
    assert data["hello"]["enabled"] is False and data["hello"]["next_run_at"] is None
    assert data["computed"]["next_run_at"].endswith("T00:00:00+00:00")
    assert cli("cron", "enable", "hello").output.strip() == "enabled 'hello'"
    # Run now: stored arguments from SQL alone; computed ones need the App.
    ran = cli("cron", "run", "hello")
    assert ran.exit_code == 0, ran.output
    row = job(db_conn, ran.output.strip())
    assert (row["task"], row["args"], row["cron_key"], row["cron_at"]) == (
        "greet",
        ["cron"],
        "hello",
        None,
    )
    refused = cli("cron", "run", "computed")
    assert refused.exit_code == 1
    assert one_error_line(refused).startswith(
        "error: cron entry 'computed' computes its arguments in Python"
    )
    computed_run = cli("cron", "run", "computed", "--app", cron_app)
    row = job(db_conn, computed_run.output.strip())
    assert (row["args"], row["labels"]) == (["computed"], ["cron"])
    listed = {e["key"]: e for e in json.loads(cli("cron", "list", "--json").output)}
    assert listed["hello"]["last_job_state"] == "queued" and listed["hello"]["last_run_at"]
    db_conn.execute(
        "select goodjob_define_cron_entry(key => 'from_sql', schedule => 'every day at 3',"
        " task => 'greet', args => '[]', kwargs => '{}', next_run_at => '2030-01-01T03:00:00Z')"
    )
    listed = {e["key"]: e for e in json.loads(cli("cron", "list", "--json").output)}
    assert listed["from_sql"]["next_run_at"] == "2030-01-01T03:00:00+00:00"  # as recorded
    for command in ("enable", "disable", "run"):
        unknown = cli("cron", command, "nope")
        assert unknown.exit_code == 1
        assert one_error_line(unknown).startswith("error: cron entry 'nope' not found")


@pytest.mark.parametrize(
    ("entries", "message"),
    [
        ({"bad": {"cron": "* * *", "task": "noop"}}, "error: cron entry 'bad': invalid cron"),
        ({"ghost": {"cron": "@hourly", "task": "nope"}}, "error: cron entry 'ghost': unknown task"),
        ("{oops", "error: GOODJOB_CRON is not valid JSON"),
        (
            {"q": {"cron": "@hourly", "task": "noop", "options": {"queue": "a b"}}},
            "error: cron entry 'q': invalid queue name 'a b'",
        ),
    ],
)
def test_run_with_a_bad_cron_entry_stops_with_one_line(
    cli: Cli, app_module: str, entries: Any, message: str
) -> None:
    text = entries if isinstance(entries, str) else json.dumps(entries)
    result = cli("run", "--app", app_module, "--enable-cron", env={"GOODJOB_CRON": text})
    assert result.exit_code == 1
    assert one_error_line(result).startswith(message)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--cleanup-interval-jobs", "often"], "'often' is not a whole number, -1 or false"),
        (["--cleanup-interval-seconds", "-5"], "must be >= 1, -1 (after every job) or false"),
        (["--cron-grace-period", "-1"], "-1.0 is not in the range x>=0"),
    ],
)
def test_run_cleanup_and_cron_option_errors(
    cli: Cli, app_module: str, args: list[str], message: str
) -> None:
    result = cli("run", "--app", app_module, *args)
    assert result.exit_code == 2, result.output
    assert message in result.output


def test_run_with_cron_and_cleanup_options(cli: Cli, db_conn: Conn, app_module: str) -> None:
    entries = json.dumps({"yearly": {"cron": "@yearly", "task": "greet", "args": ["x"]}})
    result = cli(
        "run",
        "--app",
        app_module,
        "--idle-timeout",
        "0.5",
        "--poll-interval",
        "0.2",
        "--cleanup-interval-jobs",
        "false",
        "--cleanup-interval-seconds",
        "-1",
        env={
            "GOODJOB_ENABLE_CRON": "true",
            "GOODJOB_CRON": entries,
            "GOODJOB_LOG_LEVEL": "warning",
            "GOODJOB_CLEANUP_PRESERVED_JOBS_BEFORE_SECONDS_AGO": "3600",
        },
    )
    assert result.exit_code == 0, result.output
    row = db_conn.execute("select key, task, args, next_run_at from goodjob_cron_entries")
    assert [r[:3] for r in row.fetchall()] == [("yearly", "greet", ["x"])]


def test_operator_commands_on_a_locked_row_give_one_line_and_change_nothing(
    cli: Cli, db_conn: Conn, db_connect: Callable[..., Conn]
) -> None:
    job_id = enqueue(db_conn, "t")
    before = job(db_conn, job_id)
    human = db_connect(autocommit=False)
    human.execute("select 1 from goodjob_jobs where id = %s for update", (job_id,))
    # Every operator command reports errors through one handler; each call
    # waits out the function's 5 s lock_timeout, so one command is enough here
    # (the row_lock fault scenario refuses retry, discard and reschedule).
    result = cli("retry", job_id)
    assert result.exit_code == 1, result.output
    assert "SQLSTATE 55P03" in one_error_line(result)
    human.rollback()
    assert job(db_conn, job_id) == before
