"""Unit tests for the worker's building blocks that need no database.

WorkerConfig validation, NOTIFY payload parsing, the daemon thread pool, the
event loop thread and the reconnect backoff.
"""

from __future__ import annotations

import asyncio
import threading
import time
from datetime import UTC, datetime

import pytest

from goodjob_pg.aioloop import EventLoopThread
from goodjob_pg.pools import PoolSpec
from goodjob_pg.reconnect import Backoff
from goodjob_pg.threadpool import DaemonExecutor
from goodjob_pg.wakeups import parse_payload
from goodjob_pg.worker import WorkerConfig

# -- WorkerConfig -----------------------------------------------------------------------


def test_config_defaults() -> None:
    config = WorkerConfig()
    assert config.pools == (PoolSpec("*", 5),)
    assert config.poll_interval == 10.0
    assert config.shutdown_timeout == -1.0
    assert config.listen_notify is True
    assert config.idle_timeout is None


def test_config_pools_use_max_threads() -> None:
    config = WorkerConfig(queues="mice:2;elephants,mice:1;*", max_threads=7)
    assert config.pools == (PoolSpec("mice", 2), PoolSpec("elephants,mice", 1), PoolSpec("*", 7))


def test_config_is_frozen() -> None:
    config = WorkerConfig()
    with pytest.raises(AttributeError):
        config.queues = "x"  # type: ignore[misc]


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"queues": "mice:0"}, "invalid thread count '0'"),
        ({"queues": "a b"}, "invalid queue name 'a b'"),
        ({"queues": ""}, "queues string is empty"),
        ({"max_threads": 0}, "max_threads must be at least 1"),
        ({"max_threads": 2.5}, "max_threads must be an integer"),
        ({"poll_interval": 0}, "poll_interval must be > 0 or -1"),
        ({"poll_interval": -2}, "poll_interval must be > 0 or -1"),
        ({"max_cache": -1}, "max_cache must be >= 0"),
        ({"shutdown_timeout": -0.5}, "shutdown_timeout must be >= 0 or -1"),
        ({"idle_timeout": 0}, "idle_timeout must be > 0 or None"),
    ],
)
def test_config_rejects_bad_values(kwargs: dict[str, object], message: str) -> None:
    with pytest.raises(ValueError) as info:
        WorkerConfig(**kwargs)  # type: ignore[arg-type]
    assert message in str(info.value)


def test_config_accepts_disabled_values() -> None:
    WorkerConfig(poll_interval=-1, shutdown_timeout=0, max_cache=0, idle_timeout=0.1)


# -- NOTIFY payloads --------------------------------------------------------------------


def test_parse_payload() -> None:
    assert parse_payload('{"queue": "mice"}') == ("mice", None)
    when = datetime(2030, 1, 2, 3, 4, 5, 600000, tzinfo=UTC)
    assert parse_payload(f'{{"queue": "q", "run_at": "{when.isoformat()}"}}') == (
        "q",
        when.timestamp(),
    )
    # The form Postgres' json_build_object gives a timestamptz.
    assert parse_payload('{"queue" : "q", "run_at" : "2030-01-02T03:04:05.6+00:00"}') == (
        "q",
        when.timestamp(),
    )


@pytest.mark.parametrize(
    "payload",
    [
        "",
        "not json",
        "[]",
        "null",
        '"q"',
        '{"queue": 5}',
        '{"run_at": "2030-01-01T00:00:00+00:00"}',
        '{"queue": "q", "run_at": 1}',
        '{"queue": "q", "run_at": "tomorrow"}',
        '{"queue": "q", "run_at": "2030-01-01T00:00:00"}',
    ],
)
def test_parse_payload_ignores_junk(payload: str) -> None:
    assert parse_payload(payload) is None


# -- DaemonExecutor ---------------------------------------------------------------------


def test_executor_runs_and_returns() -> None:
    executor = DaemonExecutor(2, name="t")
    futures = [executor.submit(lambda x=x: x * 2) for x in range(2)]
    assert [f.result(timeout=2) for f in futures] == [0, 2]
    executor.shutdown()


def test_executor_passes_exceptions_to_the_future() -> None:
    executor = DaemonExecutor(1, name="t")

    def boom() -> None:
        raise KeyError("x")

    with pytest.raises(KeyError):
        executor.submit(boom).result(timeout=2)
    executor.shutdown()


def test_executor_threads_are_daemons_and_bounded() -> None:
    executor = DaemonExecutor(3, name="bounded")
    release = threading.Event()
    futures = [executor.submit(release.wait, 5) for _ in range(3)]
    time.sleep(0.05)
    names = [t for t in threading.enumerate() if t.name.startswith("bounded-")]
    assert len(names) == 3 and all(t.daemon for t in names)
    release.set()
    assert all(f.result(timeout=2) for f in futures)
    # Idle threads are reused, not multiplied.
    assert executor.submit(lambda: 1).result(timeout=2) == 1
    assert len([t for t in threading.enumerate() if t.name.startswith("bounded-")]) == 3
    executor.shutdown()


def test_executor_shutdown_leaves_running_calls_and_cancels_queued() -> None:
    executor = DaemonExecutor(1, name="t")
    started, release = threading.Event(), threading.Event()

    def work() -> bool:
        started.set()
        return release.wait(5)

    running = executor.submit(work)
    assert started.wait(2)
    queued = executor.submit(lambda: 1)
    executor.shutdown()
    assert queued.cancelled()
    assert not running.done()
    release.set()
    assert running.result(timeout=2) is True
    with pytest.raises(RuntimeError):
        executor.submit(lambda: 1)


# -- EventLoopThread --------------------------------------------------------------------


def test_event_loop_thread_runs_coroutines_and_cancels_on_stop() -> None:
    loop = EventLoopThread(name="t-loop")

    async def double(x: int) -> int:
        await asyncio.sleep(0)
        return x * 2

    assert loop.submit(double(21)).result(timeout=2) == 42
    hanging = loop.submit(asyncio.sleep(30))
    loop.stop(grace=0.5)
    assert hanging.cancelled()
    loop.stop()  # idempotent


# -- Backoff ----------------------------------------------------------------------------


def test_backoff_grows_with_jitter_and_caps() -> None:
    backoff = Backoff(base=0.1, cap=1.0)
    delays = [backoff.next_delay() for _ in range(10)]
    assert 0.05 <= delays[0] <= 0.1
    assert 0.1 <= delays[1] <= 0.2
    assert all(0.5 <= d <= 1.0 for d in delays[5:])
    backoff.reset()
    assert backoff.next_delay() <= 0.1
