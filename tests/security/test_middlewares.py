"""Each HTTP-protection middleware alone, driven as plain ASGI (issue 16: one concern each)."""

from __future__ import annotations

import ast
import json
from pathlib import Path
from typing import Any

from mildpath.web.security import (
    ANON_COOKIE,
    CSP,
    DOCS_CSP,
    AnonymousCookieMiddleware,
    BodyLimitMiddleware,
    ConnectionMiddleware,
    SecurityHeadersMiddleware,
    security_headers,
)
from tests.helpers import run_coroutine

Message = dict[str, Any]


def _run(coro):  # type: ignore[no-untyped-def]
    return run_coroutine(coro, timeout=120)


async def _echo(scope: dict[str, Any], receive: Any, send: Any) -> None:
    """An app that reads the whole body and answers 200 with its length and the scope state."""
    body = b""
    while True:
        message = await receive()
        body += message.get("body", b"")
        if not message.get("more_body"):
            break
    payload = json.dumps({"length": len(body), "state": scope.get("state", {})}).encode()
    await send({"type": "http.response.start", "status": 200, "headers": [(b"x-frame-options", b"SAMEORIGIN")]})
    await send({"type": "http.response.body", "body": payload})


def _call(app: Any, path: str = "/", headers: list[tuple[bytes, bytes]] | None = None, **scope: Any) -> list[Message]:
    chunks: list[bytes] = scope.pop("chunks", [b""])
    sent: list[Message] = []
    incoming = [
        {"type": "http.request", "body": c, "more_body": i < len(chunks) - 1} for i, c in enumerate(chunks)
    ]

    async def receive() -> Message:
        return incoming.pop(0)

    async def send(message: Message) -> None:
        sent.append(message)

    full = {"type": "http", "path": path, "headers": headers or [], "client": ("10.0.0.9", 5000), **scope}
    _run(app(full, receive, send))
    return sent


def _headers(sent: list[Message]) -> list[tuple[bytes, bytes]]:
    return list(sent[0]["headers"])


def test_security_headers_is_pure_and_depends_only_on_path_and_https() -> None:
    page = dict(security_headers("/patients", https=False))
    assert page[b"content-security-policy"] == CSP.encode() and page[b"cache-control"] == b"no-store"
    assert b"strict-transport-security" not in page
    assert dict(security_headers("/docs", https=True))[b"content-security-policy"] == DOCS_CSP.encode()
    assert b"strict-transport-security" in dict(security_headers("/docs", https=True))
    assert b"cache-control" not in dict(security_headers("/static/app.js", https=False))


def test_headers_middleware_adds_headers_and_keeps_the_response_own() -> None:
    sent = _call(SecurityHeadersMiddleware(_echo), "/x", state={"https": True})
    headers = _headers(sent)
    assert (b"x-frame-options", b"SAMEORIGIN") in headers and (b"x-frame-options", b"DENY") not in headers
    assert dict(headers)[b"strict-transport-security"].startswith(b"max-age=")
    assert sent[1]["body"]  # the body passes untouched


def test_connection_middleware_records_client_and_https_behind_a_trusted_proxy() -> None:
    app = ConnectionMiddleware(_echo, trusted_proxies=["10.0.0.9"])
    headers = [(b"x-forwarded-for", b"203.0.113.7"), (b"x-forwarded-proto", b"https")]
    state = json.loads(_call(app, headers=headers)[1]["body"])["state"]
    assert state == {"client_address": "203.0.113.7", "https": True}
    untrusted = ConnectionMiddleware(_echo, trusted_proxies=[])
    assert json.loads(_call(untrusted, headers=headers)[1]["body"])["state"] == {
        "client_address": "10.0.0.9",
        "https": False,
    }


def test_anonymous_cookie_is_set_once_on_pages_only() -> None:
    app = AnonymousCookieMiddleware(_echo)
    sent = _call(app, "/screen", state={"https": True})
    cookie = dict(_headers(sent))[b"set-cookie"].decode()
    anon = json.loads(sent[1]["body"])["state"]["anon_id"]
    assert cookie == f"{ANON_COOKIE}={anon}; Path=/; HttpOnly; SameSite=Lax; Secure"
    again = _call(app, "/screen", headers=[(b"cookie", f"{ANON_COOKIE}={anon}".encode())])
    assert b"set-cookie" not in dict(_headers(again)) and json.loads(again[1]["body"])["state"]["anon_id"] == anon
    api = _call(app, "/api/v1/x")
    assert b"set-cookie" not in dict(_headers(api)) and json.loads(api[1]["body"])["state"]["anon_id"]


def test_body_limit_refuses_by_content_length_without_calling_the_app() -> None:
    sent = _call(BodyLimitMiddleware(_echo, max_body=10), "/p", headers=[(b"content-length", b"11")])
    assert sent[0]["status"] == 413 and dict(_headers(sent))[b"content-type"] == b"application/problem+json"
    assert json.loads(sent[1]["body"])["status"] == 413 and len(sent) == 2


def test_body_limit_refuses_a_streamed_body_once_it_passes_the_limit() -> None:
    sent = _call(BodyLimitMiddleware(_echo, max_body=10), "/p", chunks=[b"123456", b"789012"])
    assert [m.get("status") for m in sent if m["type"] == "http.response.start"] == [413]
    ok = _call(BodyLimitMiddleware(_echo, max_body=10), "/p", chunks=[b"12345", b"67890"])
    assert ok[0]["status"] == 200 and json.loads(ok[1]["body"])["length"] == 10


def test_every_middleware_passes_other_scopes_through() -> None:
    seen: list[str] = []

    async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
        seen.append(scope["type"])

    for middleware in (
        SecurityHeadersMiddleware(app),
        AnonymousCookieMiddleware(app),
        ConnectionMiddleware(app, trusted_proxies=[]),
        BodyLimitMiddleware(app, max_body=1),
    ):
        _run(middleware({"type": "lifespan"}, None, None))  # type: ignore[arg-type]
    assert seen == ["lifespan"] * 4


def test_no_test_calls_asyncio_run_on_the_main_thread():
    """The class of a CI failure: asyncio.run() in a test fails when an earlier browser test left an event loop
    set on the main thread; tests run coroutines with tests.helpers.run_coroutine instead."""
    offenders = []
    for path in sorted(Path(__file__).resolve().parents[1].rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "run"
                    and isinstance(node.func.value, ast.Name) and node.func.value.id == "asyncio"):
                offenders.append(f"{path.name}:{node.lineno}")
    assert offenders == [], offenders
