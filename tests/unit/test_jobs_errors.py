"""Plain data (Job, Result) and the error hierarchy."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from uuid import UUID

import pytest

import goodjob_pg
from goodjob_pg import errors
from goodjob_pg.jobs import JOB_COLUMNS, Job, Outcome, Result, State


def test_job_from_row_converts_the_state() -> None:
    now = datetime.now(UTC)
    row = (
        UUID(int=1), "t", [1], {"a": 2}, "q", 0, now, "running", 1, 25, ["x"],
        None, None, None, None, now, now, None, None, UUID(int=2), None,
    )  # fmt: skip
    assert len(row) == len(JOB_COLUMNS)
    job = Job.from_row(row)
    assert job.state is State.RUNNING
    assert (job.id, job.task, job.args, job.kwargs, job.locked_by) == (
        UUID(int=1),
        "t",
        [1],
        {"a": 2},
        UUID(int=2),
    )
    with pytest.raises(AttributeError):
        job.task = "other"  # type: ignore[misc]


def test_result_to_json_omits_nulls() -> None:
    job_id = UUID(int=5)
    assert Result(job_id, 1, Outcome.SUCCEEDED).to_json() == {
        "id": str(job_id),
        "attempt": 1,
        "outcome": "succeeded",
    }
    when = datetime(2030, 1, 1, tzinfo=UTC) + timedelta(microseconds=5)
    full = Result(job_id, 2, Outcome.RETRY, "E", "msg", "tb", when).to_json()
    assert full == {
        "id": str(job_id),
        "attempt": 2,
        "outcome": "retry",
        "error_class": "E",
        "error_message": "msg",
        "error_backtrace": "tb",
        "run_at": "2030-01-01T00:00:00.000005+00:00",
    }
    json.dumps(full)


def test_enums_are_strings() -> None:
    assert State("queued") is State.QUEUED
    assert str(State.SCHEDULED) == "scheduled"
    assert Outcome.FAILED == "failed"
    assert [s.value for s in State] == ["scheduled", "queued", "running", "succeeded", "discarded"]


def test_every_sqlstate_has_one_class() -> None:
    codes = sorted(errors.SQLSTATE_ERRORS)
    assert codes == [f"GJ{n:03d}" for n in (*range(1, 17), 20, 21, 30, 31, 50, 51, 60, 70, 71)]
    for code, cls in errors.SQLSTATE_ERRORS.items():
        assert cls.sqlstate == code
        assert issubclass(cls, errors.SQLError)
        assert issubclass(cls, errors.GoodjobError)
    assert issubclass(errors.InvalidQueueNameError, ValueError)
    assert issubclass(errors.JobNotFoundError, LookupError)
    assert issubclass(errors.NoCurrentJobError, RuntimeError)
    assert not issubclass(errors.Retry, errors.GoodjobError)
    err = errors.InvalidQueueNameError("invalid queue name 'a b'", detail="d", hint="h")
    assert (str(err), err.detail, err.hint) == ("invalid queue name 'a b'", "d", "h")


def test_retry_arguments() -> None:
    assert errors.Retry().run_at is None
    assert errors.Retry(delay=5).delay == timedelta(seconds=5)
    with pytest.raises(ValueError, match="not both"):
        errors.Retry(run_at=datetime.now(UTC), delay=1)
    with pytest.raises(ValueError, match="timezone-aware"):
        errors.Retry(run_at=datetime(2030, 1, 1))
    assert errors.Discard("why").reason == "why"


def test_public_api() -> None:
    for name in goodjob_pg.__all__:
        assert hasattr(goodjob_pg, name), name
    assert {"App", "Task", "current_job", "JobContext", "Job", "State", "Retry", "Discard"} <= set(
        goodjob_pg.__all__
    )
    assert goodjob_pg.errors is errors
