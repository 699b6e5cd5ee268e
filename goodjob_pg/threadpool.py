"""A small thread pool whose threads do not keep the process alive.

``concurrent.futures.ThreadPoolExecutor`` joins its threads when the
interpreter exits, so one task that never returns would keep a worker alive
past its shutdown timeout. A worker must be able to leave such a job behind
(``goodjob_deregister_process`` makes it ready again), so pools run sync
tasks here instead: the same ``submit() -> Future`` contract, on daemon
threads started on demand up to a fixed size.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable
from concurrent.futures import Future
from typing import Any, TypeVar

__all__ = ["DaemonExecutor"]

T = TypeVar("T")

_WorkItem = tuple[Future[Any], Callable[..., Any], tuple[Any, ...]]


class DaemonExecutor:
    """Run callables on at most ``max_workers`` daemon threads.

    :param max_workers: the most threads (the pool's slot count).
    :param name: thread name prefix.
    """

    def __init__(self, max_workers: int, *, name: str) -> None:
        if max_workers < 1:
            raise ValueError(f"max_workers must be at least 1, not {max_workers}")
        self._max = max_workers
        self._name = name
        self._queue: queue.SimpleQueue[_WorkItem | None] = queue.SimpleQueue()
        self._threads: list[threading.Thread] = []
        self._idle = 0
        self._lock = threading.Lock()
        self._shutdown = False

    def submit(self, fn: Callable[..., T], /, *args: Any) -> Future[T]:
        """Schedule ``fn(*args)``; return its Future."""
        future: Future[T] = Future()
        with self._lock:
            if self._shutdown:
                raise RuntimeError("cannot submit after shutdown")
            if self._idle == 0 and len(self._threads) < self._max:
                thread = threading.Thread(
                    target=self._work, name=f"{self._name}-{len(self._threads)}", daemon=True
                )
                self._threads.append(thread)
                thread.start()
            else:
                self._idle -= 1 if self._idle else 0
            self._queue.put((future, fn, args))
        return future

    def shutdown(self) -> None:
        """Cancel queued work and let idle threads exit; running calls are left alone."""
        with self._lock:
            self._shutdown = True
            for _ in self._threads:
                self._queue.put(None)
        while True:
            try:
                item = self._queue.get_nowait()
            except queue.Empty:
                break
            if item is None:
                self._queue.put(None)
                break
            item[0].cancel()

    def _work(self) -> None:
        while True:
            item = self._queue.get()
            if item is None:
                return
            future, fn, args = item
            if future.set_running_or_notify_cancel():
                try:
                    future.set_result(fn(*args))
                except BaseException as exc:
                    future.set_exception(exc)
            del item, future
            with self._lock:
                self._idle += 1
