"""Account queries: lookup by email, the names shown beside records, the clinicians to notify.

Keyword-only query functions; none of them commits (the caller owns the transaction).
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any, cast

from sqlalchemy import CursorResult, Executable, delete, select, update
from sqlalchemy.orm import Session

from mildpath.store.models import ApiToken, IdempotencyKey, Patient, User, WebSession


def email_taken(session: Session, *, email: str) -> bool:
    return session.scalar(select(User.id).where(User.email == email)) is not None


def by_email(session: Session, *, email: str) -> User | None:
    return session.scalar(select(User).where(User.email == email))


def all_accounts(session: Session) -> list[User]:
    """Every account, by role and email."""
    return list(session.scalars(select(User).order_by(User.role, User.email)))


def display_names(session: Session, *, user_ids: Iterable[int | None]) -> dict[int, str]:
    """The name shown for each of these accounts (its display name, else its email); one query."""
    wanted = sorted({i for i in user_ids if i is not None})
    if not wanted:
        return {}
    rows = session.execute(select(User.id, User.display_name, User.email).where(User.id.in_(wanted))).all()
    return {uid: name or email for uid, name, email in rows}


def staff_ids(session: Session, *, user_ids: Iterable[int | None]) -> set[int]:
    """Which of these accounts are staff (not patients, not caregivers)."""
    wanted = [i for i in user_ids if i is not None]
    if not wanted:
        return set()
    return set(session.scalars(select(User.id).where(User.id.in_(wanted), User.role.not_in(("patient", "caregiver")))))


def active_clinicians(session: Session, *, clinic_id: int) -> list[User]:
    """The clinic's active clinician accounts."""
    return list(
        session.scalars(
            select(User).where(User.role == "clinician", User.clinic_id == clinic_id, User.active.is_(True))
        ).all()
    )


def patient_accounts(session: Session) -> dict[int, tuple[int, str]]:
    """Active patient accounts of patients not anonymised: patient id -> (user id, email)."""
    rows = session.execute(
        select(User.id, User.patient_id, User.email)
        .join(Patient, Patient.id == User.patient_id)
        .where(User.role == "patient", User.active.is_(True), Patient.anonymised_at.is_(None))
    ).all()
    return {pid: (uid, email) for uid, pid, email in rows if pid is not None}


def for_patient(session: Session, *, patient_id: int) -> list[User]:
    """The accounts linked to this patient record."""
    return list(session.scalars(select(User).where(User.patient_id == patient_id)))


def token_owner(session: Session, *, digest: str) -> tuple[User, ApiToken] | None:
    """The active account and unrevoked token with this digest, or None."""
    found = session.execute(
        select(User, ApiToken)
        .join(ApiToken, ApiToken.user_id == User.id)
        .where(ApiToken.digest == digest, ApiToken.revoked_at.is_(None), User.active.is_(True))
    ).one_or_none()
    return None if found is None else (found[0], found[1])


def active_tokens(session: Session, *, user_id: int) -> list[ApiToken]:
    """The account's unrevoked API tokens, oldest first."""
    stmt = select(ApiToken).where(ApiToken.user_id == user_id, ApiToken.revoked_at.is_(None)).order_by(ApiToken.id)
    return list(session.scalars(stmt))


def web_session(session: Session, *, digest: str, open_only: bool) -> WebSession | None:
    """The browser session with this digest (``open_only``: only if not revoked)."""
    stmt = select(WebSession).where(WebSession.digest == digest)
    if open_only:
        stmt = stmt.where(WebSession.revoked_at.is_(None))
    return session.scalar(stmt)


def end_credentials(session: Session, *, user_ids: list[int], now: datetime) -> dict[str, int]:
    """Revoke the users' open API tokens and web sessions and drop their stored idempotent answers; the counts."""

    def count(statement: Executable) -> int:
        return int(cast("CursorResult[Any]", session.execute(statement)).rowcount or 0)

    return {
        "api_tokens": count(
            update(ApiToken).where(ApiToken.user_id.in_(user_ids), ApiToken.revoked_at.is_(None)).values(revoked_at=now)
        ),
        "web_sessions": count(
            update(WebSession)
            .where(WebSession.user_id.in_(user_ids), WebSession.revoked_at.is_(None))
            .values(revoked_at=now)
        ),
        "idempotency_keys": count(delete(IdempotencyKey).where(IdempotencyKey.user_id.in_(user_ids))),
    }


def with_ids(session: Session, *, user_ids: Iterable[int]) -> list[User]:
    """The accounts with these ids, by id."""
    return list(session.scalars(select(User).where(User.id.in_(sorted(set(user_ids)))).order_by(User.id)))


def get_or_none(session: Session, *, user_id: int) -> User | None:
    return session.get(User, user_id)


def token_or_none(session: Session, *, token_id: int) -> ApiToken | None:
    return session.get(ApiToken, token_id)


def end_sessions(session: Session, *, user_id: int, now: datetime) -> int:
    """End every open web session of the account; how many."""
    result = session.execute(
        update(WebSession).where(WebSession.user_id == user_id, WebSession.revoked_at.is_(None)).values(revoked_at=now)
    )
    return int(cast("CursorResult[Any]", result).rowcount or 0)


def revoke_tokens(session: Session, *, user_id: int, now: datetime) -> int:
    """Revoke every open API token of the account; how many."""
    result = session.execute(
        update(ApiToken).where(ApiToken.user_id == user_id, ApiToken.revoked_at.is_(None)).values(revoked_at=now)
    )
    return int(cast("CursorResult[Any]", result).rowcount or 0)
