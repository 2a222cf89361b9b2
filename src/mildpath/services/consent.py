"""Consent to be contacted, per patient and channel, and opting out (issue 20).

A message about a patient goes out by email, SMS or in-app only with their consent to that channel in force
(checked again just before every try: :func:`mildpath.services.notify.consent_hold`). Consent is recorded as a
log: who agreed to which channel, when, and how (``form``: on a form, the patient's own choices on /me/messages
or a form they signed at the clinic; ``link``: the one-click opt-out link at the end of every message;
``clinician``: a clinician on the patient's word; ``sms_stop``: a STOP reply). Every change is audited.

Caregivers: the patient's grant is the consent to send a caregiver the reminders shared with them
(services/caregivers.py); the caregiver opts out of their own texts or emails by replying STOP from their phone
or with the opt-out link, logged as rows naming the grant (``caregiver_id``).

The opt-out link (``/optout/{token}``) needs no session: its token names the patient or the caregiver grant and
the channel, signed with HMAC-SHA256 under the server secret (128 bits), so it cannot be made up; opening it
shows a page that asks to confirm (a link preview does not opt anyone out), and the confirmation withdraws.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator
from sqlalchemy.orm import Session

from mildpath.domain.errors import InvalidInput, PermissionDenied
from mildpath.domain.inputs import EdgeInput
from mildpath.domain.messaging import QuietHours, is_stop_reply, normalize_phone
from mildpath.services import auth
from mildpath.services.access import Actor, get_patient_for, record
from mildpath.store import caregivers as caregivers_store
from mildpath.store import messaging as store

Channel = Literal["email", "sms", "in_app"]
How = Literal["form", "link", "clinician"]


class ConsentIn(EdgeInput):
    model_config = ConfigDict(extra="forbid", strict=True)
    channel: Channel
    granted: bool = Field(description="true: agreed to the channel; false: withdrawn")
    how: How = Field(description="form (the patient's own choice, or a form they signed), link (the opt-out "
                                 "link; also taken from a patient through the API), clinician (on the patient's word)")


class ConsentView(BaseModel):
    """One consent record, as the API shows it."""

    model_config = ConfigDict(frozen=True)
    channel: str
    granted: bool
    how: str
    recorded_by_user_id: int | None
    at: datetime


class ConsentSummary(BaseModel):
    model_config = ConfigDict(frozen=True)
    patient_id: int
    in_force: dict[str, bool] = Field(description="per channel, whether consent is in force (absent: none recorded)")
    history: list[ConsentView]


def _view(row: store.ChannelConsent) -> ConsentView:
    return ConsentView(channel=row.channel, granted=row.granted, how=row.how,
                       recorded_by_user_id=row.recorded_by_user_id, at=row.at)


def consent_summary(session: Session, actor: Actor, patient_id: int) -> ConsentSummary:
    get_patient_for(session, actor, patient_id)
    rows = store.consents(session, patient_id=patient_id)
    in_force = {row.channel: row.granted for row in rows}  # oldest first: the latest per channel wins
    return ConsentSummary(patient_id=patient_id, in_force=in_force, history=[_view(r) for r in rows])


def record_consent(session: Session, actor: Actor, patient_id: int, data: ConsentIn, *, now: datetime) -> ConsentView:
    """Record that the patient agreed to (or withdrew) a channel. Patients record their own (``how``: ``form``,
    their own choice; ``link`` is still taken from them through the API); staff of the patient's clinic record it
    on a form or on the patient's word."""
    patient = get_patient_for(session, actor, patient_id)
    if actor.role == "patient" and data.how not in ("form", "link"):
        raise PermissionDenied("a patient records their own choice with how='form'")
    if actor.role != "patient" and data.how == "link":
        raise InvalidInput("staff record consent given on a form ('form') or by the patient to them ('clinician')")
    if data.granted and data.channel == "sms" and not patient.phone:
        raise InvalidInput("the patient has no phone number: add it before recording consent to texts",
                           field="channel")
    if data.granted and data.channel == "email" and not patient.email:
        raise InvalidInput("the patient has no email address: add it before recording consent to email",
                           field="channel")
    row = store.add_consent(session, patient_id=patient_id, channel=data.channel, granted=data.granted,
                            how=data.how, user_id=actor.user_id, at=now)
    record(session, actor, "consent.grant" if data.granted else "consent.withdraw", "ChannelConsent", row.id,
           patient_id, {"channel": data.channel, "how": data.how})
    return _view(row)


