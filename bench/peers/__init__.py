"""Peers: Procrastinate and PgQueuer under the same enqueue, drain and latency scenarios.

``python -m bench.peers`` (``make bench-peers``, which installs the peers
into ``bench/.venv``) runs goodjob-pg and each peer interleaved, run by run,
each in its own fresh database, with the same job counts and concurrency,
and reports each peer's figure with goodjob-pg's ratio to it.
"""

from __future__ import annotations

__all__ = ["load_peers"]

from ..subject import Subject


def load_peers(names: list[str]) -> tuple[list[Subject], dict[str, str]]:
    """The peer subjects that import, and why each other one cannot run."""
    subjects: list[Subject] = []
    unavailable: dict[str, str] = {}
    for name in names:
        try:
            if name == "procrastinate":
                from .procrastinate_peer import ProcrastinateSubject

                subjects.append(ProcrastinateSubject())
            elif name == "pgqueuer":
                from .pgqueuer_peer import PgQueuerSubject

                subjects.append(PgQueuerSubject())
            else:
                unavailable[name] = "unknown peer"
        except ImportError as exc:
            unavailable[name] = (
                f"not installed here ({exc}); make bench-peers installs it into bench/.venv"
            )
    return subjects, unavailable
