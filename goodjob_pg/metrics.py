"""Prometheus metrics of one worker process, served on the probe port at ``/metrics``.

Hand-written text exposition (format 0.0.4), no dependency. Every metric is
named ``goodjob_...``:

- ``goodjob_jobs_succeeded_total``, ``goodjob_jobs_failed_total`` (attempts
  that raised), ``goodjob_jobs_retried_total`` (attempts after which the job
  waits for another), ``goodjob_jobs_discarded_total``: counters by
  ``queue`` and ``task``, counted when SQL accepted the result;
- ``goodjob_jobs_running``, ``goodjob_pool_capacity``, ``goodjob_pool_busy``:
  gauges by ``pool``;
- ``goodjob_queue_ready_jobs`` and ``goodjob_queue_oldest_ready_age_seconds``:
  by ``queue``, read from SQL on a connection of their own at most every
  :attr:`QueueDepth.interval` seconds, and only after the first scrape (a
  scrape never waits for the database: it shows the last reading);
- ``goodjob_oldest_xmin_age_xids`` and ``goodjob_oldest_xmin_age_seconds``:
  how far the database's xmin horizon lags (a long transaction, an idle
  session in a transaction, a prepared transaction or a replication slot
  keeps vacuum from removing dead job versions), read with the depth;
- ``goodjob_notify_queue_usage_ratio``: ``pg_notification_queue_usage()``,
  read with the queue depth (a listener that falls behind fills the server's
  NOTIFY queue; when it is full every NOTIFYing transaction fails);
- ``goodjob_job_pickup_latency_seconds``: a histogram of the time from a job
  being ready (enqueued, or its run time) to its start, by database clock.

Counting happens only when the worker has a probe port.
"""

from __future__ import annotations

import bisect
import logging
import threading
import time
from collections import defaultdict
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

import psycopg

from . import db
from .jobs import Job, Outcome, ReportOutcome, Result, State
from .reconnect import close_quietly, connect

if TYPE_CHECKING:
    from .worker import Worker

__all__ = ["LATENCY_BUCKETS", "Metrics", "QueueDepth"]

logger = logging.getLogger(__name__)

LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0)
_COUNTERS = {
    "succeeded": "Jobs that succeeded.",
    "failed": "Attempts that raised (the job may run again).",
    "retried": "Attempts after which the job waits for another attempt.",
    "discarded": "Jobs discarded (no further attempt).",
}
_RETRIED = (State.SCHEDULED, State.QUEUED)


class Metrics:
    """Counters and the latency histogram, updated by the worker's threads."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._counts: dict[tuple[str, str, str], int] = defaultdict(int)
        self._buckets = [0] * (len(LATENCY_BUCKETS) + 1)
        self._latency_sum = 0.0

    def job_started(self, job: Job) -> None:
        """Observe a claimed job's pickup latency (ready time to start)."""
        if job.started_at is None:
            return
        ready = max(job.created_at, job.run_at)
        latency = max(0.0, (job.started_at - ready).total_seconds())
        with self._lock:
            self._buckets[bisect.bisect_left(LATENCY_BUCKETS, latency)] += 1
            self._latency_sum += latency

    def job_reported(self, job: Job, result: Result, outcome: ReportOutcome) -> None:
        """Count an accepted result by what SQL made of it."""
        if not outcome.accepted:
            return
        names = []
        if result.outcome is Outcome.FAILED:
            names.append("failed")
        if outcome.state is State.SUCCEEDED:
            names.append("succeeded")
        elif outcome.state is State.DISCARDED:
            names.append("discarded")
        elif outcome.state in _RETRIED:
            names.append("retried")
        with self._lock:
            for name in names:
                self._counts[(name, job.queue, job.task)] += 1

    def count(self, name: str, queue: str, task: str) -> int:
        """One counter's value (tests, debugging)."""
        with self._lock:
            return self._counts.get((name, queue, task), 0)

    def render(self, worker: Worker, depth: QueueDepth | None) -> str:
        """The whole exposition text."""
        with self._lock:
            counts = dict(self._counts)
            buckets, total = list(self._buckets), self._latency_sum
        out: list[str] = []
        for name, help_text in _COUNTERS.items():
            _header(out, f"goodjob_jobs_{name}_total", help_text, "counter")
            for (metric, queue, task), value in sorted(counts.items()):
                if metric == name:
                    out.append(
                        f"goodjob_jobs_{name}_total{_labels(queue=queue, task=task)} {value}"
                    )
        pools = [(str(p.index), p.spec.threads, p.running_count) for p in worker.pools]
        _gauge(out, "goodjob_jobs_running", "Jobs running now.", ((p, n) for p, _, n in pools))
        _gauge(out, "goodjob_pool_capacity", "Slots of each pool.", ((p, c) for p, c, _ in pools))
        _gauge(out, "goodjob_pool_busy", "Busy slots of each pool.", ((p, n) for p, _, n in pools))
        if depth is not None:
            readings = depth.read()
            _header(out, "goodjob_queue_ready_jobs", "Ready jobs per queue.", "gauge")
            for queue, (count, _) in sorted(readings.items()):
                out.append(f"goodjob_queue_ready_jobs{_labels(queue=queue)} {count}")
            _header(
                out,
                "goodjob_queue_oldest_ready_age_seconds",
                "Age of the oldest ready job per queue.",
                "gauge",
            )
            for queue, (_, age) in sorted(readings.items()):
                out.append(f"goodjob_queue_oldest_ready_age_seconds{_labels(queue=queue)} {age:g}")
            horizon = depth.horizon()
            if horizon is not None:
                _render_horizon(out, *horizon)
            if depth.notify_usage is not None:
                _header(
                    out,
                    "goodjob_notify_queue_usage_ratio",
                    "Fraction of the server's NOTIFY queue in use.",
                    "gauge",
                )
                out.append(f"goodjob_notify_queue_usage_ratio {depth.notify_usage:g}")
        name = "goodjob_job_pickup_latency_seconds"
        _header(out, name, "Time from a job being ready to its start.", "histogram")
        cumulative = 0
        for bound, n in zip((*LATENCY_BUCKETS, float("inf")), buckets, strict=True):
            cumulative += n
            le = "+Inf" if bound == float("inf") else f"{bound:g}"
            out.append(f'{name}_bucket{{le="{le}"}} {cumulative}')
        out.append(f"{name}_sum {total:g}")
        out.append(f"{name}_count {cumulative}")
        return "\n".join(out) + "\n"


