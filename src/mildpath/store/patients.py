"""Patient queries: who may see which patients, lookup, search and add.

Keyword-only query and persist functions; none of them commits (the caller owns the transaction). Access
decisions are the caller's (services/access.py): :func:`visible` only turns them into a query.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sqlalchemy import Select, func, or_, select
from sqlalchemy.orm import Session

from mildpath.store.models import Patient


def visible(*, role: str, clinic_id: int | None, patient_id: int | None) -> Select[Patient]:
    """The patients an account with this role, clinic and own patient record may see, as a query to refine."""
    stmt = select(Patient)
    if role in ("admin", "system"):
        return stmt
    if role in ("clinician", "coordinator") or (role == "backend" and clinic_id is not None):
        return stmt.where(Patient.clinic_id == clinic_id)
    if role == "backend":  # a system-wide SMART backend client (services/smart.py); its scopes limit the types
        return stmt
    if role == "patient" and patient_id is not None:
        return stmt.where(Patient.id == patient_id)
    return stmt.where(Patient.id.is_(None))  # nobody


def get_visible(
    session: Session, *, role: str, clinic_id: int | None, own_patient_id: int | None, patient_id: int
) -> Patient | None:
    """The patient with this id if :func:`visible` for this role, clinic and own record admits them, else None.

    The same rule as ``get_in(session, visible(...), patient_id=...)``, by primary key: a patient already in the
    session (read earlier in the request, e.g. for the interface language) costs no statement, and a patient
    asking for another record costs none either."""
    if role in ("clinician", "coordinator") or (role == "backend" and clinic_id is not None):
        found = session.get(Patient, patient_id)
        return found if found is not None and found.clinic_id == clinic_id else None
    if role in ("admin", "system", "backend"):
        return session.get(Patient, patient_id)
    if role == "patient" and own_patient_id is not None and own_patient_id == patient_id:
        return session.get(Patient, patient_id)
    return None


def ids_of(
    scope: Select[Patient], *, anonymised: bool | None = None, among: Iterable[int] | None = None
) -> Select[int]:
    """The ids of ``scope``'s patients (only those ``among`` these ids when given), as a subquery to filter by;
    ``anonymised`` False: only those not erased, True: only those erased."""
    stmt = scope.with_only_columns(Patient.id)
    if among is not None:
        stmt = stmt.where(Patient.id.in_(list(among)))
    if anonymised is False:
        stmt = stmt.where(Patient.anonymised_at.is_(None))
    elif anonymised:
        stmt = stmt.where(Patient.anonymised_at.is_not(None))
    return stmt


def get_in(session: Session, scope: Select[Patient], *, patient_id: int) -> Patient | None:
    """The patient with this id among ``scope`` (a :func:`visible` query), or None."""
    return session.scalar(scope.where(Patient.id == patient_id))


def list_in(session: Session, scope: Select[Patient], *, patient_ids: Iterable[int] | None = None) -> list[Patient]:
    """The patients among ``scope`` (a :func:`visible` query) by id; only those with these ids when given."""
    stmt = scope.order_by(Patient.id)
    if patient_ids is not None:
        stmt = stmt.where(Patient.id.in_(list(patient_ids)))
    return list(session.scalars(stmt))


def by_ids(session: Session, *, patient_ids: Iterable[int]) -> dict[int, Patient]:
    """The patients with these ids, by id (one query)."""
    ids = list(patient_ids)
    if not ids:
        return {}
    return {p.id: p for p in session.scalars(select(Patient).where(Patient.id.in_(ids))).all()}


def mrn_taken(session: Session, *, clinic_id: int, mrn: str) -> bool:
    return session.scalar(select(Patient.id).where(Patient.clinic_id == clinic_id, Patient.mrn == mrn)) is not None


def add(session: Session, *, clinic_id: int, **fields: Any) -> Patient:
    """Add and flush a patient (so it has its id)."""
    patient = Patient(clinic_id=clinic_id, **fields)
    session.add(patient)
    session.flush()
    return patient


def search(
    session: Session, scope: Select[Patient], *, needle: str, limit: int, offset: int
) -> tuple[list[Patient], int]:
    """Patients among ``scope`` whose name or MRN contains ``needle`` (literal text, any case; empty: all),
    by family name, given name and id; with the total count."""
    stmt = scope
    if needle:
        # ``contains(autoescape=True)``: the search is literal text; ``%`` and ``_`` match only themselves.
        needle = needle.lower()
        stmt = stmt.where(
            or_(
                func.lower(Patient.given_name).contains(needle, autoescape=True),
                func.lower(Patient.family_name).contains(needle, autoescape=True),
                func.lower(Patient.given_name + " " + Patient.family_name).contains(needle, autoescape=True),
                func.lower(Patient.mrn).contains(needle, autoescape=True),
            )
        )
    total = session.scalar(select(func.count()).select_from(stmt.subquery())) or 0
    order = (Patient.family_name, Patient.given_name, Patient.id)
    rows = list(session.scalars(stmt.order_by(*order).limit(limit).offset(offset)))
    return rows, total


def get_or_none(session: Session, *, patient_id: int) -> Patient | None:
    """The patient with this id (no access check: the caller made one), or None."""
    return session.get(Patient, patient_id)
