"""Accounts, passwords, API tokens, web sessions and login throttling.

- Passwords: Argon2id (argon2-cffi), at least 12 characters.
- API tokens: long random values; only their SHA-256 digest is stored (contracts §7).
- Web sessions: server-side rows keyed by the SHA-256 of a random cookie value; rotated on login (a new
  value every time), ended by logout, by idle time and by an absolute lifetime.
- Throttling (contracts §7 as amended): 10 failures for one (email, address) within 15 minutes, or 50 from
  one address whatever the emails (spraying), start a block of ``login_block_seconds`` (30 s); each failure
  after a block doubles it, up to ``login_block_max_seconds`` (900 s). While blocked, attempts are refused
  without being counted, so they do not extend the block, and ``Retry-After`` is the true remaining time.
  A success resets the pair; a block is forgotten 15 minutes after it ended; ``mildpath user unblock``
  lifts one. Accounts are never locked outright (anyone could lock a clinician out).
- Lifecycle: tokens are listed with their last use and revoked one by one or all at once; a deactivated
  account's tokens and sessions stop working at the next request. Each change is audited.
"""

from __future__ import annotations

import functools
import hashlib
import math
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy.orm import Session

from mildpath.domain.errors import Conflict, InvalidInput, NotFound
from mildpath.services.access import Actor, record, require_role
from mildpath.services.read_models import ReadModel
from mildpath.store import clinics as clinics_store
from mildpath.store import logins as logins_store
from mildpath.store import patients as patients_store
from mildpath.store import users as users_store
from mildpath.store.base import utcnow
from mildpath.store.models import ROLES, ApiToken, User, WebSession

MIN_PASSWORD_LENGTH = 12
PAIR_LIMIT = 10
ADDRESS_LIMIT = 50
THROTTLE_WINDOW = timedelta(minutes=15)
BLOCK_SECONDS = 30
BLOCK_MAX_SECONDS = 900
TOKEN_TOUCH = timedelta(minutes=1)  # a token's last use is written at most once a minute

_hasher = PasswordHasher()


class UserView(ReadModel):
    """An account as callers see it (never its password hash): the session's identity (``Actor.for_user``),
    the admin's user pages, the CLI's messages."""

    id: int
    email: str
    display_name: str
    role: str
    clinic_id: int | None
    patient_id: int | None
    active: bool
    created_at: datetime


def _view(user: User) -> UserView:
    return UserView.model_validate(user)


def _view_or_none(user: User | None) -> UserView | None:
    return None if user is None else _view(user)


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
) -> UserView:
    """Create an account (admins and the CLI operator only)."""
    require_role(actor, "admin")
    email = email.strip().lower()
    if "@" not in email or len(email) > 254:
        raise InvalidInput("not an email address", field="email", value=email)
    if role not in ROLES:
        raise InvalidInput(f"role must be one of {', '.join(ROLES)}", field="role", value=role)
    if users_store.email_taken(session, email=email):
        raise Conflict(f"an account for {email} exists already")
    if role == "patient":
        patient = patients_store.get_or_none(session, patient_id=patient_id) if patient_id is not None else None
        if patient is None:
            raise InvalidInput("a patient account needs an existing patient record", field="patient_id")
        clinic_id = patient.clinic_id
    elif role in ("clinician", "coordinator") and (
        clinic_id is None or clinics_store.get_or_none(session, clinic_id=clinic_id) is None
    ):
        raise InvalidInput(f"a {role} account needs an existing clinic", field="clinic_id", value=clinic_id)
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
    return _view(user)


def _user_by_email(session: Session, email: str) -> User | None:
    return users_store.by_email(session, email=email.strip().lower())


def get_user_by_email(session: Session, email: str) -> UserView | None:
    return _view_or_none(_user_by_email(session, email))


def set_password(session: Session, actor: Actor, user: UserView, password: str) -> None:
    _user_row(session, user.id).password_hash = hash_password(password)
    record(session, actor, "user.password", "User", user.id, user.patient_id)
    # A new password ends every open session of that account.
    users_store.end_sessions(session, user_id=user.id, now=_now())


def create_token(session: Session, actor: Actor, user: UserView, *, name: str = "cli") -> str:
    """A new API token for ``user``; the value is shown once and only its digest is kept."""
    require_role(actor, "admin")
    value = "mp_" + secrets.token_urlsafe(32)
    session.add(ApiToken(user_id=user.id, digest=digest(value), name=name))
    record(session, actor, "token.create", "User", user.id, user.patient_id)
    return value


