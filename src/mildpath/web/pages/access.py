"""Access without a password (issue 20): sign-in links asked for by the patient, opening a link (magic link,
invitation, password reset), and the forgotten-password form. The rules live in services/access_links.py.

Opening a link is two steps: ``GET /access/{token}`` shows what it is for and a Continue button; the ``POST``
uses it. A mail client or a messenger that fetches a link to preview it therefore never uses it up.

The opt-out link at the end of every message (``/optout/{token}``, services/consent.py) works the same way:
``GET`` asks to confirm, ``POST`` withdraws consent to that channel; no session needed, in the patient's language.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import Response

from mildpath.domain.errors import InvalidInput
from mildpath.services import access_links as svc
from mildpath.services import auth
from mildpath.services import consent as consent_svc
from mildpath.services.clock import now as clock_now
from mildpath.web.deps import PublicActor, PublicForm, SessionDep
from mildpath.web.i18n import LANG_COOKIE
from mildpath.web.pages._common import redirect, render
from mildpath.web.pages.auth import signed_in
from mildpath.web.problems import TooManyAttempts

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from mildpath.services.access import Actor

router = APIRouter(include_in_schema=False)



def _now(request: Request):  # type: ignore[no-untyped-def]
    return getattr(request.app.state, "clock", clock_now)()


def _links(request: Request) -> svc.LinkSettings:
    settings = request.app.state.settings
    return svc.LinkSettings(settings.secret_key, settings.links_base, auth.BlockPolicy.of(settings))


@router.get("/access/request")
def request_page(request: Request, actor: PublicActor) -> Response:
    return render(request, "access/request.html", {"identifier": "", "reason": None})


@router.post("/access/request")
def request_link(
    request: Request, actor: PublicForm, session: SessionDep,
    identifier: Annotated[str, Form(max_length=254)] = "",
) -> Response:
    """The same page whether or not the email or phone is known (no account enumeration)."""
    if not identifier.strip():
        return render(request, "access/request.html", {"identifier": "", "reason": None}, status_code=422)
    try:
        svc.request_link(session, identifier, address=actor.address, now=_now(request), links=_links(request))
    except svc.Throttled as exc:
        raise TooManyAttempts(exc.retry_after) from None
    return render(request, "access/sent.html", {"purpose": "sign_in"})


@router.get("/password/forgot")
def forgot_page(request: Request, actor: PublicActor) -> Response:
    return render(request, "access/forgot.html", {})


@router.post("/password/forgot")
def forgot(
    request: Request, actor: PublicForm, session: SessionDep, email: Annotated[str, Form(max_length=254)] = ""
) -> Response:
    try:
        svc.request_password_reset(session, email, address=actor.address, now=_now(request), links=_links(request))
    except svc.Throttled as exc:
        raise TooManyAttempts(exc.retry_after) from None
    return render(request, "access/sent.html", {"purpose": "password_reset"})


def _refused(request: Request, reason: str) -> Response:
    """A link that does not work says why, plainly, and offers a new one (410 Gone for used and expired)."""
    status = 404 if reason == "unknown" else 410
    return render(request, "access/request.html", {"identifier": "", "reason": reason}, status_code=status)


@router.get("/access/{token}")
def open_link(request: Request, token: str, actor: PublicActor, session: SessionDep) -> Response:
    try:
        link = svc.view_link(session, token, now=_now(request))
    except svc.LinkRefused as exc:
        return _refused(request, exc.reason)
    if "lang" not in request.query_params and not request.cookies.get(LANG_COOKIE):
        request.state.lang = link.language  # the patient's language, not the browser's
    response = render(request, "access/open.html", {"link": link, "error": None})
    response.headers["Referrer-Policy"] = "no-referrer"  # the token is in the address
    return response


@router.post("/access/{token}")
def use_link(
    request: Request, token: str, actor: PublicForm, session: SessionDep,
    password: Annotated[str, Form(max_length=1024)] = "",
) -> Response:
    now = _now(request)
    try:
        user, target = svc.use_link(session, token, now=now, password=password, address=actor.address)
    except svc.LinkRefused as exc:
        return _refused(request, exc.reason)
    except InvalidInput as exc:
        link = svc.view_link(session, token, now=now)
        return render(request, "access/open.html", {"link": link, "error": exc.message}, status_code=422)
    if target == "/login":  # a password reset: the account signs in again, with the new password
        return redirect("/login")
    return signed_in(request, session, user, target, now)


def _optout_page(request: Request, view: consent_svc.OptOutView, *, done: bool) -> Response:
    if "lang" not in request.query_params and not request.cookies.get(LANG_COOKIE):
        request.state.lang = view.language  # the patient's language, not the browser's
    response = render(request, "access/optout.html", {"view": view, "done": done})
    response.headers["Referrer-Policy"] = "no-referrer"  # the token is in the address
    return response


def _optout_unknown(request: Request) -> Response:
    return render(request, "access/optout_unknown.html", {}, status_code=404)


@router.get("/optout/{token}")
def optout_page(request: Request, token: str, actor: PublicActor, session: SessionDep) -> Response:
    """Asks to confirm: a link preview never opts anyone out."""
    return _optout(request, token, actor, session, use=False)


@router.post("/optout/{token}")
def optout(request: Request, token: str, actor: PublicForm, session: SessionDep) -> Response:
    return _optout(request, token, actor, session, use=True)


def _optout(request: Request, token: str, actor: Actor, session: Session, *, use: bool) -> Response:
    """The confirm page (``use`` False) or the withdrawal it confirms; both throttled, an unknown token 404."""
    settings = request.app.state.settings
    step = consent_svc.use_optout if use else consent_svc.view_optout
    try:
        view = step(session, token, secret_key=settings.secret_key, address=actor.address, now=_now(request),
                    policy=auth.BlockPolicy.of(settings))
    except consent_svc.OptOutThrottled as exc:
        raise TooManyAttempts(exc.retry_after) from None
    except consent_svc.OptOutRefused:
        return _optout_unknown(request)
    return _optout_page(request, view, done=use)
