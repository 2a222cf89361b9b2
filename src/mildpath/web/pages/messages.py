"""The patient's own messaging pages (issue 20): ``/me/inbox``, the in-app messages the clinic sent them."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response

from mildpath.services import inbox as svc
from mildpath.services.clock import now as clock_now
from mildpath.web.deps import PatientSelf, PatientSelfForm, RecordId, SessionDep
from mildpath.web.pages._common import redirect, render

router = APIRouter(include_in_schema=False)

NAV = {"patient": [{"href": "/me/inbox", "label": "Messages", "blurb": "Messages from your clinic"}]}


@router.get("/me/inbox")
def inbox_page(request: Request, actor: PatientSelf, session: SessionDep) -> Response:
    assert actor.patient_id is not None
    messages = svc.list_inbox(session, actor, actor.patient_id)
    return render(request, "messages/inbox.html", {"messages": messages})


@router.post("/me/inbox/{message_id}/read")
def mark_read(request: Request, message_id: RecordId, actor: PatientSelfForm, session: SessionDep) -> Response:
    assert actor.patient_id is not None
    svc.mark_read(session, actor, actor.patient_id, message_id, now=clock_now())
    return redirect("/me/inbox")
