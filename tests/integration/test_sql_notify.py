"""NOTIFY from the SQL core, heard by a LISTENing session.

Enqueues notify only while some worker pool is registered as waiting
(``goodjob_wait``); the ``listener`` fixture registers one. Then: one
notification per queue per statement on channel ``goodjob``, payload
``{"queue": ...}`` (plus ``run_at`` when only future jobs arrived); bulk
enqueue does not notify per row; claims and results never notify; identical
payloads in one transaction are folded by Postgres.

The wake-up gate: every enqueue holds an advisory lock shared until commit
(or, when it cannot get it, notifies anyway), and ``goodjob_wait`` registers
only when it gets that lock exclusively (else it says no at once, and the
pool tries again). So a pool that starts waiting either is seen by an
enqueue (and notified) or sees its job in the catch-up fetch it makes right
after ``goodjob_wait``.

To know that every notification of an action has arrived (and that no more
will), the acting session sends a sentinel on another channel afterwards:
notifications are delivered in commit order, so once the sentinel is heard
everything before it has been too.
"""

from __future__ import annotations

import itertools
import json
import threading
import time
import uuid
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

import psycopg
import pytest
from psycopg.types.json import Jsonb

Conn = psycopg.Connection[tuple[Any, ...]]
Connect = Callable[..., Conn]

SENTINEL = "goodjob_test_sentinel"
_tokens = itertools.count(1)


@pytest.fixture
def listener(db_connect: Connect) -> Conn:
    """A session LISTENing as a registered process with one waiting pool (pool 0)."""
    conn = db_connect()
    conn.execute("listen goodjob")
    conn.execute(f"listen {SENTINEL}")
    conn.execute("select goodjob_wait(process_id => %s, pool => 0)", (_register(conn),))
    return conn


@pytest.fixture
def deaf(db_connect: Connect) -> Conn:
    """A session LISTENing with no pool registered as waiting anywhere."""
    conn = db_connect()
    conn.execute("listen goodjob")
    conn.execute(f"listen {SENTINEL}")
    return conn


def heard(listener: Conn, actor: Conn) -> list[tuple[dict[str, Any], int]]:
    """Every goodjob notification (payload, sender pid) committed by now, in order."""
    token = str(next(_tokens))
    actor.execute("select pg_notify(%s, %s)", (SENTINEL, token))
    got: list[tuple[dict[str, Any], int]] = []
    for note in listener.notifies(timeout=10):
        if note.channel == SENTINEL:
            if note.payload == token:
                return got
            continue
        assert note.channel == "goodjob"
        got.append((json.loads(note.payload), note.pid))
    pytest.fail("the sentinel notification never arrived")


def payloads(listener: Conn, actor: Conn) -> list[dict[str, Any]]:
    notes = heard(listener, actor)
    assert {pid for _, pid in notes} <= {actor.info.backend_pid}
    return [payload for payload, _ in notes]


def _register(conn: Conn) -> Any:
    row = conn.execute(
        "select goodjob_register_process(hostname => 'test', pid => pg_backend_pid(),"
        " queues => '*')"
    ).fetchone()
    assert row is not None
    return row[0]


def test_each_single_enqueue_notifies_its_queue(listener: Conn, db_connect: Connect) -> None:
    actor = db_connect()
    for queue in ("mice", "mice", "elephants"):
        actor.execute("select goodjob_enqueue(task => 't', queue => %s)", (queue,))
    assert payloads(listener, actor) == [
        {"queue": "mice"},
        {"queue": "mice"},
        {"queue": "elephants"},
    ]
    # The default queue, named in the payload like any other.
    actor.execute("select goodjob_enqueue(task => 't')")
    assert payloads(listener, actor) == [{"queue": "default"}]


