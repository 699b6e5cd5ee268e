"""What a drain run did, read back from the jobs' own timestamps."""

from __future__ import annotations

import math
from dataclasses import dataclass

__all__ = ["DrainStats"]


@dataclass(frozen=True)
class DrainStats:
    """Jobs finished between the first start and the last finish of a run.

    :param jobs: jobs that finished.
    :param seconds: last finish minus first start (server clock).
    :param claims: claim statements (distinct start timestamps), when known.
    :param finishes: finish statements (distinct finish timestamps), when known.
    """

    jobs: int
    seconds: float
    claims: int | None = None
    finishes: int | None = None

    @property
    def rate(self) -> float:
        """Jobs per second (NaN when nothing ran)."""
        return self.jobs / self.seconds if self.jobs and self.seconds > 0 else math.nan

    @property
    def batch(self) -> float:
        """Mean jobs per claim (NaN when unknown)."""
        return self.jobs / self.claims if self.claims else math.nan

    @property
    def statements_per_job(self) -> float:
        """Claim and finish statements per job (NaN when unknown)."""
        if not self.jobs or self.claims is None or self.finishes is None:
            return math.nan
        return (self.claims + self.finishes) / self.jobs
