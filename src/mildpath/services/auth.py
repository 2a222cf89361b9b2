"""Accounts, passwords, API tokens, web sessions and login throttling.

- Passwords: Argon2id (argon2-cffi), at least 12 characters.
- API tokens: long random values; only their SHA-256 digest is stored (contracts §7).
- Web sessions: server-side rows keyed by the SHA-256 of a random cookie value; rotated on login (a new
  value every time), ended by logout, by idle time and by an absolute lifetime.
- Throttling (contracts §7): at most 10 failures per (email, address) in 15 minutes, and a higher limit per
  address to stop spraying across emails. Accounts are never locked outright.
"""

from __future__ import annotations

import functools
import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import delete, func, select, update
from sqlalchemy.orm import Session

from mildpath.domain.errors import Conflict, InvalidInput, NotFound
from mildpath.services.access import Actor, record, require_role
from mildpath.store.base import utcnow
from mildpath.store.models import ROLES, ApiToken, Clinic, LoginAttempt, Patient, User, WebSession

MIN_PASSWORD_LENGTH = 12
PAIR_LIMIT = 10
ADDRESS_LIMIT = 50
THROTTLE_WINDOW = timedelta(minutes=15)

_hasher = PasswordHasher()


@functools.cache
def _dummy_hash() -> str:
    """A hash of a random password, verified against when the email is unknown, so both paths cost the same
    time. Made on the first login, not at import (issue 17: importing the web app does no hashing)."""
    return _hasher.hash(secrets.token_urlsafe(16))


