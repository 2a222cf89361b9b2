"""Staff multi-factor authentication (issue 20): TOTP (RFC 6238, pyotp) with recovery codes.

Required for every admin, and for the clinicians of a clinic that asks for it (``Clinic.staff_mfa_required``);
any staff member may enrol. Patients sign in with a password or a single-use link and have no second factor.

Sign-in with a second factor is two steps: the right password opens a *pending* session that reaches only the
code page; the right code (or an unused recovery code) turns it into a full session (a new session value). A
staff member who must use a second factor and has not enrolled yet reaches only the enrolment page, which shows
a QR code (segno, SVG) and the secret; the first right code confirms it and shows ten recovery codes once.
A code is accepted in its 30-second step or the one before or after (clock drift), and never twice.
The secret is kept encrypted under a key derived from ``MILDPATH_SECRET_KEY`` (``store/sealing.py``): the
functions that read or write it take the :class:`Keys`; a secret under the previous key, or still clear from
before encryption, is re-sealed under the current key when it is next used successfully.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime

import pyotp
import segno
from sqlalchemy.orm import Session

from mildpath.domain.errors import Conflict, InvalidInput, PermissionDenied
from mildpath.services.access import Actor, record
from mildpath.services.auth import UserView
from mildpath.store import mfa as store
from mildpath.store import sealing
from mildpath.store.sealing import Keys

ISSUER = "mildpath"
RECOVERY_CODES = 10
STAFF = ("admin", "clinician", "coordinator")

__all__ = ["Enrolment", "Keys", "begin_enrolment", "confirm_enrolment", "enrolled", "enrolment_needed",
           "required", "reset", "verify"]


def _digest(code: str) -> str:
    return hashlib.sha256(code.replace("-", "").strip().lower().encode()).hexdigest()


def required(session: Session, user: UserView) -> bool:
    """Whether the account must use a second factor: admins always; clinicians when their clinic asks."""
    if user.role == "admin":
        return True
    return user.role in STAFF and store.clinic_requires_staff_mfa(session, clinic_id=user.clinic_id)


def enrolled(session: Session, user_id: int) -> bool:
    return store.confirmed(session, user_id=user_id)


def enrolment_needed(session: Session, user: UserView) -> bool:
    return required(session, user) and not enrolled(session, user.id)


@dataclass(frozen=True)
class Enrolment:
    secret: str
    uri: str
    qr_svg: str


def _pending_secret(row: store.UserMfa | None, keys: Keys) -> str | None:
    """The unconfirmed secret being set up, if there is one the key opens."""
    if row is None or row.confirmed_at is not None:
        return None
    try:
        return sealing.unseal(keys, row.secret).clear
    except sealing.Unreadable:
        return None


def begin_enrolment(session: Session, actor: Actor, *, keys: Keys, now: datetime) -> Enrolment:
    """A new secret for the signed-in staff member (not yet in force: :func:`confirm_enrolment`)."""
    if actor.user_id is None or actor.role not in STAFF:
        raise PermissionDenied("a second factor is for staff accounts")
    if enrolled(session, actor.user_id):
        raise Conflict("a second factor is set up already")
    row = store.mfa_of(session, user_id=actor.user_id)
    secret = _pending_secret(row, keys)
    if secret is None:
        secret = pyotp.random_base32()
        store.start(session, user_id=actor.user_id, secret=sealing.seal(keys, secret), now=now)
    uri = pyotp.TOTP(secret).provisioning_uri(name=actor.email, issuer_name=ISSUER)
    svg = segno.make(uri, error="m").svg_inline(scale=4, dark="#1d2a39", light="#ffffff")
    return Enrolment(secret, uri, svg)


def _check_totp(row: store.UserMfa, code: str, now: datetime, keys: Keys) -> bool:
    code = code.replace(" ", "").strip()
    if not (code.isdigit() and len(code) == 6):
        return False
    try:
        opened = sealing.unseal(keys, row.secret)
    except sealing.Unreadable:  # a copy of the database without its key: no code is right
        return False
    totp = pyotp.TOTP(opened.clear)
    step = int(now.timestamp()) // totp.interval
    for candidate in (step - 1, step, step + 1):
        if candidate > row.last_step and secrets.compare_digest(totp.at(candidate * totp.interval), code):
            row.last_step = candidate
            if opened.stale:
                row.secret = sealing.seal(keys, opened.clear)
            return True
    return False


def confirm_enrolment(session: Session, actor: Actor, code: str, *, keys: Keys, now: datetime) -> list[str]:
    """The first right code puts the second factor in force; returns the recovery codes (shown once)."""
    row = store.mfa_of(session, user_id=actor.user_id) if actor.user_id else None
    if row is None or row.confirmed_at is not None:
        raise Conflict("start the set-up again")
    if not _check_totp(row, code, now, keys):
        raise InvalidInput("that code is not right; type the 6 digits the app shows now", field="code")
    codes = [f"{secrets.token_hex(3)}-{secrets.token_hex(3)}" for _ in range(RECOVERY_CODES)]
    row.recovery_digests = [_digest(c) for c in codes]
    row.confirmed_at = now
    record(session, actor, "mfa.enrol", "User", actor.user_id, None)
    return codes


def verify(session: Session, user: UserView, code: str, *, keys: Keys, now: datetime, address: str = "") -> bool:
    """A code from the app, or an unused recovery code (struck off). Audited either way."""
    row = store.mfa_of(session, user_id=user.id)
    ok = False
    how = "totp"
    if row is not None and row.confirmed_at is not None:
        ok = _check_totp(row, code, now, keys)
        if not ok and _digest(code) in (row.recovery_digests or []):
            row.recovery_digests = [d for d in row.recovery_digests if d != _digest(code)]
            ok, how = True, "recovery_code"
    actor = Actor.for_user(user, address)
    record(session, actor, "mfa.verify" if ok else "mfa.verify_failed", "User", user.id, None,
           {"how": how} if ok else None)
    return ok


def reset(session: Session, actor: Actor, user_id: int) -> None:
    """An admin removes another account's second factor (a lost phone); the account enrols again."""
    if actor.role not in ("admin", "system"):
        raise PermissionDenied("an admin resets a second factor")
    if store.remove(session, user_id=user_id):
        record(session, actor, "mfa.reset", "User", user_id, None)
