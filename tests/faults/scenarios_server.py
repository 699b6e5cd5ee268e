"""Fault scenarios of the lease's blind spots and of servers that misbehave.

* S15 :func:`lease_black_hole`: the lease connection of a worker is
  black-holed (the proxy stops relaying but its kernel keeps acknowledging,
  so no TCP timer fires): another worker's sweep ends the stale lease's
  session after the heartbeat threshold and the jobs run again; the cut-off
  worker's late results are refused.
* S12 :func:`listen_black_hole`: the same fault seen from the LISTEN side
  (lease and LISTEN share one connection): detected within two heartbeat
  (self-ping) intervals; a job enqueued in the gap starts within the poll
  interval; afterwards pickup is by NOTIFY again.
* S18 :func:`operator_timeouts`: the worker's role has 1 s
  ``idle_in_transaction_session_timeout``, 2 s ``idle_session_timeout`` and
  50 ms ``statement_timeout``; jobs run 3-5 s; fetch, report and sweep
  statements are cancelled for real (57014) while blocked on a lock.
* S13 :func:`~tests.faults.scenarios_standby.read_only_server`: a hot
  standby, then ``default_transaction_read_only`` (in its own module).

Each takes the suite's :class:`~tests.faults.scenarios.Size` (full or small)
and maps it to a :class:`ServerSize`.
"""

from __future__ import annotations

import os
import statistics
import time
from pathlib import Path
from typing import Any

import psycopg

from tests.faults.harness import FaultBed, wait_for
from tests.faults.scenarios import Result, Size
from tests.faults.scenarios_standby import read_only_server
from tests.faults.server_common import ServerSize, running, server_size
from tests.plugins.database import PGHOST, PGPORT, PGUSER
from tests.proxy import TCPProxy

__all__ = ["SERVER_SCENARIOS"]


def _proxied(bed: FaultBed, proxy: TCPProxy, user: str = PGUSER) -> str:
    return f"postgresql://{user}@127.0.0.1:{proxy.port}/{bed.dbname}"


def _lease_port(bed: FaultBed, proxy: TCPProxy) -> int:
    """The proxy-side port of the (only) proxied worker's lease connection."""

    def find() -> int | None:
        ports = proxy.upstream_ports
        row = bed.conn.execute(
            "select client_port from pg_stat_activity where datname = current_database()"
            " and application_name = 'goodjob-pg lease' and client_port = any(%s)",
            (ports,),
        ).fetchone()
        return None if row is None else int(row[0])

    port: int = wait_for(find, 30, 0.05)
    return port


def _seconds_since(bed: FaultBed, at: Any, query: str, *params: Any) -> float | None:
    """Seconds from ``at`` to the timestamp ``query`` returns (None if it returns null)."""
    value = bed.scalar(f"select extract(epoch from ({query}) - %s)", *params, at)
    return None if value is None else round(float(value), 2)


def lease_black_hole(size: Size, log_dir: Path) -> Result:
    """S15: black-hole worker A's lease connection; B ends it after the threshold, reruns."""
    s = server_size(size)
    n, sweep = s.jobs, 1.0
    timing = ("--heartbeat-interval", "0.5", "--rescue-interval", f"{sweep:g}")
    timing += ("--stale-process-threshold", f"{s.threshold:g}")
    args = ("--queues", f"*:{n}", "--poll-interval", "1", *timing)
    with FaultBed(log_dir, "lease_black_hole") as bed, TCPProxy(PGHOST, PGPORT) as proxy:
        first = bed.spawn(*args, url=_proxied(bed, proxy))
        old_id = bed.process_id(first)
        # A's jobs outlast the rescue, so their results come late (and are refused).
        ids = bed.enqueue(n, seconds=s.threshold + sweep + 4.0)
        wait_for(lambda: running(bed) == n, s.timeout, 0.05)
        bed.process_id(bed.spawn(*args))  # worker B, straight to the server
        port = _lease_port(bed, proxy)
        frozen_at = bed.scalar("select clock_timestamp()")
        frozen = proxy.freeze(upstream_port=port)
        bed.conn.execute("update goodjob_jobs set args = '[0.05]' where id = any(%s)", (ids,))
        bed.wait_drained(s.timeout)
        wait_for(lambda: bed.tail(5000).count("was refused") >= n, s.timeout, 0.2)
        audit = bed.audit(ids)
        rerun = _seconds_since(
            bed,
            frozen_at,
            "select max(started_at) from goodjob_executions where job_id = any(%s) and attempt = 2",
            ids,
        )
        late = int(
            bed.scalar(
                "select count(*) from goodjob_executions where process_id = %s"
                " and outcome = 'succeeded'",
                old_id,
            )
        )
        bound = s.threshold + sweep + 1.0
        figures = {
            "frozen_links": frozen,
            "freeze_to_rerun_s": rerun,
            "bound_s": bound,
            "sessions_ended": bed.tail(5000).count("ended the session"),
            "late_refused": bed.tail(5000).count("was refused"),
            "late_accepted": late,
        }
        passed = (
            audit.ok()
            and frozen == 1
            and late == 0
            and audit.interrupted == n
            and rerun is not None
            and rerun <= bound
        )
        return Result("lease black-holed (heartbeat backstop)", audit, passed, figures)


