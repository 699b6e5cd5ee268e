"""Rows of results: the printed table and the JSON file with the same figures."""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from .stats import Figure

__all__ = ["Row", "Target", "format_table", "write_json"]


@dataclass(frozen=True)
class Target:
    """A bound on a row's ratio (or, for latency and memory, its value)."""

    op: Literal[">=", "<="]
    bound: float
    on: Literal["ratio", "value"] = "ratio"

    def met(self, row: Row) -> bool | None:
        """Whether the row's median meets the bound (None when not measured)."""
        fig = row.ratio if self.on == "ratio" else row.value
        if fig is None or math.isnan(fig.median):
            return None
        return fig.median >= self.bound if self.op == ">=" else fig.median <= self.bound

    def __str__(self) -> str:
        what = "ratio" if self.on == "ratio" else "value"
        return f"{what} {self.op} {_num(self.bound)}"


@dataclass(frozen=True)
class Row:
    """One line of the report.

    :param value: the measured figure (median of runs, min, max).
    :param versus: what ``reference`` and ``ratio`` compare with.
    :param reference: the floor's (or a peer's) figure, measured in the same run.
    :param ratio: per-run ``value / reference`` (or as the note says).
    """

    scenario: str
    measure: str
    unit: str
    value: Figure
    versus: str | None = None
    reference: Figure | None = None
    ratio: Figure | None = None
    target: Target | None = None
    note: str = ""

    @property
    def ok(self) -> bool | None:
        """Whether the target is met (None without a target)."""
        return None if self.target is None else self.target.met(self)

    def to_json(self) -> dict[str, Any]:
        """The row as JSON."""
        return {
            "scenario": self.scenario,
            "measure": self.measure,
            "unit": self.unit,
            "value": self.value.to_json(),
            "versus": self.versus,
            "reference": None if self.reference is None else self.reference.to_json(),
            "ratio": None if self.ratio is None else self.ratio.to_json(),
            "target": None if self.target is None else str(self.target),
            "ok": self.ok,
            "note": self.note,
        }


def _num(value: float) -> str:
    """A number with as many digits as a reader needs."""
    if math.isnan(value):
        return "-"
    magnitude = abs(value)
    if magnitude >= 1000:
        return f"{value:,.0f}"
    if magnitude >= 100:
        return f"{value:.0f}"
    if magnitude >= 10:
        return f"{value:.1f}"
    if magnitude >= 1:
        return f"{value:.2f}"
    return f"{value:.3f}"


def _fig(fig: Figure | None) -> str:
    if fig is None:
        return ""
    if len(fig.runs) <= 1:
        return _num(fig.median)
    return f"{_num(fig.median)} [{_num(fig.min)}-{_num(fig.max)}]"


def format_table(rows: Sequence[Row], legend: Sequence[str] = ()) -> str:
    """The rows as a plain-text table (median [min-max] of the runs), legend and notes after."""
    header = ("scenario", "measure", "value", "unit", "vs", "reference", "ratio", "target", "ok")
    lines: list[tuple[str, ...]] = [header]
    notes: list[str] = []
    for row in rows:
        ok = {True: "yes", False: "NO", None: ""}[row.ok]
        measure = row.measure
        if row.note:
            notes.append(row.note)
            measure = f"{measure} [{len(notes)}]"
        lines.append(
            (
                row.scenario,
                measure,
                _fig(row.value),
                row.unit,
                row.versus or "",
                _fig(row.reference),
                _fig(row.ratio),
                "" if row.target is None else str(row.target),
                ok,
            )
        )
    widths = [max(len(line[i]) for line in lines) for i in range(len(header))]
    out = []
    for n, line in enumerate(lines):
        out.append("  ".join(cell.ljust(w) for cell, w in zip(line, widths, strict=True)).rstrip())
        if n == 0:
            out.append("  ".join("-" * w for w in widths))
    if legend:
        out.append("")
        out += list(legend)
    if notes:
        out.append("")
        out += [f"[{i}] {note}" for i, note in enumerate(notes, 1)]
    return "\n".join(out)


def write_json(path: Path, rows: Sequence[Row], meta: dict[str, Any]) -> None:
    """Write the meta data and the rows to ``path`` (directories created)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(
        json.dumps({"meta": meta, "rows": [r.to_json() for r in rows]}, indent=2) + "\n"
    )
