"""A demo: a worker on the local Postgres running a few hundred real jobs.

``make demo`` (or ``python -m goodjob_pg.demo``) creates the database
``goodjob_demo`` on the local server (or uses ``GOODJOB_DATABASE_URL``),
applies the migrations, enqueues jobs of several kinds from Python and from
SQL (some fail and retry, some fail for good, one is scheduled a few seconds
ahead), runs a worker with three pools in this process, shows progress until
every job has finished, and prints the queue stats.
"""

from __future__ import annotations

import asyncio
import logging
import os
import random
import sys
import time
from typing import Any

import psycopg
from psycopg import sql

from . import App, current_job
from .migrations import apply_migrations
from .worker import Worker, WorkerConfig

DEFAULT_URL = "postgresql://postgres@127.0.0.1:5432/goodjob_demo"

app = App(os.environ.get("GOODJOB_DATABASE_URL", DEFAULT_URL))


@app.task(name="demo.resize_image", queue="images")
def resize_image(image_id: int, width: int) -> None:
    """Pretend to resize an image (CPU and I/O in a thread)."""
    time.sleep(random.uniform(0.005, 0.03))


@app.task(name="demo.send_email", queue="mail")
async def send_email(to: str, subject: str) -> None:
    """Pretend to talk to an SMTP server (an ``async def`` task)."""
    await asyncio.sleep(random.uniform(0.005, 0.02))


@app.task(name="demo.call_flaky_api", queue="default", retry_backoff=("constant", 1.0))
def call_flaky_api(request_id: int) -> None:
    """Fail on the first attempt, succeed on the second."""
    if current_job().attempt == 1:
        raise ConnectionError(f"upstream timed out for request {request_id}")


@app.task(name="demo.import_bad_file", max_attempts=3, retry_backoff=("constant", 0.5))
def import_bad_file(path: str) -> None:
    """Fail every attempt: discarded after three."""
    raise ValueError(f"{path}: not a CSV file")


@app.task(name="demo.nightly_report", queue="default")
def nightly_report() -> None:
    """A job scheduled a few seconds ahead."""


def _prepare_database(url: str) -> None:
    info = psycopg.conninfo.conninfo_to_dict(url)
    dbname = str(info.get("dbname") or "")
    if dbname and dbname != "postgres":
        admin = psycopg.conninfo.make_conninfo(url, dbname="postgres")
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(
                sql.SQL("drop database if exists {} with (force)").format(sql.Identifier(dbname))
            )
            conn.execute(sql.SQL("create database {}").format(sql.Identifier(dbname)))
            print(f"created database {dbname}")
    for name, applied in apply_migrations(url):
        print(f"migration {name}: {'applied' if applied else 'already applied'}")
    # SQL callers get the Python tasks' defaults (queue, retries) from here on.
    print(f"defined {app.sync_task_definitions()} tasks")


def _enqueue_jobs() -> int:
    """Enqueue the demo's jobs; return how many."""
    count = 0
    for i in range(150):
        resize_image.enqueue(i, width=random.choice([320, 640, 1280]))
        count += 1
    for i in range(100):
        send_email.enqueue(f"user{i}@example.com", subject="Welcome!")
        count += 1
    for i in range(20):
        call_flaky_api.options(priority=-1).enqueue(i)
        count += 1
    for name in ("a.xls", "b.pdf"):
        import_bad_file.enqueue(name)
        count += 1
    nightly_report.options(delay=3).enqueue()
    count += 1
    # Any language can enqueue with SQL: 30 jobs in one statement.
    with psycopg.connect(app.conninfo, autocommit=True) as conn:
        conn.execute(
            "select goodjob_enqueue_many(jsonb_agg(jsonb_build_object("
            "'task', 'demo.resize_image', 'args', jsonb_build_array(i), "
            "'kwargs', jsonb_build_object('width', 64))))"
            " from generate_series(1000, 1029) as i"
        )
    return count + 30


def _counts(conn: psycopg.Connection[Any]) -> dict[str, int]:
    rows = conn.execute("select state, count(*) from goodjob_jobs group by state").fetchall()
    return {state: n for state, n in rows}


def _progress_line(counts: dict[str, int], total: int, elapsed: float) -> str:
    done = counts.get("succeeded", 0) + counts.get("discarded", 0)
    width = 30
    filled = int(width * done / total) if total else width
    bar = "#" * filled + "." * (width - filled)
    return (
        f"\r[{bar}] {done:4d}/{total} finished | {counts.get('running', 0):2d} running | "
        f"{counts.get('queued', 0):3d} ready | {counts.get('scheduled', 0):2d} waiting | "
        f"{counts.get('discarded', 0)} discarded | {elapsed:5.1f}s"
    )


def _print_stats(conn: psycopg.Connection[Any]) -> None:
    cur = conn.execute(
        "select queue, scheduled, queued, running, retrying, discarded, succeeded_last_hour"
        " from goodjob_queue_stats order by queue"
    )
    headers = [d.name for d in cur.description or []]
    rows = [[str(v) for v in row] for row in cur.fetchall()]
    widths = [max(len(h), *(len(r[i]) for r in rows)) for i, h in enumerate(headers)]
    print("  ".join(h.ljust(w) for h, w in zip(headers, widths, strict=True)))
    for row in rows:
        print("  ".join(v.ljust(w) for v, w in zip(row, widths, strict=True)))


def main() -> int:
    """Run the demo; return the exit code."""
    # Log lines clear the progress line first; the next update redraws it.
    logging.basicConfig(level=logging.WARNING, format="\r\033[K%(levelname)s %(name)s: %(message)s")
    url = app.database_url
    print(f"goodjob-pg demo on {url}")
    try:
        _prepare_database(url)
    except psycopg.OperationalError as exc:
        print(f"error: cannot reach PostgreSQL at {url}: {exc}".splitlines()[0], file=sys.stderr)
        return 1
    total = _enqueue_jobs()
    print(f"enqueued {total} jobs; starting a worker with pools images:3, mail:2 and *:2")
    worker = Worker(app, WorkerConfig(queues="images:3;mail:2;*:2", poll_interval=1.0))
    started = time.monotonic()
    worker.start()
    try:
        with psycopg.connect(app.conninfo, autocommit=True) as conn:
            while True:
                counts = _counts(conn)
                print(_progress_line(counts, total, time.monotonic() - started), end="", flush=True)
                if not any(counts.get(s, 0) for s in ("scheduled", "queued", "running")):
                    break
                time.sleep(0.25)
            print()
            worker.stop()
            print(f"all jobs finished in {time.monotonic() - started:.1f}s\n")
            _print_stats(conn)
            discarded = conn.execute(
                "select task, attempts, last_error from goodjob_jobs where state = 'discarded'"
            ).fetchall()
            for task, attempts, error in discarded:
                print(f"discarded after {attempts} attempts: {task}: {error}")
    finally:
        worker.stop()
        app.close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
