"""The fault scenarios of :mod:`tests.faults.scenarios_misc` at their reduced size:
a row lock held by another session (S19), a job longer than the heartbeat
period, NOTIFY payload bounds (S22). ``make faults`` runs them at full size.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from tests.faults.scenarios import SMALL, Result, Size
from tests.faults.scenarios_misc import MISC_SCENARIOS

pytestmark = pytest.mark.slow


@pytest.mark.parametrize("scenario", MISC_SCENARIOS, ids=lambda s: s.__name__)
def test_misc_fault_scenario(scenario: Callable[[Size, Path], Result], tmp_path: Path) -> None:
    result = scenario(SMALL, tmp_path)
    log = tmp_path.glob("*.log")
    assert result.passed, (result, "\n".join(p.read_text()[-4000:] for p in log))
    assert result.audit.lost == 0
    assert result.audit.completed_twice == 0
