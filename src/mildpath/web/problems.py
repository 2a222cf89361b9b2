"""The one place that turns errors into responses: RFC 9457 problem+json under ``/api`` (and the CDS Hooks
and FHIR endpoints), an HTML error page elsewhere. Nothing else knows status codes."""

from __future__ import annotations

import logging
from typing import Any
from urllib.parse import quote

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from starlette.exceptions import HTTPException as StarletteHTTPException

from mildpath.domain.errors import (
    Conflict,
    InvalidInput,
    MildpathError,
    NotFound,
    PermissionDenied,
    RuleViolation,
)

log = logging.getLogger("mildpath.web")

PROBLEM = "application/problem+json"


class LoginRequired(Exception):
    """No valid credentials: 401 for the API, a redirect to the login page for pages."""


class CsrfFailed(Exception):
    """A state-changing form arrived without the right CSRF token."""


class TooManyAttempts(Exception):
    def __init__(self, retry_after: int) -> None:
        super().__init__("too many attempts")
        self.retry_after = retry_after


STATUS: list[tuple[type[BaseException], int, str]] = [
    (NotFound, 404, "Not found"),
    (PermissionDenied, 403, "Forbidden"),
    (Conflict, 409, "Conflict"),
    (RuleViolation, 409, "Blocked by a safety rule"),
    (InvalidInput, 422, "Invalid input"),
    (MildpathError, 400, "Bad request"),
]


def wants_problem(request: Request) -> bool:
    path = request.url.path
    return path.startswith(("/api/", "/cds-services", "/fhir/")) or "application/json" in request.headers.get(
        "accept", ""
    )


def problem(status: int, title: str, detail: str, request: Request, **extra: Any) -> JSONResponse:
    body = {"type": "about:blank", "title": title, "status": status, "detail": detail, "instance": request.url.path}
    body.update(extra)
    return JSONResponse(body, status_code=status, media_type=PROBLEM)


def _html(request: Request, status: int, title: str, detail: str) -> Response:
    templates = getattr(request.app.state, "templates", None)
    if templates is None:
        return HTMLResponse(f"<h1>{status} {title}</h1><p>{detail}</p>", status_code=status)
    return templates.TemplateResponse(
        request, "error.html", {"status": status, "title": title, "detail": detail}, status_code=status
    )


def _respond(request: Request, status: int, title: str, detail: str, **extra: Any) -> Response:
    if wants_problem(request):
        return problem(status, title, detail, request, **extra)
    return _html(request, status, title, detail)


def install(app: FastAPI) -> None:
    @app.exception_handler(MildpathError)
    async def _domain(request: Request, exc: MildpathError) -> Response:
        for cls, status, title in STATUS:
            if isinstance(exc, cls):
                extra: dict[str, Any] = {}
                if isinstance(exc, InvalidInput) and exc.field:
                    extra["errors"] = [{"field": exc.field, "message": exc.message}]
                if isinstance(exc, NotFound):
                    return _respond(request, 404, title, "No such record, or it is not yours to see.")
                return _respond(request, status, title, exc.message, **extra)
        return _respond(request, 400, "Bad request", exc.message)

    @app.exception_handler(RequestValidationError)
    async def _validation(request: Request, exc: RequestValidationError) -> Response:
        errors = []
        for err in exc.errors():
            loc = [str(p) for p in err.get("loc", ()) if p not in ("body", "query", "path")]
            errors.append({"field": ".".join(loc) or "body", "message": err.get("msg", "invalid")})
        json_broken = any(e.get("type") == "json_invalid" for e in exc.errors())
        status = 400 if json_broken else 422
        title = "Malformed JSON" if json_broken else "Invalid input"
        detail = "; ".join(f"{e['field']}: {e['message']}" for e in errors[:5])
        return _respond(request, status, title, detail, errors=errors)

    @app.exception_handler(LoginRequired)
    async def _login(request: Request, exc: LoginRequired) -> Response:
        if wants_problem(request):
            resp = problem(401, "Unauthorized", "Log in or send a bearer token.", request)
            resp.headers["WWW-Authenticate"] = "Bearer"
            return resp
        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        return RedirectResponse(f"/login?next={quote(target)}", status_code=303)

    @app.exception_handler(CsrfFailed)
    async def _csrf(request: Request, exc: CsrfFailed) -> Response:
        return _respond(request, 403, "Form expired", "The form was stale or forged. Reload the page and try again.")

    @app.exception_handler(TooManyAttempts)
    async def _throttled(request: Request, exc: TooManyAttempts) -> Response:
        resp = _respond(request, 429, "Too many attempts", "Too many attempts; try again later.")
        resp.headers["Retry-After"] = str(exc.retry_after)
        return resp

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> Response:
        title = {404: "Not found", 405: "Method not allowed", 413: "Request body too large"}.get(
            exc.status_code, "Error"
        )
        detail = exc.detail if isinstance(exc.detail, str) else title
        resp = _respond(request, exc.status_code, title, detail)
        for k, v in (exc.headers or {}).items():
            resp.headers[k] = v
        return resp

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> Response:
        # Only the error's type and the route: a message could quote patient data.
        log.error(
            "unexpected %s on %s %s",
            type(exc).__name__,
            request.method,
            getattr(request.scope.get("route"), "path", "?"),
        )
        return _respond(request, 500, "Internal error", "Something went wrong; nothing was saved.")
