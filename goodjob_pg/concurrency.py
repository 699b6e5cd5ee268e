"""Concurrency controls of a task: what ``@app.task(concurrency={...})`` takes.

The limits are enforced in SQL (see ``goodjob_define_concurrency``): Python
only checks the configuration, writes it to the task definition, and works
out each job's key at enqueue.

Keys of ``concurrency``:

- ``total_limit``: unfinished jobs (scheduled, queued, running) per key;
- ``enqueue_limit``: jobs waiting to run (scheduled, queued) per key;
- ``enqueue_throttle``: ``(n, seconds)``, at most n jobs enqueued per key
  within any ``seconds``;
- ``perform_limit``: jobs running at once per key;
- ``perform_throttle``: ``(n, seconds)``, at most n jobs started per key
  within any ``seconds``;
- ``key``: a str, a callable ``key(args, kwargs) -> str``, or ``None`` to
  switch the controls off; by default the task name.
"""

from __future__ import annotations

import enum
import logging
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

__all__ = ["TASK_NAME", "Concurrency", "KeyFunc", "apply_concurrency", "log_refusal"]

logger = logging.getLogger("goodjob_pg.registry")

KeyFunc = Callable[[Sequence[Any], Mapping[str, Any]], str]
Throttle = tuple[int, float]


class _TaskName(enum.Enum):
    """The default key: the task's name."""

    TASK_NAME = "the task name"


TASK_NAME = _TaskName.TASK_NAME

_LIMITS = ("total_limit", "enqueue_limit", "perform_limit")
_THROTTLES = ("enqueue_throttle", "perform_throttle")
_OPTIONS = (*_LIMITS, *_THROTTLES, "key")


def _limit(value: Any, what: str) -> int | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f"concurrency {what} must be an int, not {value!r}")
    if value < 1:
        raise ValueError(f"concurrency {what} must be at least 1, not {value!r}")
    return value


def _throttle(value: Any, what: str) -> Throttle | None:
    if value is None:
        return None
    if not isinstance(value, tuple | list) or len(value) != 2:
        raise TypeError(f"concurrency {what} must be a (count, seconds) pair, not {value!r}")
    count, seconds = value
    if isinstance(seconds, timedelta):
        seconds = seconds.total_seconds()
    if isinstance(seconds, bool) or not isinstance(seconds, int | float):
        raise TypeError(f"concurrency {what} period must be seconds, not {seconds!r}")
    if not 0 < seconds < float("inf"):
        raise ValueError(f"concurrency {what} period must be positive seconds, not {seconds!r}")
    checked = _limit(count, f"{what} count")
    assert checked is not None
    return checked, float(seconds)


