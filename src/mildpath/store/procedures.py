"""Procedure-day tables: each scheduled mild procedure, its timed observations, and the adverse events and later
interventions recorded against it.

``procedures`` keeps the answers and the record as the domain models dump them (``model_dump(mode="json")``):
the checklist, the start override (who, why, when, which items it set aside), the procedure record, the discharge
readiness and outcome. A few values are copied into plain columns so that lists and the outcomes registry can
filter and sort in SQL without reading JSON: the status, the scheduled date, the operator, the actual start and
end, how the day ended (``discharge_kind``, ``discharged_at``, ``overnight_reason``).

Status life cycle: ``scheduled`` -> ``in_progress`` (started, checklist passed or overridden) -> ``completed``
(the record has an end time); ``scheduled`` -> ``cancelled``.

``adverse_events`` and ``reinterventions`` carry ``patient_id`` as well as ``procedure_id``: the registry counts
them per patient and per procedure without a join.

Keyword-only query and persist functions; none of them commits (the caller owns the transaction). The functions
under "registry queries" are what the outcomes registry (issue 8) reads; they take the patients to include as an
id list or a subquery (``access.visible_patients(actor).with_only_columns(Patient.id)``).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime
from typing import Any, TypeVar

from sqlalchemy import Boolean, Date, ForeignKey, Index, Integer, String, Text, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from mildpath.store.base import Base, JSONType, UTCDateTime, utcnow
from mildpath.store.models import Clinic, Patient, User

STATUSES = ("scheduled", "in_progress", "completed", "cancelled")
OPEN_STATUSES = ("scheduled", "in_progress")


class ProcedureRow(Base):
    """One mild procedure of one patient, from scheduling to discharge."""

    __tablename__ = "procedures"
    __table_args__ = (
        Index("ix_procedures_patient_id_scheduled_date", "patient_id", "scheduled_date"),
        Index("ix_procedures_scheduled_date_status", "scheduled_date", "status"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    patient_id: Mapped[int] = mapped_column(ForeignKey("patients.id"))
    status: Mapped[str] = mapped_column(String(16), default="scheduled")
    scheduled_date: Mapped[date] = mapped_column(Date)
    operator_user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), nullable=True)
    checklist: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
    checklist_updated_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    override_by: Mapped[str] = mapped_column(String(200), default="")
    override_user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), nullable=True)
    override_reason: Mapped[str] = mapped_column(Text, default="")
    override_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    override_items: Mapped[list[str]] = mapped_column(JSONType, default=list)
    record: Mapped[dict[str, Any] | None] = mapped_column(JSONType, nullable=True)
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    readiness: Mapped[dict[str, Any] | None] = mapped_column(JSONType, nullable=True)
    discharge: Mapped[dict[str, Any] | None] = mapped_column(JSONType, nullable=True)
    discharge_kind: Mapped[str | None] = mapped_column(String(16), nullable=True)
    discharged_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    overnight_reason: Mapped[str] = mapped_column(Text, default="")
    cancel_reason: Mapped[str] = mapped_column(Text, default="")
    created_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"), nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)


class ObservationRow(Base):
    """One timed observation after the procedure (any part may be empty)."""

    __tablename__ = "procedure_observations"
    __table_args__ = (Index("ix_procedure_observations_procedure_id_taken_at", "procedure_id", "taken_at"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    procedure_id: Mapped[int] = mapped_column(ForeignKey("procedures.id"))
    taken_at: Mapped[datetime] = mapped_column(UTCDateTime())
    taken_by: Mapped[str] = mapped_column(String(200), default="")
    vitals: Mapped[dict[str, Any] | None] = mapped_column(JSONType, nullable=True)
    neuro: Mapped[dict[str, Any] | None] = mapped_column(JSONType, nullable=True)
    pain: Mapped[int | None] = mapped_column(Integer, nullable=True)
    walking: Mapped[str | None] = mapped_column(String(16), nullable=True)
    voided: Mapped[bool | None] = mapped_column(Boolean, nullable=True)
    aldrete: Mapped[int | None] = mapped_column(Integer, nullable=True)
    padss: Mapped[int | None] = mapped_column(Integer, nullable=True)
    note: Mapped[str] = mapped_column(Text, default="")
    entered_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"), nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class AdverseEventRow(Base):
    """An adverse event recorded against a procedure (type from the fixed list of issue 5)."""

    __tablename__ = "adverse_events"
    id: Mapped[int] = mapped_column(primary_key=True)
    procedure_id: Mapped[int] = mapped_column(ForeignKey("procedures.id"), index=True)
    patient_id: Mapped[int] = mapped_column(ForeignKey("patients.id"), index=True)
    type: Mapped[str] = mapped_column(String(40))
    onset: Mapped[date] = mapped_column(Date)
    severity: Mapped[str] = mapped_column(String(16))
    serious: Mapped[bool] = mapped_column(Boolean, default=False)
    outcome: Mapped[str] = mapped_column(String(32), default="unknown")
    description: Mapped[str] = mapped_column(Text, default="")
    recorded_by: Mapped[str] = mapped_column(String(200), default="")
    entered_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"), nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class ReinterventionRow(Base):
    """A later intervention on the lumbar spine after a procedure (ESI, repeat mild, spacer, laminectomy, fusion)."""

    __tablename__ = "reinterventions"
    id: Mapped[int] = mapped_column(primary_key=True)
    procedure_id: Mapped[int] = mapped_column(ForeignKey("procedures.id"), index=True)
    patient_id: Mapped[int] = mapped_column(ForeignKey("patients.id"), index=True)
    type: Mapped[str] = mapped_column(String(40))
    performed_on: Mapped[date] = mapped_column(Date)
    levels: Mapped[list[str]] = mapped_column(JSONType, default=list)
    note: Mapped[str] = mapped_column(Text, default="")
    entered_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"), nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


# ------------------------------------------------------------------------------------------ procedures


def add_procedure(
    session: Session,
    *,
    patient_id: int,
    scheduled_date: date,
    operator_user_id: int | None,
    created_by: int | None,
    now: datetime,
) -> ProcedureRow:
    row = ProcedureRow(
        patient_id=patient_id,
        status="scheduled",
        scheduled_date=scheduled_date,
        operator_user_id=operator_user_id,
        checklist={},
        override_items=[],
        created_by=created_by,
        created_at=now,
        updated_at=now,
    )
    session.add(row)
    session.flush()
    return row


def get_procedure(session: Session, *, procedure_id: int) -> ProcedureRow | None:
    return session.get(ProcedureRow, procedure_id)


def list_for_patient(session: Session, *, patient_id: int) -> list[ProcedureRow]:
    """The patient's procedures, the most recent scheduled date first."""
    stmt = (
        select(ProcedureRow)
        .where(ProcedureRow.patient_id == patient_id)
        .order_by(ProcedureRow.scheduled_date.desc(), ProcedureRow.id.desc())
    )
    return list(session.scalars(stmt))


