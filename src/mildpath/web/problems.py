"""The one place that turns errors into responses: RFC 9457 problem+json under ``/api`` (and the CDS Hooks
and FHIR endpoints), an HTML error page elsewhere. Nothing else knows status codes."""

from __future__ import annotations

import logging
import sqlite3
from dataclasses import dataclass, field
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
from mildpath.extras import missing_extra
from mildpath.web import i18n

log = logging.getLogger("mildpath.web")

PROBLEM = "application/problem+json"
FHIR_JSON = "application/fhir+json"


class FhirJSONResponse(JSONResponse):
    """A FHIR resource: ``application/fhir+json``, as the OpenAPI document then says (``response_class``)."""

    media_type = FHIR_JSON


class LoginRequired(Exception):
    """No valid credentials: 401 for the API, a redirect to the login page for pages."""


class MfaEnrolmentRequired(Exception):
    """A staff account that must use a second factor and has not set one up: only the set-up page opens."""


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
    machine = path.startswith(("/api/", "/cds-services", "/fhir/", "/hooks/", "/auth/token"))
    return machine or "application/json" in request.headers.get("accept", "")


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
    page: Response = templates.TemplateResponse(
        request,
        "error.html",
        {"status": status, "title": i18n.gettext(title), "detail": i18n.gettext(detail)},
        status_code=status,
    )
    return page


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


@dataclass(frozen=True)
class Problem:
    """What an error answers, before it is rendered (problem+json or an HTML page) for a request."""

    status: int
    title: str
    detail: str
    errors: list[dict[str, str]] | None = None
    headers: dict[str, str] = field(default_factory=dict)


_HTTP_TITLES = {400: "Bad request", 404: "Not found", 405: "Method not allowed", 413: "Request body too large"}
BUSY = (sqlite3.OperationalError, sa_exc.OperationalError, sa_exc.TimeoutError)


def problem_for(exc: BaseException) -> Problem:
    """The answer to an error: a pure function of the exception (no request, no I/O)."""
    if isinstance(exc, MildpathError):
        return _domain_problem(exc)
    if isinstance(exc, RequestValidationError):
        return _validation_problem(exc)
    if isinstance(exc, LoginRequired):
        return Problem(401, "Unauthorized", "Log in or send a bearer token.", headers={"WWW-Authenticate": "Bearer"})
    if isinstance(exc, MfaEnrolmentRequired):
        return Problem(403, "Second factor required", "Set up a second factor at /account/mfa before you go on.")
    if isinstance(exc, CsrfFailed):
        return Problem(403, "Form expired", "The form was stale or forged. Reload the page and try again.")
    if isinstance(exc, TooManyAttempts):
        retry = {"Retry-After": str(exc.retry_after)}
        return Problem(429, "Too many attempts", "Too many attempts; try again later.", headers=retry)
    if isinstance(exc, StarletteHTTPException):
        title = _HTTP_TITLES.get(exc.status_code, "Error")
        detail = exc.detail if isinstance(exc.detail, str) else title
        return Problem(exc.status_code, title, detail, headers=dict(exc.headers or {}))
    if isinstance(exc, BUSY):
        # The database is busy (SQLite's write lock or the pool's connections were not free within their
        # timeouts) or unreachable: a temporary condition, so 503 with Retry-After; a client retrying with
        # its Idempotency-Key is safe.
        detail = "The database is busy; nothing was saved. Try again."
        return Problem(503, "Service unavailable", detail, headers={"Retry-After": "1"})
    extra = missing_extra(exc)
    if extra is not None:
        # An optional part the site did not install (a PDF without mildpath[pdf]): the server cannot do this
        # until it is installed, as the CLI says (mildpath.extras).
        return Problem(501, "Not installed", f"This server cannot do this: {extra}.")
    return Problem(500, "Internal error", "Something went wrong; nothing was saved.")


def _domain_problem(exc: MildpathError) -> Problem:
    status, title = next(((s, t) for cls, s, t in STATUS if isinstance(exc, cls)), (400, "Bad request"))
    if isinstance(exc, NotFound):
        return Problem(404, title, "No such record, or it is not yours to see.")
    errors: list[dict[str, str]] | None = None
    listed = exc.data.get("errors") if isinstance(exc, InvalidInput) else None
    if isinstance(listed, list) and listed:
        errors = [
            {"field": str(e.get("field", "")), "message": str(e.get("message", ""))}
            if isinstance(e, dict)
            else {"field": "", "message": str(e)}
            for e in listed
        ]
    elif isinstance(exc, InvalidInput) and exc.field:
        errors = [{"field": exc.field, "message": exc.message}]
    retry_after = getattr(exc, "retry_after", None)  # a temporary clash (an Idempotency-Key still in flight)
    headers = {"Retry-After": str(retry_after)} if retry_after is not None else {}
    return Problem(status, title, exc.message, errors, headers)


def _validation_problem(exc: RequestValidationError) -> Problem:
    errors = []
    for err in exc.errors():
        loc = [str(p) for p in err.get("loc", ()) if p not in ("body", "query", "path")]
        errors.append({"field": ".".join(loc) or "body", "message": err.get("msg", "invalid")})
    json_broken = any(e.get("type") == "json_invalid" for e in exc.errors())
    detail = "; ".join(f"{e['field']}: {e['message']}" for e in errors[:5])
    if json_broken:
        return Problem(400, "Malformed JSON", detail, errors)
    return Problem(422, "Invalid input", detail, errors)


async def handle(request: Request, exc: Exception) -> Response:
    """The one exception handler: logs what must be logged, then renders :func:`problem_for`."""
    # Only the error's type and the route are logged: a message could quote patient data or parameters.
    route = getattr(request.scope.get("route"), "path", "?")
    if isinstance(exc, BUSY):
        log.warning("database busy or unavailable (%s) on %s %s", type(exc).__name__, request.method, route)
    elif missing_extra(exc) is not None:
        log.warning("an optional part is not installed (%s) on %s %s", missing_extra(exc), request.method, route)
    elif not isinstance(exc, HANDLED[:-2]):
        log.error("unexpected %s on %s %s", type(exc).__name__, request.method, route)
    if isinstance(exc, LoginRequired) and not wants_problem(request):
        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        return RedirectResponse(f"/login?next={quote(target)}", status_code=303)
    if isinstance(exc, MfaEnrolmentRequired) and not wants_problem(request):
        return RedirectResponse("/account/mfa", status_code=303)
    spec = problem_for(exc)
    extra: dict[str, Any] = {"errors": spec.errors} if spec.errors is not None else {}
    resp = _respond(request, spec.status, spec.title, spec.detail, **extra)
    for name, value in spec.headers.items():
        resp.headers[name] = value
    if spec.status == 405 and isinstance(exc, StarletteHTTPException):
        # Every method the path answers, not only the first route's (RFC 9110 §15.5.6); OPTIONS is 405 too.
        allowed = allowed_methods(request)
        if allowed:  # a mounted app (static files) says its own
            resp.headers["Allow"] = ", ".join(allowed)
    return resp


# What :func:`handle` is registered for; ``Exception`` last (Starlette gives it to its server-error layer).
HANDLED: tuple[type[Exception], ...] = (
    MildpathError,
    RequestValidationError,
    LoginRequired,
    MfaEnrolmentRequired,
    CsrfFailed,
    TooManyAttempts,
    StarletteHTTPException,
    *BUSY,
    ModuleNotFoundError,  # an optional part not installed (501), else a broken installation (500)
    Exception,
)


def install(app: FastAPI) -> None:
    for exc_class in HANDLED:
        app.add_exception_handler(exc_class, handle)