class InboundReply(EdgeInput):
    """A reply the SMS gateway received and posts to ``/hooks/sms/inbound`` (contracts §10)."""

    model_config = ConfigDict(extra="ignore", strict=True, populate_by_name=True)
    sender: str = Field(alias="from", min_length=1, max_length=40)
    text: str = Field(max_length=2000)


class InboundOutcome(BaseModel):
    model_config = ConfigDict(frozen=True)
    action: Literal["opted_out", "ignored"]


def inbound_reply(session: Session, reply: InboundReply, *, now: datetime) -> InboundOutcome:
    """A STOP reply withdraws consent to texts for every patient with that phone number, and stops the texts of
    every caregiver invited with it (their reminders); other replies are not read (the texts say so: this number
    takes no messages). Audited as the gateway; the log holds no number."""
    if not is_stop_reply(reply.text):
        return InboundOutcome(action="ignored")
    number = normalize_phone(reply.sender)
    matched = [pid for pid, phone in store.patients_with_phone(session) if number and normalize_phone(phone) == number]
    gateway = Actor.system("sms-gateway")
    for pid in matched:
        row = store.add_consent(session, patient_id=pid, channel="sms", granted=False, how="sms_stop",
                                user_id=None, at=now)
        record(session, gateway, "consent.withdraw", "ChannelConsent", row.id, pid, {"channel": "sms",
                                                                                   "how": "sms_stop"})
    for grant_id, phone in caregivers_store.with_phone(session):
        grant = caregivers_store.by_id(session, grant_id=grant_id)
        if number and normalize_phone(phone) == number and grant is not None:
            _caregiver_withdraws(session, gateway, grant, "sms", "sms_stop", now)
    return InboundOutcome(action="opted_out")


def _caregiver_withdraws(
    session: Session, actor: Actor, grant: caregivers_store.CaregiverGrant, channel: str, how: str, now: datetime
) -> None:
    row = store.add_consent(session, patient_id=grant.patient_id, channel=channel, granted=False, how=how,
                            user_id=None, at=now, caregiver_id=grant.id)
    record(session, actor, "consent.caregiver_withdraw", "ChannelConsent", row.id, grant.patient_id,
           {"channel": channel, "how": how, "caregiver_id": grant.id})


def caregiver_opted_out(session: Session, *, caregiver_id: int, channel: str) -> bool:
    """Whether the caregiver withdrew their own messages on the channel (STOP, the opt-out link)."""
    row = store.caregiver_consent_in_force(session, caregiver_id=caregiver_id, channel=channel)
    return row is not None and not row.granted


# ------------------------------------------------------------------------------------ the one-click opt-out

OPTOUT_PATH = "/optout/"
_OPTOUT = re.compile(r"([pc])([1-9][0-9]{0,9})([es])\.([A-Za-z0-9_-]{22})")
_CHANNEL_LETTER = {"email": "e", "sms": "s"}


def _mac(secret_key: str, payload: str) -> str:
    digest = hmac.new(secret_key.encode(), b"opt-out:" + payload.encode(), hashlib.sha256).digest()[:16]
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def optout_token(secret_key: str, *, channel: str, patient_id: int | None = None,
                 caregiver_id: int | None = None) -> str:
    """The token of the opt-out link for a patient's (or a caregiver grant's) messages on ``channel``."""
    who = f"p{patient_id}" if caregiver_id is None else f"c{caregiver_id}"
    payload = who + _CHANNEL_LETTER[channel]
    return f"{payload}.{_mac(secret_key, payload)}"