def open_procedure(session: Session, *, patient_id: int) -> ProcedureRow | None:
    """The patient's scheduled or in-progress procedure, if any (at most one is allowed at a time)."""
    stmt = select(ProcedureRow).where(ProcedureRow.patient_id == patient_id, ProcedureRow.status.in_(OPEN_STATUSES))
    return session.scalars(stmt.order_by(ProcedureRow.id.desc())).first()


def latest_procedure_date(session: Session, *, patient_id: int, completed_only: bool = False) -> date | None:
    """The date of the patient's latest procedure that is not cancelled (the scheduled date, which is the
    procedure date once started); with ``completed_only`` only completed ones count."""
    statuses = ("completed",) if completed_only else ("scheduled", "in_progress", "completed")
    stmt = (
        select(ProcedureRow.scheduled_date)
        .where(ProcedureRow.patient_id == patient_id, ProcedureRow.status.in_(statuses))
        .order_by(ProcedureRow.scheduled_date.desc(), ProcedureRow.id.desc())
        .limit(1)
    )
    return session.scalar(stmt)


def procedures_on(
    session: Session, *, day: date, patient_ids: Any, include_cancelled: bool = False
) -> list[tuple[ProcedureRow, Patient]]:
    """Procedures scheduled on ``day`` for the given patients (an id list or a subquery), with the patient,
    ordered by family name."""
    stmt = (
        select(ProcedureRow, Patient)
        .join(Patient, Patient.id == ProcedureRow.patient_id)
        .where(ProcedureRow.scheduled_date == day, ProcedureRow.patient_id.in_(patient_ids))
        .order_by(Patient.family_name, Patient.given_name, ProcedureRow.id)
    )
    if not include_cancelled:
        stmt = stmt.where(ProcedureRow.status != "cancelled")
    return [(proc, patient) for proc, patient in session.execute(stmt).all()]




