"""Worker pool specifications: parse GoodJob's ``--queues`` syntax.

A queues string describes one or more pools separated by ``;``. Each pool is
``<queues>[:<threads>]`` where ``<queues>`` is one of:

* ``*`` -- every queue;
* ``a,b`` -- only these queues;
* ``+a,b`` -- only these queues, fetched in this order;
* ``-a,b`` -- every queue except these.

``threads`` defaults to the worker's ``max_threads``. For example
``"mice:2;elephants,mice:1;*"`` is three pools: two threads for ``mice``, one
thread for ``elephants`` and ``mice``, and ``max_threads`` threads for
everything.

The queue part is handed to ``goodjob_fetch_and_lock(queues => ...)`` as is
(whitespace around names removed); :meth:`PoolSpec.matches` answers whether a
notification about a queue concerns a pool.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

__all__ = ["PoolSpec", "parse_queues", "validate_queue_name"]

# Mirrors the SQL check (GJ004): non-empty, at most 128 characters, none of
# , ; : * + or whitespace, and no leading '-'.
_MAX_QUEUE_NAME = 128
_FORBIDDEN = re.compile(r"[,;:*+\s]")


@dataclass(frozen=True)
class PoolSpec:
    """One worker pool: a queue selector and its number of threads.

    :param queues: the selector in ``goodjob_fetch_and_lock`` syntax
        (``*``, ``a,b``, ``+a,b`` or ``-a,b``).
    :param threads: how many jobs the pool runs at once (at least 1).
    """

    queues: str
    threads: int

    @property
    def mode(self) -> str:
        """``"*"`` (all), ``"only"`` (``a,b`` and ``+a,b``) or ``"except"``."""
        if self.queues == "*":
            return "*"
        return "except" if self.queues.startswith("-") else "only"

    @property
    def names(self) -> tuple[str, ...]:
        """The queue names listed in the selector (empty for ``*``)."""
        if self.queues == "*":
            return ()
        body = self.queues[1:] if self.queues[0] in "+-" else self.queues
        return tuple(body.split(","))

    def matches(self, queue: str) -> bool:
        """Tell whether jobs of ``queue`` can be fetched by this pool.

        :param queue: a queue name, e.g. from a NOTIFY payload.
        """
        mode = self.mode
        if mode == "*":
            return True
        if mode == "except":
            return queue not in self.names
        return queue in self.names


def validate_queue_name(name: str, *, context: str = "") -> str:
    """Return ``name`` if it is a valid queue name, else raise ``ValueError``.

    :param name: the queue name to check.
    :param context: the whole string being parsed, quoted in the message.
    """
    where = f" in queues string {context!r}" if context else ""
    if not name:
        raise ValueError(f"empty queue name{where}")
    if len(name) > _MAX_QUEUE_NAME:
        raise ValueError(f"queue name {name!r} is longer than {_MAX_QUEUE_NAME} characters{where}")
    if _FORBIDDEN.search(name) or name.startswith("-"):
        raise ValueError(
            f"invalid queue name {name!r}{where}: names cannot contain , ; : * + "
            "or whitespace, nor start with '-'"
        )
    return name


def _parse_selector(text: str, spec: str) -> str:
    """Validate one pool's queue part and return it in canonical form."""
    if text == "*":
        return "*"
    prefix = text[0] if text[:1] in ("+", "-") else ""
    body = text[len(prefix) :]
    if not body.strip():
        raise ValueError(
            f"pool {text!r} in queues string {spec!r} lists no queue (use '*' for all queues)"
        )
    names = [validate_queue_name(n.strip(), context=spec) for n in body.split(",")]
    if len(set(names)) != len(names):
        raise ValueError(f"pool {text!r} in queues string {spec!r} repeats a queue")
    return prefix + ",".join(names)


def _parse_threads(text: str, pool: str, spec: str) -> int:
    """Parse a pool's thread count (a positive integer)."""
    text = text.strip()
    if not text.isdigit() or int(text) < 1:
        raise ValueError(
            f"invalid thread count {text!r} for pool {pool!r} in queues string "
            f"{spec!r}: expected a positive integer"
        )
    return int(text)


def parse_queues(spec: str, *, default_threads: int) -> tuple[PoolSpec, ...]:
    """Parse a ``--queues`` string into pool specifications.

    :param spec: e.g. ``"mice:2;elephants,mice:1;*"``.
    :param default_threads: threads for a pool that gives no count.
    :raises ValueError: with a message naming the bad part.
    """
    if not isinstance(spec, str):
        raise ValueError(f"queues must be a string, not {type(spec).__name__}")
    if default_threads < 1:
        raise ValueError(f"max_threads must be at least 1, not {default_threads}")
    if not spec.strip():
        raise ValueError("queues string is empty (use '*' for all queues)")
    pools: list[PoolSpec] = []
    for raw in spec.split(";"):
        part = raw.strip()
        if not part:
            raise ValueError(f"empty pool in queues string {spec!r}")
        queues, sep, threads = part.rpartition(":")
        if not sep:
            queues, threads = part, ""
        queues = queues.strip()
        if not queues:
            raise ValueError(f"pool {part!r} in queues string {spec!r} has no queues")
        if ":" in queues:
            raise ValueError(f"pool {part!r} in queues string {spec!r} has more than one ':'")
        count = _parse_threads(threads, part, spec) if sep else default_threads
        pools.append(PoolSpec(_parse_selector(queues, spec), count))
    return tuple(pools)
