"""One procedure day as a single document: the record plus everything around it.

This is the JSON shape the CLI reads (``mildpath procedure validate FILE.json``) and a store can keep in one
column. Only ``record`` is required; a file holding a bare procedure record is read as ``{"record": ...}``."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any

from mildpath.domain.procedure._base import Problem, RecordModel, parse, raise_if_any
from mildpath.domain.procedure.checklist import ChecklistOverride, PreProcedureChecklist
from mildpath.domain.procedure.discharge import (
    DischargeKind,
    DischargeOutcome,
    DischargeReadiness,
    ObservationEntry,
    observation_problems,
)
from mildpath.domain.procedure.events import (
    AdverseEvent,
    Reintervention,
    adverse_event_problems,
    reintervention_problems,
)
from mildpath.domain.procedure.policy import ChecklistPolicy, DischargePolicy, EventPolicy, RecordPolicy
from mildpath.domain.procedure.record import ProcedureRecord, record_problems


@dataclass(frozen=True)
class ProcedurePolicies:
    """All site parameters of the procedure day, as built by ``mildpath.content.procedure.policies()``."""

    checklist: ChecklistPolicy
    record: RecordPolicy
    discharge: DischargePolicy
    events: EventPolicy


class ProcedureDay(RecordModel):
    record: ProcedureRecord
    checklist: PreProcedureChecklist | None = None
    start_override: ChecklistOverride | None = None
    observations: tuple[ObservationEntry, ...] = ()
    readiness: DischargeReadiness | None = None
    discharge: DischargeOutcome | None = None
    adverse_events: tuple[AdverseEvent, ...] = ()
    reinterventions: tuple[Reintervention, ...] = ()


def parse_procedure_day(data: Mapping[str, Any] | Any) -> ProcedureDay:
    """A :class:`ProcedureDay` from JSON-like data; a mapping without ``record`` is taken as a bare record."""
    if isinstance(data, Mapping) and "record" not in data:
        data = {"record": data}
    return parse(ProcedureDay, data, "procedure day")


def procedure_day_problems(
    day: ProcedureDay, *, today: date, policies: ProcedurePolicies
) -> tuple[list[Problem], list[Problem]]:
    """(errors, warnings) over the whole day, each field prefixed with where it sits (``record.levels.0``)."""
    errors: list[Problem] = []
    rec_errors, warnings = record_problems(day.record, policies.record)
    errors += _prefixed("record", rec_errors)
    warnings = _prefixed("record", warnings)
    procedure_date = day.record.procedure_date
    for i, entry in enumerate(day.observations):
        errors += _prefixed(f"observations.{i}", observation_problems(entry, policies.discharge))
    if day.discharge is not None:
        if day.discharge.kind is DischargeKind.OVERNIGHT and not day.discharge.reason.strip():
            errors.append(Problem("discharge.reason", "an overnight stay needs a reason"))
        if day.record.end is not None and day.discharge.at < day.record.end:
            errors.append(Problem("discharge.at", "the discharge time is before the procedure ended"))
    for i, event in enumerate(day.adverse_events):
        found = adverse_event_problems(event, procedure_date=procedure_date, today=today, policy=policies.events)
        errors += _prefixed(f"adverse_events.{i}", found)
    for i, item in enumerate(day.reinterventions):
        found = reintervention_problems(item, procedure_date=procedure_date, today=today, policy=policies.events)
        errors += _prefixed(f"reinterventions.{i}", found)
    return errors, warnings


def validate_procedure_day(day: ProcedureDay, *, today: date, policies: ProcedurePolicies) -> tuple[Problem, ...]:
    """Raise one ``InvalidRecord`` listing every error of the day, or return its warnings."""
    errors, warnings = procedure_day_problems(day, today=today, policies=policies)
    raise_if_any(errors, "procedure day")
    return tuple(warnings)


def _prefixed(prefix: str, problems: list[Problem]) -> list[Problem]:
    return [Problem(f"{prefix}.{p.field}", p.message, p.sources) for p in problems]
