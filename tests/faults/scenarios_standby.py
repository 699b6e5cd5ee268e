"""S13: a worker on a read-only server, a real hot standby and then a read-only default.

A private primary gets jobs; ``pg_basebackup -R`` makes a streaming standby
of it; the primary stops (as in a fail-over) and a worker is started against
the standby through a TCP proxy, which counts its connection attempts. While
the standby is read-only the worker waits: no job fails, attempts back off
(at most about one a second per connection after the first few) and warning
lines are rate-limited. Then the standby is promoted and the worker drains
the queue. Second phase, on the now writable server: while three jobs run
(ending after the window, so their own writes succeed) and two slots keep
fetching, ``default_transaction_read_only`` is turned on (``alter system`` + reload,
so every session's next transaction is read-only) for the same window, then
off again; the same counts apply and every job succeeds once.
"""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import Any

from tests.faults import private_server
from tests.faults.harness import Audit, FaultBed, wait_for
from tests.faults.scenarios import Result, Size
from tests.faults.server_common import ServerSize, running, server_size, warning_lines
from tests.faults.standby import StandbyServer
from tests.proxy import TCPProxy

__all__ = ["read_only_server"]

_SETTLE = 3.0  # seconds of "first few" attempts before the rate is counted
_CONNECTIONS = 2  # a worker with one pool: the lease connection and the pool's


def _log_size(bed: FaultBed) -> int:
    return os.path.getsize(bed.log) if bed.log.exists() else 0


def _watch(bed: FaultBed, proxy: TCPProxy, window: float) -> dict[str, Any]:
    """Watch the worker for ``window`` seconds of a read-only server; count what it did."""
    offset = _log_size(bed)
    start = proxy.accepted
    time.sleep(_SETTLE)
    settled = proxy.accepted
    time.sleep(window - _SETTLE)
    rate_window = window - _SETTLE
    return {
        "connects": proxy.accepted - start,
        "connects_after_settling": proxy.accepted - settled,
        "connect_bound": round(_CONNECTIONS * (rate_window + 1)),
        "warnings": warning_lines(bed, offset),
        "failed_attempts": int(
            bed.scalar("select count(*) from goodjob_executions where outcome <> 'succeeded'")
        ),
    }


def _ok(watch: dict[str, Any], window: float) -> bool:
    # Per rate-limited kind (lease, pool, start-up): 3 lines, then one per 10 s.
    warning_bound = 3 * (3 + int(window // 10) + 1)
    return (
        watch["connects_after_settling"] <= watch["connect_bound"]
        and watch["warnings"] <= warning_bound
        and watch["failed_attempts"] == 0
    )


def read_only_server(size: Size, log_dir: Path) -> Result:
    """S13: start on a hot standby, promote it; then a read-only default mid-run."""
    if not private_server.available():
        return Result("read-only server", Audit(0, 0, 0, 0, 0, 0, 0, 0, 0), True, {"skipped": True})
    s = server_size(size)
    primary = private_server.PrivateServer()
    standby: StandbyServer | None = None
    try:
        with FaultBed(log_dir, "read_only", url=primary.url) as bed:
            ids = bed.enqueue(s.jobs, seconds=0.05)
            standby = StandbyServer(primary)
            standby.wait_replayed(primary.url)
            primary.stop("fast")  # the old primary is gone, as in a fail-over
            bed.url = standby.url
            bed.reconnect()
            with TCPProxy("127.0.0.1", standby.port) as proxy:
                url = f"postgresql://postgres@127.0.0.1:{proxy.port}/postgres"
                args = ("--queues", "*:5", "--poll-interval", "1")
                args += ("--heartbeat-interval", "1", "--rescue-interval", "1")
                proc = bed.spawn(*args, url=url)
                on_standby = _watch(bed, proxy, s.window)
                waiting = proc.poll() is None
                promoted_at = time.monotonic()
                standby.promote()
                bed.wait_drained(s.timeout)
                resumed = round(time.monotonic() - promoted_at, 1)
                # Jobs that end after the window (a task writing to a read-only
                # server fails on its own account), leaving two slots that fetch.
                more = bed.enqueue(3, seconds=s.window + 2.0)
                wait_for(lambda: running(bed) == 3, s.timeout, 0.05)
                read_only = _read_only_default(bed, proxy, s)
                bed.wait_drained(s.timeout)
            audit = bed.audit(ids + more)
            figures = {
                "standby": on_standby,
                "resumed_after_promote_s": resumed,
                "read_only_default": read_only,
            }
            passed = (
                audit.ok()
                and waiting
                and proc.poll() is None
                and _ok(on_standby, s.window)
                and _ok(read_only, s.window)
                and audit.attempts == len(ids) + len(more)
            )
            return Result("read-only server (standby, then default)", audit, passed, figures)
    finally:
        if standby is not None:
            standby.close()
        primary.close()


def _read_only_default(bed: FaultBed, proxy: TCPProxy, s: ServerSize) -> dict[str, Any]:
    """Turn default_transaction_read_only on for the window, then off; return the counts."""
    bed.conn.execute("alter system set default_transaction_read_only = on")
    bed.conn.execute("select pg_reload_conf()")
    try:
        return _watch(bed, proxy, s.window)
    finally:
        bed.conn.execute("set default_transaction_read_only = off")
        bed.conn.execute("alter system reset default_transaction_read_only")
        bed.conn.execute("select pg_reload_conf()")
