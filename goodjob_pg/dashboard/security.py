"""The dashboard's protections: CSRF tokens for every POST, optional HTTP basic auth.

CSRF (double submit, signed): a GET page sets the cookie ``goodjob_csrf`` to
``nonce.signature`` (HMAC-SHA256 of the nonce under the app's secret) and
puts the same token in every form. A POST passes only when the form field
equals the cookie and the signature is valid, both compared in constant
time, so another site can neither read nor forge the pair.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import secrets

from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

CSRF_COOKIE = "goodjob_csrf"
CSRF_FIELD = "csrf"


class Csrf:
    """Issues and checks signed CSRF tokens under one secret."""

    def __init__(self, secret: bytes) -> None:
        self._secret = secret

    def _sign(self, nonce: str) -> str:
        return hmac.new(self._secret, nonce.encode(), hashlib.sha256).hexdigest()

    def new_token(self) -> str:
        """A fresh ``nonce.signature`` token."""
        nonce = secrets.token_hex(16)
        return f"{nonce}.{self._sign(nonce)}"

    def valid(self, token: str | None) -> bool:
        """Whether ``token`` carries a valid signature (constant-time compare)."""
        if not token or "." not in token:
            return False
        nonce, _, signature = token.partition(".")
        return hmac.compare_digest(self._sign(nonce), signature)

    def token_for(self, request: Request) -> str:
        """The request's cookie token when valid, else a new one (set it with :meth:`set`)."""
        token = request.cookies.get(CSRF_COOKIE)
        return token if token is not None and self.valid(token) else self.new_token()

    def set(self, response: Response, request: Request, token: str) -> None:
        """Store ``token`` in the cookie unless it is already there."""
        if request.cookies.get(CSRF_COOKIE) != token:
            path = request.scope.get("root_path") or "/"
            response.set_cookie(CSRF_COOKIE, token, httponly=True, samesite="strict", path=path)

    def check(self, request: Request, submitted: object) -> bool:
        """Whether a POST's form token matches its cookie and is signed by us."""
        cookie = request.cookies.get(CSRF_COOKIE)
        if not isinstance(submitted, str) or cookie is None:
            return False
        return hmac.compare_digest(cookie.encode(), submitted.encode()) and self.valid(cookie)


class BasicAuth:
    """ASGI middleware: HTTP basic auth against one username and password (constant time)."""

    def __init__(self, app: ASGIApp, *, username: str, password: str) -> None:
        self.app = app
        self._expected = f"{username}:{password}".encode()

    def _allowed(self, header: str | None) -> bool:
        if not header or not header.lower().startswith("basic "):
            return False
        try:
            given = base64.b64decode(header[6:].strip(), validate=True)
        except (binascii.Error, ValueError):
            return False
        return hmac.compare_digest(given, self._expected)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Pass authorised HTTP requests on; answer 401 to the others."""
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = dict(scope.get("headers") or [])
        raw = headers.get(b"authorization")
        if self._allowed(raw.decode("latin-1") if raw else None):
            await self.app(scope, receive, send)
            return
        response = PlainTextResponse(
            "authentication required",
            status_code=401,
            headers={"WWW-Authenticate": 'Basic realm="goodjob-pg dashboard"'},
        )
        await response(scope, receive, send)


HEADERS = [
    # scripts, styles and forms only from the dashboard itself; never inside a frame
    (
        b"content-security-policy",
        b"default-src 'self'; img-src 'self' data:; frame-ancestors 'none'; base-uri 'none';"
        b" form-action 'self'",
    ),
    (b"x-frame-options", b"DENY"),
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"same-origin"),
]


class SecurityHeaders:
    """ASGI middleware: a strict Content-Security-Policy and no framing (clickjacking)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Add :data:`HEADERS` to every HTTP response."""
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                message = {**message, "headers": [*message.get("headers", []), *HEADERS]}
            await send(message)

        await self.app(scope, receive, send_with_headers)