def user_for_token(session: Session, value: str, now: datetime | None = None) -> UserView | None:
    """The active account an unrevoked token acts for (None otherwise); notes the token's last use."""
    found = users_store.token_owner(session, digest=digest(value))
    if found is None:
        return None
    user, token = found
    now = now or _now()
    # Touched at most once a minute: a write per API call would serialise readers on SQLite.
    if token.last_used_at is None or now - token.last_used_at > TOKEN_TOUCH:
        token.last_used_at = now
    return _view(user)


def _account(session: Session, email: str) -> User:
    user = _user_by_email(session, email)
    if user is None:
        raise InvalidInput(f"no account {email.strip().lower()}", field="email")
    return user


class TokenView(ReadModel):
    """One unrevoked API token of an account, as the admin sees it (never the value: only its digest is kept)."""

    id: int
    name: str
    created_at: str  # ISO 8601
    last_used_at: str | None  # ISO 8601; None: never used


def list_tokens(session: Session, actor: Actor, email: str) -> list[TokenView]:
    """The account's unrevoked tokens: id, name, created and last used (never the value: only its digest is kept)."""
    require_role(actor, "admin")
    user = _account(session, email)
    rows = users_store.active_tokens(session, user_id=user.id)
    record(session, actor, "token.list", "User", user.id, user.patient_id)
    return [_token_view(t) for t in rows]


def _token_view(token: ApiToken) -> TokenView:
    return TokenView(
        id=token.id,
        name=token.name,
        created_at=token.created_at.isoformat(),
        last_used_at=token.last_used_at.isoformat() if token.last_used_at else None,
    )


def revoke_token(session: Session, actor: Actor, token_id: int) -> TokenView:
    """Revoke one token: the next request with it gets 401."""
    require_role(actor, "admin")
    token = users_store.token_or_none(session, token_id=token_id)
    if token is None or token.revoked_at is not None:
        raise NotFound(f"no active token {token_id}")
    token.revoked_at = _now()
    user = users_store.get_or_none(session, user_id=token.user_id)
    record(
        session, actor, "token.revoke", "User", token.user_id, user.patient_id if user else None, {"token_id": token.id}
    )
    return _token_view(token)


def revoke_all_tokens(session: Session, actor: Actor, email: str) -> int:
    """Revoke every token of the account; the number revoked."""
    require_role(actor, "admin")
    user = _account(session, email)
    count = users_store.revoke_tokens(session, user_id=user.id, now=_now())
    record(session, actor, "token.revoke_all", "User", user.id, user.patient_id, {"revoked": count})
    return count


def deactivate_user(session: Session, actor: Actor, email: str) -> UserView:
    """Deactivate an account: its sessions end and its tokens are revoked, effective at the next request."""
    require_role(actor, "admin")
    user = _account(session, email)
    if actor.user_id is not None and actor.user_id == user.id:
        raise Conflict("an admin cannot deactivate their own account")
    user.active = False
    now = _now()
    users_store.end_sessions(session, user_id=user.id, now=now)
    users_store.revoke_tokens(session, user_id=user.id, now=now)
    record(session, actor, "user.deactivate", "User", user.id, user.patient_id)
    return _view(user)


#: the roles an admin may move a staff account between (a patient's or a caregiver's account belongs to a person
#: of the pathway, not to a job: it is never turned into a staff account or back)
STAFF_ROLES = ("clinician", "coordinator", "admin")


def change_role(session: Session, actor: Actor, user_id: int, role: str) -> UserView:
    """An admin moves a staff account to another staff role; it holds at the account's next request (the role is
    read on every request), and an account made admin must set up its second factor. Audited (from, to)."""
    require_role(actor, "admin")
    user = _user_row(session, user_id)
    if role not in STAFF_ROLES:
        raise InvalidInput(f"role: one of {', '.join(STAFF_ROLES)}", field="role")
    if user.role not in STAFF_ROLES:
        raise Conflict(f"a {user.role} account keeps its role")
    if actor.user_id is not None and actor.user_id == user.id:
        raise Conflict("an admin cannot change their own role")
    if role != "admin" and user.clinic_id is None:
        raise Conflict(f"a {role} belongs to a clinic, and this account has none")
    if role != user.role:
        record(session, actor, "user.role", "User", user.id, None, {"from": user.role, "to": role})
        user.role = role
    return _view(user)


