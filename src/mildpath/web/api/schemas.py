"""API schemas: ``XxxCreate`` / ``XxxUpdate`` / ``XxxPublic`` (one vocabulary)."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict

from mildpath.services.audit import AuditEventPublic
from mildpath.services.comments import CommentTriageView as CommentTriagePublic
from mildpath.services.patients import PatientIn as PatientCreate
from mildpath.services.patients import PatientPublic, PatientUpdate

__all__ = [
    "PatientCreate", "PatientPublic", "PatientUpdate", "PatientPage", "MePublic", "AuditEventPublic",
    "CommentTriagePublic",
]


class PatientPage(BaseModel):
    total: int
    items: list[PatientPublic]


class MePublic(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int | None
    email: str
    role: str
    clinic_id: int | None
    patient_id: int | None
