"""CLI commands fed hypothesis-generated values: success, or one clear line and a non-zero exit.

Exit 1 (bad value) prints exactly one ``error: ...`` line; exit 2 (click's
usage errors) ends with click's ``Error: ...`` line; never a traceback, never
an exception escaping the command.
"""

from __future__ import annotations

from typing import Any

from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from goodjob_pg.cli import main
from tests.integration.test_cli import (  # noqa: F401 (an autouse fixture: undo --log-level)
    _restore_logging_and_path,
)

VALUES = st.one_of(
    st.sampled_from(
        [
            "",
            " ",
            "-",
            "--",
            "'; drop table goodjob_jobs; --",
            "a b",
            "*",
            "+x",
            "%s",
            "nan",
            "inf",
            "-1",
            "0",
            "2147483648",
            "-2147483649",
            "1e309",
            "[]",
            "{}",
            "[1",
            '{"a": "\\u0000"}',
            '"str"',
            "null",
            "true",
            "infinity",
            "-infinity",
            "2026-13-40T25:61:00+00:00",
            "2026-11-24T09:00:00",
            "01a2330f-0000-7000-8000-000000000000",
            "not-a-uuid",
            "x" * 300,
            "e\u0301\u202e\U0001f600",
        ]
    ),
    st.text(st.characters(blacklist_categories=["Cs"], blacklist_characters="\x00"), max_size=20),
)

TEMPLATES: list[tuple[str, ...]] = [
    ("enqueue", "{}"),
    ("enqueue", "t", "--args", "{}"),
    ("enqueue", "t", "--kwargs", "{}"),
    ("enqueue", "t", "--queue", "{}"),
    ("enqueue", "t", "--priority", "{}"),
    ("enqueue", "t", "--run-at", "{}"),
    ("enqueue", "t", "--delay", "{}"),
    ("enqueue", "t", "--label", "{}"),
    ("enqueue", "t", "--max-attempts", "{}"),
    ("enqueue", "t", "--id", "{}"),
    ("job", "{}"),
    ("jobs", "--state", "{}"),
    ("jobs", "--limit", "{}"),
    ("jobs", "--label", "{}"),
    ("retry", "{}"),
    ("discard", "{}", "--reason", "r"),
    ("reschedule", "{}", "--delay", "1"),
    ("reschedule", "01a2330f-0000-7000-8000-000000000000", "--run-at", "{}"),
    ("cleanup-preserved-jobs", "--before-seconds-ago", "{}"),
    ("pause", "--queue", "{}"),
    ("resume", "--label", "{}"),
    ("cron", "enable", "{}"),
    ("cron", "run", "{}"),
]


@settings(
    max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(template=st.sampled_from(TEMPLATES), value=VALUES)
def test_bad_cli_values_print_one_clear_line(
    db_url: str, template: tuple[str, ...], value: str
) -> None:
    args = [value if part == "{}" else part for part in template]
    result: Any = CliRunner().invoke(main, args, env={"GOODJOB_DATABASE_URL": db_url}, input="n\n")
    output = result.output
    assert "Traceback" not in output, (args, output)
    assert result.exception is None or isinstance(result.exception, SystemExit), (args, output)
    if result.exit_code == 0:
        return
    lines = [line for line in output.strip().splitlines() if line.strip()]
    if result.exit_code == 1:
        assert len(lines) == 1 and lines[0].startswith("error: "), (args, output)
    else:
        assert result.exit_code == 2, (args, result.exit_code, output)
        assert lines[-1].startswith("Error: "), (args, output)
