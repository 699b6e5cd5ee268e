"""A bounded, thread-safe cache of future run times, per queue.

The worker keeps the run times of upcoming scheduled jobs (from
``goodjob_upcoming_run_times`` at start and whenever a pool starts waiting,
NOTIFY payloads with a ``run_at``, and retries scheduled by
``goodjob_report``) so a pool wakes up and fetches exactly when a job becomes
due, without polling. Enqueues notify only while some pool waits
(``goodjob_wait``), so a pool that starts waiting asks for a reload: jobs
scheduled while nobody waited were never announced. The cache is only an
optimisation: a time it forgets (because it is full) is found by the next
poll.

Times are POSIX timestamps on the database's clock
(:data:`goodjob_pg.clock.database_clock`), since run times come from the
database as absolute instants.
"""

from __future__ import annotations

import bisect
import json
import threading
from collections.abc import Callable, Iterable
from datetime import datetime

__all__ = ["RunTimeCache", "parse_payload", "to_timestamp"]


def to_timestamp(value: datetime) -> float:
    """Convert a timezone-aware datetime to POSIX seconds."""
    return value.timestamp()


def parse_payload(payload: str) -> tuple[str, float | None] | None:
    """Read a ``goodjob`` NOTIFY payload: ``(queue, run_at or None)``.

    Returns None for anything else: NOTIFY is unauthenticated, so a payload
    is only a hint and junk is ignored.
    """
    try:
        data = json.loads(payload)
        queue = data["queue"]
        run_at = data.get("run_at")
        if not isinstance(queue, str) or not (run_at is None or isinstance(run_at, str)):
            return None
        when = None if run_at is None else datetime.fromisoformat(run_at)
        if when is not None and when.tzinfo is None:
            return None
    except (ValueError, KeyError, TypeError, AttributeError):
        return None
    return queue, None if when is None else when.timestamp()


class RunTimeCache:
    """Future run times by queue, at most ``max_size`` in all.

    When full, the latest times are dropped first (the earliest matter most)
    and :attr:`overflowed` is set so the owner can reload from the database
    once the cache has drained.

    :param max_size: the most run times kept (0 disables the cache).
    """

    def __init__(self, max_size: int) -> None:
        self.max_size = max_size
        self._by_queue: dict[str, list[float]] = {}
        self._size = 0
        self._lock = threading.Lock()
        self.overflowed = False
        self._reload_requested = False

    def __len__(self) -> int:
        return self._size

    def add(self, queue: str, run_at: float) -> bool:
        """Remember that a job of ``queue`` becomes due at ``run_at``.

        Returns False when the time was not kept (a duplicate, or the cache is
        full of earlier times).
        """
        with self._lock:
            return self._add(queue, run_at)

    def load(self, items: Iterable[tuple[str, float]]) -> int:
        """Add many ``(queue, run_at)`` pairs; return how many were kept."""
        with self._lock:
            return sum(self._add(queue, run_at) for queue, run_at in items)

    def next_due(self, matches: Callable[[str], bool], after: float) -> float | None:
        """The earliest run time later than ``after`` in a matching queue.

        :param matches: tells whether a queue concerns the caller (a pool).
        :param after: times at or before this were already handled.
        """
        best: float | None = None
        with self._lock:
            for queue, times in self._by_queue.items():
                i = bisect.bisect_right(times, after)
                if i < len(times) and (best is None or times[i] < best) and matches(queue):
                    best = times[i]
        return best

    def prune(self, before: float) -> int:
        """Forget run times earlier than ``before``; return how many."""
        removed = 0
        with self._lock:
            for queue in list(self._by_queue):
                times = self._by_queue[queue]
                i = bisect.bisect_left(times, before)
                if i:
                    del times[:i]
                    removed += i
                if not times:
                    del self._by_queue[queue]
            self._size -= removed
        return removed

    def needs_reload(self) -> bool:
        """True when a reload was requested, or times were dropped for lack of room
        and room is back."""
        return self._reload_requested or (self.overflowed and self._size <= self.max_size // 2)

    def request_reload(self) -> None:
        """Ask the owner to reload from the database (any thread; no-op when disabled)."""
        if self.max_size > 0:
            self._reload_requested = True

    def reloading(self) -> None:
        """The owner starts a reload: requests from now on ask for another one."""
        self._reload_requested = False

    def _add(self, queue: str, run_at: float) -> bool:
        if self.max_size <= 0:
            return False
        times = self._by_queue.setdefault(queue, [])
        i = bisect.bisect_left(times, run_at)
        if i < len(times) and times[i] == run_at:
            return False
        if self._size >= self.max_size:
            latest_queue = max(
                (q for q in self._by_queue if self._by_queue[q]),
                key=lambda q: self._by_queue[q][-1],
            )
            self.overflowed = True
            if self._by_queue[latest_queue][-1] <= run_at:
                if not times:
                    del self._by_queue[queue]
                return False
            self._by_queue[latest_queue].pop()
            if not self._by_queue[latest_queue] and latest_queue != queue:
                del self._by_queue[latest_queue]
            self._size -= 1
            i = bisect.bisect_left(times, run_at)
        times.insert(i, run_at)
        self._size += 1
        return True

    def clear_overflow(self) -> None:
        """Reset :attr:`overflowed` (call after reloading from the database)."""
        self.overflowed = False
