"""Procedure-day outputs (issue 5): the printable procedure note and discharge instructions, the FHIR R4
resources (Procedure with complications, AdverseEvent, later interventions as Procedure), and the extract the
outcomes registry (issue 8) counts. Access-checked and audited like :mod:`mildpath.services.procedures`, whose
loaders and views they reuse; nothing here commits.

Staff only, except :func:`discharge_instructions`, which a patient may download for their own procedure.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, Literal

from sqlalchemy.orm import Session

from mildpath.domain.errors import Conflict, NotFound
from mildpath.domain.procedure import DischargeKind, DischargeOutcome, EventCounts, TreatedLevel, count_events
from mildpath.fhir import procedure as fhir_procedure
from mildpath.reports import procedure_note as documents
from mildpath.services.access import Actor, get_patient_for, record, require_staff, visible_patients
from mildpath.services.procedures import (
    build_view,
    discharge_phone,
    event_view,
    procedure_by_id_for,
    procedure_for,
    reintervention_view,
    stored_record,
)
from mildpath.store import procedures as store
from mildpath.store import users as users_store
from mildpath.store.models import Patient

# ------------------------------------------------------------------------------------------ registry views


@dataclass(frozen=True)
class RegistryProcedure:
    """One procedure as the outcomes registry counts it (issue 8)."""

    procedure_id: int
    patient_id: int
    procedure_date: date
    status: str
    operator_user_id: int | None
    operator_name: str
    levels: tuple[TreatedLevel, ...]
    anaesthesia: str | None
    sedation: str | None
    epidurogram: bool | None
    duration_minutes: int | None
    discharge_kind: str | None
    discharged_at: datetime | None
    same_day_discharge: bool | None
    overnight_reason: str
    overridden_items: tuple[str, ...]


@dataclass(frozen=True)
class RegistryAdverseEvent:
    id: int
    procedure_id: int
    patient_id: int
    type: str
    label: str
    onset: date
    days_after_procedure: int
    severity: str
    serious: bool
    outcome: str


@dataclass(frozen=True)
class RegistryReintervention:
    id: int
    procedure_id: int
    patient_id: int
    type: str
    label: str
    performed_on: date
    days_after_procedure: int
    levels: tuple[str, ...]


@dataclass(frozen=True)
class RegistryExtract:
    """Procedures, adverse events and reinterventions of the patients an actor may see, with the domain's counts."""

    procedures: tuple[RegistryProcedure, ...]
    adverse_events: tuple[RegistryAdverseEvent, ...]
    reinterventions: tuple[RegistryReintervention, ...]
    counts: EventCounts


# ------------------------------------------------------------------------------------------ documents


def procedure_note(
    session: Session,
    actor: Actor,
    patient_id: int,
    procedure_id: int,
    *,
    fmt: Literal["html", "pdf"],
    today: date,
) -> bytes:
    """The printable procedure note (staff): a standalone HTML document (UTF-8) or a PDF; :class:`Conflict`
    before a record exists."""
    require_staff(actor)
    row, patient = procedure_for(session, actor, patient_id, procedure_id)
    view = build_view(session, row, patient, today)
    day = view.as_day()
    label = f"{view.patient_name} (MRN {view.mrn})"
    record(session, actor, "procedure.note_export", "Procedure", row.id, patient.id, {"format": fmt})
    if fmt == "pdf":
        return documents.procedure_note_pdf(day, patient=label, today=today)
    return documents.procedure_note_html(day, patient=label, today=today).encode()


