"""Core tables: clinics, people, accounts, sessions, tokens, the audit trail, idempotency and the outbox.

Subject tables (screenings, questionnaires, procedures, diary…) live in their own modules of this package and
share :class:`~mildpath.store.base.Base`. ``store.all_models`` imports every one, for Alembic and tests.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    Boolean,
    Date,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from mildpath.store.base import Base, JSONType, UTCDateTime, utcnow

ROLES = ("patient", "clinician", "coordinator", "admin", "caregiver")


class Clinic(Base):
    __tablename__ = "clinics"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    phone: Mapped[str] = mapped_column(String(40), default="")
    address: Mapped[str] = mapped_column(String(400), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    # Issue 15 (migration 0006): shown to patients wherever they report symptoms; empty: MILDPATH_EMERGENCY_NUMBER.
    emergency_number: Mapped[str] = mapped_column(String(40), default="")
    # The on-call contact told when a flag is not acknowledged in time, and those times (minutes).
    oncall_name: Mapped[str] = mapped_column(String(200), default="")
    oncall_email: Mapped[str] = mapped_column(String(254), default="")
    oncall_phone: Mapped[str] = mapped_column(String(40), default="")
    escalate_emergency_minutes: Mapped[int] = mapped_column(Integer, default=30)
    escalate_same_day_minutes: Mapped[int] = mapped_column(Integer, default=240)
    # Issue 20 (migration r20_mfa): clinicians of this clinic must use a second factor (admins always do).
    staff_mfa_required: Mapped[bool] = mapped_column(Boolean, default=False)
    # Issue 18 (migration i18_clinic_timezone): an IANA zone for schedules, messages and discharge; empty: UTC.
    timezone: Mapped[str] = mapped_column(String(64), default="")


class Patient(Base):
    __tablename__ = "patients"
    __table_args__ = (UniqueConstraint("clinic_id", "mrn", name="clinic_mrn"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    clinic_id: Mapped[int] = mapped_column(ForeignKey("clinics.id"), index=True)
    mrn: Mapped[str] = mapped_column(String(64))
    given_name: Mapped[str] = mapped_column(String(120))
    family_name: Mapped[str] = mapped_column(String(120))
    birth_date: Mapped[date] = mapped_column(Date)
    sex: Mapped[str] = mapped_column(String(16))
    phone: Mapped[str] = mapped_column(String(40), default="")
    email: Mapped[str] = mapped_column(String(254), default="")
    address: Mapped[str] = mapped_column(String(400), default="")
    preferred_language: Mapped[str] = mapped_column(String(8), default="en")
    # Issue 20 (migration i20c_patient_quiet_hours): the patient's own quiet hours ("HH:MM-HH:MM" in the clinic's
    # time zone), used instead of the clinic's MILDPATH_QUIET_HOURS when set.
    quiet_hours: Mapped[str | None] = mapped_column(String(11), nullable=True)
    anonymised_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)


class User(Base):
    __tablename__ = "users"
    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(254), unique=True)
    display_name: Mapped[str] = mapped_column(String(200), default="")
    role: Mapped[str] = mapped_column(String(16))
    password_hash: Mapped[str] = mapped_column(String(200), default="")
    clinic_id: Mapped[int | None] = mapped_column(ForeignKey("clinics.id"), nullable=True, index=True)
    patient_id: Mapped[int | None] = mapped_column(ForeignKey("patients.id"), nullable=True, unique=True)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class ApiToken(Base):
    """A bearer token, kept only as its SHA-256 digest (contracts §7: fast to check under load)."""

    __tablename__ = "api_tokens"
    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    digest: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(100), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)


class WebSession(Base):
    """A server-side login session; the cookie carries a random value, the table its SHA-256 digest."""

    __tablename__ = "web_sessions"
    id: Mapped[int] = mapped_column(primary_key=True)
    digest: Mapped[str] = mapped_column(String(64), unique=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    last_seen_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    # Issue 20 (migration r20_mfa): the password was right, the second factor is still to come. Such a
    # session opens nothing but the code page (/login/mfa).
    mfa_pending: Mapped[bool] = mapped_column(Boolean, default=False)


class LoginAttempt(Base):
    __tablename__ = "login_attempts"
    __table_args__ = (Index("ix_login_attempts_email_address_at", "email", "address", "at"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(254))
    address: Mapped[str] = mapped_column(String(64), index=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, index=True)
    success: Mapped[bool] = mapped_column(Boolean, default=False)


class LoginBlock(Base):
    """A login block in force (contracts §7): per ``scope`` ("pair": email and address; "address"), the
    block's ``level`` (the wait is the first block doubled ``level`` times) and when it ends."""

    __tablename__ = "login_blocks"
    __table_args__ = (UniqueConstraint("scope", "key", name="scope_key"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    scope: Mapped[str] = mapped_column(String(8))
    key: Mapped[str] = mapped_column(String(320))
    email: Mapped[str] = mapped_column(String(254), default="", index=True)
    address: Mapped[str] = mapped_column(String(64), default="")
    level: Mapped[int] = mapped_column(Integer, default=0)
    blocked_until: Mapped[datetime] = mapped_column(UTCDateTime())


class AuditEvent(Base):
    """Append-only: database triggers refuse UPDATE and DELETE (see the foundation migration)."""

    __tablename__ = "audit_events"
    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, index=True)
    actor_user_id: Mapped[int | None] = mapped_column(Integer, nullable=True, index=True)
    actor_role: Mapped[str] = mapped_column(String(16), default="")
    action: Mapped[str] = mapped_column(String(64), index=True)
    record_type: Mapped[str] = mapped_column(String(64))
    record_id: Mapped[str] = mapped_column(String(64), default="")
    patient_id: Mapped[int | None] = mapped_column(Integer, nullable=True, index=True)
    address: Mapped[str] = mapped_column(String(64), default="")
    detail: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)


