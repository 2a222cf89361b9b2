"""Enrolments from the EHR (issue 20): each ServiceRequest or Appointment that enrolled a patient, kept with its
identifier (so the same request again changes nothing) and the resource as stored (its subject set to the
mildpath Patient).

Keyword-only query and persist functions; none of them commits (the caller owns the transaction).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, String, UniqueConstraint, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from mildpath.store.base import Base, JSONType, UTCDateTime, utcnow
from mildpath.store.models import Patient


class Enrolment(Base):
    __tablename__ = "enrolments"
    __table_args__ = (
        UniqueConstraint("clinic_id", "resource_type", "identifier_system", "identifier_value",
                         name="enrolment_identifier"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    clinic_id: Mapped[int] = mapped_column(ForeignKey("clinics.id"))
    resource_type: Mapped[str] = mapped_column(String(20))
    identifier_system: Mapped[str] = mapped_column(String(200))
    identifier_value: Mapped[str] = mapped_column(String(200))
    patient_id: Mapped[int] = mapped_column(ForeignKey("patients.id"), index=True)
    pathway: Mapped[str] = mapped_column(String(20))  # scheduled | referral
    procedure_id: Mapped[int | None] = mapped_column(nullable=True)
    resource: Mapped[Any] = mapped_column(JSONType)
    created_by_user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


def find(session: Session, *, clinic_id: int, resource_type: str, system: str, value: str) -> Enrolment | None:
    return session.scalars(
        select(Enrolment).where(
            Enrolment.clinic_id == clinic_id,
            Enrolment.resource_type == resource_type,
            Enrolment.identifier_system == system,
            Enrolment.identifier_value == value,
        )
    ).first()


def patient_by_mrn(session: Session, *, clinic_id: int, mrn: str) -> Patient | None:
    return session.scalars(select(Patient).where(Patient.clinic_id == clinic_id, Patient.mrn == mrn)).first()


def add(session: Session, row: Enrolment) -> Enrolment:
    session.add(row)
    session.flush()
    return row


def for_patient(session: Session, *, patient_id: int, resource_type: str) -> list[Enrolment]:
    return list(session.scalars(
        select(Enrolment).where(Enrolment.patient_id == patient_id, Enrolment.resource_type == resource_type)
        .order_by(Enrolment.id)))
