"""/api/v1 questionnaires (issue 4): instruments (also as FHIR Questionnaires), responses, FHIR QuestionnaireResponse
import and export, score Observations, each patient's follow-up schedule and the clinic's follow-up list.

``POST .../responses`` takes complete answers (``{"odi-1": 3, ...}``; null or absent: unanswered) and answers
with the stored response and its scores, computed from the answers; a score is never accepted. An invalid answer
is a 422 problem whose ``errors[0].field`` names the item, and nothing is stored. Both POSTs honour
``Idempotency-Key``: a retry gets the first answer again and files nothing twice.
"""

from __future__ import annotations

import json
from dataclasses import asdict
from datetime import date, datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Path, Query, Request
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel, ConfigDict, Field
from starlette.concurrency import run_in_threadpool

from mildpath.domain.errors import InvalidInput, NotFound
from mildpath.domain.inputs import check_free
from mildpath.domain.instruments import INSTRUMENTS
from mildpath.fhir.questionnaires import questionnaire
from mildpath.services import clock
from mildpath.services import proms as svc
from mildpath.web import idempotency
from mildpath.web.api.schemas import CommentTriagePublic
from mildpath.web.deps import PatientId, PatientRecordActor, RecordId, SessionDep, SettingsDep, SignedIn, Staff
from mildpath.web.problems import FhirJSONResponse

router = APIRouter(prefix="/api/v1", tags=["proms"])

FHIR_JSON = "application/fhir+json"
InstrumentId = Annotated[str, Path(max_length=16, pattern="^[a-z0-9-]+$", description="odi, zcq, nprs or walking")]

ResponseCreate = svc.ResponseIn
RESPONSE_EXAMPLE = {
    "instrument": "odi",
    "timepoint": "3m",
    "answers": {f"odi-{n}": v for n, v in zip(range(1, 11), (3, 3, 2, 1, 2, 1, 1, None, 1, 2), strict=True)},
    "answered_on": "2026-03-02",
}


class OptionPublic(BaseModel):
    value: int
    label: str


class ItemPublic(BaseModel):
    id: str
    number: int
    label: str
    kind: str = Field(description="choice, integer (0-10) or decimal (minutes)")
    subscale: str
    options: list[OptionPublic]


class InstrumentPublic(BaseModel):
    id: str
    name: str
    version: str
    title: str
    short_title: str
    instructions: str
    licensed: bool = Field(description="Official wording is licensed; shown only when the site supplies it")
    wording: str = Field(description="mildpath (short neutral labels) or site (the site's licensed wording)")
    source: str
    items: list[ItemPublic]


