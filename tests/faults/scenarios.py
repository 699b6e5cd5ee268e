"""Fault scenarios. Each takes a :class:`Size` and a log directory and returns
a :class:`Result`: the audit of its jobs plus scenario figures.

Every fault is real: workers are ``goodjob-pg run`` processes killed with
SIGKILL or stopped with SIGSTOP, backends are ended with
``pg_terminate_backend``, connections are cut by :class:`tests.proxy.TCPProxy`.
Statements are caught in flight by holding a table lock they need and waiting
until ``pg_stat_activity`` shows them blocked on it.
"""

from __future__ import annotations

import random
import signal
import statistics
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import psycopg

from tests.faults import private_server
from tests.faults.harness import Audit, FaultBed, wait_for
from tests.plugins.database import PGHOST, PGPORT, PGUSER
from tests.proxy import TCPProxy

__all__ = ["FULL", "SCENARIOS", "SMALL", "Result", "Size"]


@dataclass(frozen=True)
class Size:
    """How big each scenario runs."""

    mid_run_jobs: int
    storm_jobs: int
    storm_kill_every: tuple[float, float]
    storm_job_seconds: float
    poison_others: int
    race_iterations: int
    cut_rounds: int
    restart_jobs: int
    timeout: float


FULL = Size(100, 5000, (2.0, 5.0), 0.1, 500, 1000, 10, 2000, 900.0)
SMALL = Size(20, 300, (0.3, 0.8), 0.1, 40, 100, 3, 300, 120.0)


@dataclass
class Result:
    """A scenario's audit, whether it passed, and its figures."""

    name: str
    audit: Audit
    passed: bool
    figures: dict[str, Any] = field(default_factory=dict)


def _blocked(bed: FaultBed, pattern: str) -> bool:
    return bool(
        bed.scalar(
            "select count(*) > 0 from pg_stat_activity where datname = current_database()"
            " and wait_event_type = 'Lock' and query ilike %s",
            pattern,
        )
    )


def _wait_running(bed: FaultBed, n: int, timeout: float) -> None:
    running = "select count(*) from goodjob_jobs where state = 'running'"
    wait_for(lambda: bed.scalar(running) == n, timeout, 0.05)


def _rerun_delays(bed: FaultBed, kills: list[tuple[Any, Any]]) -> dict[str, Any]:
    """Per kill: seconds until the dead process's jobs were rescued, and until the
    last of them started again (a rescued job queues behind the ready backlog)."""
    rescued, rerun = [], []
    for killed_at, process_id in kills:
        row = bed.conn.execute(
            """
            select extract(epoch from max(cut.finished_at) - %(at)s),
                   extract(epoch from max(coalesce(nxt.started_at, j.started_at)) - %(at)s)
              from goodjob_executions cut
              join goodjob_jobs j on j.id = cut.job_id
              left join goodjob_executions nxt
                on nxt.job_id = cut.job_id and nxt.attempt = cut.attempt + 1
             where cut.process_id = %(process)s and cut.outcome = 'interrupted'
            """,
            {"at": killed_at, "process": process_id},
        ).fetchone()
        if row is not None and row[0] is not None:
            rescued.append(float(row[0]))
            rerun.append(float(row[1]))
    return {"death_to_rescue": _spread(rescued), "death_to_rerun": _spread(rerun)}


def _spread(values: list[float]) -> dict[str, float]:
    if not values:
        return {}
    ordered = sorted(values)
    p99 = ordered[min(len(ordered) - 1, round(0.99 * (len(ordered) - 1)))]
    return {
        "p50_s": round(statistics.median(ordered), 2),
        "p99_s": round(p99, 2),
        "max_s": round(ordered[-1], 2),
    }


