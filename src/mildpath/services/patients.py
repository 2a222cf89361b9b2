"""Patients: create, view, edit, search, each audited."""

from __future__ import annotations

import re
from datetime import date, datetime
from typing import Any

from pydantic import ConfigDict, EmailStr, Field, field_validator
from sqlalchemy.orm import Session

from mildpath.domain.errors import Conflict, InvalidInput
from mildpath.domain.inputs import EdgeInput
from mildpath.services.access import Actor, get_patient_for, record, require_staff, visible_patients
from mildpath.services.read_models import ReadModel
from mildpath.store import clinics as clinics_store
from mildpath.store import patients as store

SEXES = ("female", "male", "other", "unknown")  # FHIR AdministrativeGender
# Control characters (C0, DEL, C1) and unpaired surrogates: never part of a name, MRN, phone or address, and
# NUL cannot be stored by PostgreSQL at all. Any other Unicode (accents, CJK, RTL scripts, emoji) is welcome.
_UNPRINTABLE = re.compile(r"[\x00-\x1f\x7f-\x9f\ud800-\udfff]")
TEXT_FIELDS = ("mrn", "given_name", "family_name", "phone", "address")


def _printable(value: str | None) -> str | None:
    if value is not None and _UNPRINTABLE.search(value):
        raise ValueError("must not contain control characters")
    return value


class PatientIn(EdgeInput):
    """Fields a clinician enters for a patient; the same model serves forms, the API and the demo."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    mrn: str = Field(min_length=1, max_length=64, description="Medical record number, unique within the clinic")
    given_name: str = Field(min_length=1, max_length=120)
    family_name: str = Field(min_length=1, max_length=120)
    birth_date: date
    sex: str = Field(description="female, male, other or unknown", json_schema_extra={"enum": list(SEXES)})
    phone: str = Field(default="", max_length=40)
    email: EmailStr | None = None
    address: str = Field(default="", max_length=400)
    preferred_language: str = Field(default="en", pattern="^(en|es)$")

    @field_validator("sex")
    @classmethod
    def _sex(cls, v: str) -> str:
        if v not in SEXES:
            raise ValueError(f"must be one of {', '.join(SEXES)}")
        return v

    _text = field_validator(*TEXT_FIELDS)(_printable)

    @field_validator("birth_date")
    @classmethod
    def _plausible_birth(cls, v: date) -> date:
        if v.year < 1900:
            raise ValueError("must be after 1900")
        return v


class PatientUpdate(EdgeInput):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    given_name: str | None = Field(default=None, min_length=1, max_length=120)
    family_name: str | None = Field(default=None, min_length=1, max_length=120)
    birth_date: date | None = None
    sex: str | None = Field(default=None, json_schema_extra={"enum": [*SEXES, None]})
    phone: str | None = Field(default=None, max_length=40)
    email: EmailStr | None = None
    address: str | None = Field(default=None, max_length=400)
    preferred_language: str | None = Field(default=None, pattern="^(en|es)$")

    @field_validator("sex")
    @classmethod
    def _sex(cls, v: str | None) -> str | None:
        if v is not None and v not in SEXES:
            raise ValueError(f"must be one of {', '.join(SEXES)}")
        return v

    _text = field_validator(*(f for f in TEXT_FIELDS if f != "mrn"))(_printable)

    @field_validator("birth_date")
    @classmethod
    def _plausible_birth(cls, v: date | None) -> date | None:
        if v is not None and v.year < 1900:
            raise ValueError("must be after 1900")
        return v


class PatientPublic(ReadModel):
    """The patient's record as the API answers it (``GET /api/v1/patients/{id}``)."""

    # Validating a PatientView as a PatientPublic builds a PatientPublic: the answer never carries the view's extras.
    model_config = ConfigDict(frozen=True, from_attributes=True, revalidate_instances="subclass-instances")

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


class PatientView(PatientPublic):
    """A patient's record as the services hand it out (pages, the demo); the API answers its ``PatientPublic`` part."""

    anonymised_at: datetime | None
    created_at: datetime
    updated_at: datetime


def _check_birth(birth_date: date, today: date) -> None:
    if birth_date > today:
        raise InvalidInput("birth date is in the future", field="birth_date", value=str(birth_date))


def create_patient(
    session: Session, actor: Actor, data: PatientIn, *, today: date, clinic_id: int | None = None
) -> PatientView:
    """Register a patient in the actor's clinic (an admin or the system names the clinic)."""
    require_staff(actor)
    _check_birth(data.birth_date, today)
    clinic = clinic_id if actor.role in ("admin", "system") and clinic_id else actor.clinic_id
    if clinic is None or clinics_store.get_or_none(session, clinic_id=clinic) is None:
        raise InvalidInput("no clinic for this patient", field="clinic_id", value=clinic)
    if store.mrn_taken(session, clinic_id=clinic, mrn=data.mrn):
        raise Conflict(f"MRN {data.mrn} is already registered in this clinic")
    patient = store.add(session, clinic_id=clinic, **data.model_dump(exclude={"email"}), email=str(data.email or ""))
    record(session, actor, "patient.create", "Patient", patient.id, patient.id)
    return PatientView.model_validate(patient)


def view_patient(session: Session, actor: Actor, patient_id: int) -> PatientView:
    patient = get_patient_for(session, actor, patient_id)
    record(session, actor, "patient.read", "Patient", patient.id, patient.id)
    return PatientView.model_validate(patient)


def clinic_name(session: Session, clinic_id: int) -> str:
    """The clinic's name ("" when it is gone): what a patient's chart shows beside the record."""
    clinic = clinics_store.get_or_none(session, clinic_id=clinic_id)
    return clinic.name if clinic is not None else ""


def first_clinic_id(session: Session) -> int | None:
    """The first clinic created: where a new clinician goes when no clinic is named (a one-clinic site)."""
    return clinics_store.first_id(session)


def update_patient(session: Session, actor: Actor, patient_id: int, data: PatientUpdate, *, today: date) -> PatientView:
    require_staff(actor)
    patient = get_patient_for(session, actor, patient_id)
    changes: dict[str, Any] = data.model_dump(exclude_unset=True)
    if "birth_date" in changes and changes["birth_date"] is not None:
        _check_birth(changes["birth_date"], today)
    changed = []
    for key, value in changes.items():
        if value is None and key != "email":
            continue
        value = str(value or "") if key == "email" else value
        if getattr(patient, key) != value:
            setattr(patient, key, value)
            changed.append(key)
    session.flush()
    # The audit row names the fields that changed, not their values: no health data in the trail's detail.
    record(session, actor, "patient.update", "Patient", patient.id, patient.id, {"fields": sorted(changed)})
    return PatientView.model_validate(patient)


def search_patients(
    session: Session, actor: Actor, query: str = "", *, limit: int = 50, offset: int = 0
) -> tuple[list[PatientView], int]:
    """Patients the actor may see whose name or MRN matches ``query``; with the total count."""
    q = query.strip()
    if _UNPRINTABLE.search(q):
        raise InvalidInput("the search must not contain control characters", field="q")
    rows, total = store.search(session, visible_patients(actor), needle=q, limit=limit, offset=offset)
    record(session, actor, "patient.search", "Patient", None, None, {"results": len(rows)})
    return [PatientView.model_validate(p) for p in rows], total


def age_on(birth_date: date, today: date) -> int:
    return today.year - birth_date.year - ((today.month, today.day) < (birth_date.month, birth_date.day))
