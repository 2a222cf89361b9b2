"""HTTP-level protection: security headers, the request size limit, client addresses and CSRF tokens.

The middlewares are plain ASGI (no BaseHTTPMiddleware), one concern each, so that they add almost nothing
per request; :class:`SecurityMiddleware` composes them.
"""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import json
import secrets
from abc import ABC, abstractmethod
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

SESSION_COOKIE = "mp_session"
ANON_COOKIE = "mp_anon"
CSRF_FIELD = "csrf_token"
CSRF_HEADER = "x-csrf-token"

# No 'unsafe-inline' for scripts (contracts §7): HTMX and our own script are static files. Styles likewise.
CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; font-src 'self'; "
    "connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'self'; object-src 'none'"
)
# The OpenAPI page (/docs) loads Swagger UI, which needs its own inline bootstrap script: that one page
# alone gets a looser policy, and it shows no patient data.
DOCS_CSP = (
    "default-src 'self'; script-src 'self' 'unsafe-inline' https://cdn.jsdelivr.net; "
    "style-src 'self' 'unsafe-inline' https://cdn.jsdelivr.net; img-src 'self' data: https://fastapi.tiangolo.com; "
    "frame-ancestors 'none'; base-uri 'self'; object-src 'none'"
)


def client_address(scope: Scope, trusted_proxies: list[str]) -> str:
    """The socket peer, or, behind a trusted proxy, the rightmost address it did not add itself."""
    peer = (scope.get("client") or ("", 0))[0] or ""
    if not trusted_proxies or peer not in trusted_proxies:
        return peer
    for name, value in scope.get("headers") or []:
        if name == b"x-forwarded-for":
            text: str = value.decode("latin-1")
            hops = [h.strip() for h in text.split(",") if h.strip()]
            for hop in reversed(hops):
                if hop not in trusted_proxies and _is_ip(hop):
                    return hop
    return peer


def _is_ip(value: str) -> bool:
    try:
        ipaddress.ip_address(value)
    except ValueError:
        return False
    return True


def csrf_token(secret: str, binding: str) -> str:
    """The CSRF token for a session (or an anonymous visitor): an HMAC, so nothing needs storing."""
    return hmac.new(secret.encode(), f"csrf:{binding}".encode(), hashlib.sha256).hexdigest()


def csrf_valid(secret: str, binding: str, token: str | None) -> bool:
    return bool(token) and hmac.compare_digest(csrf_token(secret, binding), token or "")


def cookie_value(scope: Scope, name: str) -> str | None:
    for key, value in scope.get("headers") or []:
        if key == b"cookie":
            text: str = value.decode("latin-1")
            for part in text.split(";"):
                k, _, v = part.strip().partition("=")
                if k == name and v:
                    return v
    return None


_HEADERS = [
    (b"x-frame-options", b"DENY"),
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"same-origin"),
    (b"permissions-policy", b"camera=(), microphone=(), geolocation=()"),
    (b"cross-origin-opener-policy", b"same-origin"),
]


def security_headers(path: str, https: bool) -> list[tuple[bytes, bytes]]:
    """The headers every response gets (a response's own header of the same name wins)."""
    csp = DOCS_CSP if path in ("/docs", "/redoc") else CSP
    headers = [(b"content-security-policy", csp.encode()), *_HEADERS]
    if https:
        headers.append((b"strict-transport-security", b"max-age=31536000; includeSubDomains"))
    if not path.startswith("/static/"):
        headers.append((b"cache-control", b"no-store"))
    return headers


def _on_start(send: Send, edit: Callable[[list[tuple[bytes, bytes]]], None]) -> Send:
    """A ``send`` that lets ``edit`` change the response headers of ``http.response.start``."""

    async def wrapped(message: Message) -> None:
        if message["type"] == "http.response.start":
            raw = list(message.get("headers") or [])
            edit(raw)
            message["headers"] = raw
        await send(message)

    return wrapped


