"""Notifications: an outbox table in the database and a pluggable sender (SMTP when configured, log otherwise).

A message is queued in the same transaction as the change that caused it, so nothing is sent for a change
that rolled back and nothing is lost for one that landed. Message texts carry no clinical details: only that
there is something to look at in mildpath (issue 4's reminders, issue 6's flags).
"""

from __future__ import annotations

import logging
import smtplib
from email.message import EmailMessage
from typing import Protocol

from sqlalchemy.orm import Session

from mildpath.services.clock import now
from mildpath.settings import Settings
from mildpath.store import outbox
from mildpath.store.models import OutboxMessage

log = logging.getLogger("mildpath.notify")
MAX_ATTEMPTS = 5


class Sender(Protocol):
    def send(self, message: OutboxMessage) -> None: ...


class LogSender:
    """Development: writes that a message would go out (kind and id only: the log carries no health data)."""

    def send(self, message: OutboxMessage) -> None:
        log.info("notification %s #%s ready for user %s", message.kind, message.id, message.recipient_user_id)


class SmtpSender:
    def __init__(self, host: str, port: int, sender: str) -> None:
        self.host, self.port, self.sender = host, port, sender

    def send(self, message: OutboxMessage) -> None:
        if not message.recipient_address:
            raise ValueError("no recipient address")
        email = EmailMessage()
        email["From"] = self.sender
        email["To"] = message.recipient_address
        email["Subject"] = message.subject
        email.set_content(message.body)
        with smtplib.SMTP(self.host, self.port, timeout=20) as smtp:
            smtp.send_message(email)


def sender_for(settings: Settings) -> Sender:
    return SmtpSender(settings.smtp_host, settings.smtp_port, settings.smtp_from) if settings.smtp_host else LogSender()


def queue(
    session: Session,
    *,
    kind: str,
    subject: str,
    body: str,
    recipient_user_id: int | None = None,
    recipient_address: str = "",
) -> OutboxMessage:
    """Stage a message in the caller's transaction."""
    message = OutboxMessage(
        kind=kind, subject=subject, body=body, recipient_user_id=recipient_user_id, recipient_address=recipient_address
    )
    session.add(message)
    return message


def deliver_pending(session: Session, sender: Sender, *, limit: int = 100) -> tuple[int, int]:
    """Send what is waiting; returns (sent, failed). A message that fails MAX_ATTEMPTS times is marked failed."""
    sent = failed = 0
    rows = outbox.pending(session, limit=limit)
    for message in rows:
        try:
            sender.send(message)
        except (OSError, ValueError, smtplib.SMTPException) as exc:
            message.attempts += 1
            if message.attempts >= MAX_ATTEMPTS:
                message.status = "failed"
            log.warning("notification #%s not sent (%s)", message.id, type(exc).__name__)
            failed += 1
            continue
        message.status = "sent"
        message.sent_at = now()
        sent += 1
    return sent, failed
