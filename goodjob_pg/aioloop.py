"""The worker's event loop for ``async def`` tasks, on a dedicated thread."""

from __future__ import annotations

import asyncio
import logging
import threading
from collections.abc import Coroutine
from concurrent.futures import Future
from typing import Any, TypeVar

__all__ = ["EventLoopThread"]

logger = logging.getLogger(__name__)

T = TypeVar("T")


class EventLoopThread:
    """One asyncio loop running in a daemon thread, started on first use.

    Every pool submits its async jobs here; each pool counts its own slots.
    """

    def __init__(self, name: str = "goodjob-asyncio") -> None:
        self._name = name
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()

    def submit(self, coro: Coroutine[Any, Any, T]) -> Future[T]:
        """Run ``coro`` on the loop (starting it if needed); return a Future."""
        with self._lock:
            if self._loop is None:
                loop = asyncio.new_event_loop()
                thread = threading.Thread(target=loop.run_forever, name=self._name, daemon=True)
                thread.start()
                self._loop, self._thread = loop, thread
            loop = self._loop
        return asyncio.run_coroutine_threadsafe(coro, loop)

    def stop(self, grace: float = 1.0) -> None:
        """Cancel what still runs (allowing ``grace`` seconds), then stop and close the loop."""
        with self._lock:
            loop, thread = self._loop, self._thread
            self._loop = self._thread = None
        if loop is None or thread is None:
            return

        async def cancel_all() -> None:
            tasks = [t for t in asyncio.all_tasks() if t is not asyncio.current_task()]
            for task in tasks:
                task.cancel()
            if tasks:
                await asyncio.wait(tasks, timeout=grace)
            await loop.shutdown_asyncgens()

        try:
            asyncio.run_coroutine_threadsafe(cancel_all(), loop).result(timeout=grace + 1.0)
        except Exception:
            logger.debug("event loop shutdown incomplete", exc_info=True)
        loop.call_soon_threadsafe(loop.stop)
        thread.join(grace + 1.0)
        if not loop.is_running():
            loop.close()
