"""Caregivers (issue 20): who a patient lets act for them, and what each may do.

One row per patient and caregiver account: the name and relation the patient gave, the four things a patient can
share (read the education and the recovery plan, fill the diary, answer questionnaires, receive reminders),
when and how it was agreed, and when it was revoked (by the patient or the clinic). A revoked row stays, for
the record; access reads the rows on every request, so a revocation holds at once.

Keyword-only query and persist functions; none of them commits (the caller owns the transaction).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime

from sqlalchemy import Boolean, ForeignKey, String, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from mildpath.store.base import Base, UTCDateTime, utcnow

PERMISSIONS = ("read", "diary", "questionnaires", "reminders")


class CaregiverGrant(Base):
    __tablename__ = "caregivers"
    id: Mapped[int] = mapped_column(primary_key=True)
    patient_id: Mapped[int] = mapped_column(ForeignKey("patients.id"), index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    name: Mapped[str] = mapped_column(String(120))
    relation: Mapped[str] = mapped_column(String(60))
    can_read: Mapped[bool] = mapped_column(Boolean, default=True)
    can_diary: Mapped[bool] = mapped_column(Boolean, default=False)
    can_questionnaires: Mapped[bool] = mapped_column(Boolean, default=False)
    can_reminders: Mapped[bool] = mapped_column(Boolean, default=False)
    how: Mapped[str] = mapped_column(String(16))  # link (the patient themself) | form | clinician
    # The caregiver's own channel (the one they were invited on) and phone, for the reminders shared with them.
    channel: Mapped[str] = mapped_column(String(16), default="email", server_default="email")
    phone: Mapped[str] = mapped_column(String(40), default="", server_default="")
    granted_by_user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    revoked_by_user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), nullable=True)

    def allows(self, permission: str) -> bool:
        return self.revoked_at is None and bool(getattr(self, f"can_{permission}", False))


def add(session: Session, row: CaregiverGrant) -> CaregiverGrant:
    session.add(row)
    session.flush()
    return row


def active(session: Session, *, user_id: int, patient_id: int) -> CaregiverGrant | None:
    return session.scalars(
        select(CaregiverGrant).where(CaregiverGrant.user_id == user_id, CaregiverGrant.patient_id == patient_id,
                                     CaregiverGrant.revoked_at.is_(None))
    ).first()


def for_patient(session: Session, *, patient_id: int) -> Sequence[CaregiverGrant]:
    return session.scalars(
        select(CaregiverGrant).where(CaregiverGrant.patient_id == patient_id).order_by(CaregiverGrant.id)
    ).all()


def for_caregiver(session: Session, *, user_id: int) -> Sequence[CaregiverGrant]:
    return session.scalars(
        select(CaregiverGrant).where(CaregiverGrant.user_id == user_id, CaregiverGrant.revoked_at.is_(None))
        .order_by(CaregiverGrant.id)
    ).all()


def get(session: Session, *, grant_id: int, patient_id: int) -> CaregiverGrant | None:
    return session.scalars(
        select(CaregiverGrant).where(CaregiverGrant.id == grant_id, CaregiverGrant.patient_id == patient_id)
    ).first()


def names(session: Session, *, patient_id: int, user_ids: Iterable[int | None]) -> dict[int, str]:
    """``{user id: "Ana (daughter)"}`` for the caregivers (current or past) of the patient among ``user_ids``."""
    wanted = [u for u in user_ids if u is not None]
    if not wanted:
        return {}
    rows = session.scalars(
        select(CaregiverGrant).where(CaregiverGrant.patient_id == patient_id, CaregiverGrant.user_id.in_(wanted))
    ).all()
    return {r.user_id: f"{r.name} ({r.relation})" for r in rows}


def sharing_reminders(session: Session, *, patient_id: int) -> Sequence[CaregiverGrant]:
    """The patient's caregivers who may receive the reminders (grants in force with ``reminders``)."""
    return session.scalars(
        select(CaregiverGrant).where(CaregiverGrant.patient_id == patient_id, CaregiverGrant.revoked_at.is_(None),
                                     CaregiverGrant.can_reminders.is_(True)).order_by(CaregiverGrant.id)
    ).all()


def of_patients(session: Session, *, patient_ids: Iterable[int]) -> Sequence[CaregiverGrant]:
    """Every grant (current or revoked) of these patients, oldest first."""
    wanted = sorted(set(patient_ids))
    if not wanted:
        return []
    return session.scalars(
        select(CaregiverGrant).where(CaregiverGrant.patient_id.in_(wanted)).order_by(CaregiverGrant.id)
    ).all()


def for_recipient(session: Session, *, user_id: int, patient_id: int | None) -> CaregiverGrant | None:
    """The grant a message to a caregiver account is about: the one in force for that patient, or (a message
    about no patient, such as their invitation) their newest grant in force; None for anyone not a caregiver."""
    query = select(CaregiverGrant).where(CaregiverGrant.user_id == user_id, CaregiverGrant.revoked_at.is_(None))
    if patient_id is not None:
        query = query.where(CaregiverGrant.patient_id == patient_id)
    return session.scalars(query.order_by(CaregiverGrant.id.desc()).limit(1)).first()


def by_id(session: Session, *, grant_id: int) -> CaregiverGrant | None:
    return session.get(CaregiverGrant, grant_id)


def with_phone(session: Session) -> Sequence[tuple[int, str]]:
    """(grant id, phone) of every grant in force with a phone number, for matching a reply's sender."""
    return session.execute(
        select(CaregiverGrant.id, CaregiverGrant.phone)
        .where(CaregiverGrant.phone != "", CaregiverGrant.revoked_at.is_(None))
        .order_by(CaregiverGrant.id)
    ).all()