def kill_mid_run(size: Size, log_dir: Path) -> Result:
    """S1: SIGKILL a worker while all its threads run jobs; a new worker reruns them."""
    n = size.mid_run_jobs
    with FaultBed(log_dir, "mid_run") as bed:
        first = bed.spawn("--queues", f"*:{n}", "--poll-interval", "1")
        process_id = bed.process_id(first)
        ids = bed.enqueue(n, seconds=3.0)
        _wait_running(bed, n, size.timeout)
        killed_at = bed.kill(first)
        bed.conn.execute("update goodjob_jobs set args = '[0.05]' where id = any(%s)", (ids,))
        bed.spawn("--queues", f"*:{n}", "--poll-interval", "1")
        bed.wait_drained(size.timeout)
        audit = bed.audit(ids)
        delays = _rerun_delays(bed, [(killed_at, process_id)])
        passed = audit.ok() and audit.interrupted == n and audit.attempts == 2 * n
        return Result("kill mid-run", audit, passed, delays)


def kill_during_fetch(size: Size, log_dir: Path) -> Result:
    """S2: SIGKILL a worker whose claim statement is in flight (blocked on a lock)."""
    n = size.mid_run_jobs
    with FaultBed(log_dir, "during_fetch") as bed:
        first = bed.spawn("--queues", "*:5", "--poll-interval", "0.2")
        bed.process_id(first)
        with psycopg.connect(bed.url) as holder:  # one transaction: enqueue, then lock
            ids = [
                row[0]
                for row in holder.execute(
                    "select goodjob_enqueue('fx_work', args => '[0.02]')"
                    " from generate_series(1, %s)",
                    (n,),
                )
            ]
            holder.execute("lock table goodjob_jobs in exclusive mode")
            wait_for(lambda: _blocked(bed, "%fetch_and_lock%"), size.timeout, 0.05)
            bed.kill(first)
        # The dead worker's blocked backend may now claim jobs for a dead lease.
        bed.spawn("--queues", "*:5", "--poll-interval", "1")
        bed.wait_drained(size.timeout)
        audit = bed.audit(ids)
        return Result("kill during fetch", audit, audit.ok())


def kill_during_report(size: Size, log_dir: Path) -> Result:
    """S3: SIGKILL a worker whose result report is in flight (blocked on a lock)."""
    n = size.mid_run_jobs
    with FaultBed(log_dir, "during_report") as bed:
        first = bed.spawn("--queues", f"*:{n}", "--poll-interval", "1")
        bed.process_id(first)
        ids = bed.enqueue(n, seconds=0.5)
        _wait_running(bed, n, size.timeout)
        with psycopg.connect(bed.url) as holder:
            holder.execute("lock table goodjob_executions in exclusive mode")
            wait_for(lambda: _blocked(bed, "%goodjob_report%"), size.timeout, 0.05)
            bed.kill(first)
        bed.spawn("--queues", f"*:{n}", "--poll-interval", "1")
        bed.wait_drained(size.timeout)
        audit = bed.audit(ids)
        rerun = int(
            bed.scalar("select count(*) from goodjob_jobs where id = any(%s) and attempts > 1", ids)
        )
        figures = {"reports_committed_by_dead_backend": n - rerun, "rerun": rerun}
        return Result("kill during report", audit, audit.ok(), figures)


def kill_storm(size: Size, log_dir: Path) -> Result:
    """S5: 3 workers, one SIGKILLed and replaced at random every few seconds."""
    rng = random.Random(5000)
    args = ("--queues", "*:5", "--poll-interval", "1")
    with FaultBed(log_dir, "kill_storm") as bed:
        ids = bed.enqueue(size.storm_jobs, seconds=size.storm_job_seconds)
        workers = [bed.spawn(*args) for _ in range(3)]
        kills: list[tuple[Any, Any]] = []
        started = time.monotonic()
        while bed.unfinished() and time.monotonic() - started < size.timeout:
            time.sleep(rng.uniform(*size.storm_kill_every))
            if not bed.unfinished():
                break
            victim = rng.randrange(3)
            process_id = bed.process_id(workers[victim])
            kills.append((bed.kill(workers[victim]), process_id))
            workers[victim] = bed.spawn(*args)
        bed.wait_drained(size.timeout)
        elapsed = time.monotonic() - started
        audit = bed.audit(ids)
        figures = {
            "kills": len(kills),
            "seconds": round(elapsed, 1),
            "max_attempts_used": int(
                bed.scalar("select max(attempts) from goodjob_jobs where id = any(%s)", ids)
            ),
            **_rerun_delays(bed, kills),
        }
        return Result("kill storm", audit, audit.ok(), figures)


