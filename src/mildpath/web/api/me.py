"""/api/v1/me and the admin's audit trail."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query
from fastapi.responses import StreamingResponse

from mildpath.services import audit as audit_svc
from mildpath.web.api.schemas import AuditEventPublic, MePublic
from mildpath.web.deps import Admin, SessionDep, SignedIn

router = APIRouter(prefix="/api/v1", tags=["account"])


@router.get("/me", response_model=MePublic)
def me(actor: SignedIn) -> MePublic:
    return MePublic(
        id=actor.user_id, email=actor.email, role=actor.role, clinic_id=actor.clinic_id, patient_id=actor.patient_id
    )


@router.get("/audit", response_model=list[AuditEventPublic], tags=["admin"])
def audit_events(
    actor: Admin,
    session: SessionDep,
    patient_id: Annotated[int | None, Query(ge=1, le=2**31 - 1)] = None,
    action: Annotated[str | None, Query(max_length=64)] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 200,
    offset: Annotated[int, Query(ge=0, le=10_000_000)] = 0,
) -> list[AuditEventPublic]:
    return audit_svc.list_events(session, actor, patient_id=patient_id, action=action, limit=limit, offset=offset)


@router.get("/audit.csv", tags=["admin"], response_class=StreamingResponse)
def audit_export(actor: Admin, session: SessionDep) -> StreamingResponse:
    chunks = list(audit_svc.export_csv(session, actor))
    return StreamingResponse(iter(chunks), media_type="text/csv")