def digest(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()


def hash_password(password: str) -> str:
    check_password(password)
    return _hasher.hash(password)


def check_password(password: str) -> None:
    if len(password) < MIN_PASSWORD_LENGTH:
        raise InvalidInput(f"the password needs at least {MIN_PASSWORD_LENGTH} characters", field="password")


def verify_password(user: User | None, password: str) -> bool:
    try:
        return _hasher.verify(user.password_hash if user and user.password_hash else _dummy_hash(), password) and (
            user is not None
        )
    except (VerificationError, InvalidHashError):
        return False


def add_user(
    session: Session,
    actor: Actor,
    *,
    email: str,
    role: str,
    password: str,
    display_name: str = "",
    clinic_id: int | None = None,
    patient_id: int | None = None,
) -> User:
    """Create an account (admins and the CLI operator only)."""
    require_role(actor, "admin")
    email = email.strip().lower()
    if "@" not in email or len(email) > 254:
        raise InvalidInput("not an email address", field="email", value=email)
    if role not in ROLES:
        raise InvalidInput(f"role must be one of {', '.join(ROLES)}", field="role", value=role)
    if session.scalar(select(User.id).where(User.email == email)):
        raise Conflict(f"an account for {email} exists already")
    if role == "patient":
        if patient_id is None or session.get(Patient, patient_id) is None:
            raise InvalidInput("a patient account needs an existing patient record", field="patient_id")
        clinic_id = session.get(Patient, patient_id).clinic_id  # type: ignore[union-attr]
    elif role == "clinician" and (clinic_id is None or session.get(Clinic, clinic_id) is None):
        raise InvalidInput("a clinician account needs an existing clinic", field="clinic_id", value=clinic_id)
    user = User(
        email=email,
        role=role,
        password_hash=hash_password(password),
        display_name=display_name or email.split("@")[0],
        clinic_id=clinic_id,
        patient_id=patient_id if role == "patient" else None,
    )
    session.add(user)
    session.flush()
    record(session, actor, "user.create", "User", user.id, user.patient_id, {"role": role})
    return user


def get_user_by_email(session: Session, email: str) -> User | None:
    return session.scalar(select(User).where(User.email == email.strip().lower()))


def set_password(session: Session, actor: Actor, user: User, password: str) -> None:
    user.password_hash = hash_password(password)
    record(session, actor, "user.password", "User", user.id, user.patient_id)
    # A new password ends every open session of that account.
    session.execute(
        update(WebSession)
        .where(WebSession.user_id == user.id, WebSession.revoked_at.is_(None))
        .values(revoked_at=_now())
    )


def create_token(session: Session, actor: Actor, user: User, *, name: str = "cli") -> str:
    """A new API token for ``user``; the value is shown once and only its digest is kept."""
    require_role(actor, "admin")
    value = "mp_" + secrets.token_urlsafe(32)
    session.add(ApiToken(user_id=user.id, digest=digest(value), name=name))
    record(session, actor, "token.create", "User", user.id, user.patient_id)
    return value


def user_for_token(session: Session, value: str) -> User | None:
    row = session.execute(
        select(User)
        .join(ApiToken, ApiToken.user_id == User.id)
        .where(ApiToken.digest == digest(value), ApiToken.revoked_at.is_(None), User.active.is_(True))
    ).scalar_one_or_none()
    return row


# ------------------------------------------------------------------------------------------ throttling


@dataclass(frozen=True)
class Throttle:
    allowed: bool
    retry_after_seconds: int = 0


def check_throttle(session: Session, email: str, address: str, now: datetime) -> Throttle:
    since = now - THROTTLE_WINDOW
    email = email.strip().lower()
    pair = (
        session.scalar(
            select(func.count()).where(
                LoginAttempt.email == email,
                LoginAttempt.address == address,
                LoginAttempt.at >= since,
                LoginAttempt.success.is_(False),
            )
        )
        or 0
    )
    by_address = (
        session.scalar(
            select(func.count()).where(
                LoginAttempt.address == address, LoginAttempt.at >= since, LoginAttempt.success.is_(False)
            )
        )
        or 0
    )
    if pair >= PAIR_LIMIT or by_address >= ADDRESS_LIMIT:
        # A growing delay: each failure past the limit doubles the wait, up to the whole window.
        over = max(pair - PAIR_LIMIT, by_address - ADDRESS_LIMIT, 0)
        return Throttle(False, min(int(THROTTLE_WINDOW.total_seconds()), 30 * 2 ** min(over, 5)))
    return Throttle(True)


def note_attempt(session: Session, email: str, address: str, success: bool, now: datetime) -> None:
    session.add(LoginAttempt(email=email.strip().lower()[:254], address=address[:64], success=success, at=now))
    if success:
        # A successful login clears that pair's failures, so a user who typed wrong a few times is not penalised.
        session.execute(
            delete(LoginAttempt).where(
                LoginAttempt.email == email.strip().lower(),
                LoginAttempt.address == address,
                LoginAttempt.success.is_(False),
            )
        )


def authenticate(session: Session, email: str, password: str, address: str, now: datetime) -> User | None:
    """The user if email and password match an active account; every attempt is noted for throttling."""
    user = get_user_by_email(session, email)
    ok = verify_password(user, password) and user is not None and user.active
    note_attempt(session, email, address, bool(ok), now)
    if ok and user is not None:
        record(session, Actor.for_user(user, address), "auth.login", "User", user.id, user.patient_id)
        return user
    record(session, Actor(None, "anonymous", address=address), "auth.login_failed", "User", None, None)
    return None


# ------------------------------------------------------------------------------------------ web sessions


def start_session(session: Session, user: User, now: datetime) -> str:
    """A fresh session value for ``user`` (rotation: a new value at every login)."""
    value = secrets.token_urlsafe(32)
    session.add(WebSession(digest=digest(value), user_id=user.id, created_at=now, last_seen_at=now))
    return value


def user_for_session(
    session: Session, value: str, now: datetime, *, idle: timedelta, absolute: timedelta
) -> tuple[User, WebSession] | None:
    ws = session.scalar(select(WebSession).where(WebSession.digest == digest(value), WebSession.revoked_at.is_(None)))
    if ws is None:
        return None
    if now - ws.last_seen_at > idle or now - ws.created_at > absolute:
        ws.revoked_at = now
        return None
    user = session.get(User, ws.user_id)
    if user is None or not user.active:
        return None
    # Touch at most once a minute: a write per page view would serialise readers on SQLite.
    if now - ws.last_seen_at > timedelta(minutes=1):
        ws.last_seen_at = now
    return user, ws


def end_session(session: Session, value: str, now: datetime) -> None:
    ws = session.scalar(select(WebSession).where(WebSession.digest == digest(value)))
    if ws is not None and ws.revoked_at is None:
        ws.revoked_at = now
        user = session.get(User, ws.user_id)
        record(session, Actor.for_user(user) if user else Actor.system(), "auth.logout", "User", ws.user_id, None)


def get_user(session: Session, user_id: int) -> User:
    user = session.get(User, user_id)
    if user is None:
        raise NotFound(f"no user {user_id}")
    return user


def list_users(session: Session, actor: Actor) -> list[User]:
    require_role(actor, "admin")
    return list(session.scalars(select(User).order_by(User.role, User.email)))


def _now() -> datetime:
    return utcnow()


def interface_language(session: Session, user: User) -> str | None:
    """The language a signed-in patient chose for their pages (``Patient.preferred_language``), or ``None``.

    Read on every page a patient opens, without an audit row: it is the patient's own interface setting,
    read for the patient, like the display name of the session."""
    if user.role != "patient" or user.patient_id is None:
        return None
    patient = session.get(Patient, user.patient_id)
    return patient.preferred_language if patient is not None else None


def set_interface_language(session: Session, actor: Actor, language: str) -> None:
    """A signed-in patient changes their own preferred language (the switch on every page); audited."""
    if language not in ("en", "es"):
        raise InvalidInput("choose English or Spanish", field="language")
    if actor.role != "patient" or actor.patient_id is None:
        return
    patient = session.get(Patient, actor.patient_id)
    if patient is None or patient.preferred_language == language:
        return
    old = patient.preferred_language
    patient.preferred_language = language
    record(
        session, actor, "patient.language_update", "Patient", patient.id, patient.id, {"old": old, "new": language}
    )