def poison_pill(size: Size, log_dir: Path) -> Result:
    """S6: a job that SIGKILLs its worker each time is discarded after 3 attempts."""
    args = ("--queues", "*:3", "--poll-interval", "1")
    with FaultBed(log_dir, "poison") as bed:
        [poison] = [
            row[0]
            for row in bed.conn.execute(
                "select goodjob_enqueue('fx_poison', max_attempts => 3, priority => -1)"
            )
        ]
        ids = bed.enqueue(size.poison_others, seconds=0.05)
        workers = [bed.spawn(*args) for _ in range(2)]
        restarts = 0
        deadline = time.monotonic() + size.timeout
        while bed.unfinished() and time.monotonic() < deadline:
            for i, proc in enumerate(workers):
                if proc.poll() is not None:  # the supervisor's part: restart it
                    restarts += 1
                    workers[i] = bed.spawn(*args)
            time.sleep(0.1)
        bed.wait_drained(5)
        audit = bed.audit(ids)
        state, attempts, cuts = bed.conn.execute(
            "select state, attempts, (select count(*) from goodjob_executions"
            " where job_id = j.id and outcome = 'interrupted') from goodjob_jobs j where id = %s",
            (poison,),
        ).fetchone() or (None, None, None)
        passed = audit.ok() and (state, attempts, cuts) == ("discarded", 3, 3)
        figures = {"poison": f"{state} after {attempts} attempts", "worker_restarts": restarts}
        return Result("poison pill", audit, passed, figures)


def fencing(size: Size, log_dir: Path) -> Result:
    """S7: SIGSTOP a worker, end its lease backend, rescue; its late results are refused."""
    n = 10
    with FaultBed(log_dir, "fencing") as bed:
        first = bed.spawn("--queues", f"*:{n}", "--poll-interval", "1")
        process_id = bed.process_id(first)
        ids = bed.enqueue(n, seconds=1.0)
        _wait_running(bed, n, size.timeout)
        first.send_signal(signal.SIGSTOP)
        bed.conn.execute(  # every session of the stopped worker: its lease goes
            "select pg_terminate_backend(pid) from pg_stat_activity"
            " where datname = current_database() and pid <> pg_backend_pid()"
            " and backend_type = 'client backend'"
        )
        bed.conn.execute("update goodjob_jobs set args = '[0.01]' where id = any(%s)", (ids,))
        second = bed.spawn("--queues", f"*:{n}", "--poll-interval", "1")
        bed.process_id(second)
        bed.wait_drained(size.timeout)
        first.send_signal(signal.SIGCONT)  # its 1 s jobs finish now and report late
        wait_for(lambda: bed.tail(1000).count("was refused") >= n, size.timeout, 0.2)
        audit = bed.audit(ids)
        late = int(
            bed.scalar(
                "select count(*) from goodjob_executions where process_id = %s"
                " and outcome = 'succeeded'",
                process_id,
            )
        )
        passed = audit.ok() and late == 0 and audit.interrupted == n
        figures = {
            "late_results_refused": bed.tail(1000).count("was refused"),
            "late_results_accepted": late,
        }
        return Result("pause, cut, resume (fencing)", audit, passed, figures)


