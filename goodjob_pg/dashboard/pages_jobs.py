"""The jobs pages: search with keyset pagination, one job, and the actions on jobs.

Actions go through the operator SQL functions (goodjob_retry_job,
goodjob_discard_job, goodjob_reschedule_job, goodjob_delete_job), on one job
or on every job matching a filter after a confirmation page that shows the
count. Jobs that change state between the count and the action are skipped.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID

from starlette.datastructures import FormData
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from .. import db
from ..db._dashboard import STATES
from ..errors import GoodjobError, JobNotFoundError, JobStateError
from .web import checked_form, parse_uuid, query, redirect, render

PAGE_SIZE = 50
FILTERS = ("state", "queue", "task", "label", "batch", "q")

# action: (states it accepts, states a filter without ?state= matches), as the CLI does
ACTIONS: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "retry": (("discarded", "scheduled", "queued"), ("discarded",)),
    "discard": (("scheduled", "queued"), ("scheduled", "queued")),
    "reschedule": (("scheduled", "queued"), ("scheduled", "queued")),
    "delete": (("succeeded", "discarded"), ("succeeded", "discarded")),
}
PAST = {
    "retry": "retried",
    "discard": "discarded",
    "reschedule": "rescheduled",
    "delete": "deleted",
}


def _search(values: Any) -> db.Search:
    """The filter of a query string or form (400 on a bad state or batch id)."""
    state = values.get("state") or None
    if state is not None and state not in STATES:
        raise HTTPException(400, f"unknown state {state!r}: pass one of {', '.join(STATES)}")
    return db.Search(
        state=state,
        queue=values.get("queue") or None,
        task=values.get("task") or None,
        label=values.get("label") or None,
        batch=parse_uuid(values.get("batch"), "batch"),
        q=(values.get("q") or "").strip() or None,
    )


def _filters(values: Any) -> dict[str, str]:
    return {k: values.get(k) for k in FILTERS if values.get(k)}


async def jobs(request: Request) -> Response:
    """GET /jobs: newest first, filtered, ``before=<id>`` for the next page."""
    search = _search(request.query_params)
    before = parse_uuid(request.query_params.get("before"), "before")
    rows = await query(request, db.search_jobs, search, before=before, limit=PAGE_SIZE)
    queues, tasks = await query(request, db.job_queues_and_tasks)
    more = len(rows) > PAGE_SIZE
    rows = rows[:PAGE_SIZE]
    return render(
        request,
        "jobs.html",
        {
            "jobs": rows,
            "filters": _filters(request.query_params),
            "next_before": rows[-1]["id"] if more else None,
            "states": STATES,
            "queues": queues,
            "tasks": tasks,
            "actions": ACTIONS,
            "done": request.query_params.get("done"),
            "count": request.query_params.get("n"),
        },
    )


async def job(request: Request) -> Response:
    """GET /jobs/<id>: arguments, labels, timeline, executions with their errors."""
    job_id = parse_uuid(request.path_params["job_id"], "job id")
    found = await query(request, db.get_job, job_id)
    if found is None:
        raise HTTPException(404, f"job {job_id} not found")
    attempts = await query(request, db.executions, job_id)
    for attempt in attempts:
        attempt["duration"] = (attempt["finished_at"] - attempt["started_at"]).total_seconds()
    return render(
        request,
        "job.html",
        {
            "job": found,
            "executions": attempts,
            "timeline": _timeline(found, attempts),
            "allowed": [a for a, (states, _) in ACTIONS.items() if found.state.value in states],
            "done": request.query_params.get("done"),
        },
    )


def _timeline(job: Any, attempts: list[dict[str, Any]]) -> list[tuple[datetime, str]]:
    """The job's events in time order: enqueued, each attempt's start and end, finished."""
    events: list[tuple[datetime, str]] = [(job.created_at, "enqueued")]
    if job.run_at > job.created_at and job.state.value in ("scheduled", "queued"):
        events.append((job.run_at, "runs at" if job.state.value == "scheduled" else "ready"))
    for a in attempts:
        events.append((a["started_at"], f"attempt {a['attempt']} started"))
        events.append((a["finished_at"], f"attempt {a['attempt']} {a['outcome']}"))
    if job.state.value == "running" and job.started_at is not None:
        events.append((job.started_at, f"attempt {job.attempts} running"))
    if job.finished_at is not None:
        events.append((job.finished_at, job.state.value))
    return sorted(events, key=lambda e: e[0])


def _action(name: str, form: FormData) -> Callable[[Any, UUID], UUID]:
    """The per-job function of an action (reschedule reads ``delay`` seconds or ``run_at``)."""
    if name == "retry":
        return db.retry_job
    if name == "discard":
        reason = str(form.get("reason") or "") or None
        return lambda conn, job_id: db.discard_job(conn, job_id, reason)
    if name == "delete":
        return db.delete_job
    if name == "reschedule":
        when = _run_at(form)
        return lambda conn, job_id: db.reschedule_job(conn, job_id, when)
    raise HTTPException(404, f"unknown action {name!r}")


def _run_at(form: FormData) -> datetime:
    raw_at, raw_delay = str(form.get("run_at") or ""), str(form.get("delay") or "")
    try:
        if raw_at:
            at = datetime.fromisoformat(raw_at)
            return at if at.tzinfo else at.replace(tzinfo=UTC)
        return datetime.now(UTC) + timedelta(seconds=float(raw_delay or "0"))
    except (ValueError, OverflowError):
        raise HTTPException(400, "reschedule needs run_at (ISO time) or delay (seconds)") from None


async def job_action(request: Request) -> Response:
    """POST /jobs/<id>/<action>: retry, discard, reschedule or delete one job."""
    form = await checked_form(request)
    name = request.path_params["action"]
    act = _action(name, form)
    job_id = parse_uuid(request.path_params["job_id"], "job id")
    try:
        await query(request, act, job_id)
    except JobNotFoundError as exc:
        raise HTTPException(404, str(exc)) from None
    except GoodjobError as exc:
        raise HTTPException(409, str(exc)) from None
    if name == "delete":
        return redirect(request, "jobs", {"done": "deleted", "n": 1})
    return redirect(request, "job", {"done": PAST[name]}, job_id=job_id)


def _targets(conn: Any, name: str, search: db.Search) -> list[UUID]:
    accepted, default = ACTIONS[name]
    return db.matching_job_ids(conn, search, accepted if search.state else default)


async def bulk_confirm(request: Request) -> Response:
    """GET /jobs/bulk/<action>?filters: how many jobs the action would change; a form to go on."""
    name = request.path_params["action"]
    if name not in ACTIONS:
        raise HTTPException(404, f"unknown action {name!r}")
    search = _search(request.query_params)
    ids = await query(request, _targets, name, search)
    return render(
        request,
        "confirm.html",
        {"action": name, "count": len(ids), "filters": _filters(request.query_params)},
    )


async def bulk_action(request: Request) -> Response:
    """POST /jobs/bulk/<action>: act on every job matching the form's filter."""
    form = await checked_form(request)
    name = request.path_params["action"]
    act = _action(name, form)
    search = _search(form)

    def run(conn: Any) -> int:
        done = 0
        for job_id in _targets(conn, name, search):
            try:
                act(conn, job_id)
                done += 1
            except (JobStateError, JobNotFoundError):
                pass  # changed since the count: skipped
        return done

    done = await query(request, run)
    return redirect(request, "jobs", {**_filters(form), "done": PAST[name], "n": done})


ROUTES = [
    Route("/jobs", jobs, name="jobs"),
    Route("/jobs/bulk/{action}", bulk_confirm, name="bulk_confirm"),
    Route("/jobs/bulk/{action}", bulk_action, methods=["POST"], name="bulk_action"),
    Route("/jobs/{job_id}", job, name="job"),
    Route("/jobs/{job_id}/{action}", job_action, methods=["POST"], name="job_action"),
]
