"""Fault scenarios of issue 9, part two: row locks held by a human, long jobs,
NOTIFY payload bounds (RELIABILITY.md S19, S22 and "a job longer than the
heartbeat period"). Same conventions as :mod:`tests.faults.scenarios`.
"""

from __future__ import annotations

import glob
import os
import time
from pathlib import Path
from typing import Any

import psycopg

from tests.faults.harness import FaultBed, wait_for
from tests.faults.scenarios import SMALL, Result, Size

__all__ = ["MISC_SCENARIOS"]

_OPERATOR_CALLS = (
    "select goodjob_retry_job(%s)",
    "select goodjob_discard_job(%s, 'x')",
    "select goodjob_reschedule_job(%s, now() + interval '1 hour')",
)


def _row(bed: FaultBed, job_id: Any) -> Any:
    return bed.conn.execute(
        "select state, run_at, attempts, last_error from goodjob_jobs where id = %s", (job_id,)
    ).fetchone()


def row_lock(size: Size, log_dir: Path) -> Result:
    """S19: a session holds FOR UPDATE on a queued and a running job; others flow."""
    hold = 8.0 if size is SMALL else 60.0
    with FaultBed(log_dir, "row_lock") as bed:
        bed.spawn("--queues", "*:3", "--poll-interval", "1")
        [running] = bed.enqueue(1, seconds=1.0)
        wait_for(lambda: _row(bed, running)[0] == "running", size.timeout, 0.05)
        bed.conn.execute("select goodjob_pause(queue => 'held')")  # stays queued till we resume
        [queued] = bed.enqueue(1, seconds=0.0, queue="held")
        with psycopg.connect(bed.url) as human:
            human.execute(
                "select 1 from goodjob_jobs where id = any(%s) for update", ([running, queued],)
            )
            locked_at = time.monotonic()
            before = _row(bed, queued)
            others = bed.enqueue(50, seconds=0.01)
            refused, waits = 0, []
            # Each refused call waits its 5 s lock_timeout: the reduced suite
            # tries one, the full size all of them.
            calls = _OPERATOR_CALLS[:1] if size is SMALL else _OPERATOR_CALLS
            for call in calls:
                started = time.monotonic()
                try:
                    bed.conn.execute(call, (queued,))
                except psycopg.errors.LockNotAvailable:
                    refused += 1
                waits.append(round(time.monotonic() - started, 1))
            unchanged = _row(bed, queued) == before
            done = "select count(*) from goodjob_jobs where id = any(%s) and state = 'succeeded'"
            wait_for(lambda: bed.scalar(done, others) == len(others), size.timeout, 0.1)
            flowed_s = round(time.monotonic() - locked_at, 1)
            still_running = _row(bed, running)[0] == "running"
            time.sleep(max(0.0, hold - (time.monotonic() - locked_at)))
        bed.conn.execute("select goodjob_resume(queue => 'held')")
        bed.wait_drained(size.timeout)
        ids = [running, queued, *others]
        audit = bed.audit(ids)
        figures = {
            "lock_held_s": hold,
            "operator_calls_refused_55P03": f"{refused}/{len(calls)}",
            "operator_wait_s": waits,
            "others_done_under_lock_s": flowed_s,
            "parked_reports": bed.tail(2000).count("waits for a job row locked"),
        }
        passed = (
            audit.ok()
            and refused == len(calls)
            and unchanged
            and still_running
            and audit.attempts == len(ids)
        )
        return Result("row lock held by a session", audit, passed, figures)


def long_job(size: Size, log_dir: Path) -> Result:
    """A job running several heartbeat periods: not rescued, run once; heartbeats advance."""
    # Several heartbeat periods: the default 15 s heartbeat at full size, a
    # 1 s one (the same code path) in the reduced suite.
    seconds, beat = (5.0, "1") if size is SMALL else (50.0, "15")
    with FaultBed(log_dir, "long_job") as bed:
        worker = bed.spawn("--queues", "*:2", "--poll-interval", "1", "--heartbeat-interval", beat)
        process_id = bed.process_id(worker)
        ids = bed.enqueue(1, seconds=seconds)
        beats = set()
        deadline = time.monotonic() + seconds + size.timeout
        while bed.unfinished() and time.monotonic() < deadline:
            beats.add(
                bed.scalar("select heartbeat_at from goodjob_processes where id = %s", process_id)
            )
            time.sleep(0.5)
        bed.wait_drained(5)
        audit = bed.audit(ids)
        figures = {"job_s": seconds, "heartbeat_s": beat, "distinct_heartbeats": len(beats)}
        passed = audit.ok() and audit.attempts == 1 and audit.interrupted == 0 and len(beats) >= 3
        return Result("job longer than heartbeats", audit, passed, figures)


