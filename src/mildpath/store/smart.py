"""SMART Backend Services and CDS Hooks clients (issue 19): registered clients, used JWT ids, access tokens, and
CDS Hooks card feedback.

- ``fhir_clients``: a system that signs its own JWTs (an EHR calling CDS Hooks, an analytics job reading
  ``/fhir``): its ``client_id``, issuer (``iss`` of its CDS Hooks JWTs; by default the client id), key set (inline
  JWKS or a JWKS URL), the scopes it may be granted, and the clinic it is bound to (none: system-wide).
- ``fhir_client_jtis``: every ``jti`` a client used, kept until the JWT's own expiry (replay protection).
- ``fhir_access_tokens``: access tokens issued at ``/auth/token``, kept as SHA-256 digests, short-lived.
- ``cds_cards`` / ``cds_feedback``: the cards mildpath answered (per card uuid: service, status, criteria set
  and the criteria met), and the EHR's feedback on each (accepted / overridden, with the reason).

Keyword-only query and persist functions; none of them commits (the caller owns the transaction).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Boolean, ForeignKey, String, UniqueConstraint, delete, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from mildpath.store.base import Base, JSONType, UTCDateTime, utcnow


class FhirClient(Base):
    __tablename__ = "fhir_clients"
    id: Mapped[int] = mapped_column(primary_key=True)
    client_id: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    issuer: Mapped[str] = mapped_column(String(2048), index=True)
    clinic_id: Mapped[int | None] = mapped_column(ForeignKey("clinics.id"), nullable=True)
    jwks: Mapped[dict[str, Any] | None] = mapped_column(JSONType, nullable=True)
    jwks_url: Mapped[str | None] = mapped_column(String(2048), nullable=True)
    scopes: Mapped[str] = mapped_column(String(2000))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class UsedJti(Base):
    __tablename__ = "fhir_client_jtis"
    __table_args__ = (UniqueConstraint("client_pk", "jti", name="uq_fhir_client_jtis_client_pk_jti"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    client_pk: Mapped[int] = mapped_column(ForeignKey("fhir_clients.id", ondelete="CASCADE"))
    jti: Mapped[str] = mapped_column(String(255))
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)


class AccessToken(Base):
    __tablename__ = "fhir_access_tokens"
    id: Mapped[int] = mapped_column(primary_key=True)
    client_pk: Mapped[int] = mapped_column(ForeignKey("fhir_clients.id", ondelete="CASCADE"), index=True)
    digest: Mapped[str] = mapped_column(String(64), unique=True)
    scopes: Mapped[str] = mapped_column(String(2000))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)


class CdsCard(Base):
    __tablename__ = "cds_cards"
    id: Mapped[int] = mapped_column(primary_key=True)
    uuid: Mapped[str] = mapped_column(String(64), unique=True)
    service_id: Mapped[str] = mapped_column(String(64))
    status: Mapped[str] = mapped_column(String(40))
    criteria_set: Mapped[str] = mapped_column(String(120))
    criteria: Mapped[list[str]] = mapped_column(JSONType, default=list)  # ids of the criteria the card rests on
    # Whom the card was about (the EHR's ``Patient/<id>`` from the hook's context) and the caller's clinic: an
    # accepted card opens a referral there (services/cds_hooks.on_card_accepted).
    patient_ref: Mapped[str] = mapped_column(String(128), default="")
    clinic_id: Mapped[int | None] = mapped_column(ForeignKey("clinics.id", ondelete="SET NULL"), nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class CdsFeedback(Base):
    __tablename__ = "cds_feedback"
    id: Mapped[int] = mapped_column(primary_key=True)
    card_pk: Mapped[int] = mapped_column(ForeignKey("cds_cards.id", ondelete="CASCADE"), index=True)
    criterion: Mapped[str] = mapped_column(String(120), default="")  # one row per card and criterion
    outcome: Mapped[str] = mapped_column(String(16))  # accepted | overridden
    accepted_suggestions: Mapped[list[Any]] = mapped_column(JSONType, default=list)
    override_reason: Mapped[dict[str, Any] | None] = mapped_column(JSONType, nullable=True)
    outcome_timestamp: Mapped[datetime] = mapped_column(UTCDateTime())
    client_pk: Mapped[int | None] = mapped_column(ForeignKey("fhir_clients.id"), nullable=True)
    actor_user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


def add(session: Session, row: Base) -> Any:
    session.add(row)
    session.flush()
    return row


def client(session: Session, *, client_id: str) -> FhirClient | None:
    return session.scalars(select(FhirClient).where(FhirClient.client_id == client_id)).first()


def active_by_issuer(session: Session, *, issuer: str) -> Sequence[FhirClient]:
    return session.scalars(
        select(FhirClient).where(FhirClient.issuer == issuer, FhirClient.active.is_(True)).order_by(FhirClient.id)
    ).all()


def clients(session: Session) -> Sequence[FhirClient]:
    return session.scalars(select(FhirClient).order_by(FhirClient.id)).all()


def jti_used(session: Session, *, client_pk: int, jti: str) -> bool:
    found = session.scalars(select(UsedJti.id).where(UsedJti.client_pk == client_pk, UsedJti.jti == jti)).first()
    return found is not None


def forget_expired(session: Session, *, now: datetime) -> None:
    """Drop used ``jti``s and access tokens past their expiry (a replayed JWT that old is refused by ``exp``)."""
    session.execute(delete(UsedJti).where(UsedJti.expires_at < now))
    session.execute(delete(AccessToken).where(AccessToken.expires_at < now))


def token(session: Session, *, digest: str, now: datetime) -> tuple[AccessToken, FhirClient] | None:
    row = session.execute(
        select(AccessToken, FhirClient)
        .join(FhirClient, FhirClient.id == AccessToken.client_pk)
        .where(AccessToken.digest == digest, AccessToken.expires_at > now, FhirClient.active.is_(True))
    ).first()
    return (row[0], row[1]) if row is not None else None


def card(session: Session, *, uuid: str) -> CdsCard | None:
    return session.scalars(select(CdsCard).where(CdsCard.uuid == uuid)).first()


def feedback_between(
    session: Session, *, clinic_id: int | None, start: datetime, end: datetime
) -> Sequence[tuple[CdsFeedback, CdsCard]]:
    """CDS Hooks feedback given from ``start`` (included) to ``end`` (excluded), with its card; one clinic's cards
    or (``clinic_id`` None) every card."""
    stmt = (
        select(CdsFeedback, CdsCard)
        .join(CdsCard, CdsCard.id == CdsFeedback.card_pk)
        .where(CdsFeedback.outcome_timestamp >= start, CdsFeedback.outcome_timestamp < end)
    )
    if clinic_id is not None:
        stmt = stmt.where(CdsCard.clinic_id == clinic_id)
    return [(f, c) for f, c in session.execute(stmt.order_by(CdsFeedback.id))]


def feedback_for(session: Session, *, card_pk: int) -> Sequence[CdsFeedback]:
    return session.scalars(select(CdsFeedback).where(CdsFeedback.card_pk == card_pk).order_by(CdsFeedback.id)).all()
