"""``Idempotency-Key`` for POSTs: a client that retries after a timeout or a crash never creates duplicates.

The first answer to (user, key) is stored in the SAME transaction as the change it reports, so either both land
or neither does: a retry after a crash mid-request does the work once, a retry after success replays the
stored answer. Keys are kept per user.

Following the IETF draft (draft-ietf-httpapi-idempotency-key-header):

- the request's fingerprint is the SHA-256 of its method, path and body bytes; a key reused with another
  fingerprint is refused with 422 (the key was used for another request);
- while the first request with a key is still in flight, another one with the same key answers 409 with
  ``Retry-After``; once the first has committed, it gets the stored answer.

How the race is closed, for any number of worker processes: on PostgreSQL the request takes a transaction-level
advisory lock on (user, key) (``pg_try_advisory_xact_lock``) before it looks the key up; a second request
that cannot take it is in flight at the same time (409); one that takes it after the first committed sees the
stored answer. The lock ends with the transaction, a crashed worker's with its connection. On SQLite every
request transaction already holds the database's write lock from its start (``BEGIN IMMEDIATE``,
store/db.py), so requests with the same key run one after the other and the second finds the first's answer.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

from fastapi import Request
from fastapi.encoders import jsonable_encoder
from fastapi.responses import JSONResponse
from sqlalchemy import select, text
from sqlalchemy.orm import Session

from mildpath.domain.errors import Conflict, InvalidInput
from mildpath.services.access import Actor
from mildpath.store.models import IdempotencyKey

HEADER = "idempotency-key"
MAX_KEY = 200
RETRY_AFTER_SECONDS = 1


class InFlight(Conflict):
    """Another request with the same key is being processed: 409, try again after ``retry_after`` seconds."""

    def __init__(self) -> None:
        super().__init__("a request with this Idempotency-Key is still being processed; retry later")
        self.retry_after = RETRY_AFTER_SECONDS


def _key(request: Request) -> str | None:
    key = request.headers.get(HEADER)
    if key is None:
        return None
    key = key.strip()
    if not key or len(key) > MAX_KEY or not key.isprintable():
        raise InvalidInput(f"Idempotency-Key must be 1 to {MAX_KEY} printable characters", field="Idempotency-Key")
    return key


def fingerprint(request: Request) -> str:
    """SHA-256 of method, path and body bytes (the body FastAPI read for the handler, or that it read itself)."""
    body = getattr(request, "_body", b"")  # Starlette keeps the body it read; a handler without body reads none
    h = hashlib.sha256()
    for part in (request.method.encode(), request.url.path.encode(), body if isinstance(body, bytes) else b""):
        h.update(len(part).to_bytes(8, "big"))
        h.update(part)
    return h.hexdigest()


def _lock(session: Session, user_id: int, key: str) -> None:
    """Hold (user, key) for this transaction on PostgreSQL; raise :class:`InFlight` if another holds it."""
    if session.get_bind().dialect.name != "postgresql":
        return
    number = int.from_bytes(hashlib.sha256(f"{user_id}\n{key}".encode()).digest()[:8], "big", signed=True)
    if not session.scalar(text("SELECT pg_try_advisory_xact_lock(:n)"), {"n": number}):
        raise InFlight()


def replay(request: Request, session: Session, actor: Actor) -> JSONResponse | None:
    """The stored answer when this (user, key) was seen before; None when the request is new.

    422 when the key was used for a request with another method, path or body; 409 (``InFlight``) while a
    request with the same key is still being processed."""
    key = _key(request)
    if key is None or actor.user_id is None:
        return None
    _lock(session, actor.user_id, key)
    row = session.scalar(select(IdempotencyKey).where(IdempotencyKey.user_id == actor.user_id,
                                                      IdempotencyKey.key == key))
    if row is None:
        return None
    same = row.path == request.url.path and row.method == request.method
    if not same or (row.fingerprint and row.fingerprint != fingerprint(request)):
        raise InvalidInput("this Idempotency-Key was used for another request", field="Idempotency-Key")
    return JSONResponse(json.loads(row.body), status_code=row.status_code, headers={"Idempotent-Replayed": "true"})


def remember(request: Request, session: Session, actor: Actor, status_code: int, payload: Any) -> None:
    """Store the answer with the change (call just before returning it)."""
    key = _key(request)
    if key is None or actor.user_id is None:
        return
    _lock(session, actor.user_id, key)  # re-entrant: already held when replay() ran first
    try:  # the usual payload is already plain JSON (model_dump(mode="json")): skip the slow generic encoder
        body = json.dumps(payload)
    except TypeError:
        body = json.dumps(jsonable_encoder(payload))
    session.add(IdempotencyKey(user_id=actor.user_id, key=key, method=request.method, path=request.url.path,
                               fingerprint=fingerprint(request), status_code=status_code, body=body))
    session.flush()
