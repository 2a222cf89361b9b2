"""/api/v1 procedure day (issue 5): schedule, checklist, start (with an audited override), record, observations,
discharge or an overnight stay, adverse events and later interventions; FHIR R4 Procedure and AdverseEvent.

Refusals are problem+json: 422 naming the field for invalid input (nothing is written), 409 when a safety rule
(an open checklist item, unmet discharge criteria) or the procedure's state stops the change, 404 for another
clinic's patient or a procedure that is not the patient's. A patient may read their own procedures' summaries and
download their discharge instructions; the rest is staff-only.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from types import GenericAlias
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Body, Query
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel

from mildpath.domain.procedure import (
    AdverseEvent,
    ObservationEntry,
    PreProcedureChecklist,
    ProcedureRecord,
    Reintervention,
)
from mildpath.services import clock
from mildpath.services import procedure_exports as exports
from mildpath.services import procedures as svc
from mildpath.web.api.procedures_schemas import (
    AdverseEventPublic,
    CancelRequest,
    DischargeRequest,
    OvernightRequest,
    ProcedureCreate,
    ProcedurePublic,
    ProcedureSummaryPublic,
    ProcedureUpdate,
    RecordSaved,
    ReinterventionPublic,
    StartRequest,
    TodayRowPublic,
    from_view,
    problem_public,
    summary_public,
    today_public,
)
from mildpath.web.deps import (
    PatientId,
    PatientRecordActor,
    RecordId,
    SessionDep,
    SettingsDep,
    Staff,
    StaffPatientRecordActor,
)
from mildpath.web.downloads import PDF, attachment
from mildpath.web.problems import FhirJSONResponse

router = APIRouter(prefix="/api/v1", tags=["procedures"])

FHIR_JSON = "application/fhir+json"
BASE = "/patients/{patient_id}/procedures/{procedure_id}"


def _fhir(resource: dict[str, Any]) -> JSONResponse:
    return JSONResponse(resource, media_type=FHIR_JSON)


@router.get("/procedures/today", response_model=list[TodayRowPublic])
def todays_list(actor: Staff, session: SessionDep) -> list[TodayRowPublic]:
    """Procedures scheduled today for the patients the caller may see."""
    return [today_public(r) for r in svc.todays_list(session, actor, today=clock.today())]


@router.get("/patients/{patient_id}/procedures", response_model=list[ProcedureSummaryPublic])
def list_procedures(
    patient_id: PatientId, actor: PatientRecordActor, session: SessionDep
) -> list[ProcedureSummaryPublic]:
    """The patient's procedures, latest first (a patient: their own)."""
    return [summary_public(s) for s in svc.list_summaries(session, actor, patient_id)]


@router.post("/patients/{patient_id}/procedures", response_model=ProcedurePublic, status_code=201)
def schedule_procedure(
    patient_id: PatientId, body: ProcedureCreate, actor: StaffPatientRecordActor, session: SessionDep
) -> ProcedurePublic:
    """Schedule a procedure; 409 while the patient has one scheduled or in progress."""
    view = svc.schedule_procedure(session, actor, patient_id, body, today=clock.today(), now=clock.now())
    return from_view(view)


@router.get(BASE, response_model=ProcedurePublic)
def get_procedure(
    patient_id: PatientId, procedure_id: RecordId, actor: StaffPatientRecordActor, session: SessionDep
) -> ProcedurePublic:
    """The whole procedure day: checklist with each item's status, record, warnings, observations, discharge."""
    return from_view(svc.get_procedure(session, actor, patient_id, procedure_id, today=clock.today()))


@router.get(BASE + "/summary", response_model=ProcedureSummaryPublic)
def get_summary(
    patient_id: PatientId, procedure_id: RecordId, actor: PatientRecordActor, session: SessionDep
) -> ProcedureSummaryPublic:
    """One procedure's summary (a patient: their own)."""
    return summary_public(svc.get_summary(session, actor, patient_id, procedure_id))


