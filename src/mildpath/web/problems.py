"""The one place that turns errors into responses: RFC 9457 problem+json under ``/api`` (and the CDS Hooks
and FHIR endpoints), an HTML error page elsewhere. Nothing else knows status codes."""

from __future__ import annotations

import logging
import sqlite3
from typing import Any
from urllib.parse import quote

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from sqlalchemy import exc as sa_exc
from starlette.exceptions import HTTPException as StarletteHTTPException

from mildpath.domain.errors import (
    Conflict,
    InvalidInput,
    MildpathError,
    NotFound,
    PermissionDenied,
    RuleViolation,
)
from mildpath.web import i18n

log = logging.getLogger("mildpath.web")

PROBLEM = "application/problem+json"
FHIR_JSON = "application/fhir+json"


class FhirJSONResponse(JSONResponse):
    """A FHIR resource: ``application/fhir+json``, as the OpenAPI document then says (``response_class``)."""

    media_type = FHIR_JSON


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


# The problem+json body, as documented in the OpenAPI schema (RFC 9457 members, plus ``errors`` naming fields).
PROBLEM_SCHEMA: dict[str, Any] = {
    "type": "object",
    "title": "Problem",
    "required": ["type", "title", "status", "detail"],
    "properties": {
        "type": {"type": "string"},
        "title": {"type": "string"},
        "status": {"type": "integer"},
        "detail": {"type": "string"},
        "instance": {"type": "string"},
        "errors": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["field", "message"],
                "properties": {"field": {"type": "string"}, "message": {"type": "string"}},
            },
        },
    },
}
PROBLEM_RESPONSES = {
    "400": "Malformed JSON, or a request the API cannot read",
    "401": "No credentials, or credentials that are not valid (send `Authorization: Bearer <token>`)",
    "403": "Authenticated, but this role may not do this",
    "404": "No such record, or it is not yours to see (the same answer for both)",
    "409": "The change clashes with the record's current state, or a safety rule blocks it",
    "413": "The request body is larger than the limit (`MILDPATH_MAX_BODY_MB`)",
    "422": "Invalid input; `errors` names each field and what is wrong with it",
    "503": "The database is busy or unavailable; nothing was saved. Retry (with the same Idempotency-Key)",
}
_FASTAPI_422 = "#/components/schemas/HTTPValidationError"


def document_problems(schema: dict[str, Any]) -> dict[str, Any]:
    """Declare the problem+json answers every API operation can give in the OpenAPI ``schema`` (in place).

    FastAPI documents only the success and its own 422 shape; the app answers errors from this module, so
    the schema says so: clients (and the schemathesis fuzzing test) can rely on every documented status and
    body. A route's own description of one of these statuses is kept.
    """
    schema.setdefault("components", {}).setdefault("schemas", {})["Problem"] = PROBLEM_SCHEMA
    ref = {"$ref": "#/components/schemas/Problem"}
    outcome = {"type": "object", "required": ["resourceType", "issue"], "properties": {"resourceType": {
        "type": "string", "const": "OperationOutcome"}, "issue": {"type": "array"}}}
    for path, operations in schema.get("paths", {}).items():
        fhir = path.startswith("/fhir/")  # FHIR errors are OperationOutcome (contracts §11)
        for method, operation in operations.items():
            if method not in ("get", "post", "put", "patch", "delete"):
                continue
            responses = operation.setdefault("responses", {})
            for code, description in PROBLEM_RESPONSES.items():
                current = responses.get(code)
                if current is None or _FASTAPI_422 in str(current):
                    content = {FHIR_JSON: {"schema": outcome}} if fhir else {PROBLEM: {"schema": ref}}
                    responses[code] = {"description": description, "content": content}
    components = schema["components"]["schemas"]
    if _FASTAPI_422.rsplit("/", 1)[1] in components and _FASTAPI_422 not in str(schema.get("paths")):
        components.pop("HTTPValidationError", None)
        components.pop("ValidationError", None)
    return schema


def wants_problem(request: Request) -> bool:
    path = request.url.path
    return path.startswith(("/api/", "/cds-services", "/fhir/")) or "application/json" in request.headers.get(
        "accept", ""
    )


def problem(status: int, title: str, detail: str, request: Request, **extra: Any) -> JSONResponse:
    # A patient reads ``detail``: in their language when the catalogue has it (the English text otherwise).
    i18n.set_language(i18n.negotiate(request))
    detail = i18n.gettext(detail)
    if isinstance(extra.get("errors"), list):
        extra["errors"] = [
            {**e, "message": i18n.gettext(str(e.get("message", "")))} if isinstance(e, dict) else e
            for e in extra["errors"]
        ]
    if request.url.path.startswith("/fhir/"):  # FHIR answers errors as OperationOutcome (contracts §11)
        return fhir_outcome(status, title, detail, extra.get("errors"))
    body = {"type": "about:blank", "title": title, "status": status, "detail": detail, "instance": request.url.path}
    body.update(extra)
    return JSONResponse(body, status_code=status, media_type=PROBLEM)


