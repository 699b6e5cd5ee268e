"""Batches, cron entries, processes, queues and concurrency keys, with their actions.

Actions are POST only and CSRF-checked.

Cron entries are enabled, disabled and run through goodjob_enable_cron_entry,
goodjob_disable_cron_entry and goodjob_run_cron_entry; queues are paused and
resumed with goodjob_pause and goodjob_resume.
"""

from __future__ import annotations

from typing import Any

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from .. import db
from ..errors import GoodjobError
from .web import checked_form, parse_uuid, query, redirect, render


async def batches(request: Request) -> Response:
    """GET /batches: the newest 100 batches."""
    rows = await query(request, db.list_batches, 100)
    return render(request, "batches.html", {"batches": rows})


async def batch(request: Request) -> Response:
    """GET /batches/<id>: a batch's counts, callbacks and properties."""
    batch_id = parse_uuid(request.path_params["batch_id"], "batch id")
    found = await query(request, db.get_batch, batch_id)
    if found is None:
        raise HTTPException(404, f"batch {batch_id} not found")
    return render(request, "batch.html", {"batch": found})


async def cron(request: Request) -> Response:
    """GET /cron: every entry with its next and last run."""
    rows = await query(request, db.cron_status)
    return render(request, "cron.html", {"entries": rows, "done": request.query_params.get("done")})


async def _act(request: Request, fn: Any, *args: Any, **kwargs: Any) -> None:
    try:
        await query(request, fn, *args, **kwargs)
    except GoodjobError as exc:
        raise HTTPException(409, str(exc)) from None


async def cron_action(request: Request) -> Response:
    """POST /cron/<enable|disable|run> with the entry's ``key`` in the form."""
    form = await checked_form(request)
    key, action = str(form.get("key") or ""), request.path_params["action"]
    if action in ("enable", "disable"):
        await _act(request, db.set_cron_entry_enabled, key, action == "enable")
    elif action == "run":
        await _act(request, db.run_cron_entry, key)
    else:
        raise HTTPException(404, f"unknown action {action!r}")
    return redirect(request, "cron", {"done": f"{action}: {key}"})


async def processes(request: Request) -> Response:
    """GET /processes: registered workers, their heartbeat and running jobs."""
    rows = await query(request, db.processes)
    return render(request, "processes.html", {"processes": rows})


async def keys(request: Request) -> Response:
    """GET /keys: each active concurrency key with its limits and current counts."""
    rows = await query(request, db.concurrency_keys)
    return render(request, "keys.html", {"keys": rows})


async def queues(request: Request) -> Response:
    """GET /queues: per-queue counts and whether the queue is paused."""
    rows = await query(request, db.queue_stats)
    return render(request, "queues.html", {"queues": rows, "actions": True})


async def queue_action(request: Request) -> Response:
    """POST /queues/<pause|resume> with the ``queue`` in the form."""
    form = await checked_form(request)
    name, action = str(form.get("queue") or ""), request.path_params["action"]
    if action not in ("pause", "resume"):
        raise HTTPException(404, f"unknown action {action!r}")
    await _act(request, db.pause if action == "pause" else db.resume, queue=name)
    return redirect(request, "queues")


ROUTES = [
    Route("/batches", batches, name="batches"),
    Route("/batches/{batch_id}", batch, name="batch"),
    Route("/cron", cron, name="cron"),
    Route("/cron/{action}", cron_action, methods=["POST"], name="cron_action"),
    Route("/processes", processes, name="processes"),
    Route("/keys", keys, name="keys"),
    Route("/queues", queues, name="queues"),
    Route("/queues/{action}", queue_action, methods=["POST"], name="queue_action"),
]
