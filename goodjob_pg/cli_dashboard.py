"""``goodjob-pg dashboard``: serve the web dashboard with uvicorn.

It binds 127.0.0.1 by default. Any other address needs credentials
(``GOODJOB_DASHBOARD_USERNAME`` and ``GOODJOB_DASHBOARD_PASSWORD``, checked
with HTTP basic auth) or an explicit ``--no-auth`` (say, behind a proxy that
authenticates).
"""

from __future__ import annotations

import ipaddress
import os

import click

from .cli_common import (
    app_option,
    database_option,
    load_app,
    log_level_option,
    resolve_database_url,
)
from .registry import App


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def check_binding(host: str, username: str | None, password: str | None, no_auth: bool) -> None:
    """Refuse to serve a non-loopback address without credentials or --no-auth."""
    if (username is None) != (password is None):
        raise click.UsageError(
            "set both GOODJOB_DASHBOARD_USERNAME and GOODJOB_DASHBOARD_PASSWORD, or neither"
        )
    if not _is_loopback(host) and username is None and not no_auth:
        raise click.UsageError(
            f"--host {host} is reachable from other machines: set GOODJOB_DASHBOARD_USERNAME"
            " and GOODJOB_DASHBOARD_PASSWORD (basic auth), or pass --no-auth"
        )


@click.command()
@click.option("--host", default="127.0.0.1", show_default=True, show_envvar=True)
@click.option("--port", default=8080, show_default=True, type=click.IntRange(0, 65535))
@click.option(
    "--no-auth",
    is_flag=True,
    help="Serve a non-loopback --host without basic auth (e.g. behind an authenticating proxy).",
)
@app_option(required=False)
@database_option
@log_level_option("info")
def dashboard(
    host: str, port: int, no_auth: bool, app_spec: str | None, database_url: str | None
) -> None:
    """Serve the web dashboard (needs the extra: pip install 'goodjob-pg[dashboard]')."""
    username = os.environ.get("GOODJOB_DASHBOARD_USERNAME") or None
    password = os.environ.get("GOODJOB_DASHBOARD_PASSWORD") or None
    check_binding(host, username, password, no_auth)
    try:
        import uvicorn

        from .dashboard import create_app
    except ImportError as exc:
        raise click.ClickException(
            f"the dashboard needs its extra: pip install 'goodjob-pg[dashboard]' ({exc})"
        ) from None
    app = load_app(app_spec) if app_spec else App(database_url=database_url)
    resolve_database_url(database_url, app)  # --database-url and --schema win over the App's
    web = create_app(app, username=username, password=password)
    click.echo(f"goodjob-pg dashboard on http://{host}:{port}/", err=True)
    uvicorn.run(web, host=host, port=port, log_level="warning")