def test_scheduled_jobs_carry_their_run_time(listener: Conn, db_connect: Connect) -> None:
    actor = db_connect()
    now = actor.execute("select now()").fetchone()[0]  # type: ignore[index]
    later = now + timedelta(hours=1)
    actor.execute("select goodjob_enqueue(task => 't', queue => 'q', run_at => %s)", (later,))
    [payload] = payloads(listener, actor)
    assert set(payload) == {"queue", "run_at"}
    assert payload["queue"] == "q"
    assert datetime.fromisoformat(payload["run_at"]) == later

    # A bulk insert of future jobs: one notification with the earliest time.
    jobs = [
        {"task": "t", "queue": "q", "run_at": (now + timedelta(minutes=m)).isoformat()}
        for m in (30, 5, 90)
    ]
    actor.execute("select goodjob_enqueue_many(%s)", (Jsonb(jobs),))
    [payload] = payloads(listener, actor)
    assert payload["queue"] == "q"
    assert datetime.fromisoformat(payload["run_at"]) == now + timedelta(minutes=5)

    # Ready and future jobs in one statement: the queue has work now, no run_at.
    jobs = [{"task": "t", "queue": "q", "run_at": later.isoformat()}, {"task": "t", "queue": "q"}]
    actor.execute("select goodjob_enqueue_many(%s)", (Jsonb(jobs),))
    assert payloads(listener, actor) == [{"queue": "q"}]


def test_bulk_enqueue_sends_one_notification_per_queue(listener: Conn, db_connect: Connect) -> None:
    actor = db_connect()
    jobs = [{"task": "t", "queue": ("even", "odd")[n % 2], "args": [n]} for n in range(1000)]
    ids = actor.execute("select goodjob_enqueue_many(%s)", (Jsonb(jobs),)).fetchall()
    assert len(ids) == 1000
    notes = payloads(listener, actor)
    assert len(notes) == 2
    assert sorted(notes, key=lambda p: p["queue"]) == [{"queue": "even"}, {"queue": "odd"}]


def test_identical_payloads_in_one_transaction_are_folded(
    listener: Conn, db_connect: Connect
) -> None:
    actor = db_connect()
    with actor.transaction():
        for queue in ("a", "b", "a", "a", "b"):
            actor.execute("select goodjob_enqueue(task => 't', queue => %s)", (queue,))
        actor.execute(
            "select goodjob_enqueue_many(%s)", (Jsonb([{"task": "t", "queue": "a"}] * 10),)
        )
    assert payloads(listener, actor) == [{"queue": "a"}, {"queue": "b"}]


def test_nothing_is_sent_without_a_new_job(listener: Conn, db_connect: Connect) -> None:
    """Claims, results (including retries), heartbeats and idempotent enqueues are silent."""
    actor = db_connect()
    actor.execute(
        "select goodjob_define_task(name => 'flaky', backoff => 'constant', backoff_base => 0)"
    )
    ids = [
        row[0]
        for row in actor.execute(
            "select goodjob_enqueue_many(%s)",
            (Jsonb([{"task": "flaky", "queue": "q"}] * 6),),
        ).fetchall()
    ]
    actor.execute(
        "select goodjob_enqueue(task => 'later', queue => 'q', run_at => now() + interval '1 hour')"
    )
    assert len(payloads(listener, actor)) == 2
    process_id = _register(actor)

    # Enqueueing ids that already exist inserts nothing, and says nothing.
    actor.execute("select goodjob_enqueue(task => 'flaky', queue => 'q', id => %s)", (ids[0],))
    actor.execute(
        "select goodjob_enqueue_many(%s)",
        (Jsonb([{"task": "flaky", "queue": "q", "id": str(i)} for i in ids]),),
    )
    assert payloads(listener, actor) == []

    rows = actor.execute(
        "select id, attempts from goodjob_fetch_and_lock(process_id => %s, max_jobs => 10)",
        (process_id,),
    ).fetchall()
    assert len(rows) == 6
    assert payloads(listener, actor) == []

    outcomes = ["succeeded", "failed", "retry", "discarded", "failed", "succeeded"]
    results = [
        {"id": str(i), "attempt": a, "outcome": o, "error_class": "E", "error_message": "m"}
        for (i, a), o in zip(rows, outcomes, strict=True)
    ]
    states = actor.execute(
        "select state from goodjob_report_results(process_id => %s, results => %s)",
        (process_id, Jsonb(results)),
    ).fetchall()
    assert sorted(s for (s,) in states) == sorted(
        ["succeeded", "scheduled", "queued", "discarded", "scheduled", "succeeded"]
    )
    assert actor.execute("select goodjob_heartbeat(%s)", (process_id,)).fetchone() == (True,)
    # A fetch that promotes the due retries and claims them is silent too.
    assert (
        len(
            actor.execute(
                "select id from goodjob_fetch_and_lock(process_id => %s, max_jobs => 10)",
                (process_id,),
            ).fetchall()
        )
        == 3
    )
    assert payloads(listener, actor) == []


