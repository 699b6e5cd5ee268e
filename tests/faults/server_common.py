"""What the server scenarios share: their sizes and log and job counts."""

from __future__ import annotations

from dataclasses import dataclass

from tests.faults.harness import FaultBed
from tests.faults.scenarios import SMALL, Size

__all__ = ["SERVER_FULL", "SERVER_SMALL", "ServerSize", "running", "server_size", "warning_lines"]


@dataclass(frozen=True)
class ServerSize:
    """How big the server scenarios run."""

    jobs: int
    threshold: float  # --stale-process-threshold of S15
    job_seconds: float  # S18's job length (longer than every operator timeout)
    window: float  # seconds a read-only server is watched (S13)
    pickups: int  # NOTIFY pickups timed after recovery (S12)
    timeout: float


SERVER_FULL = ServerSize(50, 5.0, 5.0, 10.0, 20, 300.0)
SERVER_SMALL = ServerSize(10, 2.0, 3.0, 5.0, 5, 90.0)


def server_size(size: Size) -> ServerSize:
    """The server scenarios' size for the suite's size."""
    return SERVER_SMALL if size == SMALL else SERVER_FULL


def warning_lines(bed: FaultBed, offset: int) -> int:
    """WARNING lines the workers logged after byte ``offset`` of the log."""
    with open(bed.log, "rb") as log:
        log.seek(offset)
        return sum(b" WARNING " in line for line in log)


def running(bed: FaultBed) -> int:
    """Jobs running now."""
    return int(bed.scalar("select count(*) from goodjob_jobs where state = 'running'"))
