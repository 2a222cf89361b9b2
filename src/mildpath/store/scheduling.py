"""Appointments (issue 18): evaluation, procedure and follow-up visits, and the tasks a procedure derives.

An appointment's ``start_at`` is stored in UTC and shown in the clinic's time zone (``Clinic.timezone``). A
procedure appointment points at the procedure-day record it created (``procedure_id``): the questionnaire
schedule and its reminders count from that record's date, so moving the appointment moves them. Its
pre-procedure tasks (one per checklist item) are rows here with a due date relative to the procedure day.
``referral_id`` is the referral the appointment serves (set null if the referral is erased).

Keyword-only query and persist functions; none of them commits (the caller owns the transaction).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime

from sqlalchemy import Date, ForeignKey, Index, Integer, String, Text, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from mildpath.store import referrals as _referrals  # noqa: F401  (the table appointments point at)
from mildpath.store.base import Base, UTCDateTime, utcnow

KINDS = ("evaluation", "procedure", "follow_up")
STATUSES = ("booked", "cancelled", "done")
TASK_STATUSES = ("open", "cancelled")


class Appointment(Base):
    __tablename__ = "appointments"
    __table_args__ = (Index("ix_appointments_clinic_id_start_at", "clinic_id", "start_at"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    patient_id: Mapped[int] = mapped_column(ForeignKey("patients.id"), index=True)
    clinic_id: Mapped[int] = mapped_column(ForeignKey("clinics.id"))
    kind: Mapped[str] = mapped_column(String(16))
    start_at: Mapped[datetime] = mapped_column(UTCDateTime())
    duration_minutes: Mapped[int] = mapped_column(Integer)
    place: Mapped[str] = mapped_column(String(200), default="")
    clinician_user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), nullable=True)
    status: Mapped[str] = mapped_column(String(16), default="booked")
    cancel_reason: Mapped[str] = mapped_column(Text, default="")
    referral_id: Mapped[int | None] = mapped_column(
        ForeignKey("referrals.id", ondelete="SET NULL"), nullable=True, index=False
    )
    procedure_id: Mapped[int | None] = mapped_column(ForeignKey("procedures.id"), nullable=True)
    created_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"), nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class AppointmentTask(Base):
    """One pre-procedure task derived from a procedure appointment (a checklist item, due before the day)."""

    __tablename__ = "appointment_tasks"
    id: Mapped[int] = mapped_column(primary_key=True)
    appointment_id: Mapped[int] = mapped_column(ForeignKey("appointments.id"), index=True)
    item: Mapped[str] = mapped_column(String(64))
    label: Mapped[str] = mapped_column(String(200))
    due_date: Mapped[date] = mapped_column(Date)
    status: Mapped[str] = mapped_column(String(16), default="open")


def add(session: Session, row: Appointment) -> Appointment:
    session.add(row)
    session.flush()
    return row


def add_tasks(session: Session, rows: Sequence[AppointmentTask]) -> None:
    session.add_all(rows)
    session.flush()


def get(session: Session, *, appointment_id: int) -> Appointment | None:
    return session.get(Appointment, appointment_id)


def for_patient(session: Session, *, patient_id: int) -> Sequence[Appointment]:
    return session.scalars(
        select(Appointment).where(Appointment.patient_id == patient_id).order_by(Appointment.start_at, Appointment.id)
    ).all()


def for_patients(session: Session, *, patient_ids: Sequence[int]) -> Sequence[Appointment]:
    return session.scalars(
        select(Appointment).where(Appointment.patient_id.in_(list(patient_ids)))
        .order_by(Appointment.patient_id, Appointment.start_at, Appointment.id)
    ).all()


def between(
    session: Session, *, clinic_id: int | None, start: datetime, end: datetime, statuses: Sequence[str] = ("booked",)
) -> Sequence[Appointment]:
    """The appointments starting in ``[start, end)`` (UTC), of one clinic (``None``: every clinic)."""
    stmt = select(Appointment).where(
        Appointment.start_at >= start, Appointment.start_at < end, Appointment.status.in_(list(statuses))
    )
    if clinic_id is not None:
        stmt = stmt.where(Appointment.clinic_id == clinic_id)
    return session.scalars(stmt.order_by(Appointment.start_at, Appointment.id)).all()


def tasks_for(session: Session, *, appointment_ids: Sequence[int]) -> dict[int, list[AppointmentTask]]:
    found: dict[int, list[AppointmentTask]] = {a: [] for a in appointment_ids}
    if not appointment_ids:
        return found
    rows = session.scalars(
        select(AppointmentTask).where(AppointmentTask.appointment_id.in_(list(appointment_ids)))
        .order_by(AppointmentTask.id)
    )
    for row in rows:
        found[row.appointment_id].append(row)
    return found


def for_procedure(session: Session, *, procedure_id: int) -> Sequence[Appointment]:
    """The booked appointments that carry this procedure-day record."""
    return session.scalars(
        select(Appointment).where(Appointment.procedure_id == procedure_id, Appointment.status == "booked")
    ).all()