# --- only while a pool waits ---------------------------------------------------------------


def _waiting(conn: Conn) -> list[tuple[Any, int]]:
    return conn.execute(
        "select process_id, pool from goodjob_waiting_pools order by process_id, pool"
    ).fetchall()


def test_no_waiting_pool_no_notify(deaf: Conn, db_connect: Connect) -> None:
    """With nobody waiting, enqueues of every kind are silent."""
    actor = db_connect()
    assert _waiting(actor) == []
    actor.execute("select goodjob_enqueue(task => 't', queue => 'q')")
    actor.execute(
        "select goodjob_enqueue(task => 't', queue => 'q', run_at => now() + interval '1 hour')"
    )
    actor.execute("select goodjob_enqueue_many(%s)", (Jsonb([{"task": "t"}] * 5),))
    assert payloads(deaf, actor) == []
    assert actor.execute("select count(*) from goodjob_jobs").fetchone() == (7,)


def test_a_waiting_pool_turns_notify_on_and_unwait_off(deaf: Conn, db_connect: Connect) -> None:
    actor, worker = db_connect(), db_connect()
    process_id = _register(worker)
    worker.execute("select goodjob_wait(process_id => %s, pool => 1)", (process_id,))
    assert _waiting(actor) == [(process_id, 1)]
    actor.execute("select goodjob_enqueue(task => 't', queue => 'q')")
    assert payloads(deaf, actor) == [{"queue": "q"}]

    # Waiting twice is one row; a second pool of the same process is another.
    worker.execute("select goodjob_wait(process_id => %s, pool => 1)", (process_id,))
    worker.execute("select goodjob_wait(process_id => %s, pool => 2)", (process_id,))
    assert _waiting(actor) == [(process_id, 1), (process_id, 2)]

    # NOTIFY goes on while any pool waits, and stops when the last one leaves.
    worker.execute("select goodjob_unwait(process_id => %s, pool => 1)", (process_id,))
    actor.execute("select goodjob_enqueue(task => 't', queue => 'r')")
    assert payloads(deaf, actor) == [{"queue": "r"}]
    worker.execute("select goodjob_unwait(process_id => %s, pool => 2)", (process_id,))
    worker.execute("select goodjob_unwait(process_id => %s, pool => 2)", (process_id,))  # no-op
    assert _waiting(actor) == []
    actor.execute("select goodjob_enqueue(task => 't', queue => 'q')")
    assert payloads(deaf, actor) == []


def test_wait_needs_a_registered_process(db_conn: Conn) -> None:
    with pytest.raises(psycopg.Error) as info:
        db_conn.execute("select goodjob_wait(process_id => %s)", (uuid.uuid4(),))
    assert info.value.sqlstate == "GJ009"
    assert _waiting(db_conn) == []


