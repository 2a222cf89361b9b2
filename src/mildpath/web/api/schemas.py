"""API schemas: ``XxxCreate`` / ``XxxUpdate`` / ``XxxPublic`` (one vocabulary)."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict

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


class AuditEventPublic(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    at: datetime
    actor_user_id: int | None
    actor_role: str
    action: str
    record_type: str
    record_id: str
    patient_id: int | None
    address: str


