"""Jinja2 templates with the context every page needs (actor, CSRF token, navigation)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from fastapi import Request
from fastapi.templating import Jinja2Templates

from mildpath.services.access import Actor
from mildpath.web.security import csrf_token

TEMPLATES = Path(__file__).resolve().parent / "templates"


def _context(request: Request) -> dict[str, Any]:
    state = request.state
    actor = getattr(state, "actor", None) or Actor(None, "anonymous")
    binding = getattr(state, "csrf_binding", None) or "anon:" + (getattr(state, "anon_id", "") or "")
    nav = request.app.state.nav
    return {
        "actor": actor,
        "user_name": getattr(state, "user_name", ""),
        "csrf_token": csrf_token(request.app.state.settings.secret_key, binding),
        "public_nav": nav["public"],
        "staff_nav": nav["staff"],
        "patient_nav": nav["patient"],
        "flashes": getattr(state, "flashes", []),
        "lang": getattr(state, "lang", "en"),
    }


def source_titles(source_ids: Any) -> list[str]:
    """Citation ids as the titles a reader understands (``overview-recovery`` -> "Recovery after mild: ...");
    an id the bibliography lacks is kept as it is rather than failing the page."""
    from mildpath.content.sources import ContentError, source

    out = []
    for sid in source_ids or ():
        try:
            out.append(source(str(sid)).title)
        except ContentError:
            out.append(str(sid))
    return out


def make_templates() -> Jinja2Templates:
    templates = Jinja2Templates(directory=str(TEMPLATES), context_processors=[_context])
    templates.env.autoescape = True
    templates.env.filters["source_titles"] = source_titles
    return templates