class IdempotencyKey(Base):
    """The first answer to a POST carrying ``Idempotency-Key``; a retry gets the same answer, nothing new."""

    __tablename__ = "idempotency_keys"
    __table_args__ = (UniqueConstraint("user_id", "key", name="user_key"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    key: Mapped[str] = mapped_column(String(200))
    method: Mapped[str] = mapped_column(String(8))
    path: Mapped[str] = mapped_column(String(400))
    # SHA-256 of method, path and body (web/idempotency.py); empty for answers stored before it was kept.
    fingerprint: Mapped[str] = mapped_column(String(64), default="", server_default="")
    status_code: Mapped[int] = mapped_column(Integer)
    body: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class OutboxMessage(Base):
    """A notification waiting to be sent. Its text never carries clinical details (issue 4, issue 6)."""

    __tablename__ = "outbox"
    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(40))
    recipient_user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), nullable=True, index=True)
    recipient_address: Mapped[str] = mapped_column(String(254), default="")
    subject: Mapped[str] = mapped_column(String(200))
    body: Mapped[str] = mapped_column(Text)
    # pending (queued) -> sent | retrying (a failed try; next_attempt_at says when again) -> failed (given
    # up after the last try, or refused for good) | cancelled (re-checked before sending: see services/notify).
    status: Mapped[str] = mapped_column(String(16), default="pending", index=True)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    # Issue 20 (migration r20_messaging): the channel (email, sms, in_app), the patient a message is about
    # (their consent is checked before every try), why the last try failed, and when the next one is due.
    channel: Mapped[str] = mapped_column(String(16), default="email")
    patient_id: Mapped[int | None] = mapped_column(ForeignKey("patients.id"), nullable=True, index=True)
    last_error: Mapped[str] = mapped_column(String(200), default="")
    next_attempt_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    # When the patient read an in-app message on /me/inbox (migration i20c_patient_quiet_hours).
    read_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