@router.patch(BASE, response_model=ProcedurePublic)
def reschedule(
    patient_id: PatientId,
    procedure_id: RecordId,
    body: ProcedureUpdate,
    actor: StaffPatientRecordActor,
    session: SessionDep,
) -> ProcedurePublic:
    """Move a scheduled procedure to another day or operator (before it starts)."""
    view = svc.update_schedule(session, actor, patient_id, procedure_id, body, today=clock.today(), now=clock.now())
    return from_view(view)


@router.post(BASE + "/cancel", response_model=ProcedurePublic)
def cancel(
    patient_id: PatientId,
    procedure_id: RecordId,
    body: CancelRequest,
    actor: StaffPatientRecordActor,
    session: SessionDep,
) -> ProcedurePublic:
    view = svc.cancel_procedure(
        session, actor, patient_id, procedure_id, body.reason, today=clock.today(), now=clock.now()
    )
    return from_view(view)


@router.put(BASE + "/checklist", response_model=ProcedurePublic)
def put_checklist(
    patient_id: PatientId,
    procedure_id: RecordId,
    body: PreProcedureChecklist,
    actor: StaffPatientRecordActor,
    session: SessionDep,
) -> ProcedurePublic:
    """Replace the checklist answers (before the start); each item's status comes back."""
    view = svc.update_checklist(session, actor, patient_id, procedure_id, body, today=clock.today(), now=clock.now())
    return from_view(view)


@router.post(BASE + "/start", response_model=ProcedurePublic)
def start(
    patient_id: PatientId,
    procedure_id: RecordId,
    actor: StaffPatientRecordActor,
    session: SessionDep,
    body: Annotated[StartRequest | None, Body()] = None,
) -> ProcedurePublic:
    """Start now; 409 (``open_items``) while required items are open, unless a clinician gives
    ``override_reason``."""
    reason = body.override_reason if body is not None else None
    view = svc.start_procedure(session, actor, patient_id, procedure_id, now=clock.now(), override_reason=reason)
    return from_view(view)


@router.put(BASE + "/record", response_model=RecordSaved)
def put_record(
    patient_id: PatientId,
    procedure_id: RecordId,
    body: ProcedureRecord,
    actor: StaffPatientRecordActor,
    session: SessionDep,
) -> RecordSaved:
    """Save the procedure record; plausibility warnings come back with it (they never block saving)."""
    view, warnings = svc.save_record(session, actor, patient_id, procedure_id, body, now=clock.now())
    return RecordSaved(procedure=from_view(view), warnings=[problem_public(w) for w in warnings])


@router.post(BASE + "/observations", response_model=ProcedurePublic, status_code=201)
def add_observation(
    patient_id: PatientId,
    procedure_id: RecordId,
    body: ObservationEntry,
    actor: StaffPatientRecordActor,
    session: SessionDep,
) -> ProcedurePublic:
    return from_view(svc.add_observation(session, actor, patient_id, procedure_id, body, now=clock.now()))


@router.post(BASE + "/discharge", response_model=ProcedurePublic)
def discharge(
    patient_id: PatientId,
    procedure_id: RecordId,
    body: DischargeRequest,
    actor: StaffPatientRecordActor,
    session: SessionDep,
    settings: SettingsDep,
) -> ProcedurePublic:
    """Discharge home; 409 (``unmet``) while a discharge criterion is not met, and 409 naming
    ``MILDPATH_CLINIC_PHONE`` when neither the clinic nor the setting gives a phone number for the sheet."""
    view = svc.discharge(
        session,
        actor,
        patient_id,
        procedure_id,
        body.readiness,
        now=clock.now(),
        at=body.at,
        fallback_phone=settings.clinic_phone,
    )
    return from_view(view)


@router.post(BASE + "/overnight", response_model=ProcedurePublic)
def overnight(
    patient_id: PatientId,
    procedure_id: RecordId,
    body: OvernightRequest,
    actor: StaffPatientRecordActor,
    session: SessionDep,
) -> ProcedurePublic:
    view = svc.keep_overnight(session, actor, patient_id, procedure_id, body.reason, now=clock.now(), at=body.at)
    return from_view(view)


