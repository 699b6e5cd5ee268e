"""The churn: one producer enqueuing, several consumers fetching and reporting, all in SQL.

The producer calls ``goodjob_enqueue_many`` in chunks, at a steady rate
(or, with rate 0, as fast as the consumers keep up), never more than
``max_backlog`` jobs ahead of them. Each consumer is one connection that
holds a process lease (``goodjob_register_process``) and loops
``goodjob_fetch_and_lock`` then ``goodjob_report`` (all succeeded); every
fetch is timed, as in the worker's cycle (report the previous batch and
fetch the next in one transaction). Finished jobs are handed to goodjob-pg's own
:class:`~goodjob_pg.cleanup.Cleaner`, which deletes them the way a worker
does.
"""

from __future__ import annotations

import json
import os
import threading
import time
from dataclasses import dataclass, field
from typing import Any

import psycopg

from goodjob_pg.cleanup import Cleaner

__all__ = ["Churn", "Fetch"]

_ENQUEUE = "select count(*) from goodjob_enqueue_many(%s::jsonb)"
_REGISTER = "select goodjob_register_process(hostname => 'soak', pid => %s, queues => '*')"
_FETCH = (
    "select id, attempts"
    " from goodjob_fetch_and_lock(process_id => %s, queues => '*', max_jobs => %s)"
)
_REPORT = (
    "select count(*) from goodjob_report(process_id => %s, ids => %s::uuid[],"
    " attempts => %s::int[], outcomes => %s::text[]) where accepted"
)


@dataclass(frozen=True)
class Fetch:
    """One timed fetch call.

    :param done: jobs finished (whole run) when the fetch started.
    :param seconds: the call's round trip.
    :param claimed: jobs it returned.
    """

    done: int
    seconds: float
    claimed: int


@dataclass
class Churn:
    """The producer and consumer threads and their counters.

    :param url: the soak database.
    :param total: jobs to enqueue (raise it while running to churn more).
    :param rate: jobs per second enqueued; 0 for as fast as they are consumed.
    :param connections: consumer connections.
    :param batch: ``max_jobs`` of each fetch.
    :param max_backlog: ready jobs the producer stays under.
    :param cleaner: told about every finished job.
    """

    url: str
    total: int
    rate: float
    connections: int
    batch: int
    max_backlog: int
    cleaner: Cleaner
    enqueued: int = 0
    finished: int = 0
    fetches: list[Fetch] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _stop: threading.Event = field(default_factory=threading.Event)
    _threads: list[threading.Thread] = field(default_factory=list)

    def start(self) -> None:
        """Start the producer and the consumers."""
        targets = [self._produce] + [self._consume] * self.connections
        for i, target in enumerate(targets):
            thread = threading.Thread(target=self._guard, args=(target,), name=f"soak-{i}")
            thread.start()
            self._threads.append(thread)

    def stop(self) -> None:
        """Stop every thread and wait for them."""
        self._stop.set()
        for thread in self._threads:
            thread.join()

    def done(self) -> int:
        """Jobs finished so far."""
        with self._lock:
            return self.finished

    def backlog(self) -> int:
        """Jobs enqueued and not yet finished."""
        with self._lock:
            return self.enqueued - self.finished

    def _guard(self, target: Any) -> None:
        try:
            target()
        except Exception as exc:  # a failed thread stops the run, with its reason
            with self._lock:
                self.errors.append(f"{threading.current_thread().name}: {exc!r}")
            self._stop.set()

    def _produce(self) -> None:
        chunk = 100 if self.rate == 0 else max(1, min(1000, int(self.rate / 20)))
        spec = json.dumps([{"task": "soak.noop"}] * chunk)
        started = time.monotonic()
        with psycopg.connect(self.url, autocommit=True) as conn:
            while not self._stop.is_set():
                with self._lock:
                    enqueued, ahead = self.enqueued, self.enqueued - self.finished
                if enqueued >= self.total:
                    self._stop.wait(0.05)
                    continue
                due = (
                    enqueued + chunk if self.rate == 0 else self.rate * (time.monotonic() - started)
                )
                if ahead + chunk > self.max_backlog or enqueued + chunk > due:
                    self._stop.wait(0.005)
                    continue
                n = min(chunk, self.total - enqueued)
                body = spec if n == chunk else json.dumps([{"task": "soak.noop"}] * n)
                conn.execute(_ENQUEUE, (body,))
                with self._lock:
                    self.enqueued += n

    def _consume(self) -> None:
        # As the worker does: one transaction per cycle reports the previous
        # batch and fetches the next, so a claimed job is committed as
        # running in between. Only the fetch statement is timed (not the
        # commit, whose disk flush is noise on a shared machine).
        with psycopg.connect(self.url) as conn:
            row = conn.execute(_REGISTER, (os.getpid(),)).fetchone()
            assert row is not None
            conn.commit()
            process_id = row[0]
            local: list[Fetch] = []
            pending: list[tuple[Any, int]] = []
            while not self._stop.is_set():
                done = self.done()
                with conn.transaction():
                    reported = self._report(conn, process_id, pending)
                    t0 = time.perf_counter()
                    claimed = conn.execute(_FETCH, (process_id, self.batch)).fetchall()
                    local.append(Fetch(done, time.perf_counter() - t0, len(claimed)))
                self._finished(reported)
                pending = [(r[0], r[1]) for r in claimed]
                if not pending:
                    self._stop.wait(0.005)
                if len(local) >= 1000:
                    self._flush(local)
            with conn.transaction():
                self._finished(self._report(conn, process_id, pending))
                conn.execute("select goodjob_deregister_process(%s)", (process_id,))
            self._flush(local)

    def _report(
        self, conn: psycopg.Connection[Any], process_id: Any, jobs: list[tuple[Any, int]]
    ) -> int:
        if not jobs:
            return 0
        ids, attempts = [j[0] for j in jobs], [j[1] for j in jobs]
        outcomes = ["succeeded"] * len(jobs)
        row = conn.execute(_REPORT, (process_id, ids, attempts, outcomes)).fetchone()
        return int(row[0]) if row else 0

    def _finished(self, n: int) -> None:
        if n:
            with self._lock:
                self.finished += n
            self.cleaner.jobs_finished(n)

    def _flush(self, local: list[Fetch]) -> None:
        with self._lock:
            self.fetches.extend(local)
        local.clear()