class _HttpOnly(ABC):
    """A pure-ASGI middleware that acts on HTTP requests only (lifespan and others pass straight through)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            await self.http(scope, receive, send)
        else:
            await self.app(scope, receive, send)

    @abstractmethod
    async def http(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Handle one HTTP request."""


class ConnectionMiddleware:
    """Records on ``scope["state"]`` who is asking (``client_address``) and whether over HTTPS (``https``)."""

    def __init__(self, app: ASGIApp, *, trusted_proxies: list[str]) -> None:
        self.app = app
        self.trusted = trusted_proxies

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            headers = dict(scope.get("headers") or [])
            https = scope.get("scheme") == "https" or (
                headers.get(b"x-forwarded-proto") == b"https" and (scope.get("client") or ("",))[0] in self.trusted
            )
            state = scope.setdefault("state", {})
            state["client_address"] = client_address(scope, self.trusted)
            state["https"] = https
        await self.app(scope, receive, send)


class SecurityHeadersMiddleware(_HttpOnly):
    """Adds :func:`security_headers` to every HTTP response; needs :class:`ConnectionMiddleware` outside it."""

    async def http(self, scope: Scope, receive: Receive, send: Send) -> None:
        extra = security_headers(scope.get("path", ""), bool(scope.get("state", {}).get("https")))

        def add(raw: list[tuple[bytes, bytes]]) -> None:
            names = {k.lower() for k, _ in raw}
            raw.extend((k, v) for k, v in extra if k not in names)

        await self.app(scope, receive, _on_start(send, add))


class AnonymousCookieMiddleware(_HttpOnly):
    """Gives every browser an anonymous-visitor id (``scope["state"]["anon_id"]``, cookie ``mp_anon``) that
    anonymous forms bind their CSRF token to; the cookie is set on pages only (not the API, static files or
    the health check). Needs :class:`ConnectionMiddleware` outside it."""

    async def http(self, scope: Scope, receive: Receive, send: Send) -> None:
        anon = cookie_value(scope, ANON_COOKIE)
        state = scope.setdefault("state", {})
        if anon is not None:
            state["anon_id"] = anon
            await self.app(scope, receive, send)
            return
        new_anon = state["anon_id"] = secrets.token_urlsafe(18)
        if scope.get("path", "").startswith(("/api/", "/static/", "/healthz")):
            await self.app(scope, receive, send)
            return
        secure = "; Secure" if state.get("https") else ""
        cookie = f"{ANON_COOKIE}={new_anon}; Path=/; HttpOnly; SameSite=Lax{secure}".encode()
        await self.app(scope, receive, _on_start(send, lambda raw: raw.append((b"set-cookie", cookie))))


class BodyLimitMiddleware:
    """Refuses a request body over ``max_body`` bytes with 413 problem+json, before reading it whole: at once
    when Content-Length says so, else as soon as the body read so far passes the limit."""

    def __init__(self, app: ASGIApp, *, max_body: int) -> None:
        self.app = app
        self.max_body = max_body

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path: str = scope.get("path", "")
        limit = self.max_body
        length = dict(scope.get("headers") or []).get(b"content-length")
        if length is not None and _over(length, limit):
            await _too_large(send, path, limit)
            return
        received = 0
        exceeded = started = False

        async def limited_receive() -> Message:
            nonlocal received, exceeded
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    exceeded = True
                    raise BodyTooLarge()
            return message

        async def guarded_send(message: Message) -> None:
            nonlocal started
            if not exceeded:
                started = started or message["type"] == "http.response.start"
                await send(message)
            elif message["type"] == "http.response.start" and not started:
                # The app may have caught BodyTooLarge while parsing (FastAPI answers 400 "error parsing the
                # body"): whatever it sends instead, the client gets the 413, once.
                started = True
                await _too_large(send, path, limit)

        try:
            await self.app(scope, limited_receive, guarded_send)
        except BodyTooLarge:
            if not started:
                await _too_large(send, path, limit)


def _over(length: bytes, limit: int) -> bool:
    try:
        return int(length) > limit
    except ValueError:
        return False