def discharge_instructions(
    session: Session,
    actor: Actor,
    patient_id: int,
    procedure_id: int,
    *,
    fmt: Literal["html", "pdf"],
    fallback_phone: str = "",
    language: str | None = None,
) -> bytes:
    """The discharge instructions for this procedure (staff, or the patient themself): a standalone HTML document
    (UTF-8) or a PDF. They print the clinic's phone (or ``fallback_phone``, ``MILDPATH_CLINIC_PHONE``); without
    either, :class:`Conflict` naming the setting. ``language`` (``en``/``es``) defaults to the patient's
    preference: the sheet is for the patient."""
    row, patient = procedure_for(session, actor, patient_id, procedure_id)
    if row.status == "cancelled":
        raise Conflict("the procedure was cancelled")
    phone = discharge_phone(session, patient, fallback_phone)
    name = f"{patient.given_name} {patient.family_name}"
    record(session, actor, "procedure.instructions_export", "Procedure", row.id, patient.id, {"format": fmt})
    lang = language or (patient.preferred_language if patient.preferred_language in ("en", "es") else "en")
    if fmt == "pdf":
        return documents.discharge_instructions_pdf(
            patient=name, procedure_date=row.scheduled_date, phone=phone, language=lang
        )
    return documents.discharge_instructions_html(
        patient=name, procedure_date=row.scheduled_date, phone=phone, language=lang
    ).encode()


# ------------------------------------------------------------------------------------------ FHIR


def _procedure_resource(session: Session, row: store.ProcedureRow) -> dict[str, Any]:
    rec = stored_record(row)
    if rec is None:
        raise Conflict("the procedure has no record yet")
    events = [event_view(e).event for e in store.adverse_events_for(session, procedure_id=row.id)]
    return fhir_procedure.procedure_resource(
        rec,
        subject=f"Patient/{row.patient_id}",
        resource_id=str(row.id),
        discharge=DischargeOutcome.model_validate(row.discharge) if row.discharge else None,
        adverse_events=events,
        last_updated=row.updated_at,
    )


def procedure_fhir(session: Session, actor: Actor, procedure_id: int) -> dict[str, Any]:
    """The procedure as a FHIR R4 ``Procedure`` (CPT 0275T, body sites, performer, outcome, complications)."""
    require_staff(actor)
    row, patient = procedure_by_id_for(session, actor, procedure_id)
    resource = _procedure_resource(session, row)
    record(session, actor, "procedure.fhir_export", "Procedure", row.id, patient.id)
    return resource


def adverse_events_fhir(session: Session, actor: Actor, procedure_id: int) -> dict[str, Any]:
    """The procedure's adverse events as a FHIR R4 ``Bundle`` (type ``collection``) of ``AdverseEvent``."""
    require_staff(actor)
    row, patient = procedure_by_id_for(session, actor, procedure_id)
    entries = [
        {"resource": _adverse_event_resource(e, patient.id)}
        for e in store.adverse_events_for(session, procedure_id=row.id)
    ]
    record(session, actor, "procedure.fhir_export", "AdverseEvent", None, patient.id, {"results": len(entries)})
    return {"resourceType": "Bundle", "type": "collection", "entry": entries}


def adverse_event_fhir(session: Session, actor: Actor, event_id: int) -> dict[str, Any]:
    """One adverse event as a FHIR R4 ``AdverseEvent`` (staff)."""
    require_staff(actor)
    row = store.get_adverse_event(session, event_id=event_id)
    if row is None:
        raise NotFound(f"no adverse event {event_id}", record_type="AdverseEvent", record_id=event_id)
    patient = get_patient_for(session, actor, row.patient_id)
    record(session, actor, "procedure.fhir_export", "AdverseEvent", row.id, patient.id)
    return _adverse_event_resource(row, patient.id)


def _adverse_event_resource(row: store.AdverseEventRow, patient_id: int) -> dict[str, Any]:
    return fhir_procedure.adverse_event_resource(
        event_view(row).event,
        subject=f"Patient/{patient_id}",
        procedure=f"Procedure/{row.procedure_id}",
        resource_id=str(row.id),
        last_updated=row.created_at,
    )


