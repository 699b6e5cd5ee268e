"""What every scenario gets: settings, databases, pgbench, the subject, progress output."""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import psycopg

from . import floor
from .database import Databases, connect
from .goodjob_subject import GoodjobSubject
from .pgbench import PgBench
from .process import WorkerProcess
from .settings import Settings
from .subject import Subject

__all__ = ["Context", "WorkerFailed", "wait_until"]

Conn = psycopg.Connection[Any]


class WorkerFailed(RuntimeError):
    """A worker exited or never became ready; carries its log tail."""


def wait_until(
    predicate: Callable[[], bool],
    timeout: float,
    *,
    interval: float = 0.1,
    worker: WorkerProcess | None = None,
) -> bool:
    """Poll ``predicate`` until it is true (True) or ``timeout`` passes (False).

    With ``worker``, a worker that exits with an error stops the wait with
    :class:`WorkerFailed` (exit code 0, e.g. an idle timeout, does not).
    """
    deadline = time.monotonic() + timeout
    while True:
        if predicate():
            return True
        if worker is not None and not worker.alive and worker.returncode not in (0, None):
            raise WorkerFailed(f"worker exited with code {worker.returncode}:\n{worker.log_tail()}")
        if time.monotonic() >= deadline:
            return False
        time.sleep(interval)


@dataclass
class Context:
    """Shared state of one benchmark run."""

    settings: Settings
    dbs: Databases
    pg: PgBench
    subject: GoodjobSubject = field(default_factory=GoodjobSubject)
    verbose: bool = True

    def log(self, message: str) -> None:
        """Progress on stderr (the table goes to stdout)."""
        if self.verbose:
            print(f"  {time.strftime('%H:%M:%S')} {message}", file=sys.stderr, flush=True)

    def database(self, purpose: str) -> str:
        """A fresh database with goodjob-pg's schema and the floor's bare table."""
        return self.dbs.from_template(purpose, "goodjob", self._install)

    def peer_database(self, purpose: str, subject: Subject) -> str:
        """A fresh database with ``subject``'s schema."""
        return self.dbs.from_template(purpose, subject.name.replace("-", "_"), subject.install)

    def _install(self, url: str) -> None:
        self.subject.install(url)
        floor.install(url)

    def connect(self, url: str) -> Conn:
        """An autocommit connection."""
        return connect(url)
