"""The procedure day (issue 5): schedule, checklist, start (with an audited override), the procedure record,
observation, discharge or an overnight stay, adverse events and later interventions, and the views pages and the
API show. Every function checks access, calls the pure rules of :mod:`mildpath.domain.procedure`, persists and
writes its audit row in the caller's transaction; nothing here commits. The printable documents, the FHIR
resources and the registry extract are in :mod:`mildpath.services.procedure_exports`.

Who may do what
---------------
- Staff (clinicians and admins of the patient's clinic, or the system) do every write and read the full day.
- Only a clinician (or the system) may override open checklist items: the issue asks for "a clinician".
- A patient reads their own procedure summary (:func:`list_summaries`, :func:`get_summary`) and their discharge
  instructions (``procedure_exports.discharge_instructions``); everything else is staff-only (``PermissionDenied``).
- Another clinic's patient, another patient, or a procedure id that belongs to a different patient than the one
  in the path: :class:`NotFound`, the same answer as no such id.

Life cycle: ``scheduled`` -> ``in_progress`` (:func:`start_procedure`) -> ``completed`` (:func:`save_record` with
an end time) -> discharged home or kept overnight; ``scheduled`` -> ``cancelled``. A patient has at most one
scheduled or in-progress procedure at a time.

The audit trail names records and counts, never clinical values; the one exception is the override's reason,
which the issue asks to be audited with the override (it is the justification of a safety decision).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any, Generic, TypeVar

from pydantic import BaseModel, ConfigDict, Field, ValidationError
from sqlalchemy.orm import Session

from mildpath.content.procedure import policies as load_policies
from mildpath.domain.errors import Conflict, InvalidInput, InvalidRecord, NotFound
from mildpath.domain.inputs import EdgeInput
from mildpath.domain.procedure import (
    AdverseEvent,
    ChecklistEvaluation,
    ChecklistOverride,
    DischargeEvaluation,
    DischargeKind,
    DischargeOutcome,
    DischargeReadiness,
    NeuroCheck,
    ObservationEntry,
    PreProcedureChecklist,
    Problem,
    ProcedureDay,
    ProcedureRecord,
    Reintervention,
    Vitals,
    Walking,
    can_start,
    describe_levels,
    discharge_home,
    evaluate_checklist,
    evaluate_discharge,
    parse_record,
    record_problems,
    validate_adverse_event,
    validate_observation,
    validate_record,
    validate_reintervention,
)
from mildpath.domain.procedure import (
    keep_overnight as overnight_outcome,
)
from mildpath.services import recovery as recovery_service
from mildpath.services import scheduling
from mildpath.services.access import (
    Actor,
    get_patient_for,
    record,
    require_role,
    require_staff,
    visible_patients,
)
from mildpath.store import procedures as store
from mildpath.store import users as users_store
from mildpath.store.models import Patient

M = TypeVar("M", bound=BaseModel)
E = TypeVar("E", AdverseEvent, Reintervention)  # an event kept against a procedure (``_EventKind``)
ER = TypeVar("ER", store.AdverseEventRow, store.ReinterventionRow)
EV = TypeVar("EV", "AdverseEventView", "ReinterventionView")

# Input guards (not clinical rules): free text up to 2,000 characters, lists up to 50 entries, numbers below
# ten million. Everything larger is a typing or client error, refused naming the field before anything is saved.
TEXT_MAX = 2000
LIST_MAX = 50
NUMBER_MAX = 10_000_000
# A scheduled date lies within ten years before and one year after today (the same sanity window as the recovery
# plan): a typo such as 2205 is refused. Past dates are allowed so that a procedure can be recorded afterwards.
SCHEDULE_PAST_DAYS = 3660
SCHEDULE_FUTURE_DAYS = 366
# A time "in the future" by more than this is a typing error (clocks of tablets and server differ a little).
CLOCK_SLACK = timedelta(minutes=5)


# ------------------------------------------------------------------------------------------ inputs


class ProcedureSchedule(EdgeInput):
    """Schedule a procedure: the day, and the operating clinician (default: the clinician scheduling it)."""

    model_config = ConfigDict(extra="forbid")

    scheduled_date: date = Field(description="The day of the procedure")
    operator_user_id: int | None = Field(
        default=None, ge=1, le=2_147_483_647, description="User id of the operating clinician (same clinic)"
    )


class ScheduleUpdate(EdgeInput):
    """Move a scheduled procedure to another day or operator (only before it starts)."""

    model_config = ConfigDict(extra="forbid")

    scheduled_date: date | None = None
    operator_user_id: int | None = Field(default=None, ge=1, le=2_147_483_647)


# ------------------------------------------------------------------------------------------ plain views


@dataclass(frozen=True)
class ObservationView:
    id: int
    entry: ObservationEntry


class AdverseEventPublic(BaseModel):
    """An adverse event as plain values, flat (the API's answer; ``AdverseEventView.public``)."""

    model_config = ConfigDict(frozen=True)

    id: int
    procedure_id: int
    patient_id: int
    type: str
    label: str
    onset: date
    severity: str
    serious: bool
    outcome: str
    description: str
    recorded_by: str


class ReinterventionPublic(BaseModel):
    """A later intervention as plain values, flat (the API's answer; ``ReinterventionView.public``)."""

    model_config = ConfigDict(frozen=True)

    id: int
    procedure_id: int
    patient_id: int
    type: str
    label: str
    performed_on: date
    levels: list[str]
    note: str


@dataclass(frozen=True)
class AdverseEventView:
    id: int
    procedure_id: int
    patient_id: int
    event: AdverseEvent
    label: str

    def public(self) -> AdverseEventPublic:
        e = self.event
        return AdverseEventPublic(
            id=self.id,
            procedure_id=self.procedure_id,
            patient_id=self.patient_id,
            type=e.type.value,
            label=self.label,
            onset=e.onset,
            severity=e.severity.value,
            serious=e.serious,
            outcome=e.outcome.value,
            description=e.description,
            recorded_by=e.recorded_by,
        )


@dataclass(frozen=True)
class ReinterventionView:
    id: int
    procedure_id: int
    patient_id: int
    item: Reintervention
    label: str

    def public(self) -> ReinterventionPublic:
        return ReinterventionPublic(
            id=self.id,
            procedure_id=self.procedure_id,
            patient_id=self.patient_id,
            type=self.item.type.value,
            label=self.label,
            performed_on=self.item.performed_on,
            levels=list(self.item.levels),
            note=self.item.note,
        )


@dataclass(frozen=True)
class ProcedureView:
    """Everything about one procedure day, as plain values for pages, the API and documents."""

    id: int
    patient_id: int
    patient_name: str
    mrn: str
    status: str
    scheduled_date: date
    operator_user_id: int | None
    operator_name: str
    checklist: PreProcedureChecklist
    evaluation: ChecklistEvaluation
    override: ChecklistOverride | None
    overridden_items: tuple[str, ...]
    record: ProcedureRecord | None
    warnings: tuple[Problem, ...]
    levels: tuple[str, ...]
    started_at: datetime | None
    ended_at: datetime | None
    observations: tuple[ObservationView, ...]
    readiness: DischargeReadiness | None
    discharge_evaluation: DischargeEvaluation
    discharge: DischargeOutcome | None
    adverse_events: tuple[AdverseEventView, ...]
    reinterventions: tuple[ReinterventionView, ...]
    cancel_reason: str
    created_at: datetime
    updated_at: datetime

    @property
    def procedure_date(self) -> date:
        return self.record.procedure_date if self.record is not None else self.scheduled_date

    @property
    def duration_minutes(self) -> int | None:
        return self.record.duration_minutes if self.record is not None else None

    @property
    def checklist_open(self) -> bool:
        return self.status == "scheduled"

    @property
    def has_happened(self) -> bool:
        return self.status in ("in_progress", "completed")

    @property
    def can_discharge(self) -> bool:
        return self.status == "completed" and self.discharge is None

    def as_day(self) -> ProcedureDay:
        """The domain's one-document shape of the day (needs a record)."""
        if self.record is None:
            raise Conflict("the procedure has no record yet")
        return ProcedureDay(
            record=self.record,
            checklist=self.checklist,
            start_override=self.override,
            observations=tuple(o.entry for o in self.observations),
            readiness=self.readiness,
            discharge=self.discharge,
            adverse_events=tuple(e.event for e in self.adverse_events),
            reinterventions=tuple(r.item for r in self.reinterventions),
        )


@dataclass(frozen=True)
class ProcedureSummary:
    """What a patient sees of their own procedure (and what lists show): no checklist, no observations."""

    id: int
    patient_id: int
    status: str
    procedure_date: date
    operator_name: str
    levels: tuple[str, ...]
    duration_minutes: int | None
    discharge_kind: str | None
    discharged_at: datetime | None
    overnight_reason: str


class TodayRow(BaseModel):
    """One line of the day's list: who, status, how many required checklist items are still open (also the
    API's answer, ``TodayRowPublic``)."""

    model_config = ConfigDict(frozen=True)

    procedure_id: int
    patient_id: int
    patient_name: str
    mrn: str
    status: str
    operator_name: str
    open_required: int
    discharge_kind: str | None


# ------------------------------------------------------------------------------------------ helpers


def _check_sizes(value: Any, path: str) -> None:
    """Refuse oversized text, lists and numbers anywhere in a JSON-like value (see ``TEXT_MAX`` and friends)."""
    if isinstance(value, str):
        if len(value) > TEXT_MAX:
            raise InvalidInput(f"{path}: longer than {TEXT_MAX} characters", field=path, value=len(value))
    elif isinstance(value, bool) or value is None:
        return
    elif isinstance(value, int | float):
        if abs(value) > NUMBER_MAX:
            raise InvalidInput(f"{path}: {value} is out of range", field=path, value=value)
    elif isinstance(value, Mapping):
        for key, item in value.items():
            _check_sizes(item, f"{path}.{key}" if path else str(key))
    elif isinstance(value, list | tuple):
        if len(value) > LIST_MAX:
            raise InvalidInput(f"{path}: more than {LIST_MAX} entries", field=path, value=len(value))
        for i, item in enumerate(value):
            _check_sizes(item, f"{path}.{i}")


def _parse(model: type[M], data: M | Mapping[str, Any], what: str) -> M:
    """A domain model from JSON-like data; shape errors become one :class:`InvalidRecord` naming every field."""
    if isinstance(data, model):
        parsed = data
    else:
        if not isinstance(data, Mapping):
            raise InvalidRecord(f"invalid {what}: expected an object", field=what)
        try:
            parsed = model.model_validate(dict(data))
        except ValidationError as exc:
            errors = [
                {"field": ".".join(str(p) for p in err["loc"]) or what, "message": err["msg"]} for err in exc.errors()
            ]
            first = errors[0]
            raise InvalidRecord(
                f"invalid {what}: {first['field']}: {first['message']}", field=first["field"], errors=errors
            )
    _check_sizes(parsed.model_dump(mode="json"), "")
    return parsed


def _text(value: str | None, field: str, *, required: bool = False) -> str:
    text = (value or "").strip()
    if required and not text:
        raise InvalidInput(f"{field}: required", field=field, value=value)
    if len(text) > TEXT_MAX:
        raise InvalidInput(f"{field}: longer than {TEXT_MAX} characters", field=field, value=len(text))
    return text


def procedure_for(
    session: Session, actor: Actor, patient_id: int, procedure_id: int
) -> tuple[store.ProcedureRow, Patient]:
    """The procedure if it belongs to ``patient_id`` and the actor may see the patient; ``NotFound`` otherwise.

    The access check of every procedure function (also used by ``procedure_exports``); it writes no audit row:
    the caller does, for what it then reads or changes."""
    patient = get_patient_for(session, actor, patient_id)
    row = store.get_procedure(session, procedure_id=procedure_id)
    if row is None or row.patient_id != patient.id:
        raise NotFound(f"no procedure {procedure_id}", record_type="Procedure", record_id=procedure_id)
    return row, patient


def procedure_by_id_for(session: Session, actor: Actor, procedure_id: int) -> tuple[store.ProcedureRow, Patient]:
    """A procedure by its id alone (FHIR routes): the patient's access check gives the same 404."""
    row = store.get_procedure(session, procedure_id=procedure_id)
    if row is None:
        raise NotFound(f"no procedure {procedure_id}", record_type="Procedure", record_id=procedure_id)
    return row, get_patient_for(session, actor, row.patient_id)


def _actor_name(session: Session, actor: Actor) -> str:
    if actor.user_id is None:
        return f"system ({actor.email or 'cli'})"
    return users_store.display_names(session, user_ids=[actor.user_id]).get(actor.user_id, actor.email)


def _check_operator(session: Session, operator_user_id: int, clinic_id: int) -> None:
    user = users_store.get_or_none(session, user_id=operator_user_id)
    if user is None or user.role != "clinician" or user.clinic_id != clinic_id or not user.active:
        raise InvalidInput(
            "operator_user_id: not an active clinician of the patient's clinic",
            field="operator_user_id",
            value=operator_user_id,
        )


def _check_scheduled_date(value: date, today: date) -> None:
    if not today - timedelta(days=SCHEDULE_PAST_DAYS) <= value <= today + timedelta(days=SCHEDULE_FUTURE_DAYS):
        raise InvalidInput(
            "scheduled_date: must lie within ten years before and one year after today",
            field="scheduled_date",
            value=value.isoformat(),
        )


def _require_status(row: store.ProcedureRow, allowed: Sequence[str], doing: str) -> None:
    if row.status not in allowed:
        raise Conflict(f"cannot {doing}: the procedure is {row.status.replace('_', ' ')}")


def _not_future(at: datetime, now: datetime, field: str) -> None:
    if at > now + CLOCK_SLACK:
        raise InvalidRecord(f"{field}: {at.isoformat()} is in the future", field=field, value=at.isoformat())


def _checklist(row: store.ProcedureRow) -> PreProcedureChecklist:
    return PreProcedureChecklist.model_validate(row.checklist or {})


def stored_record(row: store.ProcedureRow) -> ProcedureRecord | None:
    return ProcedureRecord.model_validate(row.record) if row.record else None


def _entry(row: store.ObservationRow) -> ObservationEntry:
    return ObservationEntry(
        at=row.taken_at.astimezone(),  # shown and printed in the clinic's (server's) time zone
        by=row.taken_by,
        vitals=Vitals.model_validate(row.vitals) if row.vitals else None,
        neuro=NeuroCheck.model_validate(row.neuro) if row.neuro else None,
        pain=row.pain,
        walking=Walking(row.walking) if row.walking else None,
        voided=row.voided,
        aldrete=row.aldrete,
        padss=row.padss,
        note=row.note,
    )


def event_view(row: store.AdverseEventRow) -> AdverseEventView:
    event = AdverseEvent.model_validate(
        {
            "type": row.type,
            "onset": row.onset,
            "severity": row.severity,
            "serious": row.serious,
            "outcome": row.outcome,
            "description": row.description,
            "recorded_by": row.recorded_by,
        }
    )
    return AdverseEventView(
        row.id, row.procedure_id, row.patient_id, event, load_policies().events.adverse_event_label(row.type)
    )


def reintervention_view(row: store.ReinterventionRow) -> ReinterventionView:
    item = Reintervention.model_validate(
        {"type": row.type, "performed_on": row.performed_on, "levels": list(row.levels or []), "note": row.note}
    )
    return ReinterventionView(
        row.id, row.procedure_id, row.patient_id, item, load_policies().events.reintervention_label(row.type)
    )


def _override(row: store.ProcedureRow) -> ChecklistOverride | None:
    if row.override_at is None:
        return None
    return ChecklistOverride(by=row.override_by, reason=row.override_reason, at=row.override_at.astimezone())


def build_view(session: Session, row: store.ProcedureRow, patient: Patient, today: date) -> ProcedureView:
    """The plain view of a loaded procedure (after :func:`procedure_for`); the checklist evaluated on ``today``."""
    pol = load_policies()
    checklist = _checklist(row)
    rec = stored_record(row)
    observations = tuple(
        ObservationView(o.id, _entry(o)) for o in store.list_observations(session, procedure_id=row.id)
    )
    readiness = DischargeReadiness.model_validate(row.readiness) if row.readiness else None
    names = users_store.display_names(session, user_ids=[row.operator_user_id])
    return ProcedureView(
        id=row.id,
        patient_id=patient.id,
        patient_name=f"{patient.given_name} {patient.family_name}",
        mrn=patient.mrn,
        status=row.status,
        scheduled_date=row.scheduled_date,
        operator_user_id=row.operator_user_id,
        operator_name=names.get(row.operator_user_id, "") if row.operator_user_id else "",
        checklist=checklist,
        evaluation=evaluate_checklist(checklist, row.scheduled_date, today, policy=pol.checklist),
        override=_override(row),
        overridden_items=tuple(row.override_items or ()),
        record=rec,
        warnings=tuple(record_problems(rec, pol.record)[1]) if rec is not None else (),
        levels=tuple(describe_levels(rec, pol.record)) if rec is not None else (),
        started_at=row.started_at,
        ended_at=row.ended_at,
        observations=observations,
        readiness=readiness,
        discharge_evaluation=evaluate_discharge(
            [o.entry for o in observations], readiness or DischargeReadiness(), policy=pol.discharge
        ),
        discharge=DischargeOutcome.model_validate(row.discharge) if row.discharge else None,
        adverse_events=tuple(event_view(e) for e in store.adverse_events_for(session, procedure_id=row.id)),
        reinterventions=tuple(reintervention_view(r) for r in store.reinterventions_for(session, procedure_id=row.id)),
        cancel_reason=row.cancel_reason,
        created_at=row.created_at,
        updated_at=row.updated_at,
    )


def _summary(row: store.ProcedureRow, operator_names: Mapping[int, str]) -> ProcedureSummary:
    rec = stored_record(row)
    return ProcedureSummary(
        id=row.id,
        patient_id=row.patient_id,
        status=row.status,
        procedure_date=row.scheduled_date,
        operator_name=operator_names.get(row.operator_user_id, "") if row.operator_user_id else "",
        levels=tuple(describe_levels(rec, load_policies().record)) if rec is not None else (),
        duration_minutes=rec.duration_minutes if rec is not None else None,
        discharge_kind=row.discharge_kind,
        discharged_at=row.discharged_at,
        overnight_reason=row.overnight_reason,
    )


def _touch(row: store.ProcedureRow, now: datetime) -> None:
    row.updated_at = now


# ------------------------------------------------------------------------------------------ scheduling


def schedule_procedure(
    session: Session, actor: Actor, patient_id: int, data: ProcedureSchedule, *, today: date, now: datetime
) -> ProcedureView:
    """Schedule a procedure (staff). The operator defaults to the clinician scheduling it; a patient with a
    scheduled or in-progress procedure already is a :class:`Conflict`."""
    require_staff(actor)
    patient = get_patient_for(session, actor, patient_id)
    _check_scheduled_date(data.scheduled_date, today)
    operator = data.operator_user_id
    if operator is None and actor.role == "clinician":
        operator = actor.user_id
    if operator is not None:
        _check_operator(session, operator, patient.clinic_id)
    if store.open_procedure(session, patient_id=patient.id) is not None:
        raise Conflict("this patient already has a scheduled or in-progress procedure")
    row = store.add_procedure(
        session,
        patient_id=patient.id,
        scheduled_date=data.scheduled_date,
        operator_user_id=operator,
        created_by=actor.user_id,
        now=now,
    )
    record(session, actor, "procedure.schedule", "Procedure", row.id, patient.id)
    return build_view(session, row, patient, today)


def update_schedule(
    session: Session,
    actor: Actor,
    patient_id: int,
    procedure_id: int,
    data: ScheduleUpdate,
    *,
    today: date,
    now: datetime,
) -> ProcedureView:
    """Move a scheduled procedure to another day or operator (staff; only before it starts)."""
    require_staff(actor)
    row, patient = procedure_for(session, actor, patient_id, procedure_id)
    _require_status(row, ("scheduled",), "reschedule")
    changed = []
    if data.scheduled_date is not None and data.scheduled_date != row.scheduled_date:
        _check_scheduled_date(data.scheduled_date, today)
        row.scheduled_date = data.scheduled_date
        changed.append("scheduled_date")
    if data.operator_user_id is not None and data.operator_user_id != row.operator_user_id:
        _check_operator(session, data.operator_user_id, patient.clinic_id)
        row.operator_user_id = data.operator_user_id
        changed.append("operator_user_id")
    _touch(row, now)
    session.flush()
    if "scheduled_date" in changed:
        scheduling.follow_procedure(session, row.id, new_date=row.scheduled_date, reason="", now=now, actor=actor)
    record(session, actor, "procedure.reschedule", "Procedure", row.id, patient.id, {"fields": changed})
    return build_view(session, row, patient, today)


def cancel_procedure(
    session: Session, actor: Actor, patient_id: int, procedure_id: int, reason: str, *, today: date, now: datetime
) -> ProcedureView:
    """Cancel a procedure that has not started (staff); the reason is required."""
    require_staff(actor)
    text = _text(reason, "reason", required=True)
    row, patient = procedure_for(session, actor, patient_id, procedure_id)
    _require_status(row, ("scheduled",), "cancel")
    row.status = "cancelled"
    row.cancel_reason = text
    _touch(row, now)
    session.flush()
    scheduling.follow_procedure(session, row.id, new_date=None, reason=text, now=now)
    record(session, actor, "procedure.cancel", "Procedure", row.id, patient.id)
    return build_view(session, row, patient, today)


# ------------------------------------------------------------------------------------------ checklist and start


def update_checklist(
    session: Session,
    actor: Actor,
    patient_id: int,
    procedure_id: int,
    checklist: PreProcedureChecklist | Mapping[str, Any],
    *,
    today: date,
    now: datetime,
) -> ProcedureView:
    """Replace the checklist answers (staff; only before the procedure starts). Invalid answers raise
    :class:`InvalidRecord` naming the field; nothing is saved then. Open items are allowed: the checklist is
    filled in over days."""
    require_staff(actor)
    row, patient = procedure_for(session, actor, patient_id, procedure_id)
    parsed = _parse(PreProcedureChecklist, checklist, "checklist")
    _require_status(row, ("scheduled",), "change the checklist")
    row.checklist = parsed.model_dump(mode="json")
    row.checklist_updated_at = now
    _touch(row, now)
    session.flush()
    view = build_view(session, row, patient, today)
    record(
        session,
        actor,
        "procedure.checklist_update",
        "Procedure",
        row.id,
        patient.id,
        {"open_required": len(view.evaluation.open_required)},
    )
    return view


def start_procedure(
    session: Session,
    actor: Actor,
    patient_id: int,
    procedure_id: int,
    *,
    now: datetime,
    override_reason: str | None = None,
) -> ProcedureView:
    """Mark the procedure started at ``now`` (staff), on its scheduled day only.

    While a required checklist item is open this raises :class:`RuleViolation` (``data["open_items"]``), unless
    a clinician gives ``override_reason``: then the start goes ahead, the override (who, why, when, which items)
    is stored on the procedure and audited as ``procedure.start_override`` (items, not the free text). A reason
    given while nothing is open is ignored (there is nothing to override)."""
    require_staff(actor)
    row, patient = procedure_for(session, actor, patient_id, procedure_id)
    _require_status(row, ("scheduled",), "start")
    today = now.astimezone().date()
    if row.scheduled_date != today:
        raise Conflict(
            f"the procedure is scheduled for {row.scheduled_date}, not today ({today}): change the date first"
        )
    reason = _text(override_reason, "override_reason")
    evaluation = evaluate_checklist(_checklist(row), row.scheduled_date, today, policy=load_policies().checklist)
    override = None
    if reason and not evaluation.ready:
        require_role(actor, "clinician")
        override = ChecklistOverride(by=_actor_name(session, actor), reason=reason, at=now)
    decision = can_start(evaluation, override)  # raises RuleViolation while items are open and not overridden
    row.status = "in_progress"
    row.started_at = now
    if decision.override is not None:
        row.override_by = decision.override.by
        row.override_user_id = actor.user_id
        row.override_reason = decision.override.reason
        row.override_at = now
        row.override_items = [str(i) for i in decision.overridden]
    _touch(row, now)
    session.flush()
    if decision.override is not None:
        record(
            session,
            actor,
            "procedure.start_override",
            "Procedure",
            row.id,
            patient.id,
            # The reason itself is kept on the procedure (override_reason); the append-only trail keeps only
            # which items were overridden, so an erasure request can remove the free text with the record.
            {"overridden_items": [str(i) for i in decision.overridden], "reason_recorded": True},
        )
    record(
        session, actor, "procedure.start", "Procedure", row.id, patient.id, {"overridden": bool(decision.overridden)}
    )
    return build_view(session, row, patient, today)


# ------------------------------------------------------------------------------------------ the record


def save_record(
    session: Session,
    actor: Actor,
    patient_id: int,
    procedure_id: int,
    data: ProcedureRecord | Mapping[str, Any],
    *,
    now: datetime,
    sync_recovery_plan: bool = True,
) -> tuple[ProcedureView, tuple[Problem, ...]]:
    """Save (or correct) the procedure record (staff; after the start). Returns the view and the plausibility
    warnings, which never block saving.

    Errors raise :class:`InvalidRecord` naming the field (``data["errors"]`` lists all) and save nothing: an
    unknown level, an end before the start, a procedure date other than the procedure's, times in the future, an
    end after the recorded discharge. A record with an end completes the procedure; the first completion sets
    the patient's recovery-plan procedure date (:func:`services.recovery.set_plan`, keeping the plan's other
    settings) unless ``sync_recovery_plan`` is False (the demo leaves plans to the recovery seeder)."""
    require_staff(actor)
    row, patient = procedure_for(session, actor, patient_id, procedure_id)
    rec = data if isinstance(data, ProcedureRecord) else parse_record(data)
    _check_sizes(rec.model_dump(mode="json"), "")
    _require_status(row, ("in_progress", "completed"), "save the procedure record before the procedure starts")
    if rec.procedure_date != row.scheduled_date:
        raise InvalidRecord(
            f"procedure_date: {rec.procedure_date} is not this procedure's date ({row.scheduled_date})",
            field="procedure_date",
            value=rec.procedure_date.isoformat(),
        )
    _not_future(rec.start, now, "start")
    if rec.end is not None:
        _not_future(rec.end, now, "end")
    warnings = validate_record(rec, load_policies().record)
    if row.discharged_at is not None:
        if rec.end is None:
            raise InvalidRecord("end: the patient was discharged, so the procedure has an end", field="end")
        if rec.end > row.discharged_at:
            raise InvalidRecord("end: after the recorded discharge time", field="end", value=rec.end.isoformat())
    was_completed = row.status == "completed"
    # The times the clinician typed are the truth for every later step (observations, discharge), even when the
    # record is entered after the fact: the moment the Start button was pressed gives way to the typed start.
    button_start = row.started_at
    row.record = rec.model_dump(mode="json")
    row.started_at = rec.start
    row.ended_at = rec.end
    row.status = "completed" if rec.end is not None else "in_progress"
    _touch(row, now)
    session.flush()
    record(
        session,
        actor,
        "procedure.record_save",
        "Procedure",
        row.id,
        patient.id,
        {
            "warnings": len(warnings),
            "completed": rec.end is not None,
            "start_corrected": button_start is not None and button_start != rec.start,
        },
    )
    if sync_recovery_plan and rec.end is not None and not was_completed:
        _sync_recovery_plan(session, actor, patient.id, row.scheduled_date, now)
    return build_view(session, row, patient, now.astimezone().date()), warnings


def _recorded_start(row: store.ProcedureRow) -> datetime | None:
    """When the procedure started: the record's typed start when there is a record, else the Start button's."""
    rec = stored_record(row)
    return rec.start if rec is not None else row.started_at


def _sync_recovery_plan(session: Session, actor: Actor, patient_id: int, procedure_date: date, now: datetime) -> None:
    """Give the patient's recovery plan this procedure date, keeping the plan's other settings."""
    if recovery_service.procedure_date_for(session, patient_id) == procedure_date:
        return
    today = now.astimezone().date()
    current = recovery_service.get_plan_view(session, actor, patient_id, today=today)
    plan = recovery_service.PlanIn(
        procedure_date=procedure_date,
        no_lifting_weeks=current.no_lifting_weeks_set if current is not None else None,
        physical_therapy=current.physical_therapy if current is not None else False,
    )
    recovery_service.set_plan(session, actor, patient_id, plan, today=today)


# ------------------------------------------------------------------------------------------ observation, discharge


def add_observation(
    session: Session,
    actor: Actor,
    patient_id: int,
    procedure_id: int,
    data: ObservationEntry | Mapping[str, Any],
    *,
    now: datetime,
) -> ProcedureView:
    """Record one timed observation (staff; after the start, until a same-day discharge). ``by`` defaults to
    the person entering it. Out-of-range values raise :class:`InvalidRecord` naming the field."""
    require_staff(actor)
    row, patient = procedure_for(session, actor, patient_id, procedure_id)
    entry = _parse(ObservationEntry, data, "observation")
    _require_status(row, ("in_progress", "completed"), "record an observation")
    if row.discharge_kind == DischargeKind.HOME.value:
        raise Conflict("the patient has been discharged home")
    validate_observation(entry, load_policies().discharge)
    _not_future(entry.at, now, "at")
    # Bedside forms give times to the minute: an observation in the minute of the start counts as after it.
    started = _recorded_start(row)
    if started is not None and entry.at < started.replace(second=0, microsecond=0):
        raise InvalidRecord("at: before the procedure started", field="at", value=entry.at.isoformat())
    obs = store.add_observation(
        session,
        procedure_id=row.id,
        taken_at=entry.at,
        taken_by=entry.by.strip() or _actor_name(session, actor),
        vitals=entry.vitals.model_dump(mode="json") if entry.vitals else None,
        neuro=entry.neuro.model_dump(mode="json") if entry.neuro else None,
        pain=entry.pain,
        walking=entry.walking.value if entry.walking else None,
        voided=entry.voided,
        aldrete=entry.aldrete,
        padss=entry.padss,
        note=entry.note,
        entered_by=actor.user_id,
        now=now,
    )
    _touch(row, now)
    record(session, actor, "procedure.observation_add", "ProcedureObservation", obs.id, patient.id)
    return build_view(session, row, patient, now.astimezone().date())


def discharge(
    session: Session,
    actor: Actor,
    patient_id: int,
    procedure_id: int,
    readiness: DischargeReadiness | Mapping[str, Any],
    *,
    now: datetime,
    at: datetime | None = None,
    fallback_phone: str = "",
) -> ProcedureView:
    """Discharge home the same day at ``at`` (default ``now``) when every criterion of clinical reference §5.1
    is met; otherwise :class:`RuleViolation` (``data["unmet"]``) and nothing is saved, not even the readiness.

    The discharge sheet must print a number to call: without the clinic's phone or ``fallback_phone``
    (``MILDPATH_CLINIC_PHONE``) the discharge is refused (:class:`Conflict` naming the setting)."""
    require_staff(actor)
    row, patient = procedure_for(session, actor, patient_id, procedure_id)
    discharge_phone(session, patient, fallback_phone)
    ready = _parse(DischargeReadiness, readiness, "readiness")
    rec = _ready_to_leave(row)
    when = at or now
    _not_future(when, now, "at")
    observations = [_entry(o) for o in store.list_observations(session, procedure_id=row.id)]
    evaluation = evaluate_discharge(observations, ready, policy=load_policies().discharge)
    outcome = discharge_home(evaluation, when, procedure_end=rec.end)
    _store_outcome(row, outcome, ready, now)
    record(session, actor, "procedure.discharge", "Procedure", row.id, patient.id)
    return build_view(session, row, patient, now.astimezone().date())


def discharge_phone(session: Session, patient: Patient, fallback_phone: str = "") -> str:
    """The phone number the discharge sheet prints: the clinic's own, else ``fallback_phone``
    (``MILDPATH_CLINIC_PHONE``); :class:`Conflict` naming both when neither is set."""
    phone = store.clinic_phone(session, clinic_id=patient.clinic_id) or fallback_phone.strip()
    if not phone:
        raise Conflict(
            "the discharge sheet needs a phone number to call: set the clinic's phone or MILDPATH_CLINIC_PHONE"
        )
    return phone


def keep_overnight(
    session: Session,
    actor: Actor,
    patient_id: int,
    procedure_id: int,
    reason: str,
    *,
    now: datetime,
    at: datetime | None = None,
) -> ProcedureView:
    """Record that the patient stays overnight from ``at`` (default ``now``), with the reason (required)."""
    require_staff(actor)
    row, patient = procedure_for(session, actor, patient_id, procedure_id)
    text = _text(reason, "reason")
    rec = _ready_to_leave(row)
    when = at or now
    _not_future(when, now, "at")
    outcome = overnight_outcome(text, when, procedure_end=rec.end)
    _store_outcome(row, outcome, None, now)
    record(session, actor, "procedure.keep_overnight", "Procedure", row.id, patient.id)
    return build_view(session, row, patient, now.astimezone().date())


def _ready_to_leave(row: store.ProcedureRow) -> ProcedureRecord:
    if row.discharge_kind is not None:
        raise Conflict(f"already recorded: {'discharged home' if row.discharge_kind == 'home' else 'kept overnight'}")
    rec = stored_record(row)
    if row.status != "completed" or rec is None or rec.end is None:
        raise Conflict("record the procedure's end time before discharge")
    return rec


def _store_outcome(
    row: store.ProcedureRow, outcome: DischargeOutcome, readiness: DischargeReadiness | None, now: datetime
) -> None:
    row.discharge = outcome.model_dump(mode="json")
    row.discharge_kind = outcome.kind.value
    row.discharged_at = outcome.at
    row.overnight_reason = outcome.reason if outcome.kind is DischargeKind.OVERNIGHT else ""
    if readiness is not None:
        row.readiness = readiness.model_dump(mode="json")
    _touch(row, now)


# ------------------------------------------------------------------------------------------ events


@dataclass(frozen=True)
class _EventKind(Generic[E, ER, EV]):
    """A record kept against a procedure after it started (an adverse event, a later intervention): how it is
    read (``model``, named ``what`` in errors), in which states of the procedure it may be recorded (``doing``
    names the change in the refusal), the domain's check, the columns stored besides the procedure, the patient,
    who entered it and when, and its audit row and view."""

    model: type[E]
    what: str
    statuses: tuple[str, ...]
    doing: str
    validate: Callable[..., None]  # (item, *, procedure_date, today, policy) -> None, raises InvalidRecord
    columns: Callable[[Session, Actor, E], dict[str, Any]]
    add: Callable[..., ER]  # store.add_*(session, *, procedure_id, patient_id, entered_by, now, **columns)
    action: str
    record_type: str
    view: Callable[[ER], EV]


def _record_event(
    kind: _EventKind[E, ER, EV],
    session: Session,
    actor: Actor,
    patient_id: int,
    procedure_id: int,
    data: E | Mapping[str, Any],
    *,
    today: date,
    now: datetime,
) -> EV:
    """The one way an event is recorded: check access, load the procedure, validate, add the row, audit,
    return its view."""
    require_staff(actor)
    row, patient = procedure_for(session, actor, patient_id, procedure_id)
    item = _parse(kind.model, data, kind.what)
    _require_status(row, kind.statuses, kind.doing)
    kind.validate(item, procedure_date=row.scheduled_date, today=today, policy=load_policies().events)
    saved = kind.add(
        session,
        procedure_id=row.id,
        patient_id=patient.id,
        **kind.columns(session, actor, item),
        entered_by=actor.user_id,
        now=now,
    )
    record(session, actor, kind.action, kind.record_type, saved.id, patient.id)
    return kind.view(saved)


_ADVERSE_EVENT = _EventKind(
    model=AdverseEvent,
    what="adverse event",
    statuses=("in_progress", "completed"),
    doing="record an adverse event",
    validate=validate_adverse_event,
    columns=lambda session, actor, event: {
        "type": event.type.value,
        "onset": event.onset,
        "severity": event.severity.value,
        "serious": event.serious,
        "outcome": event.outcome.value,
        "description": event.description.strip(),
        "recorded_by": event.recorded_by.strip() or _actor_name(session, actor),
    },
    add=store.add_adverse_event,
    action="procedure.adverse_event_add",
    record_type="AdverseEvent",
    view=event_view,
)
_REINTERVENTION = _EventKind(
    model=Reintervention,
    what="reintervention",
    statuses=("completed",),
    doing="record a reintervention",
    validate=validate_reintervention,
    columns=lambda session, actor, item: {
        "type": item.type.value,
        "performed_on": item.performed_on,
        "levels": list(item.levels),
        "note": item.note.strip(),
    },
    add=store.add_reintervention,
    action="procedure.reintervention_add",
    record_type="Reintervention",
    view=reintervention_view,
)


def record_adverse_event(
    session: Session,
    actor: Actor,
    patient_id: int,
    procedure_id: int,
    data: AdverseEvent | Mapping[str, Any],
    *,
    today: date,
    now: datetime,
) -> AdverseEventView:
    """Record an adverse event against a procedure that has started (staff). The onset lies between the
    procedure date and ``today``; an ED visit or readmission only within 30 days (content)."""
    return _record_event(_ADVERSE_EVENT, session, actor, patient_id, procedure_id, data, today=today, now=now)


def record_reintervention(
    session: Session,
    actor: Actor,
    patient_id: int,
    procedure_id: int,
    data: Reintervention | Mapping[str, Any],
    *,
    today: date,
    now: datetime,
) -> ReinterventionView:
    """Record a later intervention after a completed procedure (staff): after the procedure date, not after
    ``today``, known levels only."""
    return _record_event(_REINTERVENTION, session, actor, patient_id, procedure_id, data, today=today, now=now)


# ------------------------------------------------------------------------------------------ reads


def get_procedure(session: Session, actor: Actor, patient_id: int, procedure_id: int, *, today: date) -> ProcedureView:
    """The whole procedure day (staff)."""
    require_staff(actor)
    row, patient = procedure_for(session, actor, patient_id, procedure_id)
    record(session, actor, "procedure.read", "Procedure", row.id, patient.id)
    return build_view(session, row, patient, today)


def list_summaries(session: Session, actor: Actor, patient_id: int) -> list[ProcedureSummary]:
    """The patient's procedures, latest first (staff, or the patient themself)."""
    patient = get_patient_for(session, actor, patient_id)
    rows = store.list_for_patient(session, patient_id=patient.id)
    names = users_store.display_names(session, user_ids=[r.operator_user_id for r in rows])
    record(session, actor, "procedure.list", "Procedure", None, patient.id, {"results": len(rows)})
    return [_summary(r, names) for r in rows]


def get_summary(session: Session, actor: Actor, patient_id: int, procedure_id: int) -> ProcedureSummary:
    """One procedure's summary (staff, or the patient themself)."""
    row, patient = procedure_for(session, actor, patient_id, procedure_id)
    record(session, actor, "procedure.summary_read", "Procedure", row.id, patient.id)
    return _summary(row, users_store.display_names(session, user_ids=[row.operator_user_id]))


def todays_list(session: Session, actor: Actor, *, today: date) -> list[TodayRow]:
    """Procedures scheduled on ``today`` for the patients the staff member may see, by family name."""
    require_staff(actor)
    visible = visible_patients(actor).with_only_columns(Patient.id)
    rows = store.procedures_on(session, day=today, patient_ids=visible)
    names = users_store.display_names(session, user_ids=[r.operator_user_id for r, _ in rows])
    policy = load_policies().checklist
    out = []
    for row, patient in rows:
        evaluation = evaluate_checklist(_checklist(row), row.scheduled_date, today, policy=policy)
        out.append(
            TodayRow(
                procedure_id=row.id,
                patient_id=patient.id,
                patient_name=f"{patient.given_name} {patient.family_name}",
                mrn=patient.mrn,
                status=row.status,
                operator_name=names.get(row.operator_user_id, "") if row.operator_user_id else "",
                open_required=len(evaluation.open_required),
                discharge_kind=row.discharge_kind,
            )
        )
    record(session, actor, "procedure.today_list", "Procedure", None, None, {"results": len(out)})
    return out


def procedure_date_for(session: Session, patient_id: int, *, completed_only: bool = False) -> date | None:
    """The date of the patient's latest procedure that is not cancelled (``completed_only``: completed ones only),
    or None. No access check and no audit: for other services that already checked access."""
    return store.latest_procedure_date(session, patient_id=patient_id, completed_only=completed_only)


def operators(session: Session, actor: Actor, patient_id: int) -> list[tuple[int, str]]:
    """(user id, name) of the active clinicians who may operate on this patient (the patient's clinic), for
    the schedule form (staff)."""
    require_staff(actor)
    patient = get_patient_for(session, actor, patient_id)
    return store.active_clinicians(session, clinic_id=patient.clinic_id)
