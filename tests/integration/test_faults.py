"""The fault suite at its reduced size (``make faults`` runs it at full size).

Each scenario of :mod:`tests.faults.scenarios` starts real ``goodjob-pg run``
processes on a database of its own, injects its fault and audits every job:
0 lost, 0 completed twice, every succeeded job's side effect present.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from tests.faults.scenarios import SCENARIOS, SMALL, Result, Size

pytestmark = pytest.mark.slow


@pytest.mark.parametrize("scenario", SCENARIOS, ids=lambda s: s.__name__)
def test_fault_scenario(scenario: Callable[[Size, Path], Result], tmp_path: Path) -> None:
    result = scenario(SMALL, tmp_path)
    log = tmp_path.glob("*.log")
    assert result.passed, (result, "\n".join(p.read_text()[-4000:] for p in log))
    assert result.audit.lost == 0
    assert result.audit.completed_twice == 0
