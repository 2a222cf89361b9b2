"""The stored first answers to POSTs carrying ``Idempotency-Key`` (the ``idempotency_keys`` table).

Keyword-only query and persist functions, none of which commits: the answer is written in the same transaction
as the change it reports (see :mod:`mildpath.web.idempotency` for the protocol, :mod:`mildpath.services.idempotency`
for the use case).
"""

from __future__ import annotations

import hashlib

from sqlalchemy import select, text
from sqlalchemy.orm import Session

from mildpath.store.models import IdempotencyKey


def try_lock(session: Session, *, user_id: int, key: str) -> bool:
    """Take the transaction-level advisory lock on (user, key) on PostgreSQL; False when another holds it.

    Always True on SQLite, whose request transactions already hold the write lock (``BEGIN IMMEDIATE``,
    store/db.py). Re-entrant within one transaction."""
    if session.get_bind().dialect.name != "postgresql":
        return True
    # Taken once per transaction: the look-up and the store of one request ask for the same lock, and a
    # transaction-level lock lasts until COMMIT, so the second ask needs no round trip.
    transaction = session.get_transaction()
    held: tuple[object, set[tuple[int, str]]] | None = session.info.get(_HELD)
    if held is None or held[0] is not transaction:
        held = session.info[_HELD] = (transaction, set())
    if (user_id, key) in held[1]:
        return True
    number = int.from_bytes(hashlib.sha256(f"{user_id}\n{key}".encode()).digest()[:8], "big", signed=True)
    taken = bool(session.scalar(text("SELECT pg_try_advisory_xact_lock(:n)"), {"n": number}))
    if taken:
        held[1].add((user_id, key))
    return taken


_HELD = "mp_idempotency_locks"  # session.info: (the transaction, the (user, key) locks it holds)


def get_or_none(session: Session, *, user_id: int, key: str) -> IdempotencyKey | None:
    """The answer stored for (user, key), if any."""
    return session.scalar(select(IdempotencyKey).where(IdempotencyKey.user_id == user_id, IdempotencyKey.key == key))


def add(
    session: Session,
    *,
    user_id: int,
    key: str,
    method: str,
    path: str,
    fingerprint: str,
    status_code: int,
    body: str,
) -> None:
    """Store the first answer to (user, key) and flush it (the unique constraint catches a racing twin)."""
    session.add(
        IdempotencyKey(
            user_id=user_id,
            key=key,
            method=method,
            path=path,
            fingerprint=fingerprint,
            status_code=status_code,
            body=body,
        )
    )
    session.flush()
