"""The dashboard in a real headless Chromium (Debian's ``chromium``, driven by Playwright).

The dashboard runs as ``goodjob-pg dashboard`` and a real worker runs the
jobs: a job fails, the browser finds it, reads its backtrace, retries it and
watches it succeed. Playwright never downloads a browser here: it launches
the system's executable (``GOODJOB_TEST_CHROMIUM`` or ``chromium`` on PATH;
``make test`` installs it with .ci/install-chromium). With
``GOODJOB_SCREENSHOTS=1`` the test also refreshes the README's screenshots.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psycopg
import pytest
from playwright.sync_api import Browser, Page, expect, sync_playwright

from tests.tasks_fixture import create_side_table
from tests.worker_process import ROOT, spawn_worker, stop_process, wait_for

pytestmark = pytest.mark.slow

SCREENSHOTS = ROOT / "goodjob_pg" / "dashboard" / "static" / "screenshots"


def _chromium() -> str:
    path = os.environ.get("GOODJOB_TEST_CHROMIUM") or shutil.which("chromium")
    if not path:
        pytest.fail("no chromium: run .ci/install-chromium (apt-get install chromium)")
    return path


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=_chromium(), args=["--no-sandbox"])
        yield b
        b.close()


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def _up(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=5) as response:
            return bool(response.status == 200)
    except OSError:
        return False


@pytest.fixture
def dashboard_url(db_url: str, tmp_path: Path) -> Iterator[str]:
    port = _free_port()
    env = {**os.environ, "GOODJOB_DATABASE_URL": db_url}
    with open(tmp_path / "dashboard.log", "ab") as log:
        proc = subprocess.Popen(
            [sys.executable, "-m", "goodjob_pg.cli", "dashboard", "--port", str(port)],
            cwd=ROOT,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    url = f"http://127.0.0.1:{port}"
    try:
        wait_for(lambda: _up(url + "/") or proc.poll() is not None, timeout=60, interval=0.2)
        assert proc.poll() is None, (tmp_path / "dashboard.log").read_text()
        yield url
    finally:
        stop_process(proc)


def _shot(page: Page, name: str) -> None:
    if os.environ.get("GOODJOB_SCREENSHOTS"):
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True)


def _enqueue(conn: psycopg.Connection[Any], task: str, kwargs: dict[str, Any], **kw: Any) -> str:
    row = conn.execute(
        "select goodjob_enqueue(task => %s, kwargs => %s::jsonb, max_attempts => %s, labels => %s)",
        (task, json.dumps(kwargs), kw.get("max_attempts"), kw.get("labels")),
    ).fetchone()
    assert row is not None
    return str(row[0])


def test_find_a_failed_job_retry_it_and_watch_it_succeed(
    browser: Browser,
    dashboard_url: str,
    db_url: str,
    db_conn: psycopg.Connection[Any],
    tmp_path: Path,
) -> None:
    create_side_table(db_conn)
    failing = _enqueue(db_conn, "fail_until", {"succeed_on": 2}, max_attempts=1, labels=["demo"])
    for n in range(3):
        _enqueue(db_conn, "record", {"tag": f"ok {n}"})
    worker = spawn_worker(db_url, tmp_path / "worker.log", queues="*", max_threads=2)
    try:
        state = "select state from goodjob_jobs where id = %s"
        wait_for(lambda: db_conn.execute(state, (failing,)).fetchone() == ("discarded",), 60)
        page = browser.new_page(viewport={"width": 1280, "height": 800})
        page.set_default_timeout(30_000)

        page.goto(dashboard_url + "/")
        expect(page.locator("h1")).to_have_text("Overview")
        expect(page.locator("svg.chart")).to_be_visible()
        _shot(page, "overview")

        page.click("header nav >> text=Jobs")
        page.select_option("select[name=state]", "discarded")
        page.click("form.filters button")
        expect(page).to_have_url(f"{dashboard_url}/jobs?state=discarded")
        rows = page.locator("table.jobs tbody tr")
        expect(rows).to_have_count(1)
        _shot(page, "jobs")

        page.click(f"text={failing}")
        expect(page.locator("pre.backtrace")).to_contain_text("RuntimeError: failing attempt 1")
        expect(page.locator("pre.backtrace")).to_contain_text("Traceback")
        _shot(page, "job")

        page.click("button:has-text('Retry')")
        expect(page.locator("p.notice")).to_have_text("Job retried.")
        page.goto(page.url.split("?")[0] + "?poll=2")  # live polling swaps in fresh content
        expect(page.locator("h1 + p .state")).to_have_text("succeeded", timeout=60_000)
        expect(page.locator("section.execution")).to_have_count(2)

        page.goto(dashboard_url + "/queues")
        page.click("button:has-text('Pause')")
        expect(page.locator("button:has-text('Resume')")).to_be_visible()
        _shot(page, "queues")
        page.close()
    finally:
        stop_process(worker)
