"""Recovery tables: each patient's recovery-plan settings, symptom-diary entries and the triage flags they raise.

``recovery_plans`` holds what a clinician chose (the procedure date, weeks without heavy lifting, physical
therapy); the dated milestones are recomputed from it and the content on every read, so a corrected milestone
file shows at once. Until the procedure-day tables exist, the procedure date is kept here; the procedure-day
service will feed it in when a procedure is recorded.

``diary_entries`` keeps the patient's answers as given (JSON) with the triage result as it was shown to them
(level, reasons, advice, rules version): a later change of the rules never rewrites what a patient was told.

``triage_flags`` holds one row per entry above ``expected``: what the clinician worklist shows, with its
open -> acknowledged -> resolved life cycle.

Keyword-only query and persist functions; none of them commits (the caller owns the transaction).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime
from typing import Any

from sqlalchemy import Boolean, Date, ForeignKey, Index, Integer, String, Text, case, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from mildpath.store.base import Base, JSONType, UTCDateTime, utcnow
from mildpath.store.models import Patient

FLAG_STATUSES = ("open", "acknowledged", "resolved")
LEVELS = ("emergency", "same_day", "review", "expected")


class RecoveryPlanRecord(Base):
    """One recovery plan per patient: the settings a clinician chose, not the dated milestones."""

    __tablename__ = "recovery_plans"
    id: Mapped[int] = mapped_column(primary_key=True)
    patient_id: Mapped[int] = mapped_column(ForeignKey("patients.id"), unique=True)
    procedure_date: Mapped[date] = mapped_column(Date)
    no_lifting_weeks: Mapped[int | None] = mapped_column(Integer, nullable=True)  # None: the content default
    physical_therapy: Mapped[bool] = mapped_column(Boolean, default=False)
    created_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"), nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)


class DiaryEntryRecord(Base):
    """One symptom-diary entry and the triage result the patient saw."""

    __tablename__ = "diary_entries"
    __table_args__ = (Index("ix_diary_entries_patient_id_entered_at", "patient_id", "entered_at"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    patient_id: Mapped[int] = mapped_column(ForeignKey("patients.id"))
    entered_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"), nullable=True)
    entered_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    answers: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
    days_since_procedure: Mapped[int | None] = mapped_column(Integer, nullable=True)
    level: Mapped[str] = mapped_column(String(16))
    reasons: Mapped[list[dict[str, Any]]] = mapped_column(JSONType, default=list)
    advice: Mapped[str] = mapped_column(Text, default="")
    rules_version: Mapped[str] = mapped_column(String(40), default="")
    # Where the words were written: the diary, or a comment on a questionnaire or the self-check (issue 15 §1).
    origin: Mapped[str] = mapped_column(String(16), default="diary", server_default="diary")


class TriageFlag(Base):
    """A diary entry above ``expected``, waiting for the care team: open, acknowledged, then resolved."""

    __tablename__ = "triage_flags"
    __table_args__ = (Index("ix_triage_flags_status_created_at", "status", "created_at"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    patient_id: Mapped[int] = mapped_column(ForeignKey("patients.id"), index=True)
    entry_id: Mapped[int] = mapped_column(ForeignKey("diary_entries.id"), unique=True)
    level: Mapped[str] = mapped_column(String(16))
    status: Mapped[str] = mapped_column(String(16), default="open")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    acknowledged_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"), nullable=True)
    acknowledged_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    resolved_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"), nullable=True)
    resolved_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    resolution_note: Mapped[str] = mapped_column(Text, default="")
    escalated_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)  # overdue: on-call told


# ------------------------------------------------------------------------------------------ plans


def get_plan(session: Session, *, patient_id: int) -> RecoveryPlanRecord | None:
    return session.scalar(select(RecoveryPlanRecord).where(RecoveryPlanRecord.patient_id == patient_id))


def save_plan(
    session: Session,
    *,
    patient_id: int,
    procedure_date: date,
    no_lifting_weeks: int | None,
    physical_therapy: bool,
    user_id: int | None,
    now: datetime,
) -> tuple[RecoveryPlanRecord, bool]:
    """Create the patient's plan or change it; returns ``(row, created)``."""
    row = get_plan(session, patient_id=patient_id)
    created = row is None
    if row is None:
        row = RecoveryPlanRecord(patient_id=patient_id, created_by=user_id, created_at=now)
        session.add(row)
    row.procedure_date = procedure_date
    row.no_lifting_weeks = no_lifting_weeks
    row.physical_therapy = physical_therapy
    row.updated_at = now
    session.flush()
    return row, created


# ------------------------------------------------------------------------------------------ diary


