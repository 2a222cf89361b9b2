"""Access without a password (issue 20): magic links, invitations and password resets.

A link works once and expires. Its token is 256 bits, derived as HMAC-SHA256(server secret, random nonce): the
database keeps the nonce and the token's SHA-256 digest, never the token, and the outbox keeps the message with
an ``{access_link}`` placeholder that is filled in only as the message is sent (:func:`render_links`). Whoever
reads a backup cannot sign in with it.

- **Magic link** (``sign_in``): sent by the clinic (:func:`send_access_link`, 72 hours) or requested by the
  patient with their email or phone (:func:`request_link`, 30 minutes; the same answer whether or not the address
  is known); opens a patient session, limited as every patient session is to the patient's own pathway, at the
  link's target (a reminder's link opens the questionnaires).
- **Invitation** (``invitation``, 7 days): a clinician invites a patient by email or phone; the account is made
  then, with no password; the patient opens the link and may set a password, or keep using links.
- **Password reset** (``password_reset``, 1 hour): for any account with a password; the same answer for a known
  and an unknown address; using it ends every open session of the account.

Requests are throttled with the login throttle (contracts §7), under their own keys (``link:``/``reset:`` and the
address typed), and at most :data:`ACCOUNT_LIMIT` links are made per account per 15 minutes.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy.orm import Session

from mildpath.domain.errors import Conflict, InvalidInput, PermissionDenied
from mildpath.domain.inputs import EdgeInput
from mildpath.domain.messaging import normalize_phone
from mildpath.services import auth, consent, notify
from mildpath.services.access import Actor, enrolling, get_patient_for, record
from mildpath.store import access_links as store
from mildpath.store.models import OutboxMessage, User

PLACEHOLDER = "{access_link}"
TTL = {
    "sign_in": timedelta(minutes=30),  # asked for by the patient, used at once
    "clinic_sign_in": timedelta(hours=72),  # sent by the clinic or in a reminder, read later
    "invitation": timedelta(days=7),
    "password_reset": timedelta(hours=1),
}
ACCOUNT_LIMIT = 5
ACCOUNT_WINDOW = timedelta(minutes=15)
NO_EMAIL_DOMAIN = "no-email.invalid"  # RFC 2606: the login name of an account invited by phone only

TEXTS = {
    # No clinical detail in any of them (issue 4's rule): a short line and the link.
    "sign_in": {
        "en": ("Your mildpath sign-in link", "mildpath: your sign-in link, for you only: {link}"),
        "es": ("Su enlace para entrar en mildpath", "mildpath: su enlace para entrar, solo para usted: {link}"),
    },
    "invitation": {
        "en": ("Your clinic invites you to mildpath", "mildpath: your clinic invites you to follow your care "
               "online. Open this link to start: {link}"),
        "es": ("Su clínica le invita a mildpath", "mildpath: su clínica le invita a seguir su atención en línea. "
               "Abra este enlace para empezar: {link}"),
    },
    "password_reset": {
        "en": ("Reset your mildpath password", "Someone asked to reset the password of your mildpath account. "
               "If it was you, open this link within an hour: {link}\n\nIf it was not you, ignore this message."),
        "es": ("Cambiar su contraseña de mildpath", "Alguien pidió cambiar la contraseña de su cuenta de mildpath. "
               "Si fue usted, abra este enlace antes de una hora: {link}\n\nSi no fue usted, ignore este mensaje."),
    },
}


class LinkRefused(Exception):
    """A link that cannot be used: ``reason`` is ``used``, ``expired`` or ``unknown`` (also for a deactivated
    account: the same answer as a link that never existed)."""

    def __init__(self, reason: Literal["used", "expired", "unknown"]) -> None:
        super().__init__(reason)
        self.reason = reason


class Throttled(Exception):
    def __init__(self, retry_after: int) -> None:
        super().__init__("too many requests")
        self.retry_after = retry_after


def _token(secret_key: str, nonce: str) -> str:
    mac = hmac.new(secret_key.encode(), b"access-link:" + nonce.encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(mac).rstrip(b"=").decode()


def _make(
    session: Session, *, secret_key: str, user: User, purpose: str, ttl: str, target: str, channel: str,
    created_by: int | None, now: datetime,
) -> tuple[store.AccessLink, str]:
    nonce = secrets.token_urlsafe(32)
    token = _token(secret_key, nonce)
    link = store.add_link(session, digest=auth.digest(token), nonce=nonce, purpose=purpose, user_id=user.id,
                          target=target, channel=channel, created_by=created_by, now=now,
                          expires_at=now + TTL[ttl])
    return link, token


def _language(session: Session, user: User) -> str:
    patient = store.patient_by_id(session, patient_id=user.patient_id) if user.patient_id else None
    return patient.preferred_language if patient and patient.preferred_language in ("en", "es") else "en"


def _queue(
    session: Session, *, link: store.AccessLink, user: User, channel: str, address: str, public_url: str,
    language: str | None = None,
) -> OutboxMessage:
    subject, text = TEXTS[link.purpose][language if language in ("en", "es") else _language(session, user)]
    url = link_url(public_url)
    message = notify.queue(session, kind=f"access_{link.purpose}", subject=subject, body=text.format(link=url),
                           recipient_user_id=user.id, recipient_address=address, channel=channel,
                           patient_id=user.patient_id)
    session.flush()
    link.outbox_id = message.id
    return message


def link_url(public_url: str) -> str:
    """The address of a link in a message's text; the token is filled in as the message is sent."""
    return public_url.rstrip("/") + "/access/" + PLACEHOLDER


