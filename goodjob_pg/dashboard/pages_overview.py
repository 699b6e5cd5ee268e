"""The overview page: jobs by state and by queue, and a chart of finished jobs."""

from __future__ import annotations

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from .. import db
from .web import query, render

# ?range=: (label, buckets, seconds per bucket)
RANGES = {"hour": ("last hour, per minute", 60, 60), "day": ("last day, per hour", 24, 3600)}


async def overview(request: Request) -> Response:
    """GET /: counts by state and queue; succeeded and discarded per minute (or hour)."""
    range_name = request.query_params.get("range", "hour")
    if range_name not in RANGES:
        raise HTTPException(400, f"unknown range {range_name!r}: pass hour or day")
    label, buckets, seconds = RANGES[range_name]
    counts = await query(request, db.state_counts)
    queues = await query(request, db.queue_stats)
    series = await query(request, db.throughput, buckets=buckets, bucket_seconds=seconds)
    peak = max([ok + bad for _, ok, bad in series] + [1])
    return render(
        request,
        "overview.html",
        {
            "counts": counts,
            "queues": queues,
            "series": series,
            "peak": peak,
            "range": range_name,
            "range_label": label,
            "ranges": RANGES,
            "finished": sum(ok for _, ok, _ in series),
            "failed": sum(bad for _, _, bad in series),
        },
    )


ROUTES = [Route("/", overview, name="overview")]
