"""pytest fixtures for testing code that enqueues goodjob-pg jobs.

Enable it and say which App the tests use::

    # conftest.py
    pytest_plugins = ["goodjob_pg.pytest_plugin"]

    @pytest.fixture
    def goodjob_app(test_database_url):
        with App(test_database_url) as app:   # or your app, pointed at the test database
            yield app

Then ``goodjob_inline`` (jobs run at enqueue) or ``goodjob_manual`` (jobs
wait for ``app.drain()``) give that App in the mode the test wants, and put
its mode back afterwards. See :mod:`goodjob_pg.testing`.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from .registry import App
from .testing import inline, manual

__all__ = ["goodjob_inline", "goodjob_manual"]


@pytest.fixture
def goodjob_inline(goodjob_app: App) -> Iterator[App]:
    """``goodjob_app`` in inline mode: each enqueue runs the due job at once."""
    with inline(goodjob_app) as app:
        yield app


@pytest.fixture
def goodjob_manual(goodjob_app: App) -> Iterator[App]:
    """``goodjob_app`` in manual mode: jobs are rows until ``app.drain()`` runs them."""
    with manual(goodjob_app) as app:
        yield app