def listen_black_hole(size: Size, log_dir: Path) -> Result:
    """S12: black-hole the lease/LISTEN connection: self-ping detection, poll, NOTIFY again."""
    s = server_size(size)
    beat, poll = 2.0, 20.0
    args = ("--queues", "*:2", "--poll-interval", f"{poll:g}", "--heartbeat-interval", f"{beat:g}")
    with FaultBed(log_dir, "listen_black_hole") as bed, TCPProxy(PGHOST, PGPORT) as proxy:
        proc = bed.spawn(*args, url=_proxied(bed, proxy))
        old_id = bed.process_id(proc)
        waiting = "select count(*) > 0 from goodjob_waiting_pools where process_id = %s"
        wait_for(lambda: bed.scalar(waiting, old_id), s.timeout, 0.05)
        port = _lease_port(bed, proxy)
        frozen_at = bed.scalar("select clock_timestamp()")
        proxy.freeze(upstream_port=port)
        ids = bed.enqueue(1)  # its NOTIFY goes into the black hole
        newer = (
            "select (select id from goodjob_processes where pid = %s and id <> %s"
            " order by started_at limit 1)"
        )
        new_id = wait_for(lambda: bed.scalar(newer, proc.pid, old_id), s.timeout, 0.05)
        detected = _seconds_since(
            bed, frozen_at, "select started_at from goodjob_processes where id = %s", new_id
        )
        bed.wait_drained(s.timeout)
        gap = _seconds_since(
            bed, frozen_at, "select started_at from goodjob_jobs where id = %s", ids[0]
        )
        wait_for(lambda: bed.scalar(waiting, new_id), s.timeout, 0.05)
        pickups = []
        for _ in range(s.pickups):  # polling is 20 s away: anything quick is NOTIFY
            ids += bed.enqueue(1)
            bed.wait_drained(s.timeout)
            latency = bed.scalar(
                "select extract(epoch from started_at - created_at)"
                " from goodjob_jobs where id = %s",
                ids[-1],
            )
            pickups.append(float(latency))
            wait_for(lambda: bed.scalar(waiting, new_id), s.timeout, 0.01)
        audit = bed.audit(ids)
        figures = {
            "detected_after_s": detected,
            "bound_s": 2 * beat,
            "gap_job_started_after_s": gap,
            "notify_pickup_p50_ms": round(1000 * statistics.median(pickups), 1),
            "notify_pickup_max_ms": round(1000 * max(pickups), 1),
        }
        passed = (
            audit.ok()
            and detected is not None
            and detected <= 2 * beat
            and gap is not None
            and gap <= poll
            and max(pickups) < poll / 4
        )
        return Result("LISTEN black-holed (self-ping)", audit, passed, figures)


