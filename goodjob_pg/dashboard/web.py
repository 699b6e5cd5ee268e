"""What every dashboard page shares: database calls off the event loop, rendering, forms.

Pages call :func:`query` to run a ``goodjob_pg.db`` function on a connection
borrowed from the App's pool in a worker thread, :func:`render` to answer
with a template (it also issues the CSRF cookie), and :func:`checked_form`
to read a POST whose CSRF token must match.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import urlencode
from uuid import UUID

import jinja2
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import FormData
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.templating import Jinja2Templates

from ..registry import App
from .security import CSRF_FIELD, Csrf

T = TypeVar("T")

HERE = Path(__file__).parent
templates = Jinja2Templates(directory=HERE / "templates")  # autoescape is on


@jinja2.pass_context
def _link(
    ctx: Mapping[str, Any], name: str, query: Mapping[str, Any] | None = None, **path: Any
) -> str:
    """The URL path of route ``name`` (under any mount prefix), with a query string."""
    request: Request = ctx["request"]
    url = request.url_for(name, **{k: str(v) for k, v in path.items()}).path
    pairs = {k: v for k, v in (query or {}).items() if v not in (None, "")}
    return f"{url}?{urlencode(pairs)}" if pairs else url


templates.env.globals["link"] = _link


def goodjob_app(request: Request) -> App:
    """The App whose database the dashboard shows."""
    app: App = request.app.state.goodjob_app
    return app


async def query(request: Request, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
    """Run ``fn(conn, *args, **kwargs)`` in a thread, on a pooled autocommit connection."""
    app = goodjob_app(request)

    def call() -> T:
        with app.connection() as conn:
            return fn(conn, *args, **kwargs)

    return await run_in_threadpool(call)


def poll_seconds(request: Request) -> int | None:
    """``?poll=N`` (2 to 3600 seconds): the page reloads itself every N seconds."""
    raw = request.query_params.get("poll")
    if not raw:
        return None
    try:
        seconds = int(raw)
    except ValueError:
        raise HTTPException(400, f"poll must be a number of seconds, got {raw!r}") from None
    return min(max(seconds, 2), 3600)


def render(
    request: Request, template: str, context: dict[str, Any], status_code: int = 200
) -> Response:
    """Render a page with the CSRF token, the poll interval and the current path."""
    csrf: Csrf = request.app.state.csrf
    token = csrf.token_for(request)
    context = {"csrf_token": token, "poll": poll_seconds(request), **context}
    response = templates.TemplateResponse(request, template, context, status_code=status_code)
    csrf.set(response, request, token)
    return response


async def checked_form(request: Request) -> FormData:
    """The POSTed form, after checking its CSRF token (403 when it does not match)."""
    form = await request.form()
    csrf: Csrf = request.app.state.csrf
    if not csrf.check(request, form.get(CSRF_FIELD)):
        raise HTTPException(403, "missing or invalid CSRF token: reload the page and try again")
    return form


def redirect(
    request: Request, name: str, query: Mapping[str, Any] | None = None, **path: Any
) -> Response:
    """A 303 See Other to route ``name`` (after a POST)."""
    url = _link({"request": request}, name, query, **path)
    return RedirectResponse(url, status_code=303)


def parse_uuid(value: str | None, what: str) -> UUID | None:
    """``value`` as a UUID (None when empty); 400 when it is not one."""
    if not value:
        return None
    try:
        return UUID(value)
    except ValueError:
        raise HTTPException(400, f"{what} must be a UUID, got {value!r}") from None