def attach_sign_in_link(
    session: Session, message: OutboxMessage, *, user_id: int, target: str, secret_key: str, now: datetime
) -> None:
    """Give a queued message (whose text holds :func:`link_url`) a sign-in link of its own to ``target``: a
    reminder's link opens the questionnaires without a password (72 hours, once)."""
    user = store.user_by_id(session, user_id=user_id)
    if user is None:
        return
    session.flush()
    link, _ = _make(session, secret_key=secret_key, user=user, purpose="sign_in", ttl="clinic_sign_in",
                    target=target, channel=message.channel, created_by=None, now=now)
    link.outbox_id = message.id


OPTOUT_LINES = {
    # The last line of every email or text to a patient or a caregiver: one click (and a confirmation) stops them.
    "sms": {"en": "\nStop texts: {url}", "es": "\nNo recibir más SMS: {url}"},
    "email": {"en": "\n\nTo stop these emails: {url}", "es": "\n\nPara no recibir más correos: {url}"},
}


def render_links(secret_key: str, public_url: str = "") -> notify.Render:
    """The outbox's text filler: ``{access_link}`` becomes the link's token, derived again from its nonce; with
    ``public_url``, an email or text to a patient or a caregiver ends with its opt-out link (services/consent.py),
    in the patient's language."""

    def render(session: Session, message: OutboxMessage) -> str:
        body = message.body
        if PLACEHOLDER in body:
            link = store.link_for_message(session, outbox_id=message.id)
            if link is None:
                raise notify.DeliveryError("the message's link is gone", retryable=False)
            body = body.replace(PLACEHOLDER, _token(secret_key, link.nonce))
        whom = consent.optout_recipient(session, recipient_user_id=message.recipient_user_id,
                                        patient_id=message.patient_id, channel=message.channel)
        if public_url and whom is not None:
            token = consent.optout_token(secret_key, channel=message.channel, **whom)
            patient_id = message.patient_id or whom.get("patient_id")
            patient = store.patient_by_id(session, patient_id=patient_id) if patient_id else None
            if "caregiver_id" in whom and patient is None:
                grant_patient = consent.caregiver_patient(session, caregiver_id=whom["caregiver_id"])
                patient = store.patient_by_id(session, patient_id=grant_patient) if grant_patient else None
            language = patient.preferred_language if patient and patient.preferred_language in ("en", "es") else "en"
            body += OPTOUT_LINES[message.channel][language].format(url=consent.optout_url(public_url, token))
        return body

    return render


def _address(session: Session, user: User, channel: str) -> str:
    if channel == "email":
        if user.email.endswith("@" + NO_EMAIL_DOMAIN):
            raise InvalidInput("the patient has no email address: send it by text", field="channel")
        return user.email
    patient = store.patient_by_id(session, patient_id=user.patient_id) if user.patient_id else None
    if patient is None or not patient.phone:
        raise InvalidInput("the patient has no phone number: send it by email", field="channel")
    return patient.phone


# ---------------------------------------------------------------------------------------------- staff actions


class LinkIn(EdgeInput):
    model_config = ConfigDict(extra="forbid", strict=True)
    patient_id: int = Field(ge=1, le=2_147_483_647)
    channel: Literal["email", "sms"]
    target: Literal["/me", "/me/questionnaires", "/me/diary", "/me/recovery"] = "/me"


class LinkSent(BaseModel):
    model_config = ConfigDict(frozen=True)
    patient_id: int
    purpose: str
    channel: str
    expires_at: datetime
    message_id: int = Field(description="The outbox message that carries the link (its status: sent, retrying...)")


