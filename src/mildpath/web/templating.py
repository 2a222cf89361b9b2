"""Jinja2 templates with the context every page needs (actor, CSRF token, navigation)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from fastapi import Request
from fastapi.templating import Jinja2Templates
from markupsafe import escape

from mildpath.services.access import Actor
from mildpath.web import i18n
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
        "acting_for": getattr(state, "acting_for", ""),  # a caregiver on a patient's page: the patient's name
        "lang": getattr(state, "lang", None) or i18n.current_language(),
        "lang_names": i18n.LANGUAGE_NAMES,
        "lang_here": request.url.path + (f"?{request.url.query}" if request.url.query else ""),
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


def _escaped_gettext(message: str) -> str:
    """Jinja's newstyle gettext marks what ``_()`` returns as safe HTML; a message can be a patient's own words
    (``_(value)`` on an answer that has no label), so it is escaped first. The catalogue holds no markup."""
    return str(escape(i18n.gettext(message)))


def _escaped_ngettext(singular: str, plural: str, n: int) -> str:
    return str(escape(i18n.ngettext(singular, plural, n)))


def make_templates() -> Jinja2Templates:
    templates = Jinja2Templates(directory=str(TEMPLATES), context_processors=[_context])
    templates.env.autoescape = True
    templates.env.filters["source_titles"] = source_titles
    templates.env.add_extension("jinja2.ext.i18n")
    templates.env.install_gettext_callables(  # type: ignore[attr-defined]
        _escaped_gettext, _escaped_ngettext, newstyle=True
    )
    templates.env.filters["localized"] = i18n.localized
    templates.env.globals["localized_field"] = i18n.localized_field
    templates.env.globals["long_date"] = i18n.long_date
    templates.env.globals["short_date"] = i18n.short_date
    return templates
