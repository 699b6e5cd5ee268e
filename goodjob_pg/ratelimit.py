"""Rate-limited warnings for the reconnect paths: no log storm while the server is down.

A worker that cannot reach a usable server (down, restarting, a read-only
standby, a black-holed link) retries with :class:`~goodjob_pg.reconnect.Backoff`
and says so. :class:`LogLimiter` lets the first ``burst`` lines of one kind
through, then at most one every ``interval`` seconds, each carrying the
number of lines it held back since the last one. A success resets the kind,
so the next outage is reported at once.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from typing import Any

__all__ = ["LogLimiter", "reconnect_log"]


class LogLimiter:
    """Decide which lines of each kind (a key) are logged.

    :param burst: lines of one kind logged before limiting starts.
    :param interval: after the burst, at most one line of a kind this often (seconds).
    :param clock: monotonic time source (tests pass a fake one).
    """

    def __init__(
        self,
        burst: int = 3,
        interval: float = 10.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if burst < 1 or not interval > 0:
            raise ValueError(f"burst must be >= 1 and interval > 0, not {burst!r}, {interval!r}")
        self.burst = burst
        self.interval = interval
        self._clock = clock
        self._lock = threading.Lock()
        # key -> [lines logged in this run, time of the last one, lines held back since]
        self._state: dict[str, list[Any]] = {}

    def allow(self, key: str) -> int | None:
        """Count one line of ``key``: None to hold it back, else how many were held back."""
        now = self._clock()
        with self._lock:
            state = self._state.setdefault(key, [0, 0.0, 0])
            logged, last, held = state
            if logged < self.burst or now - last >= self.interval:
                self._state[key] = [logged + 1, now, 0]
                return int(held)
            state[2] = held + 1
            return None

    def reset(self, key: str) -> None:
        """Forget ``key`` (the condition it reports is over)."""
        with self._lock:
            self._state.pop(key, None)

    def warning(
        self,
        logger: logging.Logger,
        key: str,
        msg: str,
        *args: object,
        extra: dict[str, Any] | None = None,
    ) -> bool:
        """Log ``msg % args`` as a warning unless ``key`` is over its rate; True if logged.

        The line keeps ``extra`` (its ``action`` and fields) and adds
        ``suppressed``: how many lines of ``key`` were held back before it,
        also said in the message when there were any.
        """
        held = self.allow(key)
        if held is None:
            return False
        if held:
            msg += " (%d similar line(s) suppressed)"
            args = (*args, held)
        logger.warning(msg, *args, extra={**(extra or {}), "suppressed": held})
        return True


# One limiter for every reconnect path of a process (listener, pools, start-up).
reconnect_log = LogLimiter()
