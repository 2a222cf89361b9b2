"""The language switch on every page: ``POST /language`` (``lang``, ``next``).

A signed-in patient's choice is stored as their preferred language (audited); everyone's choice is kept in the
``mp_lang`` cookie too, so the page after a logout stays in the chosen language.
"""

from __future__ import annotations

from typing import Annotated
from urllib.parse import urlparse

from fastapi import APIRouter, Form, Request
from fastapi.responses import Response

from mildpath.services import auth
from mildpath.web import i18n
from mildpath.web.deps import PublicForm, SessionDep
from mildpath.web.pages._common import redirect

router = APIRouter(include_in_schema=False)


def _safe_next(value: str) -> str:
    """Only paths of this site: the switch must not become an open redirect."""
    if not value.startswith("/") or value.startswith("//") or urlparse(value).netloc or "\\" in value:
        return "/"
    return value


def _without_lang(path: str) -> str:
    """``next`` without a ``lang=`` query (it would override the choice just made)."""
    base, _, query = path.partition("?")
    kept = [p for p in query.split("&") if p and not p.startswith("lang=")]
    return base + ("?" + "&".join(kept) if kept else "")


@router.post("/language")
def switch_language(
    request: Request,
    actor: PublicForm,
    session: SessionDep,
    lang: Annotated[str, Form(max_length=8)] = "en",
    next: Annotated[str, Form(max_length=2000)] = "/",
) -> Response:
    language = lang if lang in i18n.LANGUAGES else i18n.DEFAULT_LANGUAGE
    auth.set_interface_language(session, actor, language)
    response = redirect(_without_lang(_safe_next(next)))
    response.set_cookie(
        i18n.LANG_COOKIE,
        language,
        max_age=i18n.LANG_COOKIE_AGE,
        httponly=True,
        samesite="lax",
        secure=bool(getattr(request.state, "https", False)),
        path="/",
    )
    return response
