"""Hooks' event mapping, pidfile checks and the metrics text, without a database."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, ClassVar
from uuid import uuid4

import pytest

from goodjob_pg.daemon import PidfileError, check_pidfile, write_pidfile
from goodjob_pg.hooks import HookEvent, Hooks
from goodjob_pg.jobs import Job, Outcome, Result, State
from goodjob_pg.metrics import Metrics


def job(attempts: int = 1, max_attempts: int = 3) -> Job:
    now = datetime.now(UTC)
    return Job(
        uuid4(), "t", [], {}, "q", 0, now - timedelta(seconds=0.2), State.RUNNING, attempts,
        max_attempts, [], None, None, None, None, now - timedelta(seconds=1), now, None, None,
        None,
    )  # fmt: skip


@pytest.mark.parametrize(
    ("outcome", "attempts", "names"),
    [
        (Outcome.SUCCEEDED, 1, ["job_succeeded"]),
        (Outcome.FAILED, 1, ["job_failed"]),
        (Outcome.FAILED, 3, ["job_failed", "job_discarded"]),
        (Outcome.RETRY, 3, ["job_failed"]),
        (Outcome.DISCARDED, 1, ["job_discarded"]),
    ],
)
def test_finished_fires_the_events_of_the_outcome(
    outcome: Outcome, attempts: int, names: list[str]
) -> None:
    hooks, seen = Hooks(), []
    for name in ("job_succeeded", "job_failed", "job_discarded"):
        hooks.add(name, lambda event: seen.append(event.name))
    j = job(attempts)
    hooks.finished(j, Result(j.id, attempts, outcome), None)
    assert seen == names


def test_a_raising_hook_is_logged_and_the_next_one_runs(caplog: Any) -> None:
    hooks, seen = Hooks(), []
    assert not hooks
    hooks.add("worker_started", lambda event: 1 / 0)
    hooks.add("worker_started", lambda event: seen.append(event))
    hooks.fire(HookEvent("worker_started"))
    assert len(seen) == 1 and hooks
    assert [r.action for r in caplog.records] == ["hook_failed"]  # type: ignore[attr-defined]
    with pytest.raises(TypeError):
        hooks.add("job_started", "not callable")  # type: ignore[arg-type]


def test_pidfile_of_a_live_process_is_refused_a_stale_one_replaced(tmp_path: Path) -> None:
    path = tmp_path / "w.pid"
    check_pidfile(str(path))  # missing: fine
    sleeper = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)"])
    try:
        path.write_text(f"{sleeper.pid}\n")
        with pytest.raises(PidfileError, match=f"names process {sleeper.pid}, which is running"):
            check_pidfile(str(path))
    finally:
        sleeper.kill()
        sleeper.wait()
    check_pidfile(str(path))  # its process is gone: stale
    path.write_text("garbage")
    check_pidfile(str(path))
    write_pidfile(str(path))
    assert path.read_text() == f"{os.getpid()}\n"


def test_latency_histogram_buckets_are_cumulative() -> None:
    metrics = Metrics()
    metrics.job_started(job())  # ready 0.2 s before it started (run_at after created_at)

    class FakeWorker:
        pools: ClassVar[list[Any]] = []

    text = metrics.render(FakeWorker(), None)  # type: ignore[arg-type]
    assert 'goodjob_job_pickup_latency_seconds_bucket{le="0.1"} 0' in text
    assert 'goodjob_job_pickup_latency_seconds_bucket{le="0.25"} 1' in text
    assert 'goodjob_job_pickup_latency_seconds_bucket{le="+Inf"} 1' in text
    assert "goodjob_job_pickup_latency_seconds_count 1" in text
    assert "# TYPE goodjob_jobs_succeeded_total counter" in text
