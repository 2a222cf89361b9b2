"""Staff second factor (issue 20): the code page after the password, and setting the factor up.
The rules live in services/mfa.py."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import Response

from mildpath.domain.errors import Conflict, InvalidInput
from mildpath.services import auth, mfa
from mildpath.services.clock import now as clock_now
from mildpath.web.deps import PublicActor, PublicForm, SessionDep, Staff, StaffForm
from mildpath.web.pages._common import redirect, render
from mildpath.web.pages.auth import _safe_next, signed_in
from mildpath.web.problems import TooManyAttempts
from mildpath.web.security import SESSION_COOKIE

router = APIRouter(include_in_schema=False)


def _now(request: Request):  # type: ignore[no-untyped-def]
    return getattr(request.app.state, "clock", clock_now)()


def _keys(request: Request) -> mfa.Keys:
    return mfa.Keys.of(request.app.state.settings)


def _pending(request: Request, session: SessionDep) -> auth.UserView | None:
    value = request.cookies.get(SESSION_COOKIE)
    return auth.pending_mfa_user(session, value, _now(request)) if value else None


@router.get("/login/mfa")
def code_page(request: Request, actor: PublicActor, session: SessionDep, next: str = "/") -> Response:
    if _pending(request, session) is None:
        return redirect("/login")
    return render(request, "mfa/code.html", {"next": _safe_next(next), "error": None})


@router.post("/login/mfa")
def check_code(
    request: Request, actor: PublicForm, session: SessionDep,
    code: Annotated[str, Form(max_length=40)] = "", next: Annotated[str, Form(max_length=2000)] = "/",
) -> Response:
    user = _pending(request, session)
    if user is None:
        return redirect("/login")
    now = _now(request)
    key = "mfa:" + user.email  # wrong codes are throttled like wrong passwords (contracts §7)
    throttle = auth.check_throttle(session, key, actor.address, now)
    if not throttle.allowed:
        raise TooManyAttempts(throttle.retry_after_seconds)
    if not mfa.verify(session, user, code, keys=_keys(request), now=now, address=actor.address):
        auth.note_attempt(session, key, actor.address, False, now, auth.BlockPolicy.of(request.app.state.settings))
        return render(request, "mfa/code.html", {"next": _safe_next(next), "error": "That code is not right."},
                      status_code=401)
    return signed_in(request, session, user, _safe_next(next), now)  # a new, full session value


@router.get("/account/mfa")
def setup_page(request: Request, actor: Staff, session: SessionDep) -> Response:
    if mfa.enrolled(session, actor.user_id or 0):
        return render(request, "mfa/setup.html", {"enrolled": True, "enrolment": None, "codes": None, "error": None})
    enrolment = mfa.begin_enrolment(session, actor, keys=_keys(request), now=_now(request))
    return render(request, "mfa/setup.html", {"enrolled": False, "enrolment": enrolment, "codes": None,
                                              "error": None})


@router.post("/account/mfa")
def confirm(
    request: Request, actor: StaffForm, session: SessionDep, code: Annotated[str, Form(max_length=40)] = ""
) -> Response:
    try:
        codes = mfa.confirm_enrolment(session, actor, code, keys=_keys(request), now=_now(request))
    except (InvalidInput, Conflict) as exc:
        enrolment = None if mfa.enrolled(session, actor.user_id or 0) else mfa.begin_enrolment(
            session, actor, keys=_keys(request), now=_now(request))
        return render(request, "mfa/setup.html", {"enrolled": enrolment is None, "enrolment": enrolment,
                                                  "codes": None, "error": exc.message}, status_code=422)
    return render(request, "mfa/setup.html", {"enrolled": True, "enrolment": None, "codes": codes, "error": None})
