"""Labels from Python: task defaults and per-enqueue labels, order kept, duplicates dropped."""

from __future__ import annotations

from typing import Any

import psycopg

from goodjob_pg import App, current_job, db

Conn = psycopg.Connection[Any]


def test_labels_keep_their_order_without_duplicates_and_reach_the_task(
    db_url: str, db_conn: Conn
) -> None:
    seen: list[tuple[str, ...]] = []
    with App(db_url, execution_mode="inline") as app:

        @app.task(name="tagged", labels=["b", "a", "b"])
        def tagged() -> None:
            seen.append(tuple(current_job().labels))

        first = tagged.enqueue()
        second = tagged.options(labels=["z", "a", "z"]).enqueue()
    assert seen == [("b", "a"), ("z", "a")]
    found = db.find_jobs(db_conn, db.JobFilter(label="a"))
    assert [j.id for j in found] == [second, first]
    assert [j.labels for j in db.find_jobs(db_conn, db.JobFilter(label="b"))] == [["b", "a"]]
    assert db.find_job_ids(db_conn, db.JobFilter(label="nope")) == []
