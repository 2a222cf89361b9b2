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

from sqlalchemy import select
from sqlalchemy.orm import Session

from mildpath.services.clock import now
from mildpath.settings import Settings
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
        # Stable per outbox row: a message resent after a crash between sending and recording it (see
        # deliver_pending) carries the same Message-ID, so the receiving side can drop the copy.
        email["Message-ID"] = message_id(message, self.sender)
        email.set_content(message.body)
        with smtplib.SMTP(self.host, self.port, timeout=20) as smtp:
            smtp.send_message(email)


def message_id(message: OutboxMessage, sender: str) -> str:
    return f"<outbox-{message.id}@{sender.rpartition('@')[2] or 'localhost'}>"


def sender_for(settings: Settings) -> Sender:
    return SmtpSender(settings.smtp_host, settings.smtp_port, settings.smtp_from) if settings.smtp_host else LogSender()


def queue(
    session: Session, *, kind: str, subject: str, body: str, recipient_user_id: int | None = None,
    recipient_address: str = "",
) -> OutboxMessage:
    """Stage a message in the caller's transaction."""
    message = OutboxMessage(kind=kind, subject=subject, body=body, recipient_user_id=recipient_user_id,
                            recipient_address=recipient_address)
    session.add(message)
    return message


def deliver_pending(session: Session, sender: Sender, *, limit: int = 100) -> tuple[int, int]:
    """Send what is waiting; returns (sent, failed). A message that fails MAX_ATTEMPTS times is marked failed.

    Each message's outcome is committed as soon as it is known (issue 21): a process killed mid-batch has
    recorded every message it sent but the one in flight, which the next run sends again with the same
    ``Message-ID``; nothing is lost and at most that one message is sent twice.
    """
    sent = failed = 0
    rows = session.scalars(
        select(OutboxMessage).where(OutboxMessage.status == "pending").order_by(OutboxMessage.id).limit(limit)
    ).all()
    for message in rows:
        try:
            sender.send(message)
        except (OSError, ValueError, smtplib.SMTPException) as exc:
            message.attempts += 1
            if message.attempts >= MAX_ATTEMPTS:
                message.status = "failed"
            log.warning("notification #%s not sent (%s)", message.id, type(exc).__name__)
            failed += 1
        else:
            message.status = "sent"
            message.sent_at = now()
            sent += 1
        session.commit()
    return sent, failed