def _cancel_blocked(bed: FaultBed, user: str, lock: str, pattern: str, app: str = "%") -> int:
    """Hold ``lock table ...`` until a ``user`` statement matching ``pattern`` waits on it,
    then cancel that statement (57014). Returns the cancelled backend's pid."""
    find = (
        "select (select pid from pg_stat_activity where datname = current_database()"
        " and usename = %s and wait_event_type = 'Lock' and query ilike %s"
        " and application_name like %s limit 1)"
    )
    with psycopg.connect(bed.url) as holder:
        holder.execute(f"lock table {lock} in exclusive mode")
        pid: int = wait_for(lambda: bed.scalar(find, user, pattern, app), 60, 0.01)
        bed.scalar("select pg_cancel_backend(%s)", pid)
        wait_for(lambda: not bed.scalar(find, user, pattern, app), 60, 0.01)
    return pid


def operator_timeouts(size: Size, log_dir: Path) -> Result:
    """S18: a worker role with short operator timeouts; statements cancelled for real."""
    s = server_size(size)
    n = s.jobs
    role = f"gjfault_timeouts_{os.getpid()}"
    with FaultBed(log_dir, "operator_timeouts") as bed:
        bed.conn.execute(f"drop role if exists {role}")
        bed.conn.execute(f"create role {role} login")
        try:
            for setting, value in (
                ("idle_in_transaction_session_timeout", "1s"),
                ("idle_session_timeout", "2s"),
                ("statement_timeout", "50ms"),
            ):
                bed.conn.execute(f"alter role {role} set {setting} = '{value}'")
            bed.conn.execute(f"grant usage on schema public to {role}")
            bed.conn.execute(f"grant all on all tables in schema public to {role}")
            bed.conn.execute(f"grant all on all sequences in schema public to {role}")
            return _run_operator_timeouts(bed, s, role, n)
        finally:
            for proc in bed.procs:  # the role's sessions end before the role does
                proc.kill()
                proc.wait(30)
            gone = "select count(*) = 0 from pg_stat_activity where usename = %s"
            wait_for(lambda: bed.scalar(gone, role), 30, 0.05)
            bed.conn.execute(f"drop owned by {role}")
            bed.conn.execute(f"drop role {role}")


def _run_operator_timeouts(bed: FaultBed, s: ServerSize, role: str, n: int) -> Result:
    url = f"postgresql://{role}@{PGHOST}:{PGPORT}/{bed.dbname}"
    args = ("--queues", f"*:{n}", "--poll-interval", "1", "--rescue-interval", "1")
    proc = bed.spawn(*args, url=url)
    process_id = bed.process_id(proc)
    lease = (
        "select (select pid from pg_stat_activity where usename = %s"
        " and application_name = 'goodjob-pg lease')"
    )
    lease_pid = bed.scalar(lease, role)
    cancelled = {"fetch": _cancel_blocked(bed, role, "goodjob_jobs", "%fetch_and_lock%")}
    ids = bed.enqueue(n, seconds=s.job_seconds)
    wait_for(lambda: running(bed) == n, s.timeout, 0.05)
    cancelled["sweep"] = _cancel_blocked(
        bed, role, "goodjob_processes", "%goodjob_%", "goodjob-pg lease"
    )
    cancelled["report"] = _cancel_blocked(bed, role, "goodjob_executions", "%goodjob_report%")
    bed.wait_drained(s.timeout)
    time.sleep(3.0)  # idle past idle_session_timeout (2 s): the sessions stay
    more = bed.enqueue(n, seconds=s.job_seconds)
    bed.wait_drained(s.timeout)
    audit = bed.audit(ids + more)
    failed = int(bed.scalar("select count(*) from goodjob_executions where outcome <> 'succeeded'"))
    same_lease = bed.scalar(lease, role) == lease_pid
    registered = "select count(*) = 1 from goodjob_processes where id = %s"
    same_process = bed.scalar(registered, process_id)
    figures = {
        "job_seconds": s.job_seconds,
        "statements_cancelled": len(cancelled),
        "failed_or_interrupted_attempts": failed,
        "lease_session_kept": same_lease,
        "worker_alive": proc.poll() is None,
    }
    passed = (
        audit.ok()
        and audit.attempts == 2 * n
        and failed == 0
        and bool(same_lease)
        and bool(same_process)
        and proc.poll() is None
    )
    return Result("operator timeouts (S18)", audit, passed, figures)


SERVER_SCENARIOS = [lease_black_hole, listen_black_hole, operator_timeouts, read_only_server]
