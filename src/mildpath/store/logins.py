"""Login attempts and blocks (the throttle of services/auth.py). Keyword-only; none commits."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import func, or_, select
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


def failures_since(session: Session, *, since: datetime, conditions: Sequence[Any] = ()) -> int:
    """How many failed attempts since ``since`` match ``conditions``."""
    stmt = select(func.count()).where(LoginAttempt.at >= since, LoginAttempt.success.is_(False), *conditions)
    return int(session.scalar(stmt) or 0)


def block_for(session: Session, *, scope: str, key: str) -> LoginBlock | None:
    return session.scalar(select(LoginBlock).where(LoginBlock.scope == scope, LoginBlock.key == key))