def active_clinicians(session: Session, *, clinic_id: int) -> list[tuple[int, str]]:
    """(user id, display name or e-mail) of the clinic's active clinicians, by name."""
    rows = session.execute(
        select(User.id, User.display_name, User.email)
        .where(User.role == "clinician", User.clinic_id == clinic_id, User.active.is_(True))
        .order_by(User.display_name, User.id)
    ).all()
    return [(uid, name or email) for uid, name, email in rows]


# ------------------------------------------------------------------------------------------ sub-records
# Observations, adverse events and later interventions hang off a procedure: one way to add one and one way to list
# them (in their time order, then by id), instead of a copy per record type.

Sub = TypeVar("Sub", ObservationRow, AdverseEventRow, ReinterventionRow)


def _add(session: Session, row: Sub) -> Sub:
    session.add(row)
    session.flush()
    return row


def _when(model: type[Sub]) -> Any:
    """The column a sub-record is ordered by."""
    return {
        ObservationRow: ObservationRow.taken_at,
        AdverseEventRow: AdverseEventRow.onset,
        ReinterventionRow: ReinterventionRow.performed_on,
    }[model]


def _of_procedure(session: Session, model: type[Sub], procedure_id: int) -> list[Sub]:
    stmt = select(model).where(model.procedure_id == procedure_id).order_by(_when(model), model.id)
    return list(session.scalars(stmt))


Event = TypeVar("Event", AdverseEventRow, ReinterventionRow)


def _of_patients(
    session: Session, model: type[Event], patient_ids: Any, procedure_ids: Sequence[int] | None
) -> list[Event]:
    """Sub-records of the given patients (an id list or a subquery), only of ``procedure_ids`` when given."""
    stmt = select(model).where(model.patient_id.in_(patient_ids))
    if procedure_ids is not None:
        stmt = stmt.where(model.procedure_id.in_(list(procedure_ids)))
    return list(session.scalars(stmt.order_by(_when(model), model.id)))


# ------------------------------------------------------------------------------------------ observations


def add_observation(
    session: Session,
    *,
    procedure_id: int,
    taken_at: datetime,
    taken_by: str,
    vitals: dict[str, Any] | None,
    neuro: dict[str, Any] | None,
    pain: int | None,
    walking: str | None,
    voided: bool | None,
    aldrete: int | None,
    padss: int | None,
    note: str,
    entered_by: int | None,
    now: datetime,
) -> ObservationRow:
    row = ObservationRow(
        procedure_id=procedure_id,
        taken_at=taken_at,
        taken_by=taken_by,
        vitals=vitals,
        neuro=neuro,
        pain=pain,
        walking=walking,
        voided=voided,
        aldrete=aldrete,
        padss=padss,
        note=note,
        entered_by=entered_by,
        created_at=now,
    )
    return _add(session, row)


