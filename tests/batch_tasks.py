"""Batch tasks for the worker tests (registered on tests.tasks_fixture's App).

Each records what it did in the ``completions`` side table through
``record(tag)``, so a test can count callbacks exactly and see their order.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from goodjob_pg import App, Batch, Discard, current_job


def add_batch_tasks(app: App, record: Callable[[str | None], None]) -> None:
    """Register the batch tasks on ``app``."""

    @app.task(name="batch_callback")
    def batch_callback(batch: Batch, params: dict[str, Any]) -> None:
        record(f"{params['event']}:{batch.id}")

    @app.task(name="batch_discard")
    def batch_discard() -> None:
        raise Discard("this member gives up")

    # GoodJob's staged batch: stage None -> a, b, c; stage 1 -> d, e (e adds f); stage 2.
    @app.task(name="stage_work")
    def stage_work(step: str) -> None:
        record(f"step:{step}")
        if step == "e":  # adds a sibling: the batch waits for it too
            batch = current_job().batch
            assert batch is not None
            with batch.add():
                stage_work.enqueue("f")

    @app.task(name="stage_callback")
    def stage_callback(batch: Batch, params: dict[str, Any]) -> None:
        stage = batch.properties.get("stage")
        record(f"stage:{stage}")
        if stage is None:
            with batch.add():
                for step in "abc":
                    stage_work.enqueue(step)
            batch.enqueue(stage=1)
        elif stage == 1:
            with batch.add():
                for step in "de":
                    stage_work.enqueue(step)
            batch.enqueue(stage=2)
