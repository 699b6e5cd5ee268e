"""The args/kwargs size limit (goodjob_settings max_arguments_bytes) from Python and the CLI."""

from __future__ import annotations

import json
from typing import Any

import psycopg
import pytest
from click.testing import CliRunner

from goodjob_pg import App
from goodjob_pg.cli import main
from goodjob_pg.errors import ArgumentsTooLargeError, InvalidSettingError

Conn = psycopg.Connection[Any]


def test_app_enqueue_over_the_limit_raises_and_writes_nothing(db_url: str, db_conn: Conn) -> None:
    app = App(db_url)
    try:
        app.enqueue("t", "x" * 100)  # well under 1 MB
        with pytest.raises(ArgumentsTooLargeError, match="over the maximum of 1048576 bytes"):
            app.enqueue("t", "x" * 1_048_576)
        with pytest.raises(ArgumentsTooLargeError, match="kwargs"):
            app.enqueue("t", blob="x" * 1_048_576)
        assert db_conn.execute("select count(*) from goodjob_jobs").fetchone() == (1,)
    finally:
        app.close()


def test_the_limit_is_a_setting(db_url: str, db_conn: Conn) -> None:
    db_conn.execute("update goodjob_settings set value = '200' where key = 'max_arguments_bytes'")
    app = App(db_url)
    try:
        with pytest.raises(ArgumentsTooLargeError, match="over the maximum of 200 bytes"):
            app.enqueue("t", "x" * 300)
    finally:
        app.close()
    with pytest.raises(psycopg.Error) as raised:
        db_conn.execute(
            "update goodjob_settings set value = '-1' where key = 'max_arguments_bytes'"
        )
    assert raised.value.sqlstate == InvalidSettingError.sqlstate


def test_cli_enqueue_over_the_limit_prints_one_line(db_url: str) -> None:
    result = CliRunner().invoke(
        main,
        ["enqueue", "t", "--args", json.dumps(["x" * 1_048_576])],
        env={"GOODJOB_DATABASE_URL": db_url},
    )
    assert result.exit_code == 1
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: args of a t job are"), result.output
