"""Start real worker processes for tests, and wait on the database.

:func:`spawn_worker` starts ``Worker(tests.tasks_fixture.app, config).run()``
in a fresh Python process (cwd = repo root), with ``GOODJOB_DATABASE_URL``
set and its log written to a file the test can print on failure.
:func:`spawn_cli` does the same through ``python -m goodjob_pg.cli run``.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent

_LAUNCHER = """
import json, logging, sys
logging.basicConfig(
    level=logging.INFO,
    stream=sys.stderr,
    format="%(asctime)s %(process)d %(threadName)s %(name)s %(levelname)s %(message)s",
)
from goodjob_pg.worker import Worker, WorkerConfig
from tests.tasks_fixture import app
sys.exit(Worker(app, WorkerConfig(**json.loads(sys.argv[1]))).run())
"""


def _env(db_url: str) -> dict[str, str]:
    env = dict(os.environ)
    env["GOODJOB_DATABASE_URL"] = db_url
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")]))
    env["PYTHONUNBUFFERED"] = "1"
    return env


def spawn_worker(db_url: str, log: Path, **config: Any) -> subprocess.Popen[bytes]:
    """Start ``Worker(app, WorkerConfig(**config)).run()`` in a subprocess."""
    with open(log, "ab") as out:
        return subprocess.Popen(
            [sys.executable, "-c", _LAUNCHER, json.dumps(config)],
            cwd=ROOT,
            env=_env(db_url),
            stdout=out,
            stderr=subprocess.STDOUT,
        )


def spawn_cli(db_url: str, log: Path, *args: str) -> subprocess.Popen[bytes]:
    """Start ``python -m goodjob_pg.cli run --app tests.tasks_fixture:app ARGS``."""
    with open(log, "ab") as out:
        return subprocess.Popen(
            [
                sys.executable,
                "-m",
                "goodjob_pg.cli",
                "run",
                "--app",
                "tests.tasks_fixture:app",
                *args,
            ],
            cwd=ROOT,
            env=_env(db_url),
            stdout=out,
            stderr=subprocess.STDOUT,
        )


def wait_for(predicate: Callable[[], Any], timeout: float, interval: float = 0.02) -> Any:
    """Poll ``predicate`` until it returns something truthy; fail after ``timeout``."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"condition not met within {timeout} s")
        time.sleep(interval)


def stop_process(proc: subprocess.Popen[bytes], timeout: float = 10) -> int:
    """Kill a subprocess that is still running (test teardown); return its code."""
    if proc.poll() is None:
        proc.kill()
    return proc.wait(timeout)
