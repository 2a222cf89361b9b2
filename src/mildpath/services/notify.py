"""Notifications: one outbox table in the database, channels behind one interface (email, SMS, in-app).

A message is queued in the same transaction as the change that caused it, so nothing is sent for a change
that rolled back and nothing is lost for one that landed. Message texts carry no clinical details: only that
there is something to look at in mildpath (issue 4's reminders, issue 6's flags), and a link.

Delivery (issue 20): each message is tried in a transaction of its own (:func:`deliver_outbox`), so a message the
channel accepted is marked ``sent`` at once and never tried again. A failed try is kept with its reason and
tried again later (``retrying``, waits of 1, 2, 4 ... minutes, :func:`mildpath.domain.messaging.retry_delay`);
after :data:`~mildpath.domain.messaging.MAX_ATTEMPTS` tries, or when the channel refuses it for good, it is
``failed`` (given up), never deleted. Every try of one message over SMS carries the same ``Idempotency-Key`` (its
id), so a gateway that drops duplicates delivers it exactly once even when an answer was lost on the way.

Just before each try, the message is re-checked: a message about a patient goes out only on a channel with
their consent in force, in-app included (store/messaging.py; a caregiver's, until they opt out), a reminder
waits out the quiet hours (the clinic's time zone), and
the caller's per-kind checks (a questionnaire already completed, a procedure moved or cancelled) may cancel it.
"""

from __future__ import annotations

import json
import logging
import smtplib
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from email.message import EmailMessage
from pathlib import Path
from typing import Protocol
from zoneinfo import ZoneInfo

import httpx
from sqlalchemy.orm import Session, sessionmaker

from mildpath.domain.messaging import MAX_ATTEMPTS, QuietHours, render_sms_body, retry_delay
from mildpath.services.clock import now as clock_now
from mildpath.settings import Settings
from mildpath.store import access_links as links_store
from mildpath.store import caregivers as caregivers_store
from mildpath.store import messaging as store
from mildpath.store.models import OutboxMessage

log = logging.getLogger("mildpath.notify")
CHANNELS = ("email", "sms", "in_app")
QUIET_KINDS = frozenset({"prom_reminder", "prom_reminder_caregiver"})
#: messages to a caregiver about a patient: the consent on record is the patient's grant to that caregiver
#: (services/caregivers.py; re-checked by the kind's own re-check), not the patient's consent to a channel
GRANT_CONSENT_KINDS = frozenset({"prom_reminder_caregiver"})
"""Kinds that wait out the quiet hours; alerts to staff (escalations) are never held back."""


class DeliveryError(Exception):
    """A try that did not deliver. ``retryable``: try again later; otherwise give the message up now."""

    def __init__(self, reason: str, *, retryable: bool = True, retry_after: timedelta | None = None) -> None:
        super().__init__(reason)
        self.reason, self.retryable, self.retry_after = reason, retryable, retry_after


@dataclass(frozen=True)
class Outgoing:
    """What a channel sends: the message as queued, with its text filled in just before the try (a sign-in
    link's token is derived then, never stored: services/access_links.py)."""

    id: int
    kind: str
    channel: str
    recipient_user_id: int | None
    recipient_address: str
    subject: str
    body: str


class Sender(Protocol):
    def send(self, message: Outgoing) -> None: ...


class LogSender:
    """Development: writes that a message would go out (kind and id only: the log carries no health data)."""

    def send(self, message: Outgoing) -> None:
        log.info("notification %s #%s ready for user %s", message.kind, message.id, message.recipient_user_id)


