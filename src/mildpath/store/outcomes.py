"""Read-only queries the outcomes registry (issue 8) needs beyond what the questionnaire and procedure stores
offer. No tables of its own; keyword-only functions; nothing here writes or commits.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from mildpath.store.models import Clinic, Patient


def demographics(session: Session, *, patient_ids: Any) -> dict[int, tuple[date, str]]:
    """``{patient_id: (birth_date, sex)}`` of the given patients (an id list or a subquery), in one query."""
    stmt = select(Patient.id, Patient.birth_date, Patient.sex).where(Patient.id.in_(patient_ids))
    return {pid: (birth, sex) for pid, birth, sex in session.execute(stmt).all()}


def patients(session: Session, *, patient_ids: Any) -> list[Patient]:
    """The given patients (an id list or a subquery), by id, in one query."""
    return list(session.scalars(select(Patient).where(Patient.id.in_(patient_ids)).order_by(Patient.id)))


def clinic_names(session: Session, *, clinic_ids: Any | None = None) -> dict[int, str]:
    """``{clinic_id: name}`` of the given clinics (all when ``clinic_ids`` is ``None``), in one query."""
    stmt = select(Clinic.id, Clinic.name)
    if clinic_ids is not None:
        stmt = stmt.where(Clinic.id.in_(clinic_ids))
    return dict(session.execute(stmt).all())