class SecurityMiddleware:
    """The HTTP protection stack, outermost first: :class:`BodyLimitMiddleware` (its 413 carries its own
    headers), :class:`ConnectionMiddleware`, :class:`AnonymousCookieMiddleware`, :class:`SecurityHeadersMiddleware`.
    Each is one concern; this class only composes them, in the order the response headers come out."""

    def __init__(self, app: ASGIApp, *, max_body: int, trusted_proxies: list[str]) -> None:
        inner = AnonymousCookieMiddleware(SecurityHeadersMiddleware(app))
        self.app: ASGIApp = BodyLimitMiddleware(
            ConnectionMiddleware(inner, trusted_proxies=trusted_proxies), max_body=max_body
        )

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        await self.app(scope, receive, send)


class BodyTooLarge(Exception):
    """The request body passed the configured limit while it was being read."""


async def _too_large(send: Send, path: str, limit: int) -> None:
    body = json.dumps(
        {
            "type": "about:blank",
            "title": "Request body too large",
            "status": 413,
            "detail": f"the request body is larger than the limit of {limit // (1024 * 1024)} MB",
        }
    ).encode()
    await send(
        {
            "type": "http.response.start",
            "status": 413,
            "headers": [
                (b"content-type", b"application/problem+json"),
                (b"content-length", str(len(body)).encode()),
                (b"content-security-policy", CSP.encode()),
                (b"x-content-type-options", b"nosniff"),
                (b"x-frame-options", b"DENY"),
                (b"connection", b"close"),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})


class OverloadMiddleware:
    """The overload guard (issue 17, issue 21 item 12): at most ``limit`` HTTP requests of this worker process are
    handled at once; the next one is answered 503 problem+json with ``Retry-After`` at once, before its body is
    read or anything is saved, instead of queueing (for the threadpool, SQLite's writer or a pooled PostgreSQL
    connection) until it times out a minute later. The connection stays open (keep-alive): a refused request
    is answered, never dropped. One event loop per worker runs this, so a plain counter is exact."""

    def __init__(self, app: ASGIApp, *, limit: int) -> None:
        self.app = app
        self.limit = limit
        self.in_flight = 0

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        if self.in_flight >= self.limit:
            await _overloaded(send)
            return
        self.in_flight += 1
        try:
            await self.app(scope, receive, send)
        finally:
            self.in_flight -= 1


_OVERLOADED = json.dumps(
    {
        "type": "about:blank",
        "title": "Service unavailable",
        "status": 503,
        "detail": "The server is busy; nothing was read or saved. Try again (with the same Idempotency-Key).",
    }
).encode()


async def _overloaded(send: Send) -> None:
    await send(
        {
            "type": "http.response.start",
            "status": 503,
            "headers": [
                (b"content-type", b"application/problem+json"),
                (b"content-length", str(len(_OVERLOADED)).encode()),
                (b"retry-after", b"1"),
                (b"cache-control", b"no-store"),
                (b"content-security-policy", CSP.encode()),
                (b"x-content-type-options", b"nosniff"),
                (b"x-frame-options", b"DENY"),
            ],
        }
    )
    await send({"type": "http.response.body", "body": _OVERLOADED})


class CdsHooksCorsMiddleware:
    """CORS for the CDS Hooks routes only (``/cds-services...``), from ``MILDPATH_CORS_ORIGINS``: a browser-based
    CDS client on a listed origin may call them (the preflight ``OPTIONS`` is answered here, before any policy);
    every other path and origin gets no CORS headers. Starlette's CORSMiddleware does the work."""

    def __init__(self, app: ASGIApp, *, origins: list[str]) -> None:
        from starlette.middleware.cors import CORSMiddleware

        self.app = app
        self.cors: ASGIApp | None = (
            CORSMiddleware(
                app,
                allow_origins=origins,
                allow_methods=["GET", "POST", "OPTIONS"],
                allow_headers=["Authorization", "Content-Type"],
                max_age=600,
            )
            if origins
            else None
        )

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if self.cors is not None and scope["type"] == "http" and scope["path"].startswith("/cds-services"):
            await self.cors(scope, receive, send)
        else:
            await self.app(scope, receive, send)