class SmtpSender:
    def __init__(self, host: str, port: int, sender: str) -> None:
        self.host, self.port, self.sender = host, port, sender

    def send(self, message: Outgoing) -> None:
        if not message.recipient_address:
            raise DeliveryError("no email address", retryable=False)
        email = EmailMessage()
        email["From"] = self.sender
        email["To"] = message.recipient_address
        email["Subject"] = message.subject
        # Stable per outbox row: a message resent after a crash between sending and recording it (see
        # deliver_pending) carries the same Message-ID, so the receiving side can drop the copy.
        email["Message-ID"] = message_id(message, self.sender)
        email.set_content(message.body)
        try:
            with smtplib.SMTP(self.host, self.port, timeout=20) as smtp:
                smtp.send_message(email)
        except smtplib.SMTPRecipientsRefused:
            raise DeliveryError("the mail server refused the address", retryable=False) from None
        except (OSError, smtplib.SMTPException) as exc:
            raise DeliveryError(f"mail server: {type(exc).__name__}") from None


class SmsGateway:
    """A generic HTTP SMS gateway (contracts §10): POST the body template, with the configured header line and
    ``Idempotency-Key: <message id>``. 2xx: accepted. 408, 425, 429, 5xx, a timeout or a broken connection: try
    again (the gateway may have taken it: the same key makes the retry harmless). Any other 4xx: given up."""

    def __init__(
        self, url: str, *, sender: str, template: str, auth_header: str = "", timeout: float = 15.0,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        self.url, self.sender, self.template = url, sender, template
        self.headers = {"Content-Type": "application/json"}
        if auth_header:
            name, _, value = auth_header.partition(":")
            self.headers[name.strip()] = value.strip()
        self.client = httpx.Client(timeout=timeout, transport=transport, follow_redirects=False)

    def send(self, message: Outgoing) -> None:
        if not message.recipient_address:
            raise DeliveryError("no phone number", retryable=False)
        body = render_sms_body(self.template, to=message.recipient_address, sender=self.sender, text=message.body)
        headers = {**self.headers, "Idempotency-Key": str(message.id)}
        try:
            answer = self.client.post(self.url, content=body.encode(), headers=headers)
        except httpx.TimeoutException:
            raise DeliveryError("SMS gateway: no answer in time") from None
        except httpx.HTTPError as exc:
            raise DeliveryError(f"SMS gateway: {type(exc).__name__}") from None
        if answer.is_success:
            return
        reason = f"SMS gateway answered HTTP {answer.status_code}"
        if answer.status_code in (408, 425, 429) or answer.status_code >= 500:
            raise DeliveryError(reason, retry_after=_retry_after(answer.headers.get("retry-after", "")))
        raise DeliveryError(reason, retryable=False)


def _retry_after(value: str) -> timedelta | None:
    return timedelta(seconds=min(int(value), 86_400)) if value.strip().isdigit() else None


class SmsFileSink:
    """Development and tests without a gateway: each text becomes one JSON line of ``sms-outbox.ndjson``."""

    def __init__(self, path: Path, *, sender: str) -> None:
        self.path, self.sender = path, sender

    def send(self, message: Outgoing) -> None:
        if not message.recipient_address:
            raise DeliveryError("no phone number", retryable=False)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        line = {"idempotency_key": str(message.id), "to": message.recipient_address, "from": self.sender,
                "text": message.body}
        with self.path.open("a", encoding="utf-8") as sink:
            sink.write(json.dumps(line, ensure_ascii=False) + "\n")


class InAppSender:
    """In-app messages need no transport: stored in the outbox, they are shown on the patient's pages."""

    def send(self, message: Outgoing) -> None:
        return None


def message_id(message: Outgoing, sender: str) -> str:
    return f"<outbox-{message.id}@{sender.rpartition('@')[2] or 'localhost'}>"


def sender_for(settings: Settings) -> Sender:
    """The email channel: SMTP when configured, the log otherwise."""
    return SmtpSender(settings.smtp_host, settings.smtp_port, settings.smtp_from) if settings.smtp_host else LogSender()


def channels_for(settings: Settings) -> dict[str, Sender]:
    sms: Sender = (
        SmsGateway(settings.sms_url, sender=settings.sms_from, template=settings.sms_body_template,
                   auth_header=settings.sms_auth_header)
        if settings.sms_url
        else SmsFileSink(Path(settings.data_dir) / "sms-outbox.ndjson", sender=settings.sms_from)
    )
    return {"email": sender_for(settings), "sms": sms, "in_app": InAppSender()}


def queue(
    session: Session, *, kind: str, subject: str, body: str, recipient_user_id: int | None = None,
    recipient_address: str = "", channel: str = "email", patient_id: int | None = None,
) -> OutboxMessage:
    """Stage a message in the caller's transaction. ``patient_id``: the patient it is for (consent is checked
    for that patient before every try)."""
    if channel not in CHANNELS:
        raise ValueError(f"unknown channel {channel!r}")
    message = OutboxMessage(kind=kind, subject=subject, body=body, recipient_user_id=recipient_user_id,
                            recipient_address=recipient_address, channel=channel, patient_id=patient_id)
    session.add(message)
    return message


@dataclass(frozen=True)
class Hold:
    """What a re-check decided: ``cancel`` (with the reason) or wait ``until`` a time; neither: send now."""

    cancel: str = ""
    until: datetime | None = None


Recheck = Callable[[Session, OutboxMessage, datetime], Hold | None]
Render = Callable[[Session, OutboxMessage], str]
"""Fills in a message's text just before a try (``{access_link}``: services/access_links.py)."""


@dataclass(frozen=True)
class DeliveryCounts:
    sent: int = 0
    failed: int = 0
    retrying: int = 0
    cancelled: int = 0
    waiting: int = 0

    def __add__(self, other: DeliveryCounts) -> DeliveryCounts:
        return DeliveryCounts(*(a + b for a, b in zip(self.as_tuple(), other.as_tuple(), strict=True)))

    def as_tuple(self) -> tuple[int, int, int, int, int]:
        return (self.sent, self.failed, self.retrying, self.cancelled, self.waiting)


def consent_hold(session: Session, message: OutboxMessage, at: datetime) -> Hold | None:
    """A message about a patient goes out by email, SMS or in-app only with that patient's consent to the channel
    in force (withdrawn by a STOP reply, the opt-out link, their own page or the clinic). The one exception: an
    email to the address of the patient's own portal account (given for that account's messages) goes out
    until consent to email is withdrawn. A message to a caregiver goes out on the patient's grant (re-checked by
    the kind's own re-check) until the caregiver opts out of that channel (a STOP, the opt-out link); the
    reminders shared with a caregiver go out only once they accepted the invitation (opened it, or set a
    password): until then they have agreed to nothing."""
    if message.recipient_user_id is not None and message.channel != "in_app":
        grant = caregivers_store.for_recipient(session, user_id=message.recipient_user_id,
                                               patient_id=message.patient_id)
        if grant is not None:  # only caregiver accounts hold grants
            if message.kind in GRANT_CONSENT_KINDS and not links_store.taken_up(session,
                                                                                user_id=message.recipient_user_id):
                return Hold(cancel="the caregiver has not accepted the invitation yet")
            own = store.caregiver_consent_in_force(session, caregiver_id=grant.id, channel=message.channel)
            if own is not None and not own.granted:
                return Hold(cancel=f"the caregiver opted out of {message.channel}")
            return None
    if message.patient_id is None or message.kind in GRANT_CONSENT_KINDS:
        return None
    consent = store.consent_in_force(session, patient_id=message.patient_id, channel=message.channel)
    if consent is None and message.channel == "email" and message.recipient_user_id is not None:
        return None  # the address of the patient's own account, given for its messages, until withdrawn
    if consent is None:
        return Hold(cancel=f"no consent on record for {message.channel}")
    if not consent.granted:
        return Hold(cancel=f"the patient withdrew consent to {message.channel}")
    return None


def quiet_hours_hold(settings: Settings) -> Recheck:
    """Reminders wait out the quiet hours: the patient's own (set on /me/messages) when they chose some, the
    clinic's (``MILDPATH_QUIET_HOURS``) otherwise; in the clinic's time zone."""
    clinic_window = QuietHours.parse(settings.quiet_hours)

    def check(session: Session, message: OutboxMessage, at: datetime) -> Hold | None:
        if message.kind not in QUIET_KINDS or message.patient_id is None:
            return None
        patient = store.patient_contact(session, patient_id=message.patient_id)
        own = patient.quiet_hours if patient is not None else None
        window = QuietHours.parse(own) if own else clinic_window
        if window is None:
            return None
        clinic = store.clinic_of(session, patient_id=message.patient_id)
        zone = ZoneInfo(getattr(clinic, "timezone", "") or settings.timezone)
        local = at.astimezone(zone)
        resume = window.end_after(local)
        return None if resume == local else Hold(until=resume)

    return check


def _try(
    session: Session, message: OutboxMessage, channels: Mapping[str, Sender] | Sender, rechecks: list[Recheck],
    at: datetime, render: Render | None = None,
) -> DeliveryCounts:
    for recheck in rechecks:
        hold = recheck(session, message, at)
        if hold is None:
            continue
        if hold.cancel:
            message.status, message.last_error = "cancelled", hold.cancel[:200]
            log.info("notification #%s cancelled before sending", message.id)
            return DeliveryCounts(cancelled=1)
        message.next_attempt_at = hold.until
        return DeliveryCounts(waiting=1)
    sender = channels.get(message.channel) if isinstance(channels, Mapping) else channels
    try:
        if sender is None:
            raise DeliveryError(f"no {message.channel} channel configured", retryable=False)
        body = render(session, message) if render else message.body
        sender.send(Outgoing(message.id, message.kind, message.channel, message.recipient_user_id,
                             message.recipient_address, message.subject, body))
    except DeliveryError as exc:
        return _failed(message, exc, at)
    message.status, message.sent_at, message.last_error = "sent", at, ""
    message.attempts += 1
    return DeliveryCounts(sent=1)


def _failed(message: OutboxMessage, exc: DeliveryError, at: datetime) -> DeliveryCounts:
    message.attempts += 1
    message.last_error = exc.reason[:200]
    log.warning("notification #%s not sent (try %s): %s", message.id, message.attempts, exc.reason)
    if not exc.retryable or message.attempts >= MAX_ATTEMPTS:
        message.status, message.next_attempt_at = "failed", None
        return DeliveryCounts(failed=1)
    message.status = "retrying"
    message.next_attempt_at = at + max(retry_delay(message.attempts), exc.retry_after or timedelta(0))
    return DeliveryCounts(retrying=1)


def deliver_pending(
    session: Session, channels: Mapping[str, Sender] | Sender, *, limit: int = 100, now: datetime | None = None,
    rechecks: list[Recheck] | None = None, render: Render | None = None,
) -> DeliveryCounts:
    """Try what is due, in the caller's transaction (tests, small jobs). ``channels``: one sender per channel,
    or one sender for all. :func:`deliver_outbox` is the production path (a transaction per message)."""
    at = now or clock_now()
    checks = [consent_hold, *(rechecks or [])]
    total = DeliveryCounts()
    for message_id in store.due_messages(session, now=at, limit=limit):
        message = store.message_for_update(session, message_id=message_id)
        if message is not None:
            total += _try(session, message, channels, checks, at, render)
    return total


def deliver_outbox(
    factory: sessionmaker[Session], channels: Mapping[str, Sender] | Sender, *, limit: int = 1000,
    now: datetime | None = None, rechecks: list[Recheck] | None = None, render: Render | None = None,
) -> DeliveryCounts:
    """Try what is due, each message in a transaction of its own: once a channel accepted a message, its
    ``sent`` mark is committed before the next one is tried, so a crash later never sends it again."""
    at = now or clock_now()
    checks = [consent_hold, *(rechecks or [])]
    with factory() as session:
        ids = list(store.due_messages(session, now=at, limit=limit))
    total = DeliveryCounts()
    for message_id in ids:
        with factory() as session, session.begin():
            message = store.message_for_update(session, message_id=message_id)
            if message is not None:
                total += _try(session, message, channels, checks, at, render)
    return total
