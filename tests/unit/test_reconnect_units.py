"""Reconnect plumbing without a database: Backoff, the log rate limiter, error classes."""

from __future__ import annotations

import logging
import socket
import threading
import time
from typing import Any

import psycopg
import pytest

from goodjob_pg.ratelimit import LogLimiter
from goodjob_pg.reconnect import (
    Backoff,
    Watchdog,
    is_read_only,
    is_transient,
    is_unreachable,
    wait_until_usable,
)


def test_backoff_is_bounded_jittered_capped_and_resets() -> None:
    backoff = Backoff(base=0.1, cap=2.0)
    delays = [backoff.next_delay() for _ in range(200)]
    assert backoff.failures == 200
    for i, delay in enumerate(delays):
        ceiling = min(2.0, 0.1 * 2**i)
        assert ceiling / 2 <= delay <= ceiling, (i, delay)  # bounded: jitter in [d/2, d]
    capped = delays[10:]
    assert max(capped) <= 2.0 and min(capped) >= 1.0  # the cap holds for ever
    assert len({round(d, 9) for d in capped}) > 150  # jitter: workers do not retry in step
    backoff.reset()
    assert backoff.failures == 0
    assert backoff.next_delay() <= 0.1  # after a success it starts small again


def test_backoff_reaches_one_try_a_second_after_a_few() -> None:
    """The default backoff: after 5 failures, never more than one try a second."""
    for _ in range(50):
        backoff = Backoff()
        delays = [backoff.next_delay() for _ in range(12)]
        assert all(d >= 0.8 for d in delays[4:]), delays
        assert sum(delays[:5]) <= 3.1  # the first few come quickly
        assert max(delays) <= 10.0  # the default cap: a returning server is found within 10 s


def test_backoff_wait_returns_at_once_when_stopped() -> None:
    stop = threading.Event()
    stop.set()
    backoff = Backoff(base=100.0, cap=100.0)
    assert backoff.wait(stop) is True
    assert Backoff(base=0.001).wait(threading.Event()) is False


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_log_limiter_burst_then_one_per_interval_with_counts() -> None:
    clock = FakeClock()
    limiter = LogLimiter(burst=3, interval=10.0, clock=clock)
    allowed = []
    for _ in range(100):  # 100 lines in 10 s
        allowed.append(limiter.allow("k"))
        clock.now += 0.1
    assert allowed[:3] == [0, 0, 0]
    assert [a for a in allowed[3:] if a is not None] == []
    clock.now += 0.2  # 10 s after the third line: one line, with the count held back
    assert limiter.allow("k") == 97
    assert limiter.allow("k") is None
    assert limiter.allow("other") == 0  # kinds are limited apart
    limiter.reset("k")  # the outage is over: the next one is reported at once
    assert limiter.allow("k") == 0


def test_log_limiter_warning_lines(caplog: pytest.LogCaptureFixture) -> None:
    clock = FakeClock()
    limiter = LogLimiter(burst=1, interval=5.0, clock=clock)
    log = logging.getLogger("test.ratelimit")
    with caplog.at_level(logging.WARNING, logger="test.ratelimit"):
        results = [limiter.warning(log, "k", "down %d", i, extra={"action": "x"}) for i in range(4)]
        clock.now += 5.0
        assert limiter.warning(log, "k", "down %d", 9, extra={"action": "x"})
    assert results == [True, False, False, False]
    assert [r.getMessage() for r in caplog.records] == [
        "down 0",
        "down 9 (3 similar line(s) suppressed)",
    ]
    assert [(r.action, r.suppressed) for r in caplog.records] == [("x", 0), ("x", 3)]  # type: ignore[attr-defined]
    with pytest.raises(ValueError):
        LogLimiter(burst=0)


def test_error_classes() -> None:
    read_only = psycopg.errors.lookup("25006")("cannot execute INSERT in a read-only transaction")
    recovery = psycopg.errors.lookup("0A000")(
        "cannot set transaction read-write mode during recovery"
    )
    assert is_read_only(read_only) and is_transient(read_only)
    assert is_read_only(recovery) and is_transient(recovery)
    for code in ("57014", "55P03", "40P01", "57P01", "53300", "08006"):
        assert is_transient(psycopg.errors.lookup(code)("x")), code
    assert is_transient(OSError("reset"))
    for code in ("42501", "22023", "0A000", "GJ013"):
        exc = psycopg.errors.lookup(code)("x") if code != "GJ013" else psycopg.DatabaseError("x")
        assert not is_transient(exc), code