def test_deregister_and_rescue_remove_waiting_rows(deaf: Conn, db_connect: Connect) -> None:
    actor = db_connect()
    leaving, dying = db_connect(), db_connect()
    leaving_id, dying_id = _register(leaving), _register(dying)
    for conn, pid in ((leaving, leaving_id), (dying, dying_id)):
        conn.execute("select goodjob_wait(process_id => %s, pool => 0)", (pid,))
    leaving.execute("select goodjob_deregister_process(%s)", (leaving_id,))
    assert _waiting(actor) == [(dying_id, 0)]
    dying.close()  # its lease (a session lock) goes with the session
    deadline = time.monotonic() + 10
    while _waiting(actor):
        actor.execute("select goodjob_rescue_dead_processes()")
        assert time.monotonic() < deadline, "the dead process's waiting row was never removed"
        time.sleep(0.05)
    actor.execute("select goodjob_enqueue(task => 't', queue => 'q')")
    assert payloads(deaf, actor) == []


def promptly(fn: Callable[[], Any], timeout: float = 5.0) -> Any:
    """Run ``fn`` in a thread and return its result; fail if it blocks (never hang)."""
    out: list[Any] = []
    errors: list[BaseException] = []

    def run() -> None:
        try:
            out.append(fn())
        except BaseException as exc:  # re-raised in the caller's thread
            errors.append(exc)

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    thread.join(timeout)
    assert not thread.is_alive(), f"blocked for more than {timeout} s"
    if errors:
        raise errors[0]
    return out[0]


def test_wait_refuses_while_an_enqueue_is_open_and_the_catch_up_fetch_sees_the_job(
    db_connect: Connect,
) -> None:
    """The race the gate closes. An enqueue that looked for waiting pools before the
    pool registered sends nothing; it holds the gate (shared) until it commits, so
    goodjob_wait says no at once (it never waits) and the pool tries again; once it
    succeeds, the catch-up fetch claims the job."""
    enqueuer, worker = db_connect(), db_connect()
    worker.execute("listen goodjob")
    worker.execute(f"listen {SENTINEL}")
    process_id = _register(worker)

    def wait() -> bool:
        row = worker.execute(
            "select goodjob_wait(process_id => %s, pool => 0)", (process_id,)
        ).fetchone()
        assert row is not None
        return bool(row[0])

    with enqueuer.transaction():
        row = enqueuer.execute("select goodjob_enqueue(task => 't', queue => 'q')").fetchone()
        assert row is not None
        job_id = row[0]
        assert promptly(wait) is False
        assert _waiting(worker) == []
    assert promptly(wait) is True
    assert _waiting(worker) == [(process_id, 0)]

    # Nobody waited when the enqueue looked: no notification for it ...
    assert payloads(worker, enqueuer) == []
    # ... but the catch-up fetch after goodjob_wait claims it.
    rows = worker.execute(
        "select id from goodjob_fetch_and_lock(process_id => %s, queues => '*', max_jobs => 5)",
        (process_id,),
    ).fetchall()
    assert rows == [(job_id,)]


def test_an_enqueue_while_a_wait_is_open_notifies(db_connect: Connect) -> None:
    """The other order: goodjob_wait holds the gate until it commits; an enqueue
    meanwhile does not wait for it, it notifies (it cannot tell whether the pool
    will see its job)."""
    enqueuer, worker = db_connect(), db_connect()
    worker.execute("listen goodjob")
    worker.execute(f"listen {SENTINEL}")
    process_id = _register(worker)
    with worker.transaction():
        row = worker.execute(
            "select goodjob_wait(process_id => %s, pool => 0)", (process_id,)
        ).fetchone()
        assert row == (True,)
        promptly(lambda: enqueuer.execute("select goodjob_enqueue(task => 't', queue => 'q')"))
    assert payloads(worker, enqueuer) == [{"queue": "q"}]


def test_an_enqueue_in_a_repeatable_read_transaction_always_notifies(
    deaf: Conn, db_connect: Connect
) -> None:
    """Its snapshot cannot see a pool that registers after it began: it notifies."""
    actor = db_connect()
    with actor.transaction():
        actor.execute("set transaction isolation level repeatable read")
        actor.execute("select goodjob_enqueue(task => 't', queue => 'q')")
    assert payloads(deaf, actor) == [{"queue": "q"}]
