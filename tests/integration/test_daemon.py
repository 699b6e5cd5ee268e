"""goodjob-pg run --daemonize --pidfile, and --log-format json, as real processes."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

from tests.worker_process import ROOT, _env, wait_for


def cli(db_url: str, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "goodjob_pg.cli", *args],
        cwd=ROOT,
        env=_env(db_url),
        capture_output=True,
        text=True,
        timeout=60,
    )


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def test_daemonize_writes_the_pidfile_and_refuses_a_second_start(
    db_url: str, tmp_path: Path
) -> None:
    pidfile = tmp_path / "worker.pid"
    log = tmp_path / "worker.log"
    run = ["run", "--app", "tests.tasks_fixture:app", "--pidfile", str(pidfile)]
    with open(log, "w") as out:
        parent = subprocess.run(
            [sys.executable, "-m", "goodjob_pg.cli", *run, "--daemonize", "--log-format", "json"],
            cwd=ROOT,
            env=_env(db_url),
            stdout=out,
            stderr=out,
            timeout=60,
        )
    assert parent.returncode == 0  # the foreground process returns at once
    pid = int(wait_for(lambda: pidfile.exists() and pidfile.read_text().strip(), 10))
    try:
        assert alive(pid)
        started = wait_for(
            lambda: [
                line
                for line in log.read_text().splitlines()
                if line.startswith("{") and json.loads(line)["action"] == "worker_started"
            ],
            20,
        )
        assert "job_id" in json.loads(started[0])
        second = cli(db_url, *run)
        assert second.returncode == 1
        assert f"names process {pid}, which is running" in second.stderr
        assert cli(db_url, *run[:-2], "--daemonize").returncode == 2  # needs --pidfile
    finally:
        os.kill(pid, signal.SIGTERM)
    wait_for(lambda: not pidfile.exists(), 20)  # removed at exit
    wait_for(lambda: not alive(pid), 10)
