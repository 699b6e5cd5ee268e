"""Tasks the fault suite's workers run (``--app tests.faults.tasks:app``).

``fx_work`` sleeps, then records its side effect in ``fault_effects`` (one
row per job id under a primary key; a repeat bumps ``runs`` so repeated side
effects are counted, not hidden). ``fx_poison`` kills its own worker process.
The side effect goes through a connection of the task's own, to
``GOODJOB_FAULTS_EFFECTS_URL`` (default: the worker's URL), so network faults
aimed at the worker do not hit it.
"""

from __future__ import annotations

import os
import signal
import threading
import time
from typing import Any

import psycopg

from goodjob_pg import App, current_job

__all__ = ["EFFECTS_TABLE", "app"]

EFFECTS_TABLE = """
create table if not exists fault_effects (
  job_id uuid primary key,
  runs   int not null default 1,
  first_attempt int not null,
  at     timestamptz not null default clock_timestamp()
)
"""

_RECORD = """
insert into fault_effects (job_id, first_attempt) values (%s, %s)
on conflict (job_id) do update set runs = fault_effects.runs + 1
"""

app = App()
# One connection per worker process, shared by its threads under a lock: a
# worker with 100 threads must not take 100 of the server's connections.
_lock = threading.Lock()
_conn: list[psycopg.Connection[Any]] = []


def record_effect() -> None:
    """Write this job's side effect (retried once on a fresh connection)."""
    job = current_job()
    url = os.environ.get("GOODJOB_FAULTS_EFFECTS_URL") or os.environ["GOODJOB_DATABASE_URL"]
    with _lock:
        for retry in (False, True):
            if not _conn or _conn[0].closed:
                _conn[:] = [psycopg.connect(url, autocommit=True)]
            try:
                _conn[0].execute(_RECORD, (job.id, job.attempt))
                return
            except psycopg.OperationalError:
                _conn.clear()
                if retry:
                    raise


@app.task(name="fx_work", max_attempts=25, retry_backoff=("constant", 0.1))
def fx_work(seconds: float = 0.0) -> None:
    """Sleep ``seconds``, then record the side effect."""
    if seconds:
        time.sleep(seconds)
    record_effect()


@app.task(name="fx_poison", max_attempts=3)
def fx_poison() -> None:
    """Kill this worker process (a poison pill)."""
    os.kill(os.getpid(), signal.SIGKILL)
