"""The fault scenarios of :mod:`tests.faults.scenarios_misc` at their reduced size:
a row lock held by another session (S19), a job longer than the heartbeat
period, NOTIFY payload bounds (S22), workers with skewed clocks (S20), a
LISTEN flood of junk and valid notifications (S24, S26).
``make faults`` runs them at full size. Each is checked like the scenarios of
``test_faults.py``: passed, 0 lost, 0 completed twice.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from tests.faults.scenarios import Result, Size
from tests.faults.scenarios_misc import MISC_SCENARIOS
from tests.integration import test_faults as base

pytestmark = pytest.mark.slow


@pytest.mark.parametrize("scenario", MISC_SCENARIOS, ids=lambda s: s.__name__)
def test_misc_fault_scenario(scenario: Callable[[Size, Path], Result], tmp_path: Path) -> None:
    base.test_fault_scenario(scenario, tmp_path)
