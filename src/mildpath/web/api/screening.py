"""Candidacy screening over HTTP (issue 3): ``/api/v1`` screenings and the anonymous self-check. The CDS Hooks
service an EHR calls to show "possible mild candidate" in a chart is web/api/cds_hooks.py.

Routes:

- ``POST /api/v1/patients/{id}/screenings``: ``{"kind": "clinician_assessment"|"self_check", "answers": {...},
  "as_of"?}`` screens a form; ``{"bundle": {FHIR Bundle}, "as_of"?}`` screens the patient's chart (``kind``
  omitted or ``fhir_import``). Answers with the stored screening (201, ``Location``); honours
  ``Idempotency-Key``. Clinicians and admins store any kind; a patient stores only their own self-check.
- ``GET /api/v1/patients/{id}/screenings``, ``GET .../screenings/{sid}``: stored screenings, newest first.
- ``GET .../screenings/{sid}/fhir``: the screening as FHIR R4 (``application/fhir+json``): a ``RiskAssessment``
  (a ``GuidanceResponse`` for a self-check); ``?resource=`` chooses.
- ``POST /api/v1/self-check``: evaluates a self-check for anyone, without an account, and stores nothing.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query, Request
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel, ConfigDict, Field, StringConstraints, model_validator

from mildpath.domain.inputs import EdgeInput
from mildpath.services import clock
from mildpath.services import screening as svc
from mildpath.web import idempotency
from mildpath.web.deps import (
    PatientId,
    PatientRecordActor,
    PublicActor,
    RecordId,
    SessionDep,
    SettingsDep,
)
from mildpath.web.problems import FhirJSONResponse

router = APIRouter(tags=["screening"])

API = "/api/v1"
FHIR_JSON = "application/fhir+json"

Text = Annotated[str, StringConstraints(max_length=64)]
AnswerValue = bool | int | float | Text | list[Annotated[str, StringConstraints(max_length=32)]] | None
Answers = Annotated[
    dict[Annotated[str, StringConstraints(max_length=64)], AnswerValue],
    Field(max_length=60, description="Question name -> answer (see the form's fields); null or absent: unanswered"),
]


# ---------------------------------------------------------------------------------------------------------------
# Schemas


class ScreeningCreate(EdgeInput):
    """A form (``kind`` + ``answers``) or a FHIR chart (``bundle``) to screen and store."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "kind": "clinician_assessment",
                    "as_of": "2026-03-02",
                    "answers": {
                        "lss_confirmed": True,
                        "neurogenic_claudication": True,
                        "symptom_months": 14,
                        "conservative_care_failed": True,
                        "lf_thickness_mm": 4.2,
                        "imaging_date": "2026-01-20",
                        "imaging_modality": "MRI",
                        "odi_score": 44,
                        "nprs": 7,
                    },
                }
            ]
        },
    )

    kind: Literal["clinician_assessment", "self_check", "fhir_import"] | None = Field(
        default=None,
        description="clinician_assessment or self_check with answers; fhir_import (or omitted) with bundle",
    )
    answers: Answers | None = None
    bundle: dict[str, Any] | None = Field(default=None, description="A FHIR R4 Bundle of the patient's chart")
    as_of: date | None = Field(default=None, description="Screen as of this date (default: the form's date or today)")

    @model_validator(mode="after")
    def _one_input(self) -> ScreeningCreate:
        if (self.answers is None) == (self.bundle is None):
            raise ValueError("send either answers (with kind) or bundle")
        if self.answers is not None and self.kind not in ("clinician_assessment", "self_check"):
            raise ValueError("kind must be clinician_assessment or self_check with answers")
        if self.bundle is not None and self.kind not in (None, "fhir_import"):
            raise ValueError("a bundle is a fhir_import")
        return self


class ScreeningPage(BaseModel):
    items: list[svc.ScreeningResultView]


class SelfCheckCreate(EdgeInput):
    model_config = ConfigDict(extra="forbid")

    answers: Answers
    as_of: date | None = None


