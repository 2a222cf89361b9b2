"""``Idempotency-Key`` for POSTs: a client that retries after a timeout or a crash never creates duplicates.

The first answer to (user, key) is stored in the SAME transaction as the change it reports, so either both land
or neither does: a retry after a crash mid-request does the work once, a retry after success replays the
stored answer. A key reused for another path is refused (422). Keys are kept per user.
"""

from __future__ import annotations

import json
from typing import Any

from fastapi import Request
from fastapi.encoders import jsonable_encoder
from fastapi.responses import JSONResponse
from sqlalchemy import select
from sqlalchemy.orm import Session

from mildpath.domain.errors import InvalidInput
from mildpath.services.access import Actor
from mildpath.store.models import IdempotencyKey

HEADER = "idempotency-key"
MAX_KEY = 200


def _key(request: Request) -> str | None:
    key = request.headers.get(HEADER)
    if key is None:
        return None
    key = key.strip()
    if not key or len(key) > MAX_KEY:
        raise InvalidInput(f"Idempotency-Key must be 1 to {MAX_KEY} characters", field="Idempotency-Key")
    return key


def replay(request: Request, session: Session, actor: Actor) -> JSONResponse | None:
    """The stored answer when this (user, key) was seen before; None when the request is new."""
    key = _key(request)
    if key is None or actor.user_id is None:
        return None
    row = session.scalar(select(IdempotencyKey).where(IdempotencyKey.user_id == actor.user_id,
                                                      IdempotencyKey.key == key))
    if row is None:
        return None
    if row.path != request.url.path or row.method != request.method:
        raise InvalidInput("this Idempotency-Key was used for another request", field="Idempotency-Key")
    return JSONResponse(json.loads(row.body), status_code=row.status_code, headers={"Idempotent-Replayed": "true"})


def remember(request: Request, session: Session, actor: Actor, status_code: int, payload: Any) -> None:
    """Store the answer with the change (call just before returning it)."""
    key = _key(request)
    if key is None or actor.user_id is None:
        return
    try:  # the usual payload is already plain JSON (model_dump(mode="json")): skip the slow generic encoder
        body = json.dumps(payload)
    except TypeError:
        body = json.dumps(jsonable_encoder(payload))
    session.add(IdempotencyKey(user_id=actor.user_id, key=key, method=request.method, path=request.url.path,
                               status_code=status_code, body=body))
    session.flush()
