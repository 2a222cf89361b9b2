"""Reading and exporting the audit trail (admins only; reading it is itself audited)."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from datetime import datetime

from sqlalchemy.orm import Session

from mildpath.services.access import Actor, record, require_role
from mildpath.services.read_models import ReadModel
from mildpath.store import audit

COLUMNS = ("id", "at", "actor_user_id", "actor_role", "action", "record_type", "record_id", "patient_id", "address")


class AuditEventPublic(ReadModel):
    """One audit row as the admin's log page and ``GET /api/v1/audit`` show it (its detail stays in the trail)."""

    id: int
    at: datetime
    actor_user_id: int | None
    actor_role: str
    action: str
    record_type: str
    record_id: str
    patient_id: int | None
    address: str


def list_events(
    session: Session,
    actor: Actor,
    *,
    patient_id: int | None = None,
    action: str | None = None,
    limit: int = 200,
    offset: int = 0,
) -> list[AuditEventPublic]:
    require_role(actor, "admin")
    rows = audit.list_events(session, patient_id=patient_id, action=action or None, limit=limit, offset=offset)
    record(session, actor, "audit.read", "AuditEvent", None, patient_id)
    return [AuditEventPublic.model_validate(r) for r in rows]


def export_csv(session: Session, actor: Actor) -> Iterator[str]:
    """The whole trail as CSV, oldest first, streamed in chunks."""
    require_role(actor, "admin")
    record(session, actor, "audit.export", "AuditEvent", None, None)
    buf = io.StringIO()
    writer = csv.writer(buf)
    writer.writerow(COLUMNS)
    for event in audit.iter_all(session):
        writer.writerow([_cell(getattr(event, c)) for c in COLUMNS])
        if buf.tell() > 64 * 1024:
            yield buf.getvalue()
            buf.seek(0)
            buf.truncate()
    yield buf.getvalue()


def _cell(value: object) -> str:
    if value is None:
        return ""
    text = value.isoformat() if hasattr(value, "isoformat") else str(value)
    # Neutralise spreadsheet formulas (CSV injection).
    return "'" + text if text[:1] in ("=", "+", "-", "@") else text