def test_unreachable_is_a_server_not_there_not_a_mistake() -> None:
    assert is_unreachable(psycopg.OperationalError("connection refused"))  # no SQLSTATE
    for code in ("08006", "08001", "57P01", "57P02", "57P03", "53300"):
        assert is_unreachable(psycopg.errors.lookup(code)("x")), code
    for code in ("28P01", "28000", "3D000", "25006", "42501"):
        assert not is_unreachable(psycopg.errors.lookup(code)("x")), code
    assert not is_unreachable(OSError("reset"))
    # libpq gives no SQLSTATE for a failed connection: the server's line decides
    failed = 'connection failed: connection to server at "127.0.0.1", port 5432 failed: '
    for reason in (
        "FATAL:  the database system is starting up",
        "FATAL:  the database system is shutting down",
        "FATAL:  sorry, too many clients already",
        "server closed the connection unexpectedly",
        "Connection refused",
    ):
        assert is_unreachable(psycopg.OperationalError(failed + reason)), reason
    for reason in (
        'FATAL:  database "nosuchdb" does not exist',
        'FATAL:  password authentication failed for user "app"',
        'FATAL:  no pg_hba.conf entry for host "10.0.0.1"',
    ):
        assert not is_unreachable(psycopg.OperationalError(failed + reason)), reason


class Flaky:
    """An attempt that raises each of ``errors`` in turn, then returns "ok"."""

    def __init__(self, *errors: BaseException) -> None:
        self.errors = list(errors)
        self.calls = 0

    def __call__(self) -> str:
        self.calls += 1
        if self.errors:
            raise self.errors.pop(0)
        return "ok"


def test_startup_waits_out_a_server_that_is_down_or_read_only() -> None:
    attempt = Flaky(
        psycopg.OperationalError("connection refused"),
        psycopg.errors.lookup("57P03")("the database system is starting up"),
        psycopg.errors.lookup("25006")("read-only transaction"),
    )
    assert wait_until_usable(attempt, lambda: False) == "ok"
    assert attempt.calls == 4


def test_startup_gives_up_on_an_unreachable_server_after_its_budget(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Each pause at the top of its jitter range: 0.1, 0.2, 0.4, 0.8, 1.6 s, ...
    monkeypatch.setattr("goodjob_pg.reconnect.random.uniform", lambda low, high: high)
    refused = psycopg.OperationalError("connection refused")
    attempt = Flaky(*[refused] * 100)
    began = time.monotonic()
    with pytest.raises(psycopg.OperationalError, match="connection refused"):
        wait_until_usable(attempt, lambda: False, unreachable_for=2.0)
    waited = time.monotonic() - began
    # The last try comes when the 2 s run out (after 1.5 s of pauses, 0.5 s
    # more), not a whole pause later (1.6 s more, at 3.1 s).
    assert attempt.calls == 6
    assert 2.0 <= waited < 2.8, waited


def test_startup_reports_a_mistake_at_once() -> None:
    attempt = Flaky(psycopg.errors.lookup("28P01")("password authentication failed"))
    with pytest.raises(psycopg.errors.InvalidPassword):
        wait_until_usable(attempt, lambda: False)
    assert attempt.calls == 1


def test_startup_wait_stops_when_asked() -> None:
    attempt = Flaky(*[psycopg.OperationalError("refused")] * 100)
    assert wait_until_usable(attempt, lambda: True) is None
    assert attempt.calls == 1


def test_watchdog_uses_the_shorter_of_its_limits() -> None:
    """A statement watched with its own limit is broken after that limit (a real socket)."""
    left, right = socket.socketpair()
    conn: Any = left  # break_connection needs only fileno()
    watchdog = Watchdog(limit=60.0)
    try:
        with watchdog.watch(conn, "lease", limit=0.0):
            threading.Event().wait(0.01)
            assert watchdog.check() == 1
        with watchdog.watch(conn, "pool", limit=None):
            assert watchdog.check() == 0  # 60 s not reached
        assert right.recv(1) == b""  # the shut-down socket reads as closed
    finally:
        left.close()
        right.close()