class QueueDepth:
    """Ready-queue depth from SQL, refreshed in the background at most every ``interval`` s.

    :param url: database URL (one connection, opened on the first refresh).
    :param interval: seconds between readings.
    """

    def __init__(self, url: str, interval: float = 5.0) -> None:
        self.url = url
        self.interval = interval
        self._readings: dict[str, tuple[int, float]] = {}
        self._horizon: tuple[int, float] | None = None
        self._read_at = -float("inf")
        self._lock = threading.Lock()
        self._refreshing = False
        self._conn: psycopg.Connection[Any] | None = None
        self._closed = False
        # pg_notification_queue_usage(), last reading; written with the others.
        self.notify_usage: float | None = None

    def read(self) -> dict[str, tuple[int, float]]:
        """The last reading; starts a refresh in the background when it is old."""
        with self._lock:
            stale = time.monotonic() - self._read_at >= self.interval
            if stale and not self._refreshing and not self._closed:
                self._refreshing = True
                threading.Thread(target=self._refresh, name="goodjob-metrics", daemon=True).start()
            return dict(self._readings)

    def horizon(self) -> tuple[int, float] | None:
        """The last xmin horizon age (transaction ids, seconds); None before the first reading."""
        with self._lock:
            return self._horizon

    def refresh_now(self) -> None:
        """Read in this thread (tests and the first reading)."""
        with self._lock:
            self._refreshing = True
        self._refresh()

    def close(self) -> None:
        """Close the connection; no further readings."""
        with self._lock:
            self._closed = True
            conn, self._conn = self._conn, None
        close_quietly(conn)

    def _refresh(self) -> None:
        readings: dict[str, tuple[int, float]] | None = None
        horizon: tuple[int, float] | None = None
        notify_usage: float | None = None
        try:
            if self._conn is None or self._conn.closed:
                self._conn = connect(self.url, role="metrics", connect_timeout=5)
            readings = db.ready_queues(self._conn)
            horizon = db.oldest_xmin(self._conn)
            notify_usage = db.notification_queue_usage(self._conn)
        except (psycopg.Error, OSError) as exc:
            logger.warning(
                "metrics: reading queue depth failed (%s)", exc, extra={"action": "metrics_failed"}
            )
            close_quietly(self._conn)
            self._conn = None
        with self._lock:
            self._refreshing = False
            self._read_at = time.monotonic()
            if readings is not None:
                self._readings = readings
            if horizon is not None:
                self._horizon = horizon
            if notify_usage is not None:
                self.notify_usage = notify_usage
            if self._closed:
                close_quietly(self._conn)
                self._conn = None


def _render_horizon(out: list[str], xids: int, seconds: float) -> None:
    _header(
        out,
        "goodjob_oldest_xmin_age_xids",
        "Transaction ids since the oldest snapshot vacuum must respect.",
        "gauge",
    )
    out.append(f"goodjob_oldest_xmin_age_xids {xids}")
    _header(
        out,
        "goodjob_oldest_xmin_age_seconds",
        "Age of the oldest transaction holding back vacuum.",
        "gauge",
    )
    out.append(f"goodjob_oldest_xmin_age_seconds {seconds:g}")


def _header(out: list[str], name: str, help_text: str, kind: str) -> None:
    out.append(f"# HELP {name} {help_text}")
    out.append(f"# TYPE {name} {kind}")


def _gauge(out: list[str], name: str, help_text: str, values: Iterable[tuple[str, int]]) -> None:
    _header(out, name, help_text, "gauge")
    out.extend(f"{name}{_labels(pool=pool)} {value}" for pool, value in values)


def _labels(**labels: str) -> str:
    inner = ",".join(f'{k}="{_escape(v)}"' for k, v in labels.items())
    return "{" + inner + "}"


def _escape(value: str) -> str:
    return value.replace("\\", "\\\\").replace("\n", "\\n").replace('"', '\\"')
