"""/api/v1 caregivers (issue 20): the patient (or their clinic) invites a caregiver, chooses what is shared,
and revokes it; effective at once."""

from __future__ import annotations

from fastapi import APIRouter, Request

from mildpath.services import caregivers as svc
from mildpath.services import clock
from mildpath.web.deps import PatientId, PatientRecordActor, RecordId, SessionDep

router = APIRouter(prefix="/api/v1", tags=["caregivers"])


@router.get("/patients/{patient_id}/caregivers", response_model=list[svc.CaregiverView])
def list_caregivers(patient_id: PatientId, actor: PatientRecordActor, session: SessionDep) -> list[svc.CaregiverView]:
    """Every caregiver of the patient, current and revoked, with what each may do."""
    return svc.list_caregivers(session, actor, patient_id)


@router.post("/patients/{patient_id}/caregivers", response_model=svc.CaregiverView, status_code=201)
def invite_caregiver(
    request: Request, patient_id: PatientId, body: svc.CaregiverIn, actor: PatientRecordActor, session: SessionDep
) -> svc.CaregiverView:
    """Invite a caregiver: their account is made and an invitation link goes to them (7 days)."""
    settings = request.app.state.settings
    return svc.invite(session, actor, patient_id, body, now=clock.now(), secret_key=settings.secret_key,
                      public_url=settings.links_base)


@router.post("/patients/{patient_id}/caregivers/{caregiver_id}/revoke", response_model=svc.CaregiverView)
def revoke_caregiver(
    patient_id: PatientId, caregiver_id: RecordId, actor: PatientRecordActor, session: SessionDep
) -> svc.CaregiverView:
    """End a caregiver's access to the patient; it holds from the next request on."""
    return svc.revoke(session, actor, patient_id, caregiver_id, now=clock.now())