def list_observations(session: Session, *, procedure_id: int) -> list[ObservationRow]:
    """The procedure's observations in time order."""
    return _of_procedure(session, ObservationRow, procedure_id)


# ------------------------------------------------------------------------------------------ events


def add_adverse_event(
    session: Session,
    *,
    procedure_id: int,
    patient_id: int,
    type: str,
    onset: date,
    severity: str,
    serious: bool,
    outcome: str,
    description: str,
    recorded_by: str,
    entered_by: int | None,
    now: datetime,
) -> AdverseEventRow:
    row = AdverseEventRow(
        procedure_id=procedure_id,
        patient_id=patient_id,
        type=type,
        onset=onset,
        severity=severity,
        serious=serious,
        outcome=outcome,
        description=description,
        recorded_by=recorded_by,
        entered_by=entered_by,
        created_at=now,
    )
    return _add(session, row)


def add_reintervention(
    session: Session,
    *,
    procedure_id: int,
    patient_id: int,
    type: str,
    performed_on: date,
    levels: list[str],
    note: str,
    entered_by: int | None,
    now: datetime,
) -> ReinterventionRow:
    row = ReinterventionRow(
        procedure_id=procedure_id,
        patient_id=patient_id,
        type=type,
        performed_on=performed_on,
        levels=levels,
        note=note,
        entered_by=entered_by,
        created_at=now,
    )
    return _add(session, row)


def get_adverse_event(session: Session, *, event_id: int) -> AdverseEventRow | None:
    return session.get(AdverseEventRow, event_id)


def adverse_events_for(session: Session, *, procedure_id: int) -> list[AdverseEventRow]:
    return _of_procedure(session, AdverseEventRow, procedure_id)


def reinterventions_for(session: Session, *, procedure_id: int) -> list[ReinterventionRow]:
    return _of_procedure(session, ReinterventionRow, procedure_id)


# ------------------------------------------------------------------------------------------ registry queries


def registry_procedures(
    session: Session,
    *,
    patient_ids: Any,
    statuses: Sequence[str] = ("completed",),
    since: date | None = None,
    until: date | None = None,
) -> list[ProcedureRow]:
    """Procedures of the given patients (an id list or a subquery of ids) in the given statuses, with the
    procedure date (``scheduled_date``) within ``since``..``until`` when given, oldest first.

    The record JSON (levels, sides, times, anaesthesia, epidurogram) and the discharge columns come with each
    row; ``services.procedures.registry_extract`` turns them into plain values."""
    stmt = select(ProcedureRow).where(ProcedureRow.patient_id.in_(patient_ids), ProcedureRow.status.in_(list(statuses)))
    if since is not None:
        stmt = stmt.where(ProcedureRow.scheduled_date >= since)
    if until is not None:
        stmt = stmt.where(ProcedureRow.scheduled_date <= until)
    return list(session.scalars(stmt.order_by(ProcedureRow.scheduled_date, ProcedureRow.id)))


def registry_adverse_events(
    session: Session, *, patient_ids: Any, procedure_ids: Sequence[int] | None = None
) -> list[AdverseEventRow]:
    """Adverse events of the given patients (and, when given, only of these procedures), by onset."""
    return _of_patients(session, AdverseEventRow, patient_ids, procedure_ids)


def registry_reinterventions(
    session: Session, *, patient_ids: Any, procedure_ids: Sequence[int] | None = None
) -> list[ReinterventionRow]:
    """Later interventions of the given patients (and, when given, only of these procedures), by date."""
    return _of_patients(session, ReinterventionRow, patient_ids, procedure_ids)


def clinic_phone(session: Session, *, clinic_id: int) -> str:
    """The clinic's own phone number ('' when it has none)."""
    clinic = session.get(Clinic, clinic_id)
    return (clinic.phone or "").strip() if clinic is not None else ""
