"""Log in and out (server-side sessions, rotated at each login)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated
from urllib.parse import quote, urlparse

from fastapi import APIRouter, Form, Request
from fastapi.responses import Response

from mildpath.services import auth, clock, mfa
from mildpath.web.deps import PublicActor, PublicForm, SessionDep, SignedInForm
from mildpath.web.pages._common import redirect, render
from mildpath.web.problems import TooManyAttempts
from mildpath.web.security import SESSION_COOKIE

router = APIRouter(include_in_schema=False)


def _safe_next(value: str | None) -> str:
    """Only same-site paths: an open redirect after login would help phishing."""
    if not value or not value.startswith("/") or value.startswith("//") or urlparse(value).netloc:
        return "/"
    return value


@router.get("/login")
def login_page(request: Request, actor: PublicActor, next: str = "/") -> Response:
    return render(request, "auth/login.html", {"next": _safe_next(next), "email": "", "error": None})


@router.post("/login")
def login(
    request: Request,
    actor: PublicForm,
    session: SessionDep,
    email: Annotated[str, Form(max_length=254)] = "",
    password: Annotated[str, Form(max_length=1024)] = "",
    next: Annotated[str, Form(max_length=2000)] = "/",
) -> Response:
    # The clock is the app's (tests inject one to walk through the blocks without sleeping).
    now = getattr(request.app.state, "clock", clock.now)()
    address = actor.address
    throttle = auth.check_throttle(session, email, address, now)
    if not throttle.allowed:
        # Refused without being noted: attempts while blocked do not extend the block (contracts §7).
        raise TooManyAttempts(throttle.retry_after_seconds)
    policy = auth.BlockPolicy.of(request.app.state.settings)
    user = auth.authenticate(session, email, password, address, now, policy)
    if user is None:
        return render(
            request,
            "auth/login.html",
            {"next": _safe_next(next), "email": email, "error": "Email or password is not right."},
            status_code=401,
        )
    if mfa.enrolled(session, user.id):  # the second factor comes next (services/mfa.py)
        return signed_in(request, session, user, "/login/mfa?next=" + quote(_safe_next(next)), now, pending=True)
    return signed_in(request, session, user, _safe_next(next), now)


def signed_in(
    request: Request, session: SessionDep, user: auth.UserView, target: str, now: datetime, *, pending: bool = False
) -> Response:
    """Start a session for ``user`` and go to ``target`` (``/``: the account's home). Rotation: a new session
    value at every sign-in; any value the browser had before is dropped. ``pending``: a session that waits
    for the second factor."""
    old = request.cookies.get(SESSION_COOKIE)
    if old:
        auth.end_session(session, old, now)
    value = auth.start_session(session, user, now, mfa_pending=pending)
    if target == "/":
        target = {"patient": "/me", "caregiver": "/caregiving"}.get(user.role, "/patients")
    response = redirect(target)
    settings = request.app.state.settings
    response.set_cookie(
        SESSION_COOKIE,
        value,
        httponly=True,
        samesite="lax",
        secure=bool(getattr(request.state, "https", False)),
        max_age=settings.session_absolute_hours * 3600,
        path="/",
    )
    return response


@router.post("/logout")
def logout(request: Request, actor: SignedInForm, session: SessionDep) -> Response:
    value = request.cookies.get(SESSION_COOKIE)
    if value:
        auth.end_session(session, value, clock.now())
    response = redirect("/login")
    response.delete_cookie(SESSION_COOKIE, path="/")
    return response
