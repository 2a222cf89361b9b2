"""Helpers shared by the server-rendered pages."""

from __future__ import annotations

from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse, RedirectResponse
from pydantic import ValidationError

from mildpath.domain.errors import InvalidInput
from mildpath.web import i18n


def render(
    request: Request, template: str, context: dict[str, Any] | None = None, status_code: int = 200
) -> HTMLResponse:
    """The page in the request's language: one a page chose itself (``request.state.lang``), else negotiated."""
    language = getattr(request.state, "lang", None) or i18n.negotiate(request)
    request.state.lang = language
    i18n.set_language(language)
    response: HTMLResponse = request.app.state.templates.TemplateResponse(
        request, template, context or {}, status_code=status_code
    )
    return response


def redirect(url: str) -> RedirectResponse:
    """After a successful POST: 303 See Other, so a reload does not resubmit (HTMX follows it too)."""
    return RedirectResponse(url, status_code=303)


def form_errors(exc: ValidationError | InvalidInput) -> list[dict[str, str]]:
    """Validation problems as ``[{"field", "message"}]`` for a form to show next to what was typed."""
    if isinstance(exc, InvalidInput):
        return [{"field": exc.field or "form", "message": exc.message}]
    return [
        {"field": ".".join(str(p) for p in e.get("loc", ())) or "form", "message": e.get("msg", "invalid")}
        for e in exc.errors()
    ]


def blank_to_none(values: dict[str, Any]) -> dict[str, Any]:
    return {k: (None if isinstance(v, str) and v.strip() == "" else v) for k, v in values.items()}
