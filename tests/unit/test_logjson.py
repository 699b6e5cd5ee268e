"""--log-format json: one JSON object per line with stable action and job_id keys."""

from __future__ import annotations

import json
import logging
import sys

from goodjob_pg.logjson import JsonFormatter


def record(msg: str, **extra: object) -> logging.LogRecord:
    rec = logging.LogRecord("goodjob_pg.worker", logging.WARNING, __file__, 1, msg, ("x",), None)
    for key, value in extra.items():
        setattr(rec, key, value)
    return rec


def test_extra_fields_are_keys_and_action_job_id_always_present() -> None:
    line = JsonFormatter().format(
        record("job %s failed", action="job_failed", job_id="j1", attempt=2)
    )
    data = json.loads(line)
    assert data["message"] == "job x failed"
    assert (data["action"], data["job_id"], data["attempt"]) == ("job_failed", "j1", 2)
    assert (data["level"], data["logger"]) == ("warning", "goodjob_pg.worker")
    assert "\n" not in line
    plain = json.loads(JsonFormatter().format(record("hello %s")))
    assert plain["action"] is None and plain["job_id"] is None


def test_exceptions_are_one_field() -> None:
    try:
        raise ValueError("bad")
    except ValueError:
        rec = record("oops %s")
        rec.exc_info = sys.exc_info()
    data = json.loads(JsonFormatter().format(rec))
    assert "ValueError: bad" in data["exc_info"]
