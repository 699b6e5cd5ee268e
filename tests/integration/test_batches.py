"""Batches: callbacks enqueued by SQL in the transaction of the last result, exactly once."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any
from uuid import UUID

import psycopg
import pytest
from click.testing import CliRunner
from psycopg.types.json import Jsonb

from goodjob_pg import App, Batch, current_job, errors
from goodjob_pg.cli import main
from tests.batch_tasks import add_batch_tasks
from tests.tasks_fixture import create_side_table
from tests.worker_process import spawn_cli, stop_process, wait_for

Conn = psycopg.Connection[Any]
Connect = Callable[..., Conn]


@pytest.fixture
def app(db_url: str, db_conn: Conn) -> Iterator[App]:
    """An inline App with the batch tasks: an enqueue runs due jobs (and callbacks) at once."""
    create_side_table(db_conn)
    with App(db_url, execution_mode="inline") as app:

        def record(tag: str | None) -> None:
            with app.connection() as conn:
                conn.execute(
                    "insert into completions (job_id, attempt, tag) values (%s, %s, %s)",
                    (current_job().id, current_job().attempt, tag),
                )

        add_batch_tasks(app, record)

        @app.task(name="noop")
        def noop() -> None:
            pass

        yield app


def tags(conn: Conn) -> list[str]:
    rows = conn.execute("select tag from completions order by at, tag").fetchall()
    return [row[0] for row in rows]


def events(conn: Conn, batch_id: UUID) -> list[str]:
    """The callback events recorded for a batch, sorted (callbacks enqueued together may
    run in either order)."""
    return sorted(t.split(":")[0] for t in tags(conn) if t.endswith(f":{batch_id}"))


def test_success_not_fired_when_a_job_is_discarded_and_discard_fired_once(
    app: App, db_conn: Conn
) -> None:
    cb = app.get_task("batch_callback")
    with app.batch(on_finish=cb, on_success=cb, on_discard=cb, description="mixed") as batch:
        for _ in range(3):
            app.enqueue("noop")
        app.enqueue("batch_discard")
        app.enqueue("batch_discard")
    assert events(db_conn, batch.id) == ["discard", "finish"]
    batch.reload()
    assert (batch.jobs, batch.succeeded_jobs, batch.discarded_jobs, batch.pending) == (5, 3, 2, 0)
    assert batch.finished and batch.discarded and not batch.succeeded
    assert batch.discarded_at is not None and batch.finished_at is not None
    assert batch.description == "mixed"
    assert len(batch.job_ids()) == 5


def test_every_job_succeeded_fires_success_then_finish(app: App, db_conn: Conn) -> None:
    cb = app.get_task("batch_callback")
    with app.batch(on_finish=cb, on_success="batch_callback", properties={"user": 7}) as batch:
        for _ in range(4):
            app.enqueue("noop")
    assert events(db_conn, batch.id) == ["finish", "success"]
    found = app.find_batch(batch.id)
    assert found.succeeded and found.properties == {"user": 7}
    row = db_conn.execute(
        "select state, jobs, pending, callbacks, callbacks_pending from goodjob_batch_status"
    ).fetchone()
    assert row == ("succeeded", 4, 0, 2, 0)


def test_empty_batch_fires_when_enqueued(app: App, db_conn: Conn) -> None:
    cb = app.get_task("batch_callback")
    with app.batch(on_finish=cb, on_success=cb) as batch:
        pass
    assert events(db_conn, batch.id) == ["finish", "success"]


def test_adding_does_not_rearm_enqueueing_again_does(app: App, db_conn: Conn) -> None:
    cb = app.get_task("batch_callback")
    batch = app.batch(on_finish=cb)
    with batch.add():
        app.enqueue("noop")
    assert events(db_conn, batch.id) == [], "not enqueued yet: the job ran, nothing fired"
    batch.enqueue(round=1)
    assert events(db_conn, batch.id) == ["finish"]
    with batch.add():
        app.enqueue("noop")
    assert events(db_conn, batch.id) == ["finish"], "adding to a finished batch fires nothing"
    batch.enqueue(round=2)
    assert events(db_conn, batch.id) == ["finish", "finish"]
    assert batch.properties == {"round": 2}
    assert batch.jobs == 2


def test_properties_can_be_changed_and_saved(app: App) -> None:
    batch = app.batch(properties={"a": 1})
    batch.properties["b"] = [2, 3]
    batch.description = "saved"
    batch.save()
    found = app.find_batch(batch.id)
    assert (found.properties, found.description, found.enqueued_at) == (
        {"a": 1, "b": [2, 3]},
        "saved",
        None,
    )
    with pytest.raises(errors.BatchNotFoundError):
        app.find_batch(UUID(int=1))
    with pytest.raises(TypeError):
        app.batch(properties={"x": object()})


def test_a_block_that_raises_writes_no_batch_and_no_job(app: App, db_conn: Conn) -> None:
    with pytest.raises(RuntimeError), app.batch(on_finish="batch_callback"):
        app.enqueue("noop")
        raise RuntimeError("no")
    assert db_conn.execute("select count(*) from goodjob_batches").fetchone() == (0,)
    assert db_conn.execute("select count(*) from goodjob_jobs").fetchone() == (0,)


def test_operator_discard_and_retry_of_members_are_counted(app: App, db_conn: Conn) -> None:
    cb = app.get_task("batch_callback")
    batch = app.batch(on_finish=cb, on_success=cb, on_discard=cb)
    with batch.add():
        later = app.options("noop", delay=3600).enqueue()
    db_conn.execute("select goodjob_enqueue_batch(%s)", (batch.id,))
    db_conn.execute("select goodjob_discard_job(%s)", (later,))
    app.perform_inline()
    assert events(db_conn, batch.id) == ["discard", "finish"]
    db_conn.execute("select goodjob_retry_job(%s)", (later,))
    assert batch.reload().discarded_jobs == 0 and batch.pending == 1
    app.perform_inline()  # runs and succeeds; the batch was finished, so nothing fires
    assert events(db_conn, batch.id) == ["discard", "finish"]
    batch.enqueue()
    assert events(db_conn, batch.id) == ["discard", "finish", "finish", "success"]


def test_sql_only_batch_with_unknown_batch_id_is_refused(app: App, db_conn: Conn) -> None:
    with pytest.raises(psycopg.Error) as info:
        db_conn.execute("select goodjob_enqueue('noop', batch_id => %s)", (UUID(int=9),))
    assert info.value.diag.sqlstate == "GJ030"


def unfinished(conn: Conn) -> int:
    row = conn.execute(
        "select count(*) from goodjob_jobs where state not in ('succeeded', 'discarded')"
    ).fetchone()
    assert row is not None
    return int(row[0])


def report_together(conns: list[Conn], pids: list[UUID], claimed: list[Any]) -> None:
    """Each connection reports its claimed jobs succeeded, both released at one instant."""
    barrier = threading.Barrier(len(conns))
    failures: list[BaseException] = []

    def report(w: int) -> None:
        ids, attempts = claimed[w]
        barrier.wait()
        try:
            conns[w].execute(
                "select * from goodjob_report(%s, %s, %s, array['succeeded', 'succeeded'])",
                (pids[w], ids, attempts),
            )
        except BaseException as exc:  # a deadlock, re-raised below
            failures.append(exc)

    threads = [threading.Thread(target=report, args=(w,)) for w in range(len(conns))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert not failures, failures


def test_reports_finishing_two_batches_in_opposite_orders_do_not_deadlock(
    db_connect: Connect,
) -> None:
    """Two workers each report one job of batch A and one of batch B at the same moment;
    one's A-job has the smaller id, the other's B-job does, so locking batches in result
    order would deadlock. goodjob_report locks the batches in id order first."""
    setup = db_connect()
    a, b = (
        setup.execute("select goodjob_create_batch(on_finish => 'cb')").fetchone()[0]  # type: ignore[index]
        for _ in range(2)
    )
    conns = [db_connect(), db_connect()]
    pids = [
        c.execute("select goodjob_register_process('h', 1, '*')").fetchone()[0]  # type: ignore[index]
        for c in conns
    ]
    rounds = 30
    for n in range(rounds):
        # Worker 0 gets ids (A, B) ascending, worker 1 gets (B, A) ascending.
        for w, order in enumerate(((a, b), (b, a))):
            spec = [
                {
                    "task": "w",
                    "queue": f"q{w}",
                    "batch_id": str(bid),
                    "id": f"{n:08d}-0000-7000-8000-{w}{k:011d}",
                }
                for k, bid in enumerate(order)
            ]
            setup.execute("select goodjob_enqueue_many(%s)", (Jsonb(spec),))
        claimed = [
            c.execute(
                "select array_agg(id order by id), array_agg(attempts order by id)"
                " from goodjob_fetch_and_lock(%s, %s, 2)",
                (pid, f"q{w}"),
            ).fetchone()
            for w, (c, pid) in enumerate(zip(conns, pids, strict=True))
        ]
        report_together(conns, pids, claimed)
    row = setup.execute(
        "select sum(jobs), sum(succeeded) from goodjob_batches where id in (%s, %s)", (a, b)
    ).fetchone()
    assert row == (4 * rounds, 4 * rounds)


@pytest.mark.slow
def test_500_jobs_run_by_4_workers_fire_finish_exactly_once(
    db_url: str, db_conn: Conn, tmp_path: Path
) -> None:
    create_side_table(db_conn)
    with App(db_url) as app:
        batch = Batch(app, on_finish="batch_callback", on_success="batch_callback")
        with batch:
            app.enqueue_many([app.options("noop").prepare() for _ in range(500)])
    logs = [tmp_path / f"w{n}.log" for n in range(4)]
    procs = [spawn_cli(db_url, log, "--queues", "*:3") for log in logs]
    try:
        wait_for(lambda: unfinished(db_conn) == 0 and len(tags(db_conn)) >= 2, 120, 0.2)
    finally:
        for proc in procs:
            stop_process(proc)
    text = "\n".join(log.read_text() for log in logs)
    assert "Traceback" not in text, text
    assert events(db_conn, batch.id) == ["finish", "success"]
    workers = db_conn.execute(
        "select count(distinct e.process_id) from goodjob_executions e"
        " join goodjob_jobs j on j.id = e.job_id where j.batch_id = %s",
        (batch.id,),
    ).fetchone()
    assert workers is not None and workers[0] >= 2, "the jobs were shared by several workers"


@pytest.mark.slow
def test_staged_batch_from_goodjobs_readme(db_url: str, db_conn: Conn, tmp_path: Path) -> None:
    """Stage None runs a, b, c; stage 1 runs d and e (e adds f to the batch); then stage 2."""
    create_side_table(db_conn)
    with App(db_url) as app:
        batch = Batch(app, on_finish="stage_callback")
        batch.enqueue()
    log = tmp_path / "worker.log"
    proc = spawn_cli(db_url, log, "--queues", "*:3")
    try:
        wait_for(lambda: "stage:2" in tags(db_conn), 60, 0.1)
        wait_for(lambda: unfinished(db_conn) == 0, 30, 0.1)
    finally:
        stop_process(proc)
    assert "Traceback" not in log.read_text(), log.read_text()
    order = tags(db_conn)
    assert order.count("stage:2") == 1 and order.count("stage:1") == 1
    pos = {tag: order.index(tag) for tag in order}
    assert pos["stage:None"] < min(pos["step:a"], pos["step:b"], pos["step:c"])
    assert max(pos["step:a"], pos["step:b"], pos["step:c"]) < pos["stage:1"]
    assert pos["stage:1"] < min(pos["step:d"], pos["step:e"]) and pos["step:e"] < pos["step:f"]
    assert max(pos["step:d"], pos["step:f"]) < pos["stage:2"]
    with App(db_url) as app:
        final = app.find_batch(batch.id)
    assert (final.jobs, final.succeeded_jobs, final.properties) == (6, 6, {"stage": 2})


def test_status_shows_batches(app: App, db_url: str) -> None:
    from click.testing import CliRunner

    from goodjob_pg.cli import main

    with app.batch(on_finish="batch_callback", description="nightly import") as batch:
        app.enqueue("noop")
    open_batch = app.batch(description="still open")
    open_batch.save()
    result = CliRunner().invoke(main, ["status", "--database-url", db_url])
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    start = lines.index("batches:")
    assert lines[start + 1].split()[:4] == ["id", "state", "jobs", "pending"]
    rows = {line.split()[0]: line for line in lines[start + 2 :]}
    assert "open" in rows[str(open_batch.id)] and "still open" in rows[str(open_batch.id)]
    assert "succeeded" in rows[str(batch.id)]
    data = CliRunner().invoke(main, ["status", "--json", "--database-url", db_url]).output
    assert '"nightly import"' in data


def test_cleanup_deletes_a_finished_batch_once_its_jobs_are_gone(
    app: App, db_conn: Conn, db_url: str
) -> None:
    cb = app.get_task("batch_callback")
    noop = app.get_task("noop")
    with app.batch(on_finish=cb) as done:
        noop.enqueue()
        noop.enqueue()
    assert events(db_conn, done.id) == ["finish"]
    unarmed = app.batch(on_finish=cb)  # its member runs, but it is never enqueued
    with unarmed.add():
        noop.enqueue()
    assert app.find_batch(unarmed.id).finished_at is None

    result = CliRunner().invoke(
        main, ["cleanup-preserved-jobs", "--before-seconds-ago", "0", "--database-url", db_url]
    )
    assert result.exit_code == 0, result.output
    with pytest.raises(errors.BatchNotFoundError):
        app.find_batch(done.id)
    left = db_conn.execute(
        "select count(*) from goodjob_jobs where batch_id = %(b)s or batch_callback_id = %(b)s",
        {"b": done.id},
    ).fetchone()
    assert left == (0,)
    assert app.find_batch(unarmed.id).id == unarmed.id  # never finished: kept
