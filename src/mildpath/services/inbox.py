"""The patient's in-app messages (issue 20): what the outbox delivered on the ``in_app`` channel, shown on
``/me/inbox``, newest first; the patient marks them read. Only the patient's own; every read is audited."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict
from sqlalchemy.orm import Session

from mildpath.domain.errors import NotFound
from mildpath.services.access import Actor, get_patient_for, record
from mildpath.store import messaging as store
from mildpath.store.models import OutboxMessage


class InboxMessage(BaseModel):
    model_config = ConfigDict(frozen=True)
    id: int
    subject: str
    body: str
    sent_at: datetime | None
    read_at: datetime | None


def _view(row: OutboxMessage) -> InboxMessage:
    return InboxMessage(id=row.id, subject=row.subject, body=row.body, sent_at=row.sent_at, read_at=row.read_at)


def list_inbox(session: Session, actor: Actor, patient_id: int) -> list[InboxMessage]:
    get_patient_for(session, actor, patient_id)
    rows = store.inbox(session, patient_id=patient_id)
    record(session, actor, "inbox.read", "Patient", patient_id, patient_id, {"messages": len(rows)})
    return [_view(r) for r in rows]


def mark_read(session: Session, actor: Actor, patient_id: int, message_id: int, *, now: datetime) -> InboxMessage:
    get_patient_for(session, actor, patient_id)
    row = store.inbox_message(session, patient_id=patient_id, message_id=message_id)
    if row is None:
        raise NotFound("no such message")
    if row.read_at is None:
        row.read_at = now
        record(session, actor, "inbox.mark_read", "OutboxMessage", row.id, patient_id)
    return _view(row)
