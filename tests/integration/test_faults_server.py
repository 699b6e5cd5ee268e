"""The server fault scenarios at their reduced size (``make faults`` runs them at full size).

:mod:`tests.faults.scenarios_server`: a black-holed lease ended by the
heartbeat backstop (S15), a black-holed LISTEN found by the self-ping (S12),
operator timeouts on the worker's role with statements cancelled for real
(S18), and a hot standby, then a read-only default (S13). Each starts real
``goodjob-pg run`` processes and audits every job: 0 lost, 0 completed twice
(the same checks as ``test_faults.py``).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from tests.faults.scenarios import Result, Size
from tests.faults.scenarios_server import SERVER_SCENARIOS
from tests.integration.test_faults import test_fault_scenario as _check

pytestmark = pytest.mark.slow


@pytest.mark.parametrize("scenario", SERVER_SCENARIOS, ids=lambda s: s.__name__)
def test_server_fault_scenario(scenario: Callable[[Size, Path], Result], tmp_path: Path) -> None:
    _check(scenario, tmp_path)
