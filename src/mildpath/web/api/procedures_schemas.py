"""API schemas of the procedure day (``XxxCreate`` / ``XxxUpdate`` / ``XxxPublic``).

Request bodies for the clinical records are the domain's own models (``PreProcedureChecklist``,
``ProcedureRecord``, ``ObservationEntry``, ``AdverseEvent``, ``Reintervention``, ``DischargeReadiness``): they
refuse unknown keys and naive datetimes, and the services bound every text, list and number. Responses are
built from the services' plain views by the ``from_*`` functions here; the adverse event and later intervention
answers are the service's own read models (``AdverseEventPublic``, ``ReinterventionPublic``), not restated here.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from mildpath.domain.inputs import EdgeInput
from mildpath.domain.procedure import DischargeCriterion, DischargeReadiness, Problem
from mildpath.services.procedures import (
    AdverseEventPublic,
    ProcedureSummary,
    ProcedureView,
    ReinterventionPublic,
    TodayRow,
)
from mildpath.services.procedures import ProcedureSchedule as ProcedureCreate
from mildpath.services.procedures import ScheduleUpdate as ProcedureUpdate

__all__ = [
    "AdverseEventPublic",
    "CancelRequest",
    "ChecklistItemPublic",
    "CriterionPublic",
    "DischargeRequest",
    "OvernightRequest",
    "OverridePublic",
    "ProblemPublic",
    "ProcedureCreate",
    "ProcedurePublic",
    "ProcedureSummaryPublic",
    "ProcedureUpdate",
    "RecordSaved",
    "ReinterventionPublic",
    "StartRequest",
    "TodayRowPublic",
]

TEXT = 2000


class StartRequest(EdgeInput):
    model_config = ConfigDict(extra="forbid")

    override_reason: str | None = Field(
        default=None,
        max_length=TEXT,
        description="A clinician's reason to start although required checklist items are open (audited)",
    )


class CancelRequest(EdgeInput):
    model_config = ConfigDict(extra="forbid")

    reason: str = Field(min_length=1, max_length=TEXT)


class DischargeRequest(EdgeInput):
    model_config = ConfigDict(extra="forbid")

    readiness: DischargeReadiness
    at: AwareDatetime | None = Field(default=None, description="Discharge time; default now")


class OvernightRequest(EdgeInput):
    model_config = ConfigDict(extra="forbid")

    reason: str = Field(max_length=TEXT, description="Why the patient stays overnight (required)")
    at: AwareDatetime | None = Field(default=None, description="From when; default now")


class ProblemPublic(BaseModel):
    field: str
    message: str
    sources: list[str]


class ChecklistItemPublic(BaseModel):
    id: str
    label: str
    required: bool
    status: str
    reasons: list[str]
    sources: list[str]


class OverridePublic(BaseModel):
    by: str
    reason: str
    at: datetime
    items: list[str]


class CriterionPublic(BaseModel):
    id: str
    label: str
    met: bool
    reason: str
    sources: list[str]


class ProcedurePublic(BaseModel):
    """The whole procedure day (staff)."""

    id: int
    patient_id: int
    status: str
    scheduled_date: date
    procedure_date: date
    operator_user_id: int | None
    operator_name: str
    checklist: dict[str, Any]
    checklist_items: list[ChecklistItemPublic]
    ready_to_start: bool
    override: OverridePublic | None
    record: dict[str, Any] | None
    warnings: list[ProblemPublic]
    levels: list[str]
    duration_minutes: int | None
    started_at: datetime | None
    ended_at: datetime | None
    observations: list[dict[str, Any]]
    discharge_criteria: list[CriterionPublic]
    discharge_alerts: list[CriterionPublic]
    discharge_criteria_met: bool
    readiness: dict[str, Any] | None
    discharge: dict[str, Any] | None
    adverse_events: list[AdverseEventPublic]
    reinterventions: list[ReinterventionPublic]
    cancel_reason: str


class RecordSaved(BaseModel):
    procedure: ProcedurePublic
    warnings: list[ProblemPublic]


class ProcedureSummaryPublic(BaseModel):
    """What a patient sees of their own procedure."""

    model_config = ConfigDict(from_attributes=True)

    id: int
    patient_id: int
    status: str
    procedure_date: date
    operator_name: str
    levels: list[str]
    duration_minutes: int | None
    discharge_kind: str | None
    discharged_at: datetime | None
    overnight_reason: str


# The service's row of the day's list, as the API names it (no docstring: the schema's description stays empty).
class TodayRowPublic(TodayRow):
    pass


def problem_public(p: Problem) -> ProblemPublic:
    return ProblemPublic(field=p.field, message=p.message, sources=list(p.sources))


def from_view(v: ProcedureView) -> ProcedurePublic:
    ev = v.discharge_evaluation
    return ProcedurePublic(
        id=v.id,
        patient_id=v.patient_id,
        status=v.status,
        scheduled_date=v.scheduled_date,
        procedure_date=v.procedure_date,
        operator_user_id=v.operator_user_id,
        operator_name=v.operator_name,
        checklist=v.checklist.model_dump(mode="json"),
        checklist_items=[
            ChecklistItemPublic(
                id=str(i.item_id),
                label=i.label,
                required=i.required,
                status=str(i.status),
                reasons=list(i.reasons),
                sources=list(i.sources),
            )
            for i in v.evaluation.items
        ],
        ready_to_start=v.evaluation.ready,
        override=(
            OverridePublic(by=v.override.by, reason=v.override.reason, at=v.override.at, items=list(v.overridden_items))
            if v.override is not None
            else None
        ),
        record=v.record.model_dump(mode="json") if v.record is not None else None,
        warnings=[problem_public(w) for w in v.warnings],
        levels=list(v.levels),
        duration_minutes=v.duration_minutes,
        started_at=v.started_at,
        ended_at=v.ended_at,
        observations=[{"id": o.id, **o.entry.model_dump(mode="json")} for o in v.observations],
        discharge_criteria=[_criterion(c) for c in ev.criteria],
        discharge_alerts=[_criterion(c) for c in ev.alerts],
        discharge_criteria_met=ev.met,
        readiness=v.readiness.model_dump(mode="json") if v.readiness is not None else None,
        discharge=v.discharge.model_dump(mode="json") if v.discharge is not None else None,
        adverse_events=[e.public() for e in v.adverse_events],
        reinterventions=[r.public() for r in v.reinterventions],
        cancel_reason=v.cancel_reason,
    )


def _criterion(c: DischargeCriterion) -> CriterionPublic:
    return CriterionPublic(id=c.id, label=c.label, met=c.met, reason=c.reason, sources=list(c.sources))


def summary_public(s: ProcedureSummary) -> ProcedureSummaryPublic:
    return ProcedureSummaryPublic.model_validate(s)


def today_public(r: TodayRow) -> TodayRowPublic:
    return TodayRowPublic.model_validate(r.model_dump())
