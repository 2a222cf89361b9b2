"""Administration: users and the audit trail."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response, StreamingResponse

from mildpath.domain.errors import Conflict, InvalidInput
from mildpath.services import audit as audit_svc
from mildpath.services import auth
from mildpath.web.deps import Admin, AdminForm, SessionDep
from mildpath.web.pages._common import redirect, render

router = APIRouter(include_in_schema=False)


@router.get("/admin/users")
def users(request: Request, actor: Admin, session: SessionDep) -> Response:
    return render(request, "admin/users.html", {"users": auth.list_users(session, actor), "error": None})


@router.post("/admin/users")
async def add_user(request: Request, actor: AdminForm, session: SessionDep) -> Response:
    form = await request.form()

    def num(name: str) -> int | None:
        raw = str(form.get(name, "")).strip()
        return int(raw) if raw.isdigit() else None

    try:
        auth.add_user(
            session,
            actor,
            email=str(form.get("email", "")),
            role=str(form.get("role", "")),
            password=str(form.get("password", "")),
            display_name=str(form.get("display_name", "")),
            clinic_id=num("clinic_id"),
            patient_id=num("patient_id"),
        )
    except (InvalidInput, Conflict) as exc:
        return render(
            request,
            "admin/users.html",
            {"users": auth.list_users(session, actor), "error": exc.message},
            status_code=422,
        )
    return redirect("/admin/users")


@router.get("/admin/audit")
def audit_page(request: Request, actor: Admin, session: SessionDep, patient_id: str = "", action: str = "") -> Response:
    pid = int(patient_id) if patient_id.strip().isdigit() else None
    events = audit_svc.list_events(session, actor, patient_id=pid, action=action.strip() or None)
    return render(request, "admin/audit.html", {"events": events, "patient_id": pid, "action": action})


@router.get("/admin/audit.csv")
def audit_export(request: Request, actor: Admin, session: SessionDep) -> Response:
    chunks = list(audit_svc.export_csv(session, actor))
    return StreamingResponse(
        iter(chunks),
        media_type="text/csv",
        headers={"Content-Disposition": 'attachment; filename="mildpath-audit.csv"'},
    )
