"""Idempotent POSTs, the use case: look up and keep the first answer to (user, ``Idempotency-Key``).

The HTTP side (the header, the request's fingerprint, the replayed response) is :mod:`mildpath.web.idempotency`;
the table is :mod:`mildpath.store.idempotency`. What crosses this boundary is :class:`StoredAnswer`, never a row.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict
from sqlalchemy.orm import Session

from mildpath.domain.errors import Conflict
from mildpath.store import idempotency as store

RETRY_AFTER_SECONDS = 1


class InFlight(Conflict):
    """Another request with the same key is being processed: 409, try again after ``retry_after`` seconds."""

    def __init__(self) -> None:
        super().__init__("a request with this Idempotency-Key is still being processed; retry later")
        self.retry_after = RETRY_AFTER_SECONDS


class StoredAnswer(BaseModel):
    """The first answer given to a request with this key: what it was for, and what it said."""

    model_config = ConfigDict(frozen=True)

    method: str
    path: str
    fingerprint: str  # empty for answers stored before it was kept
    status_code: int
    body: str  # the JSON text of the answer


def hold(session: Session, user_id: int, key: str) -> None:
    """Hold (user, key) for this transaction; raise :class:`InFlight` if another request holds it."""
    if not store.try_lock(session, user_id=user_id, key=key):
        raise InFlight()


def stored_answer(session: Session, user_id: int, key: str) -> StoredAnswer | None:
    """Hold (user, key), then the answer stored for it; None when the key is new."""
    hold(session, user_id, key)
    row = store.get_or_none(session, user_id=user_id, key=key)
    if row is None:
        return None
    return StoredAnswer(
        method=row.method, path=row.path, fingerprint=row.fingerprint, status_code=row.status_code, body=row.body
    )


def keep_answer(session: Session, user_id: int, key: str, answer: StoredAnswer) -> None:
    """Store the answer with the change it reports (same transaction; nothing is committed here)."""
    hold(session, user_id, key)  # re-entrant: already held when stored_answer() ran first
    store.add(session, user_id=user_id, key=key, **answer.model_dump())