def iter_fhir_resources(
    session: Session, actor: Actor, *, patient_ids: Sequence[int] | None = None
) -> Iterator[dict[str, Any]]:
    """Every recorded procedure, adverse event and reintervention of the patients the actor may see (only of
    ``patient_ids`` among them when given), as FHIR R4 dicts (for a bulk export). Procedures without a record yet
    are skipped. Reintervention ids are prefixed ``reintervention-`` so that they never clash with the mild
    procedures' ids."""
    require_staff(actor)
    scope = visible_patients(actor)
    if patient_ids is not None:
        scope = scope.where(Patient.id.in_(list(patient_ids)))
    visible = scope.with_only_columns(Patient.id)
    rows = store.registry_procedures(session, patient_ids=visible, statuses=("in_progress", "completed"))
    record(session, actor, "procedure.fhir_export", "Procedure", None, None, {"results": len(rows)})
    for row in rows:
        if row.record:
            yield _procedure_resource(session, row)
    for event in store.registry_adverse_events(session, patient_ids=visible):
        yield _adverse_event_resource(event, event.patient_id)
    for item in store.registry_reinterventions(session, patient_ids=visible):
        yield fhir_procedure.reintervention_resource(
            reintervention_view(item).item,
            subject=f"Patient/{item.patient_id}",
            resource_id=f"reintervention-{item.id}",
            last_updated=item.created_at,
        )


# ------------------------------------------------------------------------------------------ registry (issue 8)


def registry_extract(
    session: Session, actor: Actor, *, since: date | None = None, until: date | None = None
) -> RegistryExtract:
    """Completed procedures of the patients the staff member may see (procedure date within ``since``..``until``
    when given), their adverse events and reinterventions, and the counts by type (serious ones apart)."""
    require_staff(actor)
    visible = visible_patients(actor).with_only_columns(Patient.id)
    rows = store.registry_procedures(session, patient_ids=visible, since=since, until=until)
    ids = [r.id for r in rows]
    dates = {r.id: r.scheduled_date for r in rows}
    names = users_store.display_names(session, user_ids=[r.operator_user_id for r in rows])
    procedures = tuple(_registry_procedure(r, names) for r in rows)
    events = [event_view(e) for e in store.registry_adverse_events(session, patient_ids=visible, procedure_ids=ids)]
    items = [
        reintervention_view(r) for r in store.registry_reinterventions(session, patient_ids=visible, procedure_ids=ids)
    ]
    record(session, actor, "procedure.registry_read", "Procedure", None, None, {"results": len(procedures)})
    return RegistryExtract(
        procedures=procedures,
        adverse_events=tuple(
            RegistryAdverseEvent(
                id=e.id,
                procedure_id=e.procedure_id,
                patient_id=e.patient_id,
                type=e.event.type.value,
                label=e.label,
                onset=e.event.onset,
                days_after_procedure=(e.event.onset - dates[e.procedure_id]).days,
                severity=e.event.severity.value,
                serious=e.event.serious,
                outcome=e.event.outcome.value,
            )
            for e in events
        ),
        reinterventions=tuple(
            RegistryReintervention(
                id=r.id,
                procedure_id=r.procedure_id,
                patient_id=r.patient_id,
                type=r.item.type.value,
                label=r.label,
                performed_on=r.item.performed_on,
                days_after_procedure=(r.item.performed_on - dates[r.procedure_id]).days,
                levels=r.item.levels,
            )
            for r in items
        ),
        counts=count_events([e.event for e in events], [r.item for r in items]),
    )


def _registry_procedure(row: store.ProcedureRow, names: Mapping[int, str]) -> RegistryProcedure:
    rec = stored_record(row)
    same_day = None
    if row.discharge_kind is not None:
        same_day = (
            row.discharge_kind == DischargeKind.HOME.value
            and row.discharged_at is not None
            and rec is not None
            and row.discharged_at.astimezone(rec.start.tzinfo).date() == row.scheduled_date
        )
    return RegistryProcedure(
        procedure_id=row.id,
        patient_id=row.patient_id,
        procedure_date=row.scheduled_date,
        status=row.status,
        operator_user_id=row.operator_user_id,
        operator_name=names.get(row.operator_user_id, "") if row.operator_user_id else "",
        levels=rec.levels if rec is not None else (),
        anaesthesia=rec.anaesthesia if rec is not None else None,
        sedation=rec.sedation if rec is not None else None,
        epidurogram=rec.epidurogram if rec is not None else None,
        duration_minutes=rec.duration_minutes if rec is not None else None,
        discharge_kind=row.discharge_kind,
        discharged_at=row.discharged_at,
        same_day_discharge=same_day,
        overnight_reason=row.overnight_reason,
        overridden_items=tuple(row.override_items or ()),
    )