_ISSUE_CODE = {
    400: "invalid",
    401: "login",
    403: "forbidden",
    404: "not-found",
    405: "not-supported",
    409: "conflict",
    412: "processing",
    413: "too-costly",
    422: "invalid",
    429: "throttled",
    503: "transient",
}


def fhir_outcome(status: int, title: str, detail: str, errors: Any = None) -> JSONResponse:
    """An R4 OperationOutcome for an error under ``/fhir/``: one issue, plus one per field error."""
    code = _ISSUE_CODE.get(status, "exception")
    issues: list[dict[str, Any]] = [{"severity": "error", "code": code, "diagnostics": f"{title}: {detail}"}]
    for e in errors if isinstance(errors, list) else []:
        if isinstance(e, dict) and e.get("field"):
            issues.append(
                {
                    "severity": "error",
                    "code": code,
                    "diagnostics": str(e.get("message", "")),
                    "expression": [str(e["field"])],
                }
            )
    return JSONResponse({"resourceType": "OperationOutcome", "issue": issues}, status_code=status, media_type=FHIR_JSON)


def _html(request: Request, status: int, title: str, detail: str) -> Response:
    templates = getattr(request.app.state, "templates", None)
    if templates is None:
        return HTMLResponse(f"<h1>{status} {title}</h1><p>{detail}</p>", status_code=status)
    language = getattr(request.state, "lang", None) or i18n.negotiate(request)
    request.state.lang = language
    i18n.set_language(language)
    return templates.TemplateResponse(
        request,
        "error.html",
        {"status": status, "title": i18n.gettext(title), "detail": i18n.gettext(detail)},
        status_code=status,
    )


def _respond(request: Request, status: int, title: str, detail: str, **extra: Any) -> Response:
    if wants_problem(request):
        return problem(status, title, detail, request, **extra)
    return _html(request, status, title, detail)


METHODS = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE")


def allowed_methods(request: Request) -> list[str]:
    """The methods some route of the app fully matches for this request's path."""
    from starlette.routing import Match

    routes = request.app.router.routes
    allowed = []
    for method in METHODS:
        scope = {**request.scope, "method": method}
        if any(route.matches(scope)[0] == Match.FULL for route in routes):
            allowed.append(method)
    return allowed


def install(app: FastAPI) -> None:
    @app.exception_handler(MildpathError)
    async def _domain(request: Request, exc: MildpathError) -> Response:
        for cls, status, title in STATUS:
            if isinstance(exc, cls):
                extra: dict[str, Any] = {}
                listed = exc.data.get("errors") if isinstance(exc, InvalidInput) else None
                if isinstance(listed, list) and listed:
                    extra["errors"] = [
                        {"field": str(e.get("field", "")), "message": str(e.get("message", ""))}
                        if isinstance(e, dict)
                        else {"field": "", "message": str(e)}
                        for e in listed
                    ]
                elif isinstance(exc, InvalidInput) and exc.field:
                    extra["errors"] = [{"field": exc.field, "message": exc.message}]
                if isinstance(exc, NotFound):
                    return _respond(request, 404, title, "No such record, or it is not yours to see.")
                resp = _respond(request, status, title, exc.message, **extra)
                retry_after = getattr(exc, "retry_after", None)
                if retry_after is not None:  # a temporary clash (an Idempotency-Key still in flight)
                    resp.headers["Retry-After"] = str(retry_after)
                return resp
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
        title = {400: "Bad request", 404: "Not found", 405: "Method not allowed", 413: "Request body too large"}.get(
            exc.status_code, "Error"
        )
        detail = exc.detail if isinstance(exc.detail, str) else title
        resp = _respond(request, exc.status_code, title, detail)
        for k, v in (exc.headers or {}).items():
            resp.headers[k] = v
        if exc.status_code == 405:
            # Every method the path answers, not only the first route's (RFC 9110 §15.5.6); OPTIONS is 405 too.
            allowed = allowed_methods(request)
            if allowed:  # a mounted app (static files) says its own
                resp.headers["Allow"] = ", ".join(allowed)
        return resp

    @app.exception_handler(sqlite3.OperationalError)
    @app.exception_handler(sa_exc.OperationalError)
    @app.exception_handler(sa_exc.TimeoutError)
    async def _busy(request: Request, exc: Exception) -> Response:
        # The database is busy (SQLite's write lock or the pool's connections were not free within their
        # timeouts) or unreachable: a temporary condition, so 503 with Retry-After; a client retrying with
        # its Idempotency-Key is safe. Only the type is logged (a message could quote parameters).
        log.warning(
            "database busy or unavailable (%s) on %s %s",
            type(exc).__name__,
            request.method,
            getattr(request.scope.get("route"), "path", "?"),
        )
        resp = _respond(request, 503, "Service unavailable", "The database is busy; nothing was saved. Try again.")
        resp.headers["Retry-After"] = "1"
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
