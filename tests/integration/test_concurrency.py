"""Concurrency controls from Python and under real concurrency.

Limits are enforced in SQL; these tests check the Python configuration, the
None return of a refused enqueue, ``current_job().concurrency_key``, and the
guarantees under load: four worker processes of ten threads never run a key
more than ``perform_limit`` at once, and ten sessions enqueueing one key at
the same time never pass ``total_limit``.
"""

from __future__ import annotations

import logging
import threading
from collections import defaultdict
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any
from uuid import UUID

import pytest
from click.testing import Result

from goodjob_pg import App, current_job, db
from tests.integration.test_cli import _restore_logging_and_path, cli  # noqa: F401  (fixtures)
from tests.tasks_fixture import create_side_table, make_app
from tests.worker_process import spawn_worker, stop_process, wait_for

Conn = Any


def _limits(conn: Conn, task: str) -> tuple[Any, ...] | None:
    row = conn.execute(
        "select total_limit, enqueue_limit, perform_limit, enqueue_throttle_limit,"
        " extract(epoch from enqueue_throttle_period)::float8, perform_throttle_limit,"
        " extract(epoch from perform_throttle_period)::float8 from goodjob_tasks where name = %s",
        (task,),
    ).fetchone()
    return None if row is None else tuple(row)


def test_limits_are_written_to_the_task_definition(db_url: str, db_conn: Conn) -> None:
    with App(db_url) as app:

        @app.task(
            name="everything",
            concurrency={
                "total_limit": 5,
                "enqueue_limit": 4,
                "perform_limit": 2,
                "enqueue_throttle": (10, 60),
                "perform_throttle": (100, timedelta(hours=1)),
            },
        )
        def everything() -> None: ...

        @app.task(name="switched_off", concurrency={"perform_limit": 1, "key": None})
        def switched_off() -> None: ...

        app.sync_task_definitions()
        assert _limits(db_conn, "everything") == (5, 4, 2, 10, 60.0, 100, 3600.0)
        assert _limits(db_conn, "switched_off") == (None,) * 7
        switched_off.enqueue()
        key = db_conn.execute("select concurrency_key from goodjob_jobs").fetchone()
        assert key == (None,), "key=None switches the controls off: no key, no limit"


def test_unique_jobs_by_argument_key(
    db_url: str, db_conn: Conn, caplog: pytest.LogCaptureFixture
) -> None:
    with App(db_url) as app:

        @app.task(
            name="sync_user",
            concurrency={"total_limit": 1, "key": lambda args, kwargs: f"user-{args[0]}"},
        )
        def sync_user(user_id: int) -> None: ...

        # No sync_task_definitions(): the first enqueue writes the limits.
        first = sync_user.enqueue(7)
        assert isinstance(first, UUID)
        with caplog.at_level(logging.INFO, logger="goodjob_pg.registry"):
            assert sync_user.enqueue(7) is None
        refused = [r for r in caplog.records if getattr(r, "action", None) == "job_refused"]
        assert len(refused) == 1
        assert refused[0].concurrency_key == "user-7"  # type: ignore[attr-defined]
        assert "total_limit=1" in refused[0].getMessage()
        assert sync_user.enqueue(8) is not None, "another argument is another key"
        assert sync_user.options(concurrency_key="user-7-again").enqueue(7) is not None
        assert app.enqueue("sync_user", 7) is None, "enqueue by name applies the same key"
        keys = db_conn.execute("select concurrency_key from goodjob_jobs order by 1").fetchall()
        assert keys == [("user-7",), ("user-7-again",), ("user-8",)]


def test_current_job_knows_its_concurrency_key(db_url: str) -> None:
    seen: list[str | None] = []
    with App(db_url, execution_mode="inline") as app:

        @app.task(name="keyed", concurrency={"perform_limit": 1})
        def keyed() -> None:
            seen.append(current_job().concurrency_key)

        @app.task(name="free")
        def free() -> None:
            seen.append(current_job().concurrency_key)

        keyed.enqueue()
        free.enqueue()
    assert seen == ["keyed", None], "the default key is the task name"


