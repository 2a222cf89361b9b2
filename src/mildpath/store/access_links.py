"""Access links: single-use, expiring links that sign a patient in (magic links), set up an invited account,
or reset a password (issue 20). Only the SHA-256 digest of a link's token is kept; the token itself exists in
the message that carried it.

Keyword-only query and persist functions; none of them commits (the caller owns the transaction).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String, func, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from mildpath.store.base import Base, UTCDateTime, utcnow
from mildpath.store.models import Patient, User, WebSession

PURPOSES = ("sign_in", "invitation", "password_reset")


class AccessLink(Base):
    __tablename__ = "access_links"
    id: Mapped[int] = mapped_column(primary_key=True)
    digest: Mapped[str] = mapped_column(String(64), unique=True)
    # The token is derived from this nonce and the server's secret key (services/access_links.py), so the
    # message that carries it is filled in only when it is sent: no token is ever stored, here or in the outbox.
    nonce: Mapped[str] = mapped_column(String(64))
    outbox_id: Mapped[int | None] = mapped_column(ForeignKey("outbox.id"), nullable=True, index=True)
    purpose: Mapped[str] = mapped_column(String(16))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    target: Mapped[str] = mapped_column(String(200), default="/")
    channel: Mapped[str] = mapped_column(String(16), default="email")
    created_by_user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime())
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)


def add_link(
    session: Session, *, digest: str, nonce: str, purpose: str, user_id: int, target: str, channel: str,
    created_by: int | None, now: datetime, expires_at: datetime,
) -> AccessLink:
    row = AccessLink(digest=digest, nonce=nonce, purpose=purpose, user_id=user_id, target=target, channel=channel,
                     created_by_user_id=created_by, created_at=now, expires_at=expires_at)
    session.add(row)
    session.flush()
    return row


def link_by_digest(session: Session, *, digest: str, for_update: bool = False) -> AccessLink | None:
    stmt = select(AccessLink).where(AccessLink.digest == digest)
    return session.scalars(stmt.with_for_update() if for_update else stmt).first()


def link_for_message(session: Session, *, outbox_id: int) -> AccessLink | None:
    return session.scalars(select(AccessLink).where(AccessLink.outbox_id == outbox_id)).first()


def links_since(session: Session, *, user_id: int, since: datetime) -> int:
    """How many links were made for the account since ``since`` (the per-account rate limit)."""
    return session.scalar(
        select(func.count()).select_from(AccessLink).where(AccessLink.user_id == user_id,
                                                          AccessLink.created_at >= since)
    ) or 0


def user_by_id(session: Session, *, user_id: int) -> User | None:
    return session.get(User, user_id)


def patient_by_id(session: Session, *, patient_id: int) -> Patient | None:
    return session.get(Patient, patient_id)


def patient_account(session: Session, *, patient_id: int) -> User | None:
    return session.scalars(select(User).where(User.patient_id == patient_id)).first()


def account_by_email(session: Session, *, email: str) -> User | None:
    return session.scalars(select(User).where(func.lower(User.email) == email.strip().lower())).first()


def patient_accounts_by_phone(session: Session) -> list[tuple[User, str]]:
    """(account, phone) of every active patient account whose patient has a phone number."""
    rows = session.execute(
        select(User, Patient.phone)
        .join(Patient, Patient.id == User.patient_id)
        .where(User.active.is_(True), Patient.phone != "", Patient.anonymised_at.is_(None))
    ).all()
    return [(user, phone) for user, phone in rows]


def add_account(session: Session, user: User) -> User:
    session.add(user)
    session.flush()
    return user


def end_sessions(session: Session, *, user_id: int, now: datetime) -> int:
    """Revoke every open web session of the account (after a password reset)."""
    rows = session.scalars(
        select(WebSession).where(WebSession.user_id == user_id, WebSession.revoked_at.is_(None))
    ).all()
    for ws in rows:
        ws.revoked_at = now
    return len(rows)


def taken_up(session: Session, *, user_id: int) -> bool:
    """Whether an account made on someone's behalf was ever taken up: a password set, or one of its links used
    (its invitation opened, or a sign-in link)."""
    user = session.get(User, user_id)
    if user is None:
        return False
    if user.password_hash:
        return True
    used = select(AccessLink.id).where(AccessLink.user_id == user_id, AccessLink.used_at.is_not(None)).limit(1)
    return session.scalar(used) is not None
