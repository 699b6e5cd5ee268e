"""Results whose report waits for a row lock held by someone else.

A psql user who runs ``select ... for update`` on a running job blocks that
job's report. Worker sessions run with a ``lock_timeout``
(:data:`goodjob_pg.reconnect.LOCK_TIMEOUT_S`), so the report (and a fetch
sent with it, in the same transaction) fails with SQLSTATE 55P03 and
changes nothing. The pool then parks those results here and keeps fetching
and reporting everything else; parked results are retried one by one (so
one locked row holds back no other result) with a growing delay, until
each is accepted or refused. Nothing is dropped: a parked result's job is
``running`` under the live lease, so no rescue would ever free it.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Generic, TypeVar

import psycopg

from .reconnect import Backoff

__all__ = ["ParkedResults"]

T = TypeVar("T")


class ParkedResults(Generic[T]):
    """Items waiting for a row lock, retried alone with backoff.

    :param base: the first retry delay's upper bound in seconds.
    :param cap: the longest delay between retries.
    """

    def __init__(self, base: float = 1.0, cap: float = 15.0) -> None:
        self._items: list[T] = []
        self._backoff = Backoff(base, cap)
        self.retry_at = 0.0  # monotonic time of the next retry

    def __len__(self) -> int:
        return len(self._items)

    def park(self, items: list[T]) -> float:
        """Keep ``items`` for a later retry; return the delay until it."""
        self._items.extend(items)
        delay = self._backoff.next_delay()
        self.retry_at = time.monotonic() + delay
        return delay

    def due(self) -> bool:
        """True when items wait and their retry time has come."""
        return bool(self._items) and time.monotonic() >= self.retry_at

    def retry(self, report_one: Callable[[T], None]) -> int:
        """Report each parked item with ``report_one``; return how many went through.

        Items whose report hits the lock again are parked again. Any other
        error puts every item not yet reported back and is raised.
        """
        items, self._items = self._items, []
        blocked: list[T] = []
        done = 0
        for i, item in enumerate(items):
            try:
                report_one(item)
            except psycopg.errors.LockNotAvailable:
                blocked.append(item)
                continue
            except BaseException:
                self.park(blocked + items[i:])
                raise
            done += 1
        if blocked:
            self.park(blocked)
        else:
            self._backoff.reset()
        return done
