"""Figures: the median of several runs with their min and max, and percentiles."""

from __future__ import annotations

import math
import statistics
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

__all__ = ["Figure", "figure", "percentile", "ratios"]


@dataclass(frozen=True)
class Figure:
    """One measured quantity over several runs.

    :param runs: the value of each run, in run order.
    """

    runs: tuple[float, ...]

    @property
    def median(self) -> float:
        """The median of the runs (NaN when there were none)."""
        return statistics.median(self.runs) if self.runs else math.nan

    @property
    def min(self) -> float:
        """The smallest run."""
        return min(self.runs) if self.runs else math.nan

    @property
    def max(self) -> float:
        """The largest run."""
        return max(self.runs) if self.runs else math.nan

    def to_json(self) -> dict[str, object]:
        """Median, min, max and the runs, for the JSON report."""
        return {
            "median": _finite(self.median),
            "min": _finite(self.min),
            "max": _finite(self.max),
            "runs": [_finite(v) for v in self.runs],
        }


def figure(values: Iterable[float]) -> Figure:
    """A Figure from the values of each run."""
    return Figure(tuple(float(v) for v in values))


def ratios(numerators: Sequence[float], denominators: Sequence[float]) -> Figure:
    """Per-run ratios of paired runs (run i of one over run i of the other).

    Pairing runs that were measured back to back cancels most of the drift
    of a shared, noisy machine better than a ratio of two medians.
    """
    return figure(n / d if d else math.nan for n, d in zip(numerators, denominators, strict=True))


def percentile(values: Sequence[float], p: float) -> float:
    """The p-th percentile (0..100) by linear interpolation between closest ranks."""
    if not values:
        return math.nan
    ordered = sorted(values)
    rank = (len(ordered) - 1) * p / 100.0
    low = math.floor(rank)
    high = math.ceil(rank)
    if low == high:
        return ordered[low]
    return ordered[low] + (ordered[high] - ordered[low]) * (rank - low)


def _finite(value: float) -> float | None:
    return None if math.isnan(value) or math.isinf(value) else round(value, 6)
