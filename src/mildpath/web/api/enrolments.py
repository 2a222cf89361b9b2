"""/api/v1/enrolments (issue 20, contracts §10): the EHR enrols a patient with a FHIR ServiceRequest (CPT 0275T)
or Appointment. 201 with ``{"patient_id", "pathway", ...}``; the same resource again (same identifier) answers
200 and changes nothing. ``?sms_consent=true``: the caller records that the patient agreed to texts (on their
word), so the invitation goes by text."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Body, Query, Request
from fastapi.responses import JSONResponse

from mildpath.services import clock
from mildpath.services import enrolments as svc
from mildpath.web.deps import Enroller, SessionDep

router = APIRouter(prefix="/api/v1", tags=["enrolment"])

EXAMPLE = {
    "resourceType": "ServiceRequest",
    "identifier": [{"system": "urn:oid:1.2.3.4.5", "value": "SR-1001"}],
    "status": "active",
    "intent": "order",
    "code": {"coding": [{"system": "http://www.ama-assn.org/go/cpt", "code": "0275T"}]},
    "subject": {"reference": "#p"},
    "contained": [{"resourceType": "Patient", "id": "p", "identifier": [{"value": "MRN-77"}],
                   "name": [{"family": "Vidal", "given": ["Ines"]}], "birthDate": "1950-03-01",
                   "gender": "female", "telecom": [{"system": "phone", "value": "+15550001111"}]}],
}


@router.post("/enrolments", response_model=svc.EnrolmentOut, status_code=201,
             responses={200: {"description": "Enrolled by this resource before: nothing changed",
                              "model": svc.EnrolmentOut}})
def enrol(
    request: Request,
    actor: Enroller,
    session: SessionDep,
    resource: Annotated[dict[str, Any], Body(examples=[EXAMPLE])],
    sms_consent: Annotated[bool, Query(description="Record the patient's consent to texts (on their word)")] = False,
) -> JSONResponse:
    settings = request.app.state.settings
    out = svc.enrol(session, actor, resource, today=clock.today(), now=clock.now(), secret_key=settings.secret_key,
                    public_url=settings.links_base, record_sms_consent=sms_consent)
    return JSONResponse(out.model_dump(mode="json"), status_code=201 if out.created else 200)