class ResponsePublic(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    patient_id: int
    instrument: str
    timepoint: str
    procedure_date: date | None
    after_treatment: bool
    status: str = Field(description="in_progress or completed")
    answers: dict[str, Any]
    scores: dict[str, Any] | None = Field(
        description="Computed from the answers: value, exact, band, answered, missing, reason, source, subscales"
    )
    entry_mode: str = Field(description="patient, paper or import")
    entered_by: int | None
    entered_at: datetime
    started_at: datetime
    completed_at: datetime | None
    answered_on: date | None
    current_step: int
    steps_total: int
    title: str = Field(default="", description="The form's title as the patient saw it")
    wording: str = Field(
        default="neutral",
        description="licensed (the site's licensed wording) or neutral (mildpath's own labels, not the validated "
        "instrument: kept out of comparisons with the trials unless the site declares the licensed wording)",
    )
    comment: str = Field(default="", description="The patient's comment, as written")
    comment_triage: CommentTriagePublic | None = Field(
        default=None, description="What the symptom reader made of the comment (null without a comment)"
    )


class ResponsePage(BaseModel):
    items: list[ResponsePublic]


def _public(view: svc.ResponseView) -> ResponsePublic:
    return ResponsePublic.model_validate(view)


def _location(response: ResponsePublic) -> str:
    return f"/api/v1/patients/{response.patient_id}/responses/{response.id}"


# ------------------------------------------------------------------------------------------ instruments


@router.get("/instruments", response_model=list[InstrumentPublic])
def list_instruments(actor: SignedIn, settings: SettingsDep) -> list[InstrumentPublic]:
    """Every questionnaire's structure and wording (the site's licensed wording when it supplies one)."""
    out = []
    for instrument_id, instrument in INSTRUMENTS.items():
        form = svc.form_for(instrument_id, settings.content_dir)  # the form's own fields, with its items and options
        fields = {**asdict(form), "id": instrument_id, "name": instrument.name, "source": instrument.source}
        out.append(InstrumentPublic.model_validate(fields))
    return out


@router.get("/instruments/{instrument_id}/questionnaire", response_class=FhirJSONResponse)
def get_questionnaire(instrument_id: InstrumentId, actor: SignedIn, settings: SettingsDep) -> Response:
    """The instrument as a FHIR R4 Questionnaire (``application/fhir+json``)."""
    if instrument_id not in INSTRUMENTS:
        raise NotFound(f"no instrument {instrument_id}")
    resource = questionnaire(instrument_id, svc.form_for(instrument_id, settings.content_dir))
    return JSONResponse(resource, media_type=FHIR_JSON)


# ------------------------------------------------------------------------------------------ responses


@router.post(
    "/patients/{patient_id}/responses",
    response_model=ResponsePublic,
    status_code=201,
    openapi_extra={"requestBody": {"content": {"application/json": {"example": RESPONSE_EXAMPLE}}}},
)
def create_response(
    request: Request,
    patient_id: PatientId,
    body: ResponseCreate,
    actor: PatientRecordActor,
    session: SessionDep,
    settings: SettingsDep,
) -> Response:
    """Record complete answers to one questionnaire, scored from the answers. A patient posts for themselves
    (within the timepoint's window, with enough answers for a score); staff for a patient of their clinic
    (recorded as a paper entry by them). 409 when that timepoint is already answered."""

    def create() -> ResponsePublic:
        return _public(
            svc.record_response(
                session, actor, patient_id, body, today=clock.today(), now=clock.now(), content_dir=settings.content_dir
            )
        )

    return idempotency.created(request, session, actor, create, _location)


@router.get("/patients/{patient_id}/responses", response_model=ResponsePage)
def list_responses(
    patient_id: PatientId,
    actor: PatientRecordActor,
    session: SessionDep,
    status: Annotated[Literal["in_progress", "completed"] | None, Query()] = None,
    instrument: Annotated[Literal["odi", "zcq", "nprs", "walking"] | None, Query()] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 500,
) -> ResponsePage:
    """The patient's responses, oldest answered first."""
    views = svc.list_responses(session, actor, patient_id, status=status, instrument=instrument, limit=limit)
    return ResponsePage(items=[_public(v) for v in views])


@router.get("/patients/{patient_id}/responses/{response_id}", response_model=ResponsePublic)
def get_response(
    patient_id: PatientId, response_id: RecordId, actor: PatientRecordActor, session: SessionDep
) -> ResponsePublic:
    return _public(svc.get_response(session, actor, patient_id, response_id))


@router.get("/patients/{patient_id}/responses/{response_id}/fhir", response_class=FhirJSONResponse)
def get_response_fhir(
    patient_id: PatientId, response_id: RecordId, actor: PatientRecordActor, session: SessionDep, settings: SettingsDep
) -> Response:
    """The response as a FHIR R4 QuestionnaireResponse (``application/fhir+json``)."""
    resource = svc.export_fhir_response(session, actor, patient_id, response_id, content_dir=settings.content_dir)
    return JSONResponse(resource, media_type=FHIR_JSON)


@router.get("/patients/{patient_id}/responses/{response_id}/observations", response_class=FhirJSONResponse)
def get_response_observations(
    patient_id: PatientId, response_id: RecordId, actor: PatientRecordActor, session: SessionDep
) -> Response:
    """The response's scores as FHIR R4 Observations, in a ``collection`` Bundle (recomputed from the answers)."""
    observations = svc.export_observations(session, actor, patient_id, response_id)
    bundle = {
        "resourceType": "Bundle",
        "type": "collection",
        "entry": [{"fullUrl": f"Observation/{o['id']}", "resource": o} for o in observations],
    }
    return JSONResponse(bundle, media_type=FHIR_JSON)


@router.post(
    "/patients/{patient_id}/questionnaire-responses",
    response_model=ResponsePublic,
    status_code=201,
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {FHIR_JSON: {"schema": {"type": "object"}}, "application/json": {"schema": {"type": "object"}}},
        }
    },
)
async def import_questionnaire_response(
    request: Request,
    patient_id: PatientId,
    actor: PatientRecordActor,
    session: SessionDep,
    settings: SettingsDep,
    timepoint: Annotated[str | None, Query(max_length=16, description="Default: by the authored date")] = None,
) -> Response:
    """Import a FHIR R4 QuestionnaireResponse (``application/fhir+json`` or ``application/json``): answers are
    validated and re-scored; a linkId that is unknown or out of range is a 422 naming it."""
    raw = await request.body()  # the body is read on the event loop; the database work runs in a worker thread

    def create() -> ResponsePublic:
        try:
            resource = json.loads(raw)
        except (ValueError, UnicodeDecodeError):
            raise InvalidInput("body: not valid JSON", field="body") from None
        if not isinstance(resource, dict):
            raise InvalidInput("body: expected a QuestionnaireResponse object", field="body")
        check_free(resource, "body")  # the edge rules of every input model (domain/inputs.py)
        view = svc.import_fhir_response(
            session,
            actor,
            patient_id,
            resource,
            today=clock.today(),
            now=clock.now(),
            timepoint=timepoint,
            content_dir=settings.content_dir,
        )
        return _public(view)

    return await run_in_threadpool(idempotency.created, request, session, actor, create, _location)


# ------------------------------------------------------------------------------------------ schedules


@router.get("/patients/{patient_id}/schedule", response_model=svc.ScheduleView)
def get_schedule(patient_id: PatientId, actor: PatientRecordActor, session: SessionDep) -> svc.ScheduleView:
    """The patient's follow-up schedule today: each timepoint's window and status, and each questionnaire's."""
    return svc.patient_schedule(session, actor, patient_id, today=clock.today())


FollowUpStatus = Literal["overdue", "due", "missed", "upcoming"]


@router.get("/follow-up", response_model=list[svc.FollowUpRow])
def follow_up(
    actor: Staff,
    session: SessionDep,
    status: Annotated[
        list[FollowUpStatus] | None, Query(max_length=4, description="Statuses to list (default: overdue and due)")
    ] = None,
) -> list[svc.FollowUpRow]:
    """Staff: the open questionnaire timepoints of the clinic's patients, overdue first."""
    wanted = tuple(status or ("overdue", "due"))
    return svc.clinic_follow_up(session, actor, today=clock.today(), statuses=wanted)
