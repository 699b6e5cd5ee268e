"""The dashboard's CSRF tokens, basic auth and binding rules (no database)."""

from __future__ import annotations

import base64

import click
import pytest
from click.testing import CliRunner
from starlette.applications import Starlette
from starlette.responses import PlainTextResponse
from starlette.routing import Route
from starlette.testclient import TestClient

from goodjob_pg.cli import main
from goodjob_pg.cli_dashboard import check_binding
from goodjob_pg.dashboard.security import BasicAuth, Csrf


def test_csrf_tokens_are_signed() -> None:
    csrf = Csrf(b"secret")
    token = csrf.new_token()
    assert csrf.valid(token)
    nonce, _, signature = token.partition(".")
    assert not csrf.valid(f"{nonce}.{'0' * len(signature)}")
    assert not csrf.valid(token.replace(".", ""))
    assert not csrf.valid(None)
    assert not Csrf(b"other").valid(token)
    assert csrf.new_token() != token


def _protected(username: str, password: str) -> TestClient:
    async def hello(request: object) -> PlainTextResponse:
        return PlainTextResponse("hello")

    inner = Starlette(routes=[Route("/", hello)])
    return TestClient(BasicAuth(inner, username=username, password=password))


def test_basic_auth() -> None:
    client = _protected("admin", "s3cret:with:colons")
    assert client.get("/").status_code == 401
    assert "Basic" in client.get("/").headers["www-authenticate"]
    assert client.get("/", auth=("admin", "nope")).status_code == 401
    assert client.get("/", headers={"Authorization": "Basic !!notbase64"}).status_code == 401
    assert client.get("/", auth=("admin", "s3cret:with:colons")).text == "hello"
    raw = base64.b64encode(b"admin:s3cret:with:colons").decode()
    assert client.get("/", headers={"Authorization": f"basic {raw}"}).status_code == 200


@pytest.mark.parametrize("host", ["127.0.0.1", "localhost", "::1", "127.0.0.2"])
def test_loopback_needs_no_credentials(host: str) -> None:
    check_binding(host, None, None, no_auth=False)


def test_other_addresses_need_credentials_or_no_auth() -> None:
    with pytest.raises(click.UsageError, match="GOODJOB_DASHBOARD_USERNAME"):
        check_binding("0.0.0.0", None, None, no_auth=False)
    with pytest.raises(click.UsageError, match="both"):
        check_binding("0.0.0.0", "admin", None, no_auth=False)
    check_binding("0.0.0.0", "admin", "pw", no_auth=False)
    check_binding("example.com", None, None, no_auth=True)


def test_cli_refuses_an_open_binding(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("GOODJOB_DASHBOARD_USERNAME", raising=False)
    monkeypatch.delenv("GOODJOB_DASHBOARD_PASSWORD", raising=False)
    result = CliRunner().invoke(main, ["dashboard", "--host", "0.0.0.0"])
    assert result.exit_code == 2
    assert "--no-auth" in result.output


def test_create_app_wants_both_credentials() -> None:
    from goodjob_pg.dashboard import create_app
    from goodjob_pg.registry import App

    with pytest.raises(ValueError, match="both"):
        create_app(App(database_url="postgresql:///unused"), username="u")
