"""The goodjob-pg web dashboard (``pip install goodjob-pg[dashboard]``).

``create_app(app)`` returns an ASGI application showing the queue of ``app``'s
database: overview, job search, one job's executions and errors, batches,
cron, processes and queues, with retry/discard/reschedule/delete and
pause/resume actions that call the same SQL functions as the CLI.
``goodjob-pg dashboard`` serves it with uvicorn.
"""

from __future__ import annotations

from .app import create_app

__all__ = ["create_app"]
