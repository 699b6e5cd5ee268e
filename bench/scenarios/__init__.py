"""The scenarios, in the order ``make bench`` runs them.

Each module has ``run(ctx) -> list[Row]``; ``--only NAME`` runs one.
"""

from __future__ import annotations

from collections.abc import Callable

from ..context import Context
from ..report import Row
from . import drain, enqueue, floor_reference, hot_path, latency, memory, mixed, search_path

__all__ = ["SCENARIOS"]

SCENARIOS: dict[str, Callable[[Context], list[Row]]] = {
    "floor": floor_reference.run,
    "enqueue": enqueue.run,
    "drain": drain.run,
    "latency": latency.run,
    "hot_path": hot_path.run,
    "mixed": mixed.run,
    "memory": memory.run,
    "search_path": search_path.run,
}
