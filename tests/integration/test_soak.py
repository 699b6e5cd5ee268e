"""The soak script (``make soak``, RELIABILITY.md S34) at a tiny size, so it cannot rot.

Only the shape of its report is checked: at 2,000 jobs and a one-second
long transaction the thresholds say nothing (the full run is for that).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from bench.soak.__main__ import main
from tests.plugins.database import PGHOST, PGPORT, PGUSER


def test_a_tiny_soak_reports_sizes_latency_and_the_horizon(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("BENCH_DATABASE_URL", f"postgresql://{PGUSER}@{PGHOST}:{PGPORT}/postgres")
    output = tmp_path / "soak.json"
    args = ["--jobs", "2000", "--long-transaction-seconds", "1", "--rate", "0", "--quiet"]
    code = main([*args, "--output", str(output)])
    assert code in (0, 1)  # 1: a threshold failed, which a run this small may do
    result = json.loads(output.read_text())

    assert result["jobs_done"] >= 2200  # 2,000, plus a tenth after the long transaction
    labels = [s["label"] for s in result["snapshots"]]
    assert labels == ["first_100k", "end", "after_vacuum"]
    for snap in result["snapshots"]:
        jobs = next(t for t in snap["tables"] if t["table"] == "goodjob_jobs")
        assert jobs["total_bytes"] >= jobs["table_bytes"]  # read apart while the table grows
        assert jobs["table_bytes"] > 0 and jobs["indexes_bytes"] > 0
        assert any(i["index"] == "goodjob_jobs_pkey" for i in snap["indexes"])
    vacuumed = result["snapshots"][2]["tables"]
    assert next(t for t in vacuumed if t["table"] == "goodjob_jobs")["n_dead_tup"] == 0
    for window in ("start", "end"):
        assert result["latency"][window]["fetches"] > 0
        assert result["latency"][window]["p99_ms"] >= result["latency"][window]["p50_ms"]
    phases = {s["phase"] for s in result["oldest_xmin_samples"]}
    assert phases == {"before", "during", "after"}
    assert result["oldest_xmin"]["during"]["max_seconds"] >= 1
    assert [v["passed"] in (True, False) for v in result["verdicts"]] == [True] * 3
    assert code == (0 if all(v["passed"] for v in result["verdicts"]) else 1)
