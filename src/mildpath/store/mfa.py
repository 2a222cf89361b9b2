"""Staff multi-factor authentication (issue 20): each account's TOTP secret and its recovery codes.

The TOTP secret is kept sealed (``store/sealing.py``, encrypted under a key derived from the secret key).
Recovery codes are kept as SHA-256 digests and struck off as they are used. ``last_step`` is the TOTP time step
last accepted, so a code seen once cannot be replayed within its window.

Keyword-only query and persist functions; none of them commits (the caller owns the transaction).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, Integer, String, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from mildpath.store.base import Base, JSONType, UTCDateTime, utcnow
from mildpath.store.models import Clinic, User


class UserMfa(Base):
    __tablename__ = "user_mfa"
    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), unique=True)
    secret: Mapped[str] = mapped_column(String(255))  # sealed: store/sealing.py
    confirmed_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    recovery_digests: Mapped[Any] = mapped_column(JSONType, default=list)
    last_step: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


def mfa_of(session: Session, *, user_id: int) -> UserMfa | None:
    return session.scalars(select(UserMfa).where(UserMfa.user_id == user_id)).first()


def confirmed(session: Session, *, user_id: int) -> bool:
    return session.scalar(
        select(UserMfa.id).where(UserMfa.user_id == user_id, UserMfa.confirmed_at.is_not(None))
    ) is not None


def start(session: Session, *, user_id: int, secret: str, now: datetime) -> UserMfa:
    """A new, unconfirmed secret (``secret`` sealed already) for the account (replaces an unconfirmed one)."""
    row = mfa_of(session, user_id=user_id)
    if row is None:
        row = UserMfa(user_id=user_id, secret=secret, created_at=now, recovery_digests=[])
        session.add(row)
    else:
        row.secret, row.confirmed_at, row.recovery_digests, row.last_step = secret, None, [], 0
    session.flush()
    return row


def clinic_requires_staff_mfa(session: Session, *, clinic_id: int | None) -> bool:
    if clinic_id is None:
        return False
    return bool(session.scalar(select(Clinic.staff_mfa_required).where(Clinic.id == clinic_id)))


def user(session: Session, *, user_id: int) -> User | None:
    return session.get(User, user_id)


def remove(session: Session, *, user_id: int) -> bool:
    row = mfa_of(session, user_id=user_id)
    if row is None:
        return False
    session.delete(row)
    session.flush()
    return True
