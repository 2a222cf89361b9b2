"""/api/v1 access without a password (issue 20, contracts §10): staff send a patient a sign-in link or an
invitation. The link goes out through the outbox on a channel with the patient's consent; the answer names the
outbox message (its delivery status is kept there)."""

from __future__ import annotations

from fastapi import APIRouter, Request

from mildpath.services import access_links as svc
from mildpath.services import clock
from mildpath.web.deps import PatientInviter, SessionDep

router = APIRouter(prefix="/api/v1", tags=["access"])


def _link_settings(request: Request) -> dict[str, str]:
    settings = request.app.state.settings
    return {"secret_key": settings.secret_key, "public_url": settings.links_base}


@router.post("/access-links", response_model=svc.LinkSent, status_code=201)
def send_access_link(request: Request, body: svc.LinkIn, actor: PatientInviter, session: SessionDep) -> svc.LinkSent:
    """Send a patient with an account a single-use sign-in link (72 hours), opening ``target``."""
    return svc.send_access_link(session, actor, body, now=clock.now(), **_link_settings(request))


@router.post("/invitations", response_model=svc.LinkSent, status_code=201)
def invite_patient(
    request: Request, body: svc.InvitationIn, actor: PatientInviter, session: SessionDep
) -> svc.LinkSent:
    """Invite a patient (no account yet, or one never set up): the account is made, the invitation sent (7 days)."""
    return svc.invite_patient(session, actor, body, now=clock.now(), **_link_settings(request))
