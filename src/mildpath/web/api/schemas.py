"""API schemas: ``XxxCreate`` / ``XxxUpdate`` / ``XxxPublic`` (one vocabulary)."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field

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


class MatchedPublic(BaseModel):
    """A sign the symptom reader found in the patient's words (contracts §8): ``text`` exactly as written."""

    model_config = ConfigDict(from_attributes=True)

    text: str
    rule: str
    level: str
    source: str


class CommentTriagePublic(BaseModel):
    """What the symptom reader made of a comment on a questionnaire or the self-check (issue 15 §1)."""

    model_config = ConfigDict(from_attributes=True)

    level: str = Field(description="emergency, same_day, review or expected")
    advice: str = Field(description="What the patient is told to do, in their language")
    matched: list[MatchedPublic]
    entry_id: int | None = Field(description="The diary entry that carries the triage (null when nothing was found)")
    flag_id: int | None = Field(description="The worklist flag it raised (null when nothing was found)")