def payload_bounds(size: Size, log_dir: Path) -> Result:
    """S22: longest queue names (multibyte too), one over, 1 MB args, many queues at once."""
    with FaultBed(log_dir, "payload") as bed, psycopg.connect(bed.url, autocommit=True) as ear:
        ear.execute("listen goodjob")
        bed.spawn("--queues", "*:1", "--poll-interval", "1")  # a waiting pool: enqueues notify
        time.sleep(1.5)
        names = ["q" * 128, "é" * 128, "😀" * 128, "\x01" * 128]
        ids: list[Any] = []
        for name in names:
            ids += bed.enqueue(1, queue=name)
        over_refused = 0
        for name in ("q" * 129, "😀" * 129):
            try:
                bed.conn.execute("select goodjob_enqueue('fx_work', queue => %s)", (name,))
            except psycopg.Error as exc:
                detail = str(exc.diag.message_detail)
                over_refused += exc.diag.sqlstate == "GJ004" and "128" in detail
        big = bed.conn.execute(
            "select goodjob_enqueue('fx_work', args => jsonb_build_array(0, repeat('x', 1000000)))"
        ).fetchone()
        assert big is not None
        many = bed.conn.execute(
            "select count(*) from goodjob_enqueue_many((select jsonb_agg(jsonb_build_object("
            "'task', 'fx_work', 'queue', repeat('😀', 120) || i)) from generate_series(1, 200) i))"
        ).fetchone()
        sizes = [len(n.payload.encode()) for n in ear.notifies(timeout=2.0, stop_after=10000)]
        bed.wait_drained(size.timeout)
        audit = bed.audit(ids)
        written = bed.scalar("select count(*) from goodjob_jobs where length(queue) > 128")
        figures = {
            "notifications": len(sizes),
            "max_payload_bytes": max(sizes, default=0),
            "over_refused": over_refused,
            "over_written": written,
            "enqueue_many_queues": many[0] if many else 0,
        }
        passed = (
            audit.ok() and over_refused == 2 and written == 0 and 0 < max(sizes, default=0) < 1000
        )
        return Result("NOTIFY payload bounds", audit, passed, figures)


def _spawn_skewed(bed: FaultBed, skew: str, *args: str) -> Any:
    """Start a worker under libfaketime (Debian's faketime) with its clock moved by ``skew``."""
    [lib] = glob.glob("/usr/lib/*/faketime/libfaketime.so.1")
    # Python's timed thread waits hang when libfaketime also fakes the monotonic clock.
    skewed = {"LD_PRELOAD": lib, "FAKETIME": skew, "FAKETIME_DONT_FAKE_MONOTONIC": "1"}
    saved = dict(os.environ)
    os.environ.update(skewed)
    try:
        return bed.spawn(*args)
    finally:
        os.environ.clear()
        os.environ.update(saved)


def clock_skew(size: Size, log_dir: Path) -> Result:
    """S20: workers at +1 h and -1 h run scheduled jobs when the database says they are due."""
    n = 10 if size is SMALL else 40
    with FaultBed(log_dir, "clock_skew") as bed:
        for skew in ("+1h", "-1h"):
            bed.process_id(_spawn_skewed(bed, skew, "--queues", "*:5", "--poll-interval", "30"))
        ids = [
            row[0]
            for row in bed.conn.execute(
                "select goodjob_enqueue('fx_work', run_at => now() + make_interval(secs => 3 + i))"
                " from generate_series(1, %s) i",
                (n,),
            )
        ]
        bed.wait_drained(size.timeout)
        audit = bed.audit(ids)
        early, late = bed.conn.execute(
            "select min(extract(epoch from e.started_at - j.run_at)),"
            " max(extract(epoch from e.started_at - j.run_at))"
            " from goodjob_jobs j join goodjob_executions e on e.job_id = j.id"
            " where j.id = any(%s)",
            (ids,),
        ).fetchone() or (None, None)
        skews = bed.tail(200).count("clock is 3600")
        figures = {
            "start_minus_run_at_min_s": round(float(early or 0), 3),
            "start_minus_run_at_max_s": round(float(late or 0), 3),
            "skew_warnings": skews,
        }
        passed = audit.ok() and early is not None and early >= 0 and late < 2.0 and skews == 2
        return Result("clock skew +1 h / -1 h", audit, passed, figures)


_FLOOD = """
select pg_notify('goodjob', case when i %% 3 = 0 then 'junk ' || i
                                 when i %% 3 = 1 then '{"queue": "default"}'
                                 else '{"queue": 42, "run_at": "soon"}' end)
  from generate_series(1, %s) i
"""


def listen_flood(size: Size, log_dir: Path) -> Result:
    """S24/S26: 100,000 notifications (junk and valid) plus single-row enqueues while a
    worker runs; it survives, keeps up, and no worker session idles in a transaction."""
    total = 20000 if size is SMALL else 100000
    with FaultBed(log_dir, "flood") as bed, psycopg.connect(bed.url, autocommit=True) as flood:
        worker = bed.spawn("--queues", "*:5", "--poll-interval", "1")
        bed.process_id(worker)
        ids: list[Any] = []
        usage, idle_in_tx, samples = 0.0, 0, 0
        for _ in range(total // 1000):
            flood.execute(_FLOOD, (1000,))  # one transaction of 1,000 notifications
            ids += bed.enqueue(1, seconds=0.0)
            usage = max(usage, float(bed.scalar("select pg_notification_queue_usage()")))
            idle_in_tx += int(
                bed.scalar(
                    "select count(*) from pg_stat_activity where datname = current_database()"
                    " and application_name like 'goodjob-pg%%' and state = 'idle in transaction'"
                )
            )
            samples += 1
            time.sleep(0.1)
        bed.wait_drained(size.timeout)
        wait_for(lambda: bed.scalar("select pg_notification_queue_usage()") == 0, 30, 0.1)
        audit = bed.audit(ids)
        alive = worker.poll() is None
        figures = {
            "notifications": total,
            "max_queue_usage": usage,
            "idle_in_transaction_samples": f"{idle_in_tx}/{samples}",
            "worker_alive": alive,
        }
        return Result("LISTEN flood", audit, audit.ok() and alive and idle_in_tx == 0, figures)


MISC_SCENARIOS = [row_lock, long_job, payload_bounds, clock_skew, listen_flood]