@dataclass(frozen=True)
class Concurrency:
    """A task's checked concurrency configuration (see the module docstring)."""

    total_limit: int | None = None
    enqueue_limit: int | None = None
    perform_limit: int | None = None
    enqueue_throttle: Throttle | None = None
    perform_throttle: Throttle | None = None
    key: str | KeyFunc | _TaskName | None = TASK_NAME

    @classmethod
    def build(cls, value: Mapping[str, Any]) -> Concurrency:
        """Check a ``concurrency={...}`` mapping: TypeError or ValueError naming the bad option."""
        if not isinstance(value, Mapping):
            raise TypeError(f"concurrency must be a dict of limits, not {value!r}")
        unknown = sorted(set(value) - set(_OPTIONS))
        if unknown:
            raise ValueError(
                f"unknown concurrency option(s) {', '.join(map(repr, unknown))};"
                f" known: {', '.join(_OPTIONS)}"
            )
        key = value.get("key", TASK_NAME)
        if not (key is None or key is TASK_NAME or isinstance(key, str) or callable(key)):
            raise TypeError(f"concurrency key must be a str, a callable or None, not {key!r}")
        if isinstance(key, str) and not 1 <= len(key) <= 255:
            raise ValueError(f"concurrency key must be 1 to 255 characters, not {key!r}")
        return cls(
            total_limit=_limit(value.get("total_limit"), "total_limit"),
            enqueue_limit=_limit(value.get("enqueue_limit"), "enqueue_limit"),
            perform_limit=_limit(value.get("perform_limit"), "perform_limit"),
            enqueue_throttle=_throttle(value.get("enqueue_throttle"), "enqueue_throttle"),
            perform_throttle=_throttle(value.get("perform_throttle"), "perform_throttle"),
            key=key,
        )

    @property
    def enabled(self) -> bool:
        """Whether any limit applies (a ``None`` key switches them all off)."""
        limits = (self.total_limit, self.enqueue_limit, self.perform_limit)
        throttles = (self.enqueue_throttle, self.perform_throttle)
        return self.key is not None and any(v is not None for v in (*limits, *throttles))

    def key_for(self, task_name: str, args: Sequence[Any], kwargs: Mapping[str, Any]) -> str | None:
        """The concurrency key of a job with these arguments (None: no control)."""
        if not self.enabled:
            return None
        if self.key is TASK_NAME:
            return task_name
        if isinstance(self.key, str):
            return self.key
        assert callable(self.key)
        key = self.key(args, kwargs)
        if not isinstance(key, str):
            raise TypeError(
                f"the concurrency key function of {task_name!r} returned {key!r}, not a str"
            )
        return key

    def definition(self) -> dict[str, Any]:
        """Keyword arguments for :func:`goodjob_pg.db.define_concurrency` (all None when off)."""
        on = self.enabled
        enqueue, perform = self.enqueue_throttle, self.perform_throttle
        return {
            "total_limit": self.total_limit if on else None,
            "enqueue_limit": self.enqueue_limit if on else None,
            "perform_limit": self.perform_limit if on else None,
            "enqueue_throttle_limit": enqueue[0] if on and enqueue else None,
            "enqueue_throttle_period": timedelta(seconds=enqueue[1]) if on and enqueue else None,
            "perform_throttle_limit": perform[0] if on and perform else None,
            "perform_throttle_period": timedelta(seconds=perform[1]) if on and perform else None,
        }

    def describe(self) -> str:
        """The enqueue-side limits as text, for the log line of a refused enqueue."""
        parts = [f"{n}={getattr(self, n)}" for n in ("total_limit", "enqueue_limit")]
        if self.enqueue_throttle is not None:
            parts.append(f"enqueue_throttle={self.enqueue_throttle}")
        return ", ".join(p for p in parts if not p.endswith("=None"))


NO_CONCURRENCY = Concurrency(key=None)


# --- the enqueue side (shared by enqueue, enqueue_many and bulk blocks) -----------------------


def apply_concurrency(
    app: Any, task: Any, options: dict[str, Any], args: Sequence[Any], kwargs: Mapping[str, Any]
) -> None:
    """Give a job of a limited task its concurrency key, and write the task's limits first.

    ``options`` are the resolved enqueue options (changed in place); ``args``
    and ``kwargs`` are as the caller gave them, for a ``key`` callable. The
    limits are written (once per App) before the task's first enqueue, so SQL
    enforces them from the first job on. Tasks without limits cost one test.
    """
    limits: Concurrency = task.defaults.concurrency
    if not limits.enabled:
        return
    if options.get("concurrency_key") is None:
        options["concurrency_key"] = limits.key_for(task.name, args, kwargs)
    app._define_concurrency(task.name, limits)


def log_refusal(task: Any, name: str, options: Mapping[str, Any]) -> None:
    """Log a job that SQL refused because its key is at its limits (enqueue returned None)."""
    limits = task.defaults.concurrency if task is not None else None
    logger.info(
        "job of task %s not enqueued: concurrency key %r is at its limits (%s)",
        name,
        options.get("concurrency_key"),
        limits.describe() if limits is not None else "",
        extra={
            "action": "job_refused",
            "job_id": str(options.get("id")),
            "task": name,
            "concurrency_key": options.get("concurrency_key"),
        },
    )
