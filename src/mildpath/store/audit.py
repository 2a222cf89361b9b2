"""The audit trail: one append-only row per read or change of patient data (who, when, what, how, from where)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from mildpath.store.models import AuditEvent


def add_event(
    session: Session,
    *,
    actor_user_id: int | None,
    actor_role: str,
    action: str,
    record_type: str,
    record_id: str | int | None,
    patient_id: int | None,
    address: str = "",
    detail: dict[str, Any] | None = None,
) -> AuditEvent:
    """Stage one audit row in the caller's transaction (it lands with the change or not at all)."""
    event = AuditEvent(
        actor_user_id=actor_user_id,
        actor_role=actor_role,
        action=action,
        record_type=record_type,
        record_id="" if record_id is None else str(record_id),
        patient_id=patient_id,
        address=address,
        detail=detail or {},
    )
    session.add(event)
    return event


def list_events(
    session: Session,
    *,
    patient_id: int | None = None,
    action: str | None = None,
    since: datetime | None = None,
    limit: int = 200,
    offset: int = 0,
) -> list[AuditEvent]:
    stmt = select(AuditEvent).order_by(AuditEvent.id.desc())
    if patient_id is not None:
        stmt = stmt.where(AuditEvent.patient_id == patient_id)
    if action:
        stmt = stmt.where(AuditEvent.action == action)
    if since is not None:
        stmt = stmt.where(AuditEvent.at >= since)
    return list(session.scalars(stmt.limit(limit).offset(offset)))


def iter_all(session: Session, batch: int = 1000) -> Iterator[AuditEvent]:
    """Every row, oldest first, in batches (for the admin export)."""
    last = 0
    while True:
        rows = list(
            session.scalars(select(AuditEvent).where(AuditEvent.id > last).order_by(AuditEvent.id).limit(batch))
        )
        if not rows:
            return
        yield from rows
        last = rows[-1].id