# ------------------------------------------------------------------------------------------ throttling


@dataclass(frozen=True)
class Throttle:
    allowed: bool
    retry_after_seconds: int = 0


@dataclass(frozen=True)
class BlockPolicy:
    """The throttling numbers (contracts §7); the two block lengths come from the settings."""

    block_seconds: int = BLOCK_SECONDS
    block_max_seconds: int = BLOCK_MAX_SECONDS
    pair_limit: int = PAIR_LIMIT
    address_limit: int = ADDRESS_LIMIT
    window: timedelta = THROTTLE_WINDOW

    @classmethod
    def of(cls, settings: Any) -> BlockPolicy:
        return cls(settings.login_block_seconds, settings.login_block_max_seconds)

    def length(self, level: int) -> int:
        """The block after ``level`` doublings, capped."""
        return int(min(self.block_max_seconds, self.block_seconds * 2 ** min(level, 32)))


def _scopes(email: str, address: str) -> list[tuple[str, str]]:
    return [("pair", f"{email}\n{address}"), ("address", address)]


def check_throttle(session: Session, email: str, address: str, now: datetime) -> Throttle:
    """Whether a login attempt may be tried now; if not, the true seconds until it may."""
    scopes = _scopes(email.strip().lower(), address)
    until = logins_store.blocked_until(session, scopes=scopes, now=now)
    if until is None:
        return Throttle(True)
    return Throttle(False, max(1, math.ceil((until - now).total_seconds())))


def _block(session: Session, scope: str, key: str, email: str, address: str, level: int, until: datetime) -> None:
    """Insert or raise the block in one statement (safe when two failures race on PostgreSQL)."""
    logins_store.set_block(
        session, scope=scope, key=key, email=email if scope == "pair" else "", address=address, level=level, until=until
    )


def _note_failure(session: Session, email: str, address: str, now: datetime, policy: BlockPolicy) -> None:
    """After a failure: start a block at the limit, or double the block that ended less than 15 minutes ago."""
    since = now - policy.window
    counts = {
        "pair": logins_store.failures_since(session, since=since, address=address, email=email),
        "address": logins_store.failures_since(session, since=since, address=address),
    }
    limits = {"pair": policy.pair_limit, "address": policy.address_limit}
    for scope, key in _scopes(email, address):
        current = logins_store.block_for(session, scope=scope, key=key)
        if current is not None and current.blocked_until + policy.window > now:
            level = current.level + 1
        elif counts[scope] >= limits[scope]:
            level = 0
        else:
            continue
        _block(session, scope, key, email, address, level, now + timedelta(seconds=policy.length(level)))


def note_attempt(
    session: Session, email: str, address: str, success: bool, now: datetime, policy: BlockPolicy | None = None
) -> None:
    email = email.strip().lower()[:254]
    address = address[:64]
    logins_store.add_attempt(session, email=email, address=address, success=success, at=now)
    if success:
        # A successful login clears that pair's failures and block: a user who mistyped is not penalised.
        logins_store.clear_pair(session, email=email, address=address)
        return
    _note_failure(session, email, address, now, policy or BlockPolicy())


def unblock(session: Session, actor: Actor, email: str, address: str | None = None) -> int:
    """Lift the blocks on ``email`` (from every address) and forget its failures; with ``address``, that
    address's own block and failures too. The number of blocks lifted."""
    require_role(actor, "admin")
    email = email.strip().lower()
    lifted = logins_store.lift(session, email=email, address=address)
    user = _user_by_email(session, email)
    record(
        session,
        actor,
        "auth.unblock",
        "User",
        user.id if user else None,
        user.patient_id if user else None,
        {"blocks": lifted, "address": bool(address)},
    )
    return lifted


def authenticate(
    session: Session, email: str, password: str, address: str, now: datetime, policy: BlockPolicy | None = None
) -> UserView | None:
    """The user if email and password match an active account; every attempt is noted for throttling."""
    user = _user_by_email(session, email)
    ok = verify_password(user, password) and user is not None and user.active
    note_attempt(session, email, address, bool(ok), now, policy)
    if ok and user is not None:
        view = _view(user)
        record(session, Actor.for_user(view, address), "auth.login", "User", user.id, user.patient_id)
        return view
    record(session, Actor(None, "anonymous", address=address), "auth.login_failed", "User", None, None)
    return None