def test_concurrent_enqueues_of_one_key_never_pass_total_limit(
    db_conn: Conn, db_connect: Callable[..., Conn]
) -> None:
    db_conn.execute("select goodjob_define_concurrency(task => 'once', total_limit => 3)")
    sessions = [db_connect() for _ in range(10)]
    barrier = threading.Barrier(len(sessions))
    results: list[list[UUID | None]] = [[] for _ in sessions]

    def enqueue_five(i: int) -> None:
        barrier.wait()
        for _ in range(5):
            results[i].append(db.enqueue(sessions[i], "once", concurrency_key="shared"))

    threads = [threading.Thread(target=enqueue_five, args=(i,)) for i in range(len(sessions))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    ids = [job_id for per_session in results for job_id in per_session]
    assert len(ids) == 50
    assert len([i for i in ids if i is not None]) == 3
    count = db_conn.execute("select count(*) from goodjob_jobs where concurrency_key = 'shared'")
    assert count.fetchone() == (3,)


def test_enqueue_many_returns_null_for_refused_jobs(db_conn: Conn) -> None:
    db_conn.execute("select goodjob_define_concurrency(task => 'once', total_limit => 1)")
    ids = db.enqueue_many(
        db_conn,
        [
            {"task": "once", "concurrency_key": "a"},
            {"task": "once", "concurrency_key": "a"},
            {"task": "free"},
        ],
    )
    assert ids[0] is not None and ids[1] is None and ids[2] is not None


def test_throttles_hold_over_a_window(db_url: str, db_conn: Conn) -> None:
    with App(db_url) as app:

        @app.task(
            name="ping", concurrency={"enqueue_throttle": (2, 60), "perform_throttle": (1, 60)}
        )
        def ping() -> None: ...

        first, second = ping.enqueue(), ping.enqueue()
        assert first is not None and second is not None
        assert ping.enqueue() is None, "a third enqueue within 60 s is refused"
        db_conn.execute(
            "update goodjob_jobs set created_at = created_at - interval '61 seconds' where id = %s",
            (first,),
        )
        third = ping.enqueue()
        assert third is not None, "the window moved past the first job"

    process = db.register_process(db_conn, hostname="test", pid=1, queues="*")
    now = db_conn.execute("select now()").fetchone()[0]

    def fetch(after: float) -> int:
        jobs = db.fetch_and_lock(db_conn, process, "*", 10, as_of=now + timedelta(seconds=after))
        for job in jobs:
            db_conn.execute(
                "select goodjob_succeed_job(%s, %s, %s)", (job.id, process, job.attempts)
            )
        return len(jobs)

    assert [fetch(0), fetch(30), fetch(61), fetch(90), fetch(122)] == [1, 0, 1, 0, 1]


def _overlaps(intervals: list[tuple[float, float]]) -> int:
    """The largest number of intervals open at one instant."""
    events = sorted([(s, 1) for s, _ in intervals] + [(e, -1) for _, e in intervals])
    most = current = 0
    for _, step in events:  # at equal times an end (-1) sorts before a start
        current += step
        most = max(most, current)
    return most


def test_four_workers_never_run_a_key_three_times_at_once(
    db_url: str, db_conn: Conn, tmp_path: Path
) -> None:
    create_side_table(db_conn)
    app = make_app(db_url)
    with app:
        app.sync_task_definitions()
        for i in range(200):
            app.enqueue("limited_pair", i % 5, 0.02)
    workers = [
        spawn_worker(db_url, tmp_path / f"worker{n}.log", max_threads=10, poll_interval=0.5)
        for n in range(4)
    ]
    try:

        def done() -> bool:
            row = db_conn.execute("select count(*) from completions").fetchone()
            return bool(row and row[0] >= 200)

        wait_for(done, timeout=120)
    except AssertionError:
        for n in range(4):
            print((tmp_path / f"worker{n}.log").read_text()[-3000:])
        raise
    finally:
        for proc in workers:
            stop_process(proc)
    rows = db_conn.execute("select job_id, attempt, tag from completions").fetchall()
    assert len(rows) == 200 and len({r[0] for r in rows}) == 200, "every job ran once"
    assert {r[1] for r in rows} == {1}, "no job was bounced and retried"
    by_key: dict[str, list[tuple[float, float]]] = defaultdict(list)
    for _, _, tag in rows:
        key, started, finished = tag.split()
        by_key[key].append((float(started), float(finished)))
    assert sorted(by_key) == [f"key-{i}" for i in range(5)]
    assert {k: len(v) for k, v in by_key.items()} == {f"key-{i}": 40 for i in range(5)}
    most = max(_overlaps(v) for v in by_key.values())
    assert most <= 2, "no key ever had three overlapping runs"
    assert most == 2, "the limit was reached, so the test is not vacuous"


def test_status_keys_lists_active_keys(cli: Callable[..., Result], db_conn: Conn) -> None:  # noqa: F811
    assert cli("status", "--keys").output.strip() == "no active concurrency keys"
    db_conn.execute(
        "select goodjob_define_concurrency(task => 'serial', perform_limit => 1,"
        " enqueue_throttle_limit => 5, enqueue_throttle_period => '1 minute')"
    )
    db_conn.execute("select goodjob_enqueue('serial', concurrency_key => 'acct-1')")
    db_conn.execute("select goodjob_enqueue('serial', concurrency_key => 'acct-1')")
    result = cli("status", "--keys")
    assert result.exit_code == 0, result.output
    header, row = result.output.strip().splitlines()
    assert header.split()[:5] == ["concurrency_key", "task", "scheduled", "queued", "running"]
    assert row.split()[:6] == ["acct-1", "serial", "0", "2", "0", "-"]
    assert "5/" in row
    as_json = cli("status", "--keys", "--json")
    assert '"concurrency_key": "acct-1"' in as_json.output


def test_racing_fetches_do_not_both_take_the_last_slot(
    db_conn: Conn, db_connect: Callable[..., Conn]
) -> None:
    db_conn.execute("select goodjob_define_concurrency(task => 'serial', perform_limit => 1)")
    first = db.enqueue(db_conn, "serial", concurrency_key="k", run_at=None)
    second = db.enqueue(db_conn, "serial", concurrency_key="k")
    db_conn.execute(
        "update goodjob_jobs set run_at = run_at - interval '1 second' where id = %s", (first,)
    )
    a, b = db_connect(autocommit=False), db_connect(autocommit=False)
    pa = db.register_process(a, hostname="a", pid=1, queues="*")
    pb = db.register_process(b, hostname="b", pid=2, queues="*")
    a.commit()
    b.commit()
    # a claims (and row-locks) only the first job, and holds key k's lock until it commits.
    assert [j.id for j in db.fetch_and_lock(a, pa, "*", 1)] == [first]
    got: list[list[UUID]] = []
    # b cannot see a's uncommitted claim, so it claims the second job, then waits for the key.
    racer = threading.Thread(
        target=lambda: got.append([j.id for j in db.fetch_and_lock(b, pb, "*", 10)])
    )
    racer.start()

    def b_waits_for_the_key() -> bool:
        row = db_conn.execute(
            "select count(*) from pg_locks where locktype = 'advisory' and classid = 1735028841"
            " and not granted"
        ).fetchone()
        return bool(row and row[0] == 1)

    wait_for(b_waits_for_the_key, timeout=30)
    a.commit()
    racer.join(30)
    b.commit()
    assert got == [[]], "the second fetch saw the first one's claim and put its own back"
    row = db_conn.execute(
        "select state, attempts, started_at, locked_by from goodjob_jobs where id = %s", (second,)
    ).fetchone()
    assert row == ("queued", 0, None, None), "the job put back is as it was"
    running = db_conn.execute(
        "select count(*) from goodjob_jobs where concurrency_key = 'k' and state = 'running'"
    ).fetchone()
    assert running == (1,)
