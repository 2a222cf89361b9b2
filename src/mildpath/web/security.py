"""HTTP-level protection: security headers, the request size limit, client addresses and CSRF tokens.

The middleware is plain ASGI (no BaseHTTPMiddleware) so that it adds almost nothing per request.
"""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import json
import secrets
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
            hops = [h.strip() for h in value.decode("latin-1").split(",") if h.strip()]
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
            for part in value.decode("latin-1").split(";"):
                k, _, v = part.strip().partition("=")
                if k == name and v:
                    return v
    return None


class SecurityMiddleware:
    """Adds the security headers, refuses oversized bodies with 413 before reading them whole, and gives
    every browser an anonymous-visitor cookie that anonymous forms bind their CSRF token to."""

    def __init__(self, app: ASGIApp, *, max_body: int, trusted_proxies: list[str]) -> None:
        self.app = app
        self.max_body = max_body
        self.trusted = trusted_proxies

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = dict(scope.get("headers") or [])
        https = scope.get("scheme") == "https" or (
            headers.get(b"x-forwarded-proto") == b"https" and (scope.get("client") or ("",))[0] in self.trusted
        )
        scope.setdefault("state", {})
        scope["state"]["client_address"] = client_address(scope, self.trusted)
        scope["state"]["https"] = https
        anon = cookie_value(scope, ANON_COOKIE)
        new_anon = None
        if anon is None:
            new_anon = anon = secrets.token_urlsafe(18)
        scope["state"]["anon_id"] = anon
        path: str = scope.get("path", "")

        length = headers.get(b"content-length")
        if length is not None:
            try:
                too_big = int(length) > self.max_body
            except ValueError:
                too_big = False
            if too_big:
                await _too_large(send, path, self.max_body)
                return

        received = 0
        limit = self.max_body
        exceeded = False

        async def limited_receive() -> Message:
            nonlocal received, exceeded
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    exceeded = True
                    raise BodyTooLarge()
            return message

        started = False

        async def send_with_headers(message: Message) -> None:
            nonlocal started
            if exceeded:
                # The app may have caught BodyTooLarge while parsing (FastAPI answers 400 "error parsing the
                # body"): whatever it sends instead, the client gets the 413, once.
                if message["type"] == "http.response.start" and not started:
                    started = True
                    await _too_large(send, path, limit)
                return
            if message["type"] == "http.response.start":
                started = True
                raw = list(message.get("headers") or [])
                names = {k.lower() for k, _ in raw}
                csp = DOCS_CSP if path in ("/docs", "/redoc") else CSP
                extra = [
                    (b"content-security-policy", csp.encode()),
                    (b"x-frame-options", b"DENY"),
                    (b"x-content-type-options", b"nosniff"),
                    (b"referrer-policy", b"same-origin"),
                    (b"permissions-policy", b"camera=(), microphone=(), geolocation=()"),
                    (b"cross-origin-opener-policy", b"same-origin"),
                ]
                if https:
                    extra.append((b"strict-transport-security", b"max-age=31536000; includeSubDomains"))
                if not path.startswith("/static/"):
                    extra.append((b"cache-control", b"no-store"))
                raw.extend((k, v) for k, v in extra if k not in names)
                if new_anon is not None and not path.startswith(("/api/", "/static/", "/healthz")):
                    secure = "; Secure" if https else ""
                    raw.append(
                        (b"set-cookie", f"{ANON_COOKIE}={new_anon}; Path=/; HttpOnly; SameSite=Lax{secure}".encode())
                    )
                message["headers"] = raw
            await send(message)

        try:
            await self.app(scope, limited_receive, send_with_headers)
        except BodyTooLarge:
            if not started:
                await _too_large(send, path, self.max_body)


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
