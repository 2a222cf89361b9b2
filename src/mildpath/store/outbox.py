"""The outbox of notifications waiting to be sent. Keyword-only; none commits."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from mildpath.store.models import OutboxMessage


def pending(session: Session, *, limit: int) -> list[OutboxMessage]:
    """The oldest messages still waiting to be sent, at most ``limit``."""
    stmt = select(OutboxMessage).where(OutboxMessage.status == "pending").order_by(OutboxMessage.id).limit(limit)
    return list(session.scalars(stmt).all())