def optout_url(public_url: str, token: str) -> str:
    return public_url.rstrip("/") + OPTOUT_PATH + token


class OptOutRefused(Exception):
    """A token that is not one of ours (made up, altered, or about someone gone): one answer for all."""


class OptOutThrottled(Exception):
    def __init__(self, retry_after: int) -> None:
        super().__init__("too many requests")
        self.retry_after = retry_after


class OptOutView(BaseModel):
    """What an opt-out link is about, for its page (no name, no clinical detail: whoever holds the phone)."""

    model_config = ConfigDict(frozen=True)
    channel: Literal["email", "sms"]
    for_caregiver: bool
    language: str
    opted_out: bool = Field(description="already withdrawn (the page then says so)")


@dataclass(frozen=True)
class _Subject:
    patient_id: int
    grant: caregivers_store.CaregiverGrant | None
    channel: Literal["email", "sms"]


def _subject(session: Session, secret_key: str, token: str) -> _Subject:
    found = _OPTOUT.fullmatch(token or "")
    if found is None:
        raise OptOutRefused()
    kind, number, letter, mac = found.groups()
    if not hmac.compare_digest(mac, _mac(secret_key, f"{kind}{number}{letter}")):
        raise OptOutRefused()
    channel: Literal["email", "sms"] = "email" if letter == "e" else "sms"
    if kind == "c":
        grant = caregivers_store.by_id(session, grant_id=int(number))
        if grant is None:
            raise OptOutRefused()
        return _Subject(grant.patient_id, grant, channel)
    patient = store.patient_contact(session, patient_id=int(number))
    if patient is None or patient.anonymised_at is not None:
        raise OptOutRefused()
    return _Subject(patient.id, None, channel)


def _throttle(session: Session, address: str, now: datetime, policy: auth.BlockPolicy, *, count: bool) -> None:
    """The link routes' throttle (contracts §7, under the key ``optout:``): checked on every call; a made-up
    token counts as a failure, and so does every confirmation (as every link request does)."""
    throttle = auth.check_throttle(session, "optout:", address, now)
    if not throttle.allowed:
        raise OptOutThrottled(throttle.retry_after_seconds)
    if count:
        auth.note_attempt(session, "optout:", address, False, now, policy)


def _opted_out(session: Session, subject: _Subject) -> bool:
    if subject.grant is not None:
        return caregiver_opted_out(session, caregiver_id=subject.grant.id, channel=subject.channel)
    row = store.consent_in_force(session, patient_id=subject.patient_id, channel=subject.channel)
    return row is not None and not row.granted


def _optout_view(session: Session, subject: _Subject) -> OptOutView:
    patient = store.patient_contact(session, patient_id=subject.patient_id)
    language = patient.preferred_language if patient is not None and patient.preferred_language in ("en", "es") \
        else "en"
    return OptOutView(channel=subject.channel, for_caregiver=subject.grant is not None, language=language,
                      opted_out=_opted_out(session, subject))


def view_optout(
    session: Session, token: str, *, secret_key: str, address: str, now: datetime, policy: auth.BlockPolicy
) -> OptOutView:
    """What the link would stop (the page asks to confirm); nothing changes."""
    _throttle(session, address, now, policy, count=False)
    try:
        subject = _subject(session, secret_key, token)
    except OptOutRefused:
        auth.note_attempt(session, "optout:", address, False, now, policy)
        raise
    return _optout_view(session, subject)


