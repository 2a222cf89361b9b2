"""/api/v1 patient rights (admins): export everything about a patient as a FHIR R4 Bundle, erase, anonymise.

Each call carries its reason (``reason`` code, optional ``reference`` such as a ticket number); erasure and
anonymisation also need the patient's MRN typed back (``confirm_mrn``). All three are audited.
"""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field

from mildpath.services import clock
from mildpath.services import patient_rights as svc
from mildpath.web.deps import Admin, PatientId, SessionDep
from mildpath.web.problems import FhirJSONResponse

router = APIRouter(prefix="/api/v1", tags=["patient rights"])

FHIR_JSON = "application/fhir+json"
PatientExportRequest = svc.RightsRequest
PatientRightsConfirmation = svc.ConfirmedRightsRequest


class RightsOutcomePublic(BaseModel):
    patient_id: int
    action: str = Field(description="erased or anonymised")
    rows: dict[str, int] = Field(description="Rows deleted or changed, per table")

    @classmethod
    def of(cls, outcome: svc.RightsOutcome) -> RightsOutcomePublic:
        return cls(patient_id=outcome.patient_id, action=outcome.action, rows=outcome.rows)


@router.post(
    "/patients/{patient_id}/export",
    response_class=FhirJSONResponse,
    responses={200: {"content": {FHIR_JSON: {"schema": {"type": "object"}}}, "description": "A FHIR R4 Bundle"}},
)
def export_patient(
    patient_id: PatientId, body: PatientExportRequest, actor: Admin, session: SessionDep
) -> JSONResponse:
    """Everything mildpath holds about the patient as a FHIR R4 Bundle of type ``collection``."""
    bundle = svc.export_patient(session, actor, patient_id, body, now=clock.now())
    return JSONResponse(bundle, media_type=FHIR_JSON)


@router.post("/patients/{patient_id}/erase", response_model=RightsOutcomePublic)
def erase_patient(
    patient_id: PatientId, body: PatientRightsConfirmation, actor: Admin, session: SessionDep
) -> RightsOutcomePublic:
    """Delete every row about the patient; the audit trail keeps that it happened, by whom and why."""
    return RightsOutcomePublic.of(svc.erase_patient(session, actor, patient_id, body))


@router.post("/patients/{patient_id}/anonymise", response_model=RightsOutcomePublic)
def anonymise_patient(
    patient_id: PatientId, body: PatientRightsConfirmation, actor: Admin, session: SessionDep
) -> RightsOutcomePublic:
    """Replace what identifies the patient; keep the clinical record for the registry."""
    return RightsOutcomePublic.of(svc.anonymise_patient(session, actor, patient_id, body, now=clock.now()))