@dataclass(frozen=True)
class _SubRecord:
    """One kind of record kept against a procedure, listed and added the same way: ``GET`` and ``POST`` on
    ``BASE + path`` (routes ``list_<plural>`` and ``add_<singular>``)."""

    path: str
    singular: str
    plural: str
    body: type[BaseModel]  # the request body: the domain's own model
    public: type[BaseModel]  # the answer: the service's read model
    of: Callable[[svc.ProcedureView], Sequence[svc.AdverseEventView | svc.ReinterventionView]]
    record: Callable[..., svc.AdverseEventView | svc.ReinterventionView]


SUB_RECORDS = (
    _SubRecord(
        "/adverse-events",
        "adverse_event",
        "adverse_events",
        AdverseEvent,
        AdverseEventPublic,
        lambda view: view.adverse_events,
        svc.record_adverse_event,
    ),
    _SubRecord(
        "/reinterventions",
        "reintervention",
        "reinterventions",
        Reintervention,
        ReinterventionPublic,
        lambda view: view.reinterventions,
        svc.record_reintervention,
    ),
)


def _add_sub_record_routes(sub: _SubRecord) -> None:
    def listed(
        patient_id: PatientId, procedure_id: RecordId, actor: StaffPatientRecordActor, session: SessionDep
    ) -> list[BaseModel]:
        view = svc.get_procedure(session, actor, patient_id, procedure_id, today=clock.today())
        return [item.public() for item in sub.of(view)]

    def add(
        patient_id: PatientId,
        procedure_id: RecordId,
        body: BaseModel,
        actor: StaffPatientRecordActor,
        session: SessionDep,
    ) -> BaseModel:
        saved = sub.record(session, actor, patient_id, procedure_id, body, today=clock.today(), now=clock.now())
        return saved.public()

    add.__annotations__["body"] = sub.body  # a real class, so that FastAPI reads (and documents) it as the body
    router.add_api_route(
        BASE + sub.path,
        listed,
        methods=["GET"],
        name=f"list_{sub.plural}",
        response_model=GenericAlias(list, (sub.public,)),
    )
    router.add_api_route(
        BASE + sub.path,
        add,
        methods=["POST"],
        name=f"add_{sub.singular}",
        response_model=sub.public,
        status_code=201,
    )


for _sub in SUB_RECORDS:
    _add_sub_record_routes(_sub)


@router.get(BASE + "/discharge-instructions", response_class=Response)
def discharge_instructions(
    patient_id: PatientId,
    procedure_id: RecordId,
    actor: PatientRecordActor,
    session: SessionDep,
    settings: SettingsDep,
    fmt: Annotated[Literal["pdf", "html"], Query(alias="format")] = "pdf",
) -> Response:
    """The patient's discharge instructions as PDF (default) or HTML (a patient: their own), with the clinic's
    phone (or ``MILDPATH_CLINIC_PHONE``)."""
    content = exports.discharge_instructions(
        session, actor, patient_id, procedure_id, fmt=fmt, fallback_phone=settings.clinic_phone
    )
    if fmt == "html":
        return Response(content, media_type="text/html; charset=utf-8")
    return attachment(content, PDF, "discharge-instructions.pdf")


@router.get("/procedures/{procedure_id}/fhir", response_class=FhirJSONResponse)
def procedure_fhir(procedure_id: RecordId, actor: Staff, session: SessionDep) -> JSONResponse:
    """The procedure as a FHIR R4 Procedure (CPT 0275T, body sites, performer, outcome, complications)."""
    return _fhir(exports.procedure_fhir(session, actor, procedure_id))


@router.get("/procedures/{procedure_id}/adverse-events/fhir", response_class=FhirJSONResponse)
def adverse_events_fhir(procedure_id: RecordId, actor: Staff, session: SessionDep) -> JSONResponse:
    """The procedure's adverse events as a FHIR R4 Bundle (type collection) of AdverseEvent."""
    return _fhir(exports.adverse_events_fhir(session, actor, procedure_id))


@router.get("/adverse-events/{event_id}/fhir", response_class=FhirJSONResponse)
def adverse_event_fhir(event_id: RecordId, actor: Staff, session: SessionDep) -> JSONResponse:
    """One adverse event as a FHIR R4 AdverseEvent."""
    return _fhir(exports.adverse_event_fhir(session, actor, event_id))
