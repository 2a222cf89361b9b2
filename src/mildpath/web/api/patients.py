"""/api/v1/patients: list, search, create, read, update."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response

from mildpath.services import patients as svc
from mildpath.services.clock import today
from mildpath.web import idempotency
from mildpath.web.api.schemas import PatientCreate, PatientPage, PatientPublic, PatientUpdate
from mildpath.web.deps import (
    PatientId,
    PatientRecordActor,
    SessionDep,
    SignedIn,
    Staff,
    StaffPatientRecordActor,
)

router = APIRouter(prefix="/api/v1", tags=["patients"])


@router.get("/patients", response_model=PatientPage)
def list_patients(
    actor: SignedIn,
    session: SessionDep,
    q: Annotated[str, Query(max_length=100)] = "",
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    offset: Annotated[int, Query(ge=0, le=1_000_000)] = 0,
) -> PatientPage:
    """The caller's patients: a clinician's clinic, an admin's all, a patient's own record."""
    rows, total = svc.search_patients(session, actor, q, limit=limit, offset=offset)
    return PatientPage(total=total, items=[PatientPublic.model_validate(p) for p in rows])


@router.post("/patients", response_model=PatientPublic, status_code=201)
def create_patient(request: Request, body: PatientCreate, actor: Staff, session: SessionDep) -> Response:
    """Register a patient in the caller's clinic. Honours ``Idempotency-Key``: a retry with the same key gets
    the first answer again and creates nothing."""
    return idempotency.created(
        request,
        session,
        actor,
        lambda: PatientPublic.model_validate(svc.create_patient(session, actor, body, today=today())),
    )


@router.get("/patients/{patient_id}", response_model=PatientPublic)
def get_patient(patient_id: PatientId, actor: PatientRecordActor, session: SessionDep) -> PatientPublic:
    return PatientPublic.model_validate(svc.view_patient(session, actor, patient_id))


@router.patch("/patients/{patient_id}", response_model=PatientPublic)
def update_patient(
    patient_id: PatientId, body: PatientUpdate, actor: StaffPatientRecordActor, session: SessionDep
) -> PatientPublic:
    return PatientPublic.model_validate(svc.update_patient(session, actor, patient_id, body, today=today()))
