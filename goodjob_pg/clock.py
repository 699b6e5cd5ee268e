"""The database's clock, as seen from this process.

Every decision about time belongs to the database (run times, backoff,
rescue, cron ticks), but a worker still has to know *when* to wake up for a
job due at a given instant, and the cron scheduler and ``Retry(delay=...)``
turn "in N seconds" into an instant. Doing that with this host's clock
would move those instants by the host's skew (a worker whose clock runs an
hour slow would wake an hour late for every scheduled job, and enqueue
cron ticks an hour late). So the worker measures the offset between its
clock and the server's (``clock_timestamp()``, halfway through the round
trip) when its lease connection opens and at every heartbeat, and reads
the time through :data:`database_clock`. Until a worker has measured it
(a process that only enqueues), the offset is 0.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime

__all__ = ["DatabaseClock", "database_clock"]


class DatabaseClock:
    """This host's clock corrected by the last measured offset to the server's."""

    def __init__(self) -> None:
        self.offset = 0.0  # server minus local, seconds
        self.synced = False
        self._lock = threading.Lock()

    def sync(self, read_server: Callable[[], float]) -> float:
        """Measure the offset with ``read_server`` (the server's time, POSIX seconds).

        Returns the new offset.
        """
        sent = time.time()
        server = read_server()
        received = time.time()
        with self._lock:
            self.offset = server - (sent + received) / 2
            self.synced = True
        return self.offset

    def time(self) -> float:
        """The database's time now, POSIX seconds (like ``time.time()``)."""
        return time.time() + self.offset

    def now(self) -> datetime:
        """The database's time now, an aware UTC datetime (like ``datetime.now(UTC)``)."""
        return datetime.fromtimestamp(self.time(), UTC)


database_clock = DatabaseClock()
"""The process-wide clock the worker keeps in step with its database."""
