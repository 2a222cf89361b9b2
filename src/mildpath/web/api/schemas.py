"""API schemas: ``XxxCreate`` / ``XxxUpdate`` / ``XxxPublic`` (one vocabulary)."""

from __future__ import annotations

from datetime import date, datetime

from pydantic import BaseModel, ConfigDict

from mildpath.services.patients import PatientIn as PatientCreate
from mildpath.services.patients import PatientUpdate

__all__ = ["PatientCreate", "PatientPublic", "PatientUpdate", "PatientPage", "MePublic", "AuditEventPublic"]


class PatientPublic(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    clinic_id: int
    mrn: str
    given_name: str
    family_name: str
    birth_date: date
    sex: str
    phone: str
    email: str
    address: str
    preferred_language: str


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