def add_entry(
    session: Session,
    *,
    patient_id: int,
    entered_by: int | None,
    entered_at: datetime,
    answers: dict[str, Any],
    days_since_procedure: int | None,
    level: str,
    reasons: list[dict[str, Any]],
    advice: str,
    rules_version: str,
    origin: str = "diary",
) -> DiaryEntryRecord:
    row = DiaryEntryRecord(
        origin=origin,
        patient_id=patient_id,
        entered_by=entered_by,
        entered_at=entered_at,
        answers=answers,
        days_since_procedure=days_since_procedure,
        level=level,
        reasons=reasons,
        advice=advice,
        rules_version=rules_version,
    )
    session.add(row)
    session.flush()
    return row


def get_entry(session: Session, *, patient_id: int, entry_id: int) -> DiaryEntryRecord | None:
    return session.scalar(
        select(DiaryEntryRecord).where(DiaryEntryRecord.id == entry_id, DiaryEntryRecord.patient_id == patient_id)
    )


def list_entries(session: Session, *, patient_id: int, limit: int = 50) -> list[DiaryEntryRecord]:
    """The patient's entries, newest first."""
    stmt = (
        select(DiaryEntryRecord)
        .where(DiaryEntryRecord.patient_id == patient_id)
        .order_by(DiaryEntryRecord.entered_at.desc(), DiaryEntryRecord.id.desc())
        .limit(limit)
    )
    return list(session.scalars(stmt))


def has_entries(session: Session, *, patient_id: int) -> bool:
    return (
        session.scalar(select(DiaryEntryRecord.id).where(DiaryEntryRecord.patient_id == patient_id).limit(1))
        is not None
    )


# ------------------------------------------------------------------------------------------ flags


def add_flag(session: Session, *, patient_id: int, entry_id: int, level: str, created_at: datetime) -> TriageFlag:
    row = TriageFlag(patient_id=patient_id, entry_id=entry_id, level=level, status="open", created_at=created_at)
    session.add(row)
    session.flush()
    return row


def get_flag(session: Session, *, flag_id: int) -> TriageFlag | None:
    return session.get(TriageFlag, flag_id)


def flags_for_entries(session: Session, *, entry_ids: Sequence[int]) -> dict[int, TriageFlag]:
    """The flag of each entry that has one, by entry id (one query for a whole history)."""
    if not entry_ids:
        return {}
    rows = session.scalars(select(TriageFlag).where(TriageFlag.entry_id.in_(list(entry_ids))))
    return {row.entry_id: row for row in rows}


def _urgency() -> Any:
    """Emergency 3, same day 2, review 1: the worklist's first sort key (SQL, so paging stays right)."""
    return case(
        (TriageFlag.level == "emergency", 3),
        (TriageFlag.level == "same_day", 2),
        (TriageFlag.level == "review", 1),
        else_=0,
    )


def worklist_rows(
    session: Session,
    *,
    patient_ids: Any,
    statuses: Sequence[str] = ("open", "acknowledged"),
    limit: int = 500,
    offset: int = 0,
) -> list[tuple[TriageFlag, DiaryEntryRecord, Patient]]:
    """Flags of the given patients (an id list or a subquery of ids) with their entry and patient, most urgent
    first and, within a level, the longest waiting first."""
    stmt = (
        select(TriageFlag, DiaryEntryRecord, Patient)
        .join(DiaryEntryRecord, DiaryEntryRecord.id == TriageFlag.entry_id)
        .join(Patient, Patient.id == TriageFlag.patient_id)
        .where(TriageFlag.status.in_(list(statuses)), TriageFlag.patient_id.in_(patient_ids))
        .order_by(_urgency().desc(), TriageFlag.created_at, TriageFlag.id)
        .limit(limit)
        .offset(offset)
    )
    return [(flag, entry, patient) for flag, entry, patient in session.execute(stmt).all()]


def overdue_candidates(session: Session) -> list[tuple[TriageFlag, Patient]]:
    """Open ``emergency`` and ``same_day`` flags not yet escalated, with their patient (the caller checks the
    clinic's time limit)."""
    stmt = (
        select(TriageFlag, Patient)
        .join(Patient, Patient.id == TriageFlag.patient_id)
        .where(
            TriageFlag.status == "open",
            TriageFlag.level.in_(["emergency", "same_day"]),
            TriageFlag.escalated_at.is_(None),
        )
        .order_by(TriageFlag.created_at, TriageFlag.id)
    )
    return [(flag, patient) for flag, patient in session.execute(stmt).all()]


def worklist_counts(session: Session, *, patient_ids: Any) -> dict[str, int]:
    """How many flags of these patients are open and acknowledged (the worklist's counters, whatever the page)."""
    from sqlalchemy import func

    stmt = (
        select(TriageFlag.status, func.count())
        .where(TriageFlag.status.in_(["open", "acknowledged"]), TriageFlag.patient_id.in_(patient_ids))
        .group_by(TriageFlag.status)
    )
    counts = {"open": 0, "acknowledged": 0}
    counts.update({status: int(n) for status, n in session.execute(stmt).all()})
    return counts