def rescue_race(size: Size, log_dir: Path) -> Result:
    """S9: report and rescue race over many random interleavings (4-job batches).

    Runs ``test_rescue_racing_completion_never_finishes_a_job_twice`` (which
    asserts each job ends succeeded with one 'succeeded' execution, or queued
    with one 'interrupted' one) on this scenario's database.
    """
    from tests.integration.test_sql_rescue import (
        test_rescue_racing_completion_never_finishes_a_job_twice as race,
    )

    with FaultBed(log_dir, "rescue_race") as bed:
        conns: list[psycopg.Connection[Any]] = []

        def connect() -> psycopg.Connection[Any]:
            conns.append(psycopg.connect(bed.url, autocommit=True))
            return conns[-1]

        error = None
        try:
            race(connect, size.race_iterations, 4)
        except AssertionError as exc:
            error = str(exc)[:200]
        finally:
            for conn in conns:
                conn.close()
        ids = [row[0] for row in bed.conn.execute("select id from goodjob_jobs")]
        # A job the rescue won is queued again: "lost" here means neither outcome.
        audit = bed.audit(ids)
        audit.lost = int(
            bed.scalar(
                "select count(*) from goodjob_jobs where state not in ('succeeded', 'queued')"
            )
        )
        won = int(bed.scalar("select count(*) from goodjob_jobs where state = 'succeeded'"))
        figures = {
            "interleavings": size.race_iterations,
            "report_won": won,
            "rescue_won": len(ids) - won,
            "error": error,
        }
        return Result(
            "rescue racing completion",
            audit,
            error is None and audit.lost == 0 and audit.completed_twice == 0,
            figures,
        )


def connection_cuts(size: Size, log_dir: Path) -> Result:
    """S12/S8: cut the worker's connections (lease, LISTEN, pool) through a proxy."""
    with FaultBed(log_dir, "cuts") as bed, TCPProxy(PGHOST, PGPORT) as proxy:
        proxied = f"postgresql://{PGUSER}@127.0.0.1:{proxy.port}/{bed.dbname}"
        bed.spawn("--queues", "*:5", "--poll-interval", "1", url=proxied)
        ids: list[Any] = []
        cuts = 0
        for _ in range(size.cut_rounds):
            ids += bed.enqueue(30, seconds=0.1)
            wait_for(
                lambda: bed.scalar("select count(*) from goodjob_jobs where state = 'running'"),
                size.timeout,
                0.02,
            )
            cuts += proxy.cut()
            time.sleep(0.3)
        bed.wait_drained(size.timeout)
        audit = bed.audit(ids)
        return Result("connection cuts", audit, audit.ok(), {"connections_cut": cuts})


def server_restart(size: Size, log_dir: Path) -> Result:
    """S14: a private server stopped (-m fast, then -m immediate) mid-run and started again."""
    if not private_server.available():
        return Result("postgres restart", Audit(0, 0, 0, 0, 0, 0, 0, 0, 0), True, {"skipped": True})
    server = private_server.PrivateServer()
    try:
        with FaultBed(log_dir, "restart", url=server.url) as bed:
            ids = bed.enqueue(size.restart_jobs, seconds=0.05)
            for _ in range(2):
                bed.spawn("--queues", "*:5", "--poll-interval", "1")
            downtime = []
            for mode in ("fast", "immediate"):
                wait_for(lambda: bed.unfinished() < size.restart_jobs, size.timeout, 0.05)
                stopped = time.monotonic()
                server.stop(mode)
                time.sleep(3.0)  # longer than the runner's old report-retry budget (2.4 s)
                server.start()
                bed.reconnect()
                downtime.append(round(time.monotonic() - stopped, 1))
                left = bed.unfinished()
                wait_for(lambda: bed.unfinished() < left, size.timeout, 0.1)  # noqa: B023
            bed.wait_drained(size.timeout)
            audit = bed.audit(ids)
            alive = sum(proc.poll() is None for proc in bed.procs)
            figures = {"down_s": downtime, "workers_alive_after": alive}
            return Result("postgres restart", audit, audit.ok() and alive == 2, figures)
    finally:
        server.close()


SCENARIOS = [
    kill_mid_run,
    kill_during_fetch,
    kill_during_report,
    kill_storm,
    poison_pill,
    fencing,
    rescue_race,
    connection_cuts,
    server_restart,
]
