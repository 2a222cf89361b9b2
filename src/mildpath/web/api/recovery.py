"""/api/v1 recovery: the symptom diary with its triage, the recovery plan (JSON, iCalendar, FHIR CarePlan) and
the clinician worklist with its flags (issue 6).

A diary entry is the JSON object of :class:`~mildpath.domain.diary.DiaryEntry` fields, the same as
``mildpath triage FILE``: a missing or ``null`` field is "not reported"; an invalid value or an unknown field is
a 422 problem whose ``errors[0].field`` names it, and nothing is stored. ``POST .../diary`` honours
``Idempotency-Key``, so a phone that retries on a bad connection does not file the entry twice.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Body, Query, Request
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel, ConfigDict, Field

from mildpath.domain.errors import NotFound
from mildpath.domain.inputs import EdgeInput, check_free
from mildpath.services import clock
from mildpath.services import recovery as svc
from mildpath.web import idempotency
from mildpath.web.deps import (
    DiaryRecordActor,
    PatientId,
    PatientRecordActor,
    PlanRecordActor,
    RecordId,
    SessionDep,
    Staff,
    StaffPatientRecordActor,
)
from mildpath.web.downloads import CALENDAR, attachment

router = APIRouter(prefix="/api/v1", tags=["recovery"])

FHIR_JSON = "application/fhir+json"
DIARY_EXAMPLE = {
    "days_since_procedure": 3,
    "pain_back": 3,
    "pain_leg": 2,
    "incision": ["redness"],
    "temperature_c": 37.4,
    "new_numbness": False,
    "new_weakness": False,
    "bilateral_weakness": False,
    "saddle_numbness": False,
    "bladder_bowel_change": False,
    "headache_upright": False,
}


class ReasonPublic(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    rule_id: str
    level: str
    text: str
    sources: list[str]


class DiaryEntryPublic(BaseModel):
    """A diary entry as the API answers it, read from the service's ``DiaryEntryView`` (which also carries what
    only the pages show)."""

    model_config = ConfigDict(from_attributes=True)

    id: int
    patient_id: int
    entered_at: datetime
    entered_by: int | None
    entered_by_caregiver: str = Field(default="", description="Who entered it for the patient, when a caregiver "
                                      "did: their name and relation, e.g. 'Ana (daughter)'")
    days_since_procedure: int | None
    answers: dict[str, Any]
    level: str = Field(description="emergency, same_day, review or expected")
    reasons: list[ReasonPublic]
    advice: str
    sources: list[str]
    rules_version: str
    flag_id: int | None
    flag_status: str | None = Field(description="open, acknowledged or resolved; null when nothing was flagged")
    matched: list[svc.Matched] = Field(default_factory=list, description="Signs found in the patient's text")


class DiaryPage(BaseModel):
    items: list[DiaryEntryPublic]


class RecoveryPlanPublic(BaseModel):
    """The plan as the API answers it, read from the service's ``PlanView``."""

    model_config = ConfigDict(from_attributes=True)

    patient_id: int
    procedure_date: date
    today: date
    day: int = Field(description="Days since the procedure: 0 on the day, negative before it")
    headline: str
    no_lifting_weeks: int
    physical_therapy: bool
    catalog_version: str
    milestones: list[svc.MilestoneView]


RecoveryPlanUpdate = svc.PlanIn


class WorklistPublic(BaseModel):
    items: list[svc.FlagView]
    counts: dict[str, int] = Field(default_factory=dict, description="Open and acknowledged flags, all pages")


class FlagResolve(EdgeInput):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    note: str = Field(min_length=1, max_length=svc.NOTE_MAX, description="What was done (required)")


# ------------------------------------------------------------------------------------------ diary


@router.post("/patients/{patient_id}/diary", response_model=DiaryEntryPublic, status_code=201)
def create_diary_entry(
    request: Request,
    patient_id: PatientId,
    actor: DiaryRecordActor,
    session: SessionDep,
    body: Annotated[
        dict[str, Any],
        Body(
            description="Diary fields (see `mildpath triage`); missing or null means not reported",
            openapi_examples={"day 3": {"value": DIARY_EXAMPLE}},
        ),
    ],
) -> Response:
    """Record a diary entry and answer at once with its triage level, reasons and advice. A patient posts for
    themselves, staff for a patient of their clinic."""
    check_free(body, "body")  # the edge rules of every input model (domain/inputs.py), for this free-form body
    return idempotency.created(
        request,
        session,
        actor,
        lambda: DiaryEntryPublic.model_validate(
            svc.record_diary_entry(session, actor, patient_id, body, now=clock.now())
        ),
    )


