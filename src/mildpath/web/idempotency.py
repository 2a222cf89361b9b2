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
from collections.abc import Callable
from typing import Any, TypeVar

from fastapi import Request
from fastapi.encoders import jsonable_encoder
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from sqlalchemy.orm import Session

from mildpath.domain.errors import InvalidInput
from mildpath.services import idempotency as svc
from mildpath.services.access import Actor
from mildpath.services.idempotency import RETRY_AFTER_SECONDS, InFlight

__all__ = ["HEADER", "MAX_KEY", "RETRY_AFTER_SECONDS", "InFlight", "created", "fingerprint", "remember", "replay"]

M = TypeVar("M", bound=BaseModel)

HEADER = "idempotency-key"
MAX_KEY = 200


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


def replay(request: Request, session: Session, actor: Actor) -> JSONResponse | None:
    """The stored answer when this (user, key) was seen before; None when the request is new.

    422 when the key was used for a request with another method, path or body; 409 (``InFlight``) while a
    request with the same key is still being processed."""
    key = _key(request)
    if key is None or actor.user_id is None:
        return None
    stored = svc.stored_answer(session, actor.user_id, key)
    if stored is None:
        return None
    same = stored.path == request.url.path and stored.method == request.method
    if not same or (stored.fingerprint and stored.fingerprint != fingerprint(request)):
        raise InvalidInput("this Idempotency-Key was used for another request", field="Idempotency-Key")
    return JSONResponse(
        json.loads(stored.body), status_code=stored.status_code, headers={"Idempotent-Replayed": "true"}
    )


def remember(request: Request, session: Session, actor: Actor, status_code: int, payload: Any) -> None:
    """Store the answer with the change (call just before returning it)."""
    key = _key(request)
    if key is None or actor.user_id is None:
        return
    try:  # the usual payload is already plain JSON (model_dump(mode="json")): skip the slow generic encoder
        body = json.dumps(payload)
    except TypeError:
        body = json.dumps(jsonable_encoder(payload))
    answer = svc.StoredAnswer(
        method=request.method,
        path=request.url.path,
        fingerprint=fingerprint(request),
        status_code=status_code,
        body=body,
    )
    svc.keep_answer(session, actor.user_id, key, answer)


def created(
    request: Request,
    session: Session,
    actor: Actor,
    create: Callable[[], M],
    location: Callable[[M], str] | None = None,
) -> JSONResponse:
    """The idempotent create, for every ``POST`` that files a record: the stored answer when the key was seen,
    else ``create()``'s model as JSON, kept with the change, answered 201 (with ``Location`` when given)."""
    replayed = replay(request, session, actor)
    if replayed is not None:
        return replayed
    model = create()
    payload = model.model_dump(mode="json")
    remember(request, session, actor, 201, payload)
    headers = {"Location": location(model)} if location is not None else None
    return JSONResponse(payload, status_code=201, headers=headers)