def use_optout(
    session: Session, token: str, *, secret_key: str, address: str, now: datetime, policy: auth.BlockPolicy
) -> OptOutView:
    """Confirmed: withdraw consent to the channel (the patient's, or the caregiver's own), logged with
    ``how="link"`` and audited as the link's holder; queued messages on it are cancelled by the outbox's
    re-check. Once withdrawn, a second confirmation changes nothing."""
    _throttle(session, address, now, policy, count=True)
    subject = _subject(session, secret_key, token)
    if not _opted_out(session, subject):
        holder = Actor(None, "anonymous", address=address)
        if subject.grant is not None:
            _caregiver_withdraws(session, holder, subject.grant, subject.channel, "link", now)
        else:
            row = store.add_consent(session, patient_id=subject.patient_id, channel=subject.channel, granted=False,
                                    how="link", user_id=None, at=now)
            record(session, holder, "consent.withdraw", "ChannelConsent", row.id, subject.patient_id,
                   {"channel": subject.channel, "how": "link"})
    return _optout_view(session, subject)


def optout_recipient(session: Session, *, recipient_user_id: int | None, patient_id: int | None,
                     channel: str) -> dict[str, int] | None:
    """Whose opt-out a message carries: ``{"patient_id": ...}`` for a patient's own account,
    ``{"caregiver_id": ...}`` for a caregiver's; None for staff, in-app messages and anyone else."""
    if channel not in _CHANNEL_LETTER or recipient_user_id is None:
        return None
    user = store.user_role(session, user_id=recipient_user_id)
    if user is None:
        return None
    role, own_patient = user
    if role == "patient" and own_patient is not None:
        return {"patient_id": own_patient}
    if role == "caregiver":
        grant = caregivers_store.for_recipient(session, user_id=recipient_user_id, patient_id=patient_id)
        return {"caregiver_id": grant.id} if grant is not None else None
    return None


class ContactPreferencesIn(EdgeInput):
    """What a patient chooses on /me/messages besides consent: the language of their messages and their own
    quiet hours (``HH:MM-HH:MM`` in the clinic's time zone; empty: the clinic's)."""

    model_config = ConfigDict(extra="forbid", strict=True)
    preferred_language: Literal["en", "es"]
    quiet_hours: str = Field(default="", max_length=11)

    @field_validator("quiet_hours")
    @classmethod
    def _window(cls, value: str) -> str:
        value = value.strip()
        QuietHours.parse(value)  # ValueError: not HH:MM-HH:MM
        return value


class ContactPreferences(BaseModel):
    model_config = ConfigDict(frozen=True)
    consent: ConsentSummary
    preferred_language: str
    quiet_hours: str = Field(description="the patient's own window; empty: the clinic's applies")


def contact_preferences(session: Session, actor: Actor, patient_id: int) -> ContactPreferences:
    summary = consent_summary(session, actor, patient_id)
    patient = get_patient_for(session, actor, patient_id)
    record(session, actor, "contact_preferences.read", "Patient", patient_id, patient_id)
    return ContactPreferences(consent=summary, preferred_language=patient.preferred_language,
                              quiet_hours=patient.quiet_hours or "")


def set_contact_preferences(
    session: Session, actor: Actor, patient_id: int, data: ContactPreferencesIn, *, consents: dict[Channel, bool],
    now: datetime,
) -> ContactPreferences:
    """Save the language and quiet hours, and record a consent row for each channel whose choice changed
    (``how``: ``form``, the patient's own choice on their page; services' rule above)."""
    patient = get_patient_for(session, actor, patient_id)
    in_force = consent_summary(session, actor, patient_id).in_force
    how: How = "form"
    for channel, granted in consents.items():
        if in_force.get(channel) != granted and (granted or channel in in_force):
            record_consent(session, actor, patient_id, ConsentIn(channel=channel, granted=granted, how=how), now=now)
    patient.preferred_language, patient.quiet_hours = data.preferred_language, data.quiet_hours or None
    record(session, actor, "contact_preferences.update", "Patient", patient_id, patient_id,
           {"preferred_language": data.preferred_language, "own_quiet_hours": bool(data.quiet_hours)})
    return contact_preferences(session, actor, patient_id)


def caregiver_patient(session: Session, *, caregiver_id: int) -> int | None:
    """The patient a caregiver grant is for (the language of the caregiver's messages is the patient's)."""
    grant = caregivers_store.by_id(session, grant_id=caregiver_id)
    return grant.patient_id if grant is not None else None
