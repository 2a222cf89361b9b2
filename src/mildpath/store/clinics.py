"""Clinic queries. Keyword-only; none commits (the caller owns the transaction)."""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import select
from sqlalchemy.orm import Session

from mildpath.store.models import Clinic, Patient


def get_or_none(session: Session, *, clinic_id: int) -> Clinic | None:
    return session.get(Clinic, clinic_id)


def first_id(session: Session) -> int | None:
    """The id of the first clinic created (the one a single-clinic site has), or None when there is none."""
    return session.scalar(select(Clinic.id).order_by(Clinic.id))


def id_named(session: Session, *, name: str) -> int | None:
    return session.scalar(select(Clinic.id).where(Clinic.name == name))


def all_clinics(session: Session, *, only: int | None = None) -> list[Clinic]:
    """Every clinic by id, or only the one with id ``only``."""
    stmt = select(Clinic).order_by(Clinic.id)
    if only is not None:
        stmt = stmt.where(Clinic.id == only)
    return list(session.scalars(stmt))


def with_ids(session: Session, *, clinic_ids: Iterable[int]) -> list[Clinic]:
    """The clinics with these ids, by id."""
    return list(session.scalars(select(Clinic).where(Clinic.id.in_(sorted(set(clinic_ids)))).order_by(Clinic.id)))


def of_patient(session: Session, *, patient_id: int) -> Clinic | None:
    """The clinic of the patient with this id, or None (no such patient)."""
    patient = session.get(Patient, patient_id)
    return session.get(Clinic, patient.clinic_id) if patient is not None else None
