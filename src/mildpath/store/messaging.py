"""Messaging tables and queries: who agreed to be contacted on which channel, and the outbox's due messages.

``channel_consents`` is a log, never updated in place: each row says that, at a time, a patient (or someone
for them) agreed to or withdrew a channel, and how (a form, a link, a clinician on the patient's word, a STOP
reply). The latest row per patient and channel is in force. A row with ``caregiver_id`` is about a caregiver's
own messages (the caregiver opted out of texts or emails about that patient: a STOP from their phone, the opt-out
link); the patient's consent reads only the rows without one.

Keyword-only query and persist functions; none of them commits (the caller owns the transaction).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import Boolean, ForeignKey, Index, String, or_, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from mildpath.store.base import Base, UTCDateTime, utcnow
from mildpath.store.models import Clinic, OutboxMessage, Patient, User


class ChannelConsent(Base):
    __tablename__ = "channel_consents"
    __table_args__ = (Index("ix_channel_consents_patient_channel", "patient_id", "channel", "id"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    patient_id: Mapped[int] = mapped_column(ForeignKey("patients.id"))
    channel: Mapped[str] = mapped_column(String(16))
    granted: Mapped[bool] = mapped_column(Boolean)
    how: Mapped[str] = mapped_column(String(16))
    # Empty: the patient's own consent. Set: the caregiver grant whose messages this row is about.
    caregiver_id: Mapped[int | None] = mapped_column(ForeignKey("caregivers.id"), nullable=True)
    # Who recorded it: a user (the patient, a clinician), or none for a reply through the gateway.
    recorded_by_user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), nullable=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


def add_consent(
    session: Session, *, patient_id: int, channel: str, granted: bool, how: str, user_id: int | None, at: datetime,
    caregiver_id: int | None = None,
) -> ChannelConsent:
    row = ChannelConsent(
        patient_id=patient_id, channel=channel, granted=granted, how=how, recorded_by_user_id=user_id, at=at,
        caregiver_id=caregiver_id,
    )
    session.add(row)
    session.flush()
    return row


def consents(session: Session, *, patient_id: int) -> Sequence[ChannelConsent]:
    """Every consent row of the patient's own (not their caregivers'), oldest first."""
    return session.scalars(
        select(ChannelConsent).where(ChannelConsent.patient_id == patient_id, ChannelConsent.caregiver_id.is_(None))
        .order_by(ChannelConsent.id)
    ).all()


def consent_in_force(session: Session, *, patient_id: int, channel: str) -> ChannelConsent | None:
    """The latest consent row for the patient and channel (``granted`` says which way), or None."""
    return session.scalars(
        select(ChannelConsent)
        .where(ChannelConsent.patient_id == patient_id, ChannelConsent.channel == channel,
               ChannelConsent.caregiver_id.is_(None))
        .order_by(ChannelConsent.id.desc())
        .limit(1)
    ).first()


def caregiver_consent_in_force(session: Session, *, caregiver_id: int, channel: str) -> ChannelConsent | None:
    """The latest row about a caregiver's own messages on a channel (a withdrawal, so far), or None."""
    return session.scalars(
        select(ChannelConsent)
        .where(ChannelConsent.caregiver_id == caregiver_id, ChannelConsent.channel == channel)
        .order_by(ChannelConsent.id.desc())
        .limit(1)
    ).first()


def caregiver_consents(session: Session, *, caregiver_id: int) -> Sequence[ChannelConsent]:
    """Every row about a caregiver's own messages, oldest first."""
    return session.scalars(
        select(ChannelConsent).where(ChannelConsent.caregiver_id == caregiver_id).order_by(ChannelConsent.id)
    ).all()


def patients_with_phone(session: Session) -> Sequence[tuple[int, str]]:
    """(patient id, phone) of every patient with a phone number, for matching a reply's sender."""
    return session.execute(
        select(Patient.id, Patient.phone).where(Patient.phone != "", Patient.anonymised_at.is_(None))
    ).all()


def user_role(session: Session, *, user_id: int) -> tuple[str, int | None] | None:
    """(role, own patient id) of an account, or None."""
    user = session.get(User, user_id)
    return (user.role, user.patient_id) if user is not None else None


def patient_contact(session: Session, *, patient_id: int) -> Patient | None:
    return session.get(Patient, patient_id)


def clinic_of(session: Session, *, patient_id: int) -> Clinic | None:
    patient = session.get(Patient, patient_id)
    return session.get(Clinic, patient.clinic_id) if patient is not None else None


def due_messages(session: Session, *, now: datetime, limit: int) -> Sequence[int]:
    """Ids of messages waiting to be tried: queued ones, and retries whose time has come; oldest first."""
    return session.scalars(
        select(OutboxMessage.id)
        .where(
            OutboxMessage.status.in_(("pending", "retrying")),
            or_(OutboxMessage.next_attempt_at.is_(None), OutboxMessage.next_attempt_at <= now),
        )
        .order_by(OutboxMessage.id)
        .limit(limit)
    ).all()


def message_for_update(session: Session, *, message_id: int) -> OutboxMessage | None:
    """The message, locked for this transaction on PostgreSQL (two senders never try one message at once)."""
    return session.scalars(
        select(OutboxMessage)
        .where(OutboxMessage.id == message_id, OutboxMessage.status.in_(("pending", "retrying")))
        .with_for_update(skip_locked=True)
    ).first()


def inbox(session: Session, *, patient_id: int) -> Sequence[OutboxMessage]:
    """The patient's in-app messages that went out, newest first."""
    return session.scalars(
        select(OutboxMessage)
        .where(OutboxMessage.patient_id == patient_id, OutboxMessage.channel == "in_app",
               OutboxMessage.status == "sent")
        .order_by(OutboxMessage.id.desc())
    ).all()


def inbox_message(session: Session, *, patient_id: int, message_id: int) -> OutboxMessage | None:
    """One of the patient's sent in-app messages (None for anyone else's, or another channel's)."""
    return session.scalars(
        select(OutboxMessage).where(OutboxMessage.id == message_id, OutboxMessage.patient_id == patient_id,
                                    OutboxMessage.channel == "in_app", OutboxMessage.status == "sent")
    ).first()
