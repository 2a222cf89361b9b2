"""Consent to be contacted, per patient and channel, and opting out (issue 20).

A message about a patient goes out by email or SMS only with their consent to that channel in force (checked
again just before every try: :func:`mildpath.services.notify.consent_hold`). Consent is recorded as a log: who
agreed to which channel, when, and how (``form``: on a form the patient signed; ``link``: the patient through a
link or their own pages; ``clinician``: a clinician on the patient's word; ``sms_stop``: a STOP reply). Every
change is audited.
"""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator
from sqlalchemy.orm import Session

from mildpath.domain.errors import InvalidInput, PermissionDenied
from mildpath.domain.inputs import EdgeInput
from mildpath.domain.messaging import QuietHours, is_stop_reply, normalize_phone
from mildpath.services.access import Actor, get_patient_for, record
from mildpath.store import messaging as store

Channel = Literal["email", "sms"]
How = Literal["form", "link", "clinician"]


class ConsentIn(EdgeInput):
    model_config = ConfigDict(extra="forbid", strict=True)
    channel: Channel
    granted: bool = Field(description="true: agreed to the channel; false: withdrawn")
    how: How = Field(description="form (signed), link (the patient themself), clinician (on the patient's word)")


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
    """Record that the patient agreed to (or withdrew) a channel. Patients record their own (``how`` is then
    ``link``); staff of the patient's clinic record it on a form or on the patient's word."""
    patient = get_patient_for(session, actor, patient_id)
    if actor.role == "patient" and data.how != "link":
        raise PermissionDenied("a patient records their own choice with how='link'")
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
    """A STOP reply withdraws consent to texts for every patient with that phone number; other replies are
    not read (the texts say so: this number takes no messages). Audited as the gateway; the log holds no number."""
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
    return InboundOutcome(action="opted_out")


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
    (``how``: ``link`` for the patient themself, services' rule above)."""
    patient = get_patient_for(session, actor, patient_id)
    in_force = consent_summary(session, actor, patient_id).in_force
    how: How = "link" if actor.role == "patient" else "form"
    for channel, granted in consents.items():
        if in_force.get(channel) != granted and (granted or channel in in_force):
            record_consent(session, actor, patient_id, ConsentIn(channel=channel, granted=granted, how=how), now=now)
    patient.preferred_language, patient.quiet_hours = data.preferred_language, data.quiet_hours or None
    record(session, actor, "contact_preferences.update", "Patient", patient_id, patient_id,
           {"preferred_language": data.preferred_language, "own_quiet_hours": bool(data.quiet_hours)})
    return contact_preferences(session, actor, patient_id)
