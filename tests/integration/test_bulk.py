"""Bulk enqueue: ``with app.bulk():`` and ``app.enqueue_many``, all or nothing, ids in order."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any
from uuid import UUID

import psycopg
import pytest

from goodjob_pg import App, errors

Conn = psycopg.Connection[Any]


@pytest.fixture
def app(db_url: str) -> Iterator[App]:
    with App(db_url) as app:

        @app.task(name="add", queue="math")
        def add(a: int, b: int) -> int:
            return a + b

        yield app


def count(conn: Conn) -> int:
    row = conn.execute("select count(*) from goodjob_jobs").fetchone()
    assert row is not None
    return int(row[0])


def test_bulk_block_writes_every_enqueue_in_one_statement_on_exit(app: App, db_conn: Conn) -> None:
    add = app.get_task("add")
    with app.bulk() as bulk:
        first = add.enqueue(1, 2)
        second = add.options(priority=-5, queue="fast").enqueue(3, b=4)
        third = app.enqueue("add", 5, 6)
        with app.bulk():  # a nested block joins the outer one
            fourth = app.options("other_service.task").enqueue("x")
        assert count(db_conn) == 0, "nothing is written inside the block"
    assert bulk.ids == [first, second, third, fourth]
    rows = db_conn.execute(
        "select id, task, args, kwargs, queue, priority, created_at from goodjob_jobs"
    ).fetchall()
    by_id = {row[0]: row[1:] for row in rows}
    assert by_id[first][:5] == ("add", [1, 2], {}, "math", 0)
    assert by_id[second][:5] == ("add", [3], {"b": 4}, "fast", -5)
    assert by_id[fourth][:4] == ("other_service.task", ["x"], {}, "default")
    assert len({row[6] for row in rows}) == 1, "one statement: one transaction time"


def test_bulk_block_that_raises_writes_nothing(app: App, db_conn: Conn) -> None:
    add = app.get_task("add")
    with pytest.raises(RuntimeError), app.bulk():
        add.enqueue(1, 2)
        raise RuntimeError("changed my mind")
    assert count(db_conn) == 0


def test_bulk_is_all_or_nothing_when_sql_refuses_one_job(app: App, db_conn: Conn) -> None:
    add = app.get_task("add")
    with pytest.raises(errors.InvalidQueueNameError), app.bulk():
        add.enqueue(1, 2)
        add.options(queue="bad queue").enqueue(3, 4)
    assert count(db_conn) == 0
    # A bad signature is refused at enqueue, inside the block.
    with pytest.raises(TypeError), app.bulk():
        add.enqueue(1)
    assert count(db_conn) == 0


def test_enqueue_many_returns_ids_in_order(app: App, db_conn: Conn) -> None:
    add = app.get_task("add")
    given = UUID("01a232ee-0000-7000-8000-000000000001")
    jobs = [add.prepare(n, n) for n in range(300)]
    jobs.insert(100, add.options(id=given, queue="other").prepare(0, 0))
    ids = app.enqueue_many(jobs)
    assert ids == [job.id for job in jobs]
    assert ids[100] == given
    rows = db_conn.execute("select id, args from goodjob_jobs").fetchall()
    args = {row[0]: row[1] for row in rows}
    assert [args[i] for i in ids] == [[job.args[0], job.args[1]] for job in jobs]
    assert app.enqueue_many([]) == []
    # Enqueueing existing ids again returns them and writes nothing new.
    assert app.enqueue_many(jobs[:3]) == ids[:3]
    assert count(db_conn) == 301


def test_enqueue_many_inside_a_bulk_block_joins_it(app: App, db_conn: Conn) -> None:
    add = app.get_task("add")
    with app.bulk() as bulk:
        ids = app.enqueue_many([add.prepare(1, 1), add.prepare(2, 2)])
        assert count(db_conn) == 0
    assert bulk.ids == ids
    assert count(db_conn) == 2


def test_bulk_and_enqueue_many_apply_concurrency_limits_job_by_job(app: App, db_conn: Conn) -> None:
    """A task's key is computed per job and its limits are written before the first write;
    a refused job comes back as None in its place, the others are written."""

    @app.task(name="unique_report", concurrency={"total_limit": 1, "key": lambda a, k: a[0]})
    def unique_report(month: str) -> None: ...

    ids = app.enqueue_many(
        [
            unique_report.prepare("2026-11"),
            unique_report.prepare("2026-11"),
            unique_report.prepare("2026-12"),
        ]
    )
    assert ids[0] is not None and ids[1] is None and ids[2] is not None
    with app.bulk() as bulk:
        unique_report.enqueue("2026-11")
        unique_report.enqueue("2027-01")
    assert bulk.ids[0] is None and bulk.ids[1] is not None
    keys = db_conn.execute(
        "select concurrency_key from goodjob_jobs where task = 'unique_report' order by 1"
    ).fetchall()
    assert keys == [("2026-11",), ("2026-12",), ("2027-01",)]