def send_access_link(
    session: Session, actor: Actor, data: LinkIn, *, now: datetime, secret_key: str, public_url: str
) -> LinkSent:
    """A clinician or coordinator sends a patient a sign-in link (72 hours) on a channel with the patient's consent."""
    if not (actor.is_staff or actor.role == "coordinator" or enrolling(actor)):
        raise PermissionDenied("the clinic's staff (clinicians, coordinators) send sign-in links")
    get_patient_for(session, actor, data.patient_id)
    user = store.patient_account(session, patient_id=data.patient_id)
    if user is None or not user.active:
        raise InvalidInput("the patient has no active account: send an invitation", field="patient_id")
    address = _address(session, user, data.channel)
    link, _ = _make(session, secret_key=secret_key, user=user, purpose="sign_in", ttl="clinic_sign_in",
                    target=data.target, channel=data.channel, created_by=actor.user_id, now=now)
    message = _queue(session, link=link, user=user, channel=data.channel, address=address, public_url=public_url)
    record(session, actor, "access_link.send", "AccessLink", link.id, data.patient_id, {"channel": data.channel})
    return LinkSent(patient_id=data.patient_id, purpose="sign_in", channel=data.channel,
                    expires_at=link.expires_at, message_id=message.id)


class InvitationIn(EdgeInput):
    model_config = ConfigDict(extra="forbid", strict=True)
    patient_id: int = Field(ge=1, le=2_147_483_647)
    channel: Literal["email", "sms"]


def invite_patient(
    session: Session, actor: Actor, data: InvitationIn, *, now: datetime, secret_key: str, public_url: str
) -> LinkSent:
    """A clinician or coordinator invites a patient: the account is made now (no password), and the invitation
    goes out."""
    if not (actor.is_staff or actor.role == "coordinator" or enrolling(actor)):
        raise PermissionDenied("the clinic's staff (clinicians, coordinators) invite patients")
    patient = get_patient_for(session, actor, data.patient_id)
    existing = store.patient_account(session, patient_id=patient.id)
    if existing is not None and (existing.password_hash or existing.active is False):
        raise Conflict("the patient has an account already: send a sign-in link")
    if data.channel == "email" and not patient.email:
        raise InvalidInput("the patient has no email address: invite them by text", field="channel")
    if data.channel == "sms" and not patient.phone:
        raise InvalidInput("the patient has no phone number: invite them by email", field="channel")
    user = existing
    if user is None:
        email = patient.email.strip().lower() or f"patient-{patient.id}@{NO_EMAIL_DOMAIN}"
        if store.account_by_email(session, email=email) is not None:
            raise Conflict("another account uses the patient's email address")
        user = store.add_account(session, User(email=email, role="patient", password_hash="",
                                               display_name=patient.given_name, clinic_id=patient.clinic_id,
                                               patient_id=patient.id))
        record(session, actor, "user.invite", "User", user.id, patient.id, {"role": "patient"})
    address = patient.email if data.channel == "email" else patient.phone
    link, _ = _make(session, secret_key=secret_key, user=user, purpose="invitation", ttl="invitation",
                    target="/me", channel=data.channel, created_by=actor.user_id, now=now)
    message = _queue(session, link=link, user=user, channel=data.channel, address=address, public_url=public_url)
    record(session, actor, "access_link.invite", "AccessLink", link.id, patient.id, {"channel": data.channel})
    return LinkSent(patient_id=patient.id, purpose="invitation", channel=data.channel, expires_at=link.expires_at,
                    message_id=message.id)


def invite_account(
    session: Session, user: User, *, channel: str, address: str, language: str, created_by: int | None,
    now: datetime, secret_key: str, public_url: str,
) -> int:
    """An invitation link (7 days) for an account made on someone's behalf (a caregiver); the message's id."""
    link, _ = _make(session, secret_key=secret_key, user=user, purpose="invitation", ttl="invitation",
                    target="/", channel=channel, created_by=created_by, now=now)
    message = _queue(session, link=link, user=user, channel=channel, address=address, public_url=public_url,
                     language=language)
    return message.id


# -------------------------------------------------------------------------------------- what anyone may ask


def _looks_like_email(value: str) -> bool:
    return bool(re.fullmatch(r"[^@\s]+@[^@\s]+", value))


def _throttled(session: Session, key: str, address: str, now: datetime, policy: auth.BlockPolicy) -> None:
    throttle = auth.check_throttle(session, key, address, now)
    if not throttle.allowed:
        raise Throttled(throttle.retry_after_seconds)
    auth.note_attempt(session, key, address, False, now, policy)


@dataclass(frozen=True)
class LinkSettings:
    """What a request for a link needs from the settings."""

    secret_key: str
    public_url: str
    policy: auth.BlockPolicy


