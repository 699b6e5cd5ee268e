"""The examples in examples/ run against the real database (so CI runs them)."""

from __future__ import annotations

import importlib
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import psycopg
import pytest

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "examples"

Conn = psycopg.Connection[Any]


def run(args: list[str], db_url: str, cwd: Path = ROOT) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "GOODJOB_DATABASE_URL": db_url, "PYTHONPATH": str(ROOT)}
    env.pop("DJANGO_SETTINGS_MODULE", None)
    done = subprocess.run(
        [sys.executable, *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, f"{args} failed:\n{done.stdout}\n{done.stderr}"
    return done


def test_plain_script(db_url: str, db_conn: Conn) -> None:
    out = run([str(EXAMPLES / "plain_script.py")], db_url).stdout
    assert out == "sent invoice 2026-0042 (99.90) to ada@example.com, attempt 1\n"
    assert db_conn.execute("select state from goodjob_jobs").fetchall() == [("succeeded",)]


def test_fastapi_app(db_url: str, db_conn: Conn, monkeypatch: pytest.MonkeyPatch) -> None:
    from fastapi.testclient import TestClient

    monkeypatch.setenv("GOODJOB_DATABASE_URL", db_url)
    sys.modules.pop("examples.fastapi_app.main", None)
    main = importlib.import_module("examples.fastapi_app.main")
    try:
        with TestClient(main.api) as client:
            created = client.post("/orders", json={"item": "widget", "quantity": 2})
            assert created.status_code == 201
            refused = client.post("/orders", json={"item": "nothing", "quantity": 0})
            assert refused.status_code == 422
    finally:
        main.jobs.close()
        sys.modules.pop("examples.fastapi_app.main", None)
    # The refused order and its job rolled back together; the worker ships the other.
    run(["-m", "goodjob_pg.cli", "run", "--app", "examples.fastapi_app.main:jobs",
         "--idle-timeout", "1"], db_url)  # fmt: skip
    orders = db_conn.execute("select item, shipped from orders").fetchall()
    assert orders == [("widget", True)]
    assert db_conn.execute("select state from goodjob_jobs").fetchall() == [("succeeded",)]


def test_django_project(empty_db_url: str) -> None:
    project = EXAMPLES / "django_project"
    run(["manage.py", "migrate", "--verbosity", "0"], empty_db_url, project)
    assert "placed" in run(["manage.py", "place_order", "widget"], empty_db_url, project).stdout
    failed = run(["manage.py", "place_order", "gadget", "--fail"], empty_db_url, project)
    assert "nothing was saved" in failed.stderr
    run(["manage.py", "goodjob_worker", "--idle-timeout", "1"], empty_db_url, project)
    with psycopg.connect(empty_db_url) as conn:
        orders = conn.execute("select item, shipped from shop_order").fetchall()
        assert orders == [("widget", True)]
        states = conn.execute("select task, state from goodjob_jobs").fetchall()
        assert states == [("shop.ship_order", "succeeded")]
