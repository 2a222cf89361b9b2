"""Caregivers' pages (issue 20): a caregiver's home (the patients they act for, and what each shared), and the
patient's page to invite and revoke caregivers. The rules live in services/caregivers.py."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response
from pydantic import ValidationError
from sqlalchemy.orm import Session

from mildpath.domain.errors import Conflict, InvalidInput
from mildpath.services import caregivers as svc
from mildpath.services import clock
from mildpath.services.access import Actor
from mildpath.web.deps import CaregiverActor, PatientId, PatientRecordActor, PatientRecordForm, RecordId, SessionDep
from mildpath.web.pages._common import form_errors, redirect, render

router = APIRouter(include_in_schema=False)

PATIENT_TABS = [
    {
        "href": "/patients/{id}/caregivers",
        "label": "Caregivers",
        "blurb": "Who may help the patient here, and with what",
        "roles": ("patient", "clinician", "admin"),
    },
]


@router.get("/caregiving")
def caregiving(request: Request, actor: CaregiverActor, session: SessionDep) -> Response:
    return render(request, "caregivers/home.html", {"patients": svc.cared_for(session, actor)})


def _page(
    request: Request, session: Session, actor: Actor, patient_id: int, *, values: dict[str, str] | None = None,
    errors: list[dict[str, str]] | None = None, status_code: int = 200,
) -> Response:
    return render(request, "caregivers/manage.html", {
        "patient_id": patient_id, "caregivers": svc.list_caregivers(session, actor, patient_id),
        "values": values or {}, "errors": errors or [], "staff": actor.is_staff}, status_code=status_code)


@router.get("/patients/{patient_id}/caregivers")
def manage(request: Request, patient_id: PatientId, actor: PatientRecordActor, session: SessionDep) -> Response:
    return _page(request, session, actor, patient_id)


@router.post("/patients/{patient_id}/caregivers")
async def invite(request: Request, patient_id: PatientId, actor: PatientRecordForm, session: SessionDep) -> Response:
    form = await request.form()
    values = {k: str(form.get(k, "")).strip() for k in ("name", "relation", "email", "phone", "channel")}
    shared = {p: form.get(f"share_{p}") == "yes" for p in ("read", "diary", "questionnaires", "reminders")}
    settings = request.app.state.settings
    try:
        data = svc.CaregiverIn.model_validate({
            "name": values["name"], "relation": values["relation"], "email": values["email"] or None,
            "phone": values["phone"], "channel": values["channel"] or "email", "shared": shared,
            "how": "clinician" if actor.is_staff else "link"})
        svc.invite(session, actor, patient_id, data, now=clock.now(), secret_key=settings.secret_key,
                   public_url=settings.links_base)
    except (ValidationError, InvalidInput, Conflict) as exc:
        errors = form_errors(exc) if not isinstance(exc, Conflict) else [{"field": "form", "message": exc.message}]
        return _page(request, session, actor, patient_id, values=values, errors=errors, status_code=422)
    return redirect(f"/patients/{patient_id}/caregivers")


@router.post("/patients/{patient_id}/caregivers/{caregiver_id}/revoke")
def revoke(
    patient_id: PatientId, caregiver_id: RecordId, actor: PatientRecordForm, session: SessionDep
) -> Response:
    svc.revoke(session, actor, patient_id, caregiver_id, now=clock.now())
    return redirect(f"/patients/{patient_id}/caregivers")