def request_link(session: Session, identifier: str, *, address: str, now: datetime, links: LinkSettings) -> None:
    """A patient asks for a sign-in link with their email or phone. Nothing tells whether the address is known:
    the answer, and the work done, are the same (the message goes only to the address on record)."""
    identifier = identifier.strip()
    secret_key, public_url = links.secret_key, links.public_url
    _throttled(session, "link:" + identifier.lower()[:240], address, now, links.policy)
    user: User | None = None
    channel = "email"
    if _looks_like_email(identifier):
        found = store.account_by_email(session, email=identifier)
        user = found if found is not None and found.role == "patient" and found.active else None
    else:
        number = normalize_phone(identifier)
        matches = [u for u, phone in store.patient_accounts_by_phone(session)
                   if number and normalize_phone(phone) == number]
        user, channel = (matches[0], "sms") if len(matches) == 1 else (None, "sms")
    if user is None or store.links_since(session, user_id=user.id, since=now - ACCOUNT_WINDOW) >= ACCOUNT_LIMIT:
        return
    try:
        address_on_record = _address(session, user, channel)
    except InvalidInput:
        return
    link, _ = _make(session, secret_key=secret_key, user=user, purpose="sign_in", ttl="sign_in", target="/me",
                    channel=channel, created_by=None, now=now)
    _queue(session, link=link, user=user, channel=channel, address=address_on_record, public_url=public_url)
    record(session, Actor(None, "anonymous", address=address), "access_link.request", "AccessLink", link.id,
           user.patient_id, {"channel": channel})


def request_password_reset(
    session: Session, email: str, *, address: str, now: datetime, links: LinkSettings
) -> None:
    """Anyone with a password asks for a reset link by email; the same answer for a known and an unknown one."""
    secret_key, public_url = links.secret_key, links.public_url
    _throttled(session, "reset:" + email.strip().lower()[:240], address, now, links.policy)
    user = store.account_by_email(session, email=email)
    if user is None or not user.active or not user.password_hash or user.email.endswith("@" + NO_EMAIL_DOMAIN):
        return
    if store.links_since(session, user_id=user.id, since=now - ACCOUNT_WINDOW) >= ACCOUNT_LIMIT:
        return
    link, _ = _make(session, secret_key=secret_key, user=user, purpose="password_reset", ttl="password_reset",
                    target="/login", channel="email", created_by=None, now=now)
    _queue(session, link=link, user=user, channel="email", address=user.email, public_url=public_url)
    record(session, Actor(None, "anonymous", address=address), "access_link.reset_request", "AccessLink", link.id,
           user.patient_id)


# ------------------------------------------------------------------------------------------- opening a link


@dataclass(frozen=True)
class LinkView:
    purpose: str
    display_name: str
    has_password: bool
    expires_at: datetime
    language: str = "en"  # the patient's: the page a link opens speaks it before anyone signs in


def _valid(session: Session, token: str, now: datetime, *, lock: bool = False) -> tuple[store.AccessLink, User]:
    if not token or len(token) > 100:
        raise LinkRefused("unknown")
    link = store.link_by_digest(session, digest=auth.digest(token), for_update=lock)
    user = store.user_by_id(session, user_id=link.user_id) if link else None
    if link is None or user is None or not user.active:
        raise LinkRefused("unknown")
    if link.used_at is not None:
        raise LinkRefused("used")
    if link.expires_at <= now:
        raise LinkRefused("expired")
    return link, user


def view_link(session: Session, token: str, *, now: datetime) -> LinkView:
    """What the link is for (the page that asks to continue); using it is :func:`use_link` (a POST, so that a
    mail client that fetches links to preview them does not use one up)."""
    link, user = _valid(session, token, now)
    return LinkView(link.purpose, user.display_name, bool(user.password_hash), link.expires_at,
                    _language(session, user))


def use_link(
    session: Session, token: str, *, now: datetime, password: str = "", address: str = ""
) -> tuple[auth.UserView, str]:
    """Use the link once: returns the account to start a session for and where to go. A reset sets the new
    password and ends every session of the account; an invitation may set a first password."""
    link, user = _valid(session, token, now, lock=True)
    if link.purpose == "password_reset" and not password:
        raise InvalidInput("type a new password", field="password")
    if password:
        user.password_hash = auth.hash_password(password)
    if link.purpose == "password_reset":
        store.end_sessions(session, user_id=user.id, now=now)
    link.used_at = now
    actor = Actor.for_user(user, address)
    record(session, actor, f"access_link.use_{link.purpose}", "AccessLink", link.id, user.patient_id,
           {"password_set": bool(password)})
    return auth.UserView.model_validate(user), ("/login" if link.purpose == "password_reset" else link.target)

