"""Login attempts and blocks (the throttle of services/auth.py). Keyword-only; none commits."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any, cast

from sqlalchemy import CursorResult, delete, func, or_, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from mildpath.store.models import LoginAttempt, LoginBlock


def blocked_until(session: Session, *, scopes: Sequence[tuple[str, str]], now: datetime) -> datetime | None:
    """The latest end of a block still running on any of these (scope, key) pairs, or None."""
    return session.scalar(
        select(func.max(LoginBlock.blocked_until)).where(
            or_(*((LoginBlock.scope == scope) & (LoginBlock.key == key) for scope, key in scopes)),
            LoginBlock.blocked_until > now,
        )
    )


def failures_since(session: Session, *, since: datetime, address: str, email: str | None = None) -> int:
    """How many failed attempts since ``since`` came from ``address`` (for ``email`` only, when given)."""
    stmt = select(func.count()).where(
        LoginAttempt.at >= since, LoginAttempt.success.is_(False), LoginAttempt.address == address
    )
    if email is not None:
        stmt = stmt.where(LoginAttempt.email == email)
    return int(session.scalar(stmt) or 0)


def block_for(session: Session, *, scope: str, key: str) -> LoginBlock | None:
    return session.scalar(select(LoginBlock).where(LoginBlock.scope == scope, LoginBlock.key == key))


def add_attempt(session: Session, *, email: str, address: str, success: bool, at: datetime) -> None:
    session.add(LoginAttempt(email=email, address=address, success=success, at=at))
    session.flush()


def set_block(
    session: Session, *, scope: str, key: str, email: str, address: str, level: int, until: datetime
) -> None:
    """Insert or raise the block in one statement (safe when two failures race on PostgreSQL)."""
    insert = pg_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert
    stmt = insert(LoginBlock).values(
        scope=scope, key=key, email=email, address=address, level=level, blocked_until=until
    )
    session.execute(
        stmt.on_conflict_do_update(index_elements=["scope", "key"], set_={"level": level, "blocked_until": until})
    )


def clear_pair(session: Session, *, email: str, address: str) -> None:
    """Forget the failures of this (email, address) pair and lift its block (after a successful login)."""
    session.execute(
        delete(LoginAttempt).where(
            LoginAttempt.email == email, LoginAttempt.address == address, LoginAttempt.success.is_(False)
        )
    )
    session.execute(delete(LoginBlock).where(LoginBlock.scope == "pair", LoginBlock.key == f"{email}\n{address}"))


def lift(session: Session, *, email: str, address: str | None) -> int:
    """Lift the blocks on ``email`` (every address) and forget its failures; with ``address``, that address's own
    block and failures too. The number of blocks lifted."""
    blocks = [LoginBlock.email == email]
    attempts = [LoginAttempt.email == email]
    if address:
        blocks.append((LoginBlock.scope == "address") & (LoginBlock.key == address))
        attempts.append(LoginAttempt.address == address)
    result = session.execute(delete(LoginBlock).where(or_(*blocks)))
    session.execute(delete(LoginAttempt).where(or_(*attempts), LoginAttempt.success.is_(False)))
    return int(cast("CursorResult[Any]", result).rowcount or 0)