@router.get("/patients/{patient_id}/diary", response_model=DiaryPage)
def list_diary(
    patient_id: PatientId,
    actor: DiaryRecordActor,
    session: SessionDep,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
) -> DiaryPage:
    """The patient's diary, newest first."""
    views = svc.list_entries(session, actor, patient_id, limit=limit)
    return DiaryPage(items=[DiaryEntryPublic.model_validate(v) for v in views])


# ------------------------------------------------------------------------------------------ plan


@router.get("/patients/{patient_id}/recovery-plan", response_model=RecoveryPlanPublic)
def get_recovery_plan(patient_id: PatientId, actor: PlanRecordActor, session: SessionDep) -> RecoveryPlanPublic:
    """The dated plan on the server's today ("Today is day 5 after your procedure"); 404 when none is set."""
    view = svc.get_plan_view(session, actor, patient_id, today=clock.today())
    if view is None:
        raise NotFound(f"patient {patient_id} has no recovery plan")
    return RecoveryPlanPublic.model_validate(view)


@router.put("/patients/{patient_id}/recovery-plan", response_model=RecoveryPlanPublic)
def put_recovery_plan(
    patient_id: PatientId, body: RecoveryPlanUpdate, actor: StaffPatientRecordActor, session: SessionDep
) -> RecoveryPlanPublic:
    """Set or change the plan (staff): the procedure date, weeks without heavy lifting, physical therapy."""
    return RecoveryPlanPublic.model_validate(svc.set_plan(session, actor, patient_id, body, today=clock.today()))


@router.get(
    "/patients/{patient_id}/recovery-plan.ics",
    response_class=Response,
    responses={200: {"content": {"text/calendar": {}}, "description": "The plan as iCalendar (RFC 5545)"}},
)
def get_recovery_plan_ics(patient_id: PatientId, actor: PlanRecordActor, session: SessionDep) -> Response:
    body = svc.export_plan_ics(session, actor, patient_id, now=clock.now())
    return attachment(body, CALENDAR, "recovery-plan.ics")


@router.get(
    "/patients/{patient_id}/careplan",
    response_class=Response,
    responses={200: {"content": {FHIR_JSON: {}}, "description": "A FHIR R4 CarePlan"}},
)
def get_careplan(patient_id: PatientId, actor: PatientRecordActor, session: SessionDep) -> Response:
    """The plan as a FHIR R4 CarePlan resource."""
    resource = svc.export_careplan(session, actor, patient_id, today=clock.today())
    return JSONResponse(resource, media_type=FHIR_JSON)


# ------------------------------------------------------------------------------------------ worklist


@router.get("/worklist", response_model=WorklistPublic)
def get_worklist(
    actor: Staff,
    session: SessionDep,
    limit: Annotated[int, Query(ge=1, le=500)] = 500,
    offset: Annotated[int, Query(ge=0, le=1_000_000)] = 0,
) -> WorklistPublic:
    """Open and acknowledged flags of the caller's patients: most urgent first, then the longest waiting."""
    items = svc.worklist(session, actor, limit=limit, offset=offset)
    return WorklistPublic(items=items, counts=svc.worklist_counts(session, actor))


@router.post("/flags/{flag_id}/acknowledge", response_model=svc.FlagView)
def acknowledge_flag(flag_id: RecordId, actor: Staff, session: SessionDep) -> svc.FlagView:
    """Mark an open flag as seen; 409 when it is already acknowledged or resolved."""
    return svc.acknowledge_flag(session, actor, flag_id, now=clock.now())


@router.post("/flags/{flag_id}/resolve", response_model=svc.FlagView)
def resolve_flag(flag_id: RecordId, body: FlagResolve, actor: Staff, session: SessionDep) -> svc.FlagView:
    """Close a flag with a note saying what was done; 409 when it is already resolved."""
    return svc.resolve_flag(session, actor, flag_id, body.note, now=clock.now())