# ------------------------------------------------------------------------------------------ web sessions


def start_session(session: Session, user: UserView, now: datetime, *, mfa_pending: bool = False) -> str:
    """A fresh session value for ``user`` (rotation: a new value at every login). ``mfa_pending``: the password
    was right and the second factor is still to come (services/mfa.py): the session opens only the code page."""
    value = secrets.token_urlsafe(32)
    session.add(WebSession(digest=digest(value), user_id=user.id, created_at=now, last_seen_at=now,
                           mfa_pending=mfa_pending))
    return value


MFA_PENDING_FOR = timedelta(minutes=10)


def pending_mfa_user(session: Session, value: str, now: datetime) -> UserView | None:
    """The account of a session waiting for its second factor (at most 10 minutes old), else None."""
    ws = users_store.web_session(session, digest=digest(value), open_only=True)
    if ws is None or not ws.mfa_pending or now - ws.created_at > MFA_PENDING_FOR:
        return None
    user = users_store.get_or_none(session, user_id=ws.user_id)
    return _view(user) if user is not None and user.active else None


def user_for_session(
    session: Session, value: str, now: datetime, *, idle: timedelta, absolute: timedelta
) -> UserView | None:
    """The active account of an open, fully signed-in web session (None otherwise); ends a session past its idle
    time or its absolute lifetime, and notes its last use."""
    ws = users_store.web_session(session, digest=digest(value), open_only=True)
    if ws is not None and ws.mfa_pending:
        return None  # waiting for its second factor: opens only the code page
    if ws is None:
        return None
    if now - ws.last_seen_at > idle or now - ws.created_at > absolute:
        ws.revoked_at = now
        return None
    user = users_store.get_or_none(session, user_id=ws.user_id)
    if user is None or not user.active:
        return None
    # Touch at most once a minute: a write per page view would serialise readers on SQLite.
    if now - ws.last_seen_at > timedelta(minutes=1):
        ws.last_seen_at = now
    return _view(user)


def end_session(session: Session, value: str, now: datetime) -> None:
    ws = users_store.web_session(session, digest=digest(value), open_only=False)
    if ws is not None and ws.revoked_at is None:
        ws.revoked_at = now
        user = users_store.get_or_none(session, user_id=ws.user_id)
        record(session, Actor.for_user(_view(user)) if user else Actor.system(), "auth.logout", "User", ws.user_id,
               None)


def _user_row(session: Session, user_id: int) -> User:
    user = users_store.get_or_none(session, user_id=user_id)
    if user is None:
        raise NotFound(f"no user {user_id}")
    return user


def get_user(session: Session, user_id: int) -> UserView:
    return _view(_user_row(session, user_id))


def list_users(session: Session, actor: Actor) -> list[UserView]:
    require_role(actor, "admin")
    return [_view(u) for u in users_store.all_accounts(session)]


def _now() -> datetime:
    return utcnow()


def interface_language(session: Session, user: UserView) -> str | None:
    """The language a signed-in patient chose for their pages (``Patient.preferred_language``), or ``None``.

    Read on every page a patient opens, without an audit row: it is the patient's own interface setting,
    read for the patient, like the display name of the session."""
    if user.role != "patient" or user.patient_id is None:
        return None
    patient = patients_store.get_or_none(session, patient_id=user.patient_id)
    if patient is not None:
        # Held for the rest of the session (the request): the session's identity map holds rows weakly, and the
        # access check that follows (services/access.get_patient_for) then finds this row by key, no statement.
        session.info.setdefault("mp_held_rows", []).append(patient)
    return patient.preferred_language if patient is not None else None


def set_interface_language(session: Session, actor: Actor, language: str) -> None:
    """A signed-in patient changes their own preferred language (the switch on every page); audited."""
    if language not in ("en", "es"):
        raise InvalidInput("choose English or Spanish", field="language")
    if actor.role != "patient" or actor.patient_id is None:
        return
    patient = patients_store.get_or_none(session, patient_id=actor.patient_id)
    if patient is None or patient.preferred_language == language:
        return
    old = patient.preferred_language
    patient.preferred_language = language
    record(session, actor, "patient.language_update", "Patient", patient.id, patient.id, {"old": old, "new": language})
