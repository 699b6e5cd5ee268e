"""The dashboard's ASGI application: :func:`create_app` builds it for one goodjob-pg App."""

from __future__ import annotations

import os
import secrets

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Mount
from starlette.staticfiles import StaticFiles

from ..registry import App
from . import pages_admin, pages_jobs, pages_overview
from .security import BasicAuth, Csrf, SecurityHeaders
from .web import HERE, render


async def _error(request: Request, exc: Exception) -> Response:
    """An HTTP error as a page (the message escaped like everything else)."""
    assert isinstance(exc, HTTPException)
    return render(
        request, "error.html", {"status": exc.status_code, "message": exc.detail}, exc.status_code
    )


def create_app(
    app: App,
    *,
    username: str | None = None,
    password: str | None = None,
    secret: str | bytes | None = None,
) -> Starlette:
    """The dashboard of ``app``'s database, as a Starlette (ASGI) application.

    Mount it under any prefix of a FastAPI or Starlette application (or serve
    it beside Django's ASGI app); the host's own authentication middleware
    then applies to it. With ``username`` and ``password`` it also asks for
    HTTP basic auth itself.

    app: the goodjob-pg App whose pool (and database) the pages use.
    username, password: basic-auth credentials; both or neither.
    secret: key that signs the CSRF tokens; default ``GOODJOB_DASHBOARD_SECRET``,
        else random per process (tokens then last until a restart).
    """
    if (username is None) != (password is None):
        raise ValueError("pass both username and password for basic auth, or neither")
    key = secret if secret is not None else os.environ.get("GOODJOB_DASHBOARD_SECRET")
    middleware = [Middleware(SecurityHeaders)]
    if username is not None and password is not None:
        middleware.append(Middleware(BasicAuth, username=username, password=password))
    web = Starlette(
        routes=[
            *pages_overview.ROUTES,
            *pages_jobs.ROUTES,
            *pages_admin.ROUTES,
            Mount("/static", StaticFiles(directory=HERE / "static"), name="static"),
        ],
        middleware=middleware,
        exception_handlers={HTTPException: _error},
    )
    web.state.goodjob_app = app
    raw = key.encode() if isinstance(key, str) else key
    web.state.csrf = Csrf(raw if raw else secrets.token_bytes(32))
    return web
