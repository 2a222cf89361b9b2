"""Clinic queries. Keyword-only; none commits (the caller owns the transaction)."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from mildpath.store.models import Clinic


def get_or_none(session: Session, *, clinic_id: int) -> Clinic | None:
    return session.get(Clinic, clinic_id)


def first_id(session: Session) -> int | None:
    """The id of the first clinic created (the one a single-clinic site has), or None when there is none."""
    return session.scalar(select(Clinic.id).order_by(Clinic.id))