# ---------------------------------------------------------------------------------------------------------------
# Stored screenings


@router.post(f"{API}/patients/{{patient_id}}/screenings", response_model=svc.ScreeningResultView, status_code=201)
def create_screening(
    request: Request,
    patient_id: PatientId,
    body: ScreeningCreate,
    actor: PatientRecordActor,
    session: SessionDep,
    settings: SettingsDep,
) -> Response:
    """Screen the patient and store the result with its criteria-set version. The answer says "likely
    candidate, refer for specialist evaluation" at best: it supports the specialist's decision, never makes it."""

    def create() -> svc.ScreeningResultView:
        if body.bundle is not None:
            view = svc.screen_from_fhir(
                session,
                actor,
                patient_id,
                body.bundle,
                today=clock.today(),
                as_of=body.as_of,
                content_dir=settings.content_dir,
            )
        else:
            assert body.kind is not None and body.answers is not None
            view = svc.screen_patient_from_form(
                session,
                actor,
                patient_id,
                body.kind,
                body.answers,
                today=clock.today(),
                as_of=body.as_of,
                content_dir=settings.content_dir,
            )
        return svc.screening_result(view)

    return idempotency.created(
        request, session, actor, create, lambda s: f"{API}/patients/{patient_id}/screenings/{s.id}"
    )


@router.get(f"{API}/patients/{{patient_id}}/screenings", response_model=ScreeningPage)
def list_screenings(
    patient_id: PatientId,
    actor: PatientRecordActor,
    session: SessionDep,
    kind: Annotated[Literal["self_check", "clinician_assessment", "fhir_import"] | None, Query()] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> ScreeningPage:
    """The patient's stored screenings, newest first."""
    views = svc.list_screenings(session, actor, patient_id, kind=kind, limit=limit)
    return ScreeningPage(items=[svc.screening_result(v) for v in views])


@router.get(f"{API}/patients/{{patient_id}}/screenings/{{screening_id}}", response_model=svc.ScreeningResultView)
def get_screening(
    patient_id: PatientId, screening_id: RecordId, actor: PatientRecordActor, session: SessionDep
) -> svc.ScreeningResultView:
    return svc.screening_result(svc.get_screening(session, actor, patient_id, screening_id))


@router.get(
    f"{API}/patients/{{patient_id}}/screenings/{{screening_id}}/fhir",
    response_class=FhirJSONResponse,
    responses={200: {"content": {FHIR_JSON: {"schema": {"type": "object"}}}, "description": "A FHIR R4 resource"}},
)
def get_screening_fhir(
    patient_id: PatientId,
    screening_id: RecordId,
    actor: PatientRecordActor,
    session: SessionDep,
    settings: SettingsDep,
    resource: Annotated[Literal["RiskAssessment", "GuidanceResponse"] | None, Query()] = None,
) -> Response:
    """The screening as a FHIR R4 ``RiskAssessment`` (a self-check: ``GuidanceResponse``; ``resource`` chooses)."""
    body = svc.screening_fhir(
        session, actor, patient_id, screening_id, resource_type=resource, content_dir=settings.content_dir
    )
    return JSONResponse(body, media_type=FHIR_JSON)


# ---------------------------------------------------------------------------------------------------------------
# The anonymous self-check


@router.post(f"{API}/self-check", response_model=svc.SelfCheckResultView)
def evaluate_self_check(body: SelfCheckCreate, actor: PublicActor, settings: SettingsDep) -> svc.SelfCheckResultView:
    """Guidance from a self-check, for anyone (no account needed). Nothing is stored: to keep a self-check in a
    patient's record, a signed-in patient posts it to ``/api/v1/patients/{id}/screenings``."""
    outcome = svc.evaluate_self_check(
        body.answers, today=clock.today(), as_of=body.as_of, content_dir=settings.content_dir
    )
    return svc.self_check_result(outcome)
