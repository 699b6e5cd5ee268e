"""Shared machinery of the fault suite: a database, workers, and the audit.

A :class:`FaultBed` owns one fresh, migrated database (dropped on close),
starts real ``goodjob-pg run`` processes on it (``tests.faults.tasks:app``),
enqueues ``fx_work`` jobs and audits the outcome from the database alone:

* lost: an enqueued job that is not ``succeeded`` (or ``discarded`` where
  the scenario expects it) at the end;
* completed twice: a job with more than one ``succeeded`` execution (the
  executions' primary key ``(job_id, attempt)`` already forbids two outcomes
  for one attempt);
* repeated side effects: ``fault_effects.runs > 1``, which happens only when
  a worker died after the task's side effect and before its report committed;
* missing side effects: a succeeded job with no ``fault_effects`` row.
"""

from __future__ import annotations

import itertools
import os
import signal
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import psycopg
from psycopg.types.json import Jsonb

from goodjob_pg.migrations import apply_migrations
from tests.faults.tasks import EFFECTS_TABLE
from tests.plugins.database import create_database, drop_database, url_for
from tests.worker_process import ROOT, wait_for

__all__ = ["Audit", "FaultBed", "wait_for"]

Conn = psycopg.Connection[Any]
_names = itertools.count(1)
_RUN_ARGS = ("--app", "tests.faults.tasks:app", "--log-level", "warning")


@dataclass
class Audit:
    """What the database says happened to a scenario's jobs."""

    jobs: int
    succeeded: int
    discarded: int
    lost: int
    completed_twice: int
    repeated_effects: int
    missing_effects: int
    attempts: int
    interrupted: int
    extra: dict[str, Any] = field(default_factory=dict)

    def ok(self, discarded: int = 0) -> bool:
        """True when nothing was lost, run twice or skipped."""
        return (
            self.lost == 0
            and self.completed_twice == 0
            and self.missing_effects == 0
            and self.discarded == discarded
        )


class FaultBed:
    """A fresh database plus the worker processes of one scenario."""

    def __init__(self, log_dir: Path, name: str, url: str | None = None) -> None:
        """:param url: a database to use as it is (a private server's), instead
        of a fresh one on the shared test server."""
        self.dbname = f"gjfault_{os.getpid()}_{next(_names)}_{name}"[:63]
        self.own_database = url is None
        if url is None:
            drop_database(self.dbname)
            create_database(self.dbname)
        self.url = url or url_for(self.dbname)
        apply_migrations(self.url)
        self.conn: Conn = psycopg.connect(self.url, autocommit=True)
        self.conn.execute(EFFECTS_TABLE)
        self.log = log_dir / f"{name}.log"
        self.procs: list[subprocess.Popen[bytes]] = []

    # -- workers ---------------------------------------------------------------

    def spawn(self, *args: str, url: str | None = None) -> subprocess.Popen[bytes]:
        """Start ``goodjob-pg run --app tests.faults.tasks:app ARGS``."""
        env = dict(os.environ)
        env["GOODJOB_DATABASE_URL"] = url or self.url
        env["GOODJOB_FAULTS_EFFECTS_URL"] = self.url
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")]))
        env["PYTHONUNBUFFERED"] = "1"
        with open(self.log, "ab") as out:
            proc = subprocess.Popen(
                [sys.executable, "-m", "goodjob_pg.cli", "run", *_RUN_ARGS, *args],
                cwd=ROOT,
                env=env,
                stdout=out,
                stderr=subprocess.STDOUT,
            )
        self.procs.append(proc)
        return proc

    def process_id(self, proc: subprocess.Popen[bytes], timeout: float = 30) -> Any:
        """Wait until ``proc`` has registered; return its goodjob process id."""

        def registered() -> Any:
            row = self.conn.execute(
                "select id from goodjob_processes where pid = %s order by started_at desc",
                (proc.pid,),
            ).fetchone()
            return row[0] if row else None

        return wait_for(registered, timeout, 0.05)

    def kill(self, proc: subprocess.Popen[bytes]) -> Any:
        """SIGKILL ``proc`` and reap it; return the database clock at the kill."""
        now = self.scalar("select clock_timestamp()")
        proc.send_signal(signal.SIGKILL)
        proc.wait(30)
        return now

    # -- jobs ------------------------------------------------------------------

    def enqueue(self, n: int, seconds: float = 0.0, queue: str = "default") -> list[Any]:
        """Enqueue ``n`` ``fx_work`` jobs in one statement; return their ids."""
        spec = {"task": "fx_work", "args": [seconds], "queue": queue, "max_attempts": 25}
        rows = self.conn.execute("select goodjob_enqueue_many(%s)", (Jsonb([spec] * n),))
        return [row[0] for row in rows]

    def reconnect(self) -> None:
        """Open the audit connection again (after a server restart)."""
        self.conn.close()
        self.conn = psycopg.connect(self.url, autocommit=True)

    def scalar(self, query: str, *params: Any) -> Any:
        """Run ``query`` and return the first column of its first row."""
        row = self.conn.execute(query, params).fetchone()
        assert row is not None
        return row[0]

    def unfinished(self) -> int:
        """Jobs not yet succeeded or discarded."""
        return int(
            self.scalar(
                "select count(*) from goodjob_jobs where state not in ('succeeded', 'discarded')"
            )
        )

    def wait_drained(self, timeout: float) -> None:
        """Wait until every job is succeeded or discarded."""
        wait_for(lambda: self.unfinished() == 0, timeout, 0.1)

    def audit(self, ids: list[Any], expect: str = "succeeded") -> Audit:
        """Account for the jobs ``ids``, which should all end ``expect``."""
        row = self.conn.execute(
            """
            with j as (select * from goodjob_jobs where id = any(%(ids)s)),
                 e as (select job_id,
                              count(*) filter (where outcome = 'succeeded') as ok,
                              count(*) filter (where outcome = 'interrupted') as cut
                         from goodjob_executions where job_id = any(%(ids)s) group by job_id)
            select (select count(*) from j where state = 'succeeded'),
                   (select count(*) from j where state = 'discarded'),
                   cardinality(%(ids)s::uuid[])
                     - (select count(*) from j where state = %(expect)s),
                   (select count(*) from e where ok > 1),
                   (select count(*) from fault_effects
                     where job_id = any(%(ids)s) and runs > 1),
                   (select count(*) from j where state = 'succeeded' and not exists
                      (select from fault_effects f where f.job_id = j.id)),
                   (select coalesce(sum(attempts), 0) from j),
                   (select coalesce(sum(cut), 0) from e)
            """,
            {"ids": ids, "expect": expect},
        ).fetchone()
        assert row is not None
        succeeded, discarded, lost, twice, repeated, missing, attempts, cut = map(int, row)
        return Audit(len(ids), succeeded, discarded, lost, twice, repeated, missing, attempts, cut)

    # -- teardown --------------------------------------------------------------

    def close(self) -> None:
        """Kill every worker still running and drop the database."""
        for proc in self.procs:
            if proc.poll() is None:
                proc.kill()
            proc.wait(30)
        self.conn.close()
        if self.own_database:
            drop_database(self.dbname)

    def tail(self, lines: int = 40) -> str:
        """The last lines of the workers' log (for failure messages)."""
        if not self.log.exists():
            return ""
        return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:])

    def __enter__(self) -> FaultBed:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
