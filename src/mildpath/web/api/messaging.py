"""Messaging: a patient's consent to each channel (/api/v1), and the SMS gateway's inbound replies (/hooks).

``POST /hooks/sms/inbound`` takes ``{"from", "text"}`` with ``Authorization: Bearer <MILDPATH_SMS_INBOUND_SECRET>``
(contracts §10; 401 without it): a STOP reply withdraws consent to texts for that number: the patients' with it,
and the texts (reminders) of the caregivers invited with it.
"""

from __future__ import annotations

from fastapi import APIRouter

from mildpath.services import clock
from mildpath.services import consent as svc
from mildpath.web.deps import PatientId, PatientRecordActor, SessionDep, SmsGateway

router = APIRouter(tags=["messaging"])


@router.get("/api/v1/patients/{patient_id}/consents", response_model=svc.ConsentSummary)
def list_consents(patient_id: PatientId, actor: PatientRecordActor, session: SessionDep) -> svc.ConsentSummary:
    """Which channels the patient agreed to (``in_force``), and every record of it, oldest first."""
    return svc.consent_summary(session, actor, patient_id)


@router.post("/api/v1/patients/{patient_id}/consents", response_model=svc.ConsentView, status_code=201)
def record_consent(
    patient_id: PatientId, body: svc.ConsentIn, actor: PatientRecordActor, session: SessionDep
) -> svc.ConsentView:
    """Record the patient's agreement to a channel, or its withdrawal (audited)."""
    return svc.record_consent(session, actor, patient_id, body, now=clock.now())


@router.post("/hooks/sms/inbound", response_model=svc.InboundOutcome)
def sms_inbound(body: svc.InboundReply, actor: SmsGateway, session: SessionDep) -> svc.InboundOutcome:
    """A reply the SMS gateway received: STOP (or BAJA, ...) withdraws consent to texts for that number (the
    patients with it, and the caregivers invited with it)."""
    return svc.inbound_reply(session, body, now=clock.now())
