"""Fixtures for the recovery web suite: diary payloads by level and a helper to read the newest rows.

The test world holds the demo clinic, whose recovery seeder already filed diaries and flags; tests therefore
compare counts before and after, or look for the rows they made, never for an empty worklist.
"""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from mildpath.store.models import AuditEvent, OutboxMessage

# One vignette per level; the rules in content/triage.yaml decide the level, these only reach it.
EMERGENCY: dict[str, Any] = {"pain_back": 4, "saddle_numbness": True}
SAME_DAY: dict[str, Any] = {"pain_back": 3, "temperature_c": 38.3}
REVIEW: dict[str, Any] = {"days_since_procedure": 20, "pain_back": 7, "pain_compared_with_before": "worse"}
EXPECTED: dict[str, Any] = {"days_since_procedure": 2, "pain_back": 3, "incision": ["fine"]}

# Words a notification must never carry (issue 6: no clinical details in the message text).
CLINICAL_WORDS = (
    "numb",
    "weak",
    "fever",
    "temperature",
    "bladder",
    "bowel",
    "wound",
    "incision",
    "headache",
    "saddle",
    "pain",
    "emergency",
    "cauda",
    "infection",
    "same day",
    "review",
    "drainage",
)


@pytest.fixture
def outbox_ids(db: Session) -> set[int]:
    """The outbox messages that existed before the test did anything."""
    return set(db.scalars(select(OutboxMessage.id)))


def new_messages(db: Session, before: set[int]) -> list[OutboxMessage]:
    return [m for m in db.scalars(select(OutboxMessage).order_by(OutboxMessage.id)) if m.id not in before]


def last_audit(db: Session, action: str) -> AuditEvent | None:
    return db.scalars(select(AuditEvent).where(AuditEvent.action == action).order_by(AuditEvent.id.desc())).first()
