"""Administration: users and the audit trail."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response, StreamingResponse

from mildpath.domain.errors import Conflict, InvalidInput, NotFound
from mildpath.services import audit as audit_svc
from mildpath.services import auth, clinics, mfa
from mildpath.web.deps import Admin, AdminForm, RecordId, SessionDep
from mildpath.web.forms import check_texts, form_id
from mildpath.web.pages._common import redirect, render

router = APIRouter(include_in_schema=False)


@router.get("/admin/users")
def users(request: Request, actor: Admin, session: SessionDep) -> Response:
    return render(request, "admin/users.html", {"users": auth.list_users(session, actor), "error": None})


@router.post("/admin/users")
async def add_user(request: Request, actor: AdminForm, session: SessionDep) -> Response:
    form = await request.form()

    def num(name: str) -> int | None:
        return form_id(str(form.get(name, "")), name)

    values = {k: str(form.get(k, "")) for k in ("email", "display_name", "role", "clinic_id", "patient_id")}
    try:
        check_texts(values, {"email": 254, "display_name": 200, "role": 16, "clinic_id": 12, "patient_id": 12})
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
            {"users": auth.list_users(session, actor), "error": exc.message, "values": values},
            status_code=422,
        )
    return redirect("/admin/users")


def _user_page(request: Request, session: SessionDep, actor: Admin, user_id: int, **extra: object) -> Response:
    user = auth.get_user(session, user_id)
    tokens = auth.list_tokens(session, actor, user.email)
    context = {"user": user, "tokens": tokens, "message": None, "error": None, "staff_roles": auth.STAFF_ROLES,
               **extra}
    return render(request, "admin/user.html", context, status_code=422 if extra.get("error") else 200)


@router.get("/admin/users/{user_id}")
def user_page(request: Request, user_id: RecordId, actor: Admin, session: SessionDep) -> Response:
    """One account: its API tokens with their last use (each with a revoke button), deactivate, unblock."""
    return _user_page(request, session, actor, user_id)


@router.post("/admin/users/{user_id}/tokens/{token_id}/revoke")
def revoke_token(
    request: Request, user_id: RecordId, token_id: RecordId, actor: AdminForm, session: SessionDep
) -> Response:
    user = auth.get_user(session, user_id)
    if token_id not in {t.id for t in auth.list_tokens(session, actor, user.email)}:
        raise NotFound(f"no active token {token_id} for this account")
    auth.revoke_token(session, actor, token_id)
    return redirect(f"/admin/users/{user_id}")


@router.post("/admin/users/{user_id}/deactivate")
def deactivate(request: Request, user_id: RecordId, actor: AdminForm, session: SessionDep) -> Response:
    user = auth.get_user(session, user_id)
    try:
        auth.deactivate_user(session, actor, user.email)
    except Conflict as exc:
        return _user_page(request, session, actor, user_id, error=exc.message)
    return redirect(f"/admin/users/{user_id}")


@router.post("/admin/users/{user_id}/role")
async def change_role(request: Request, user_id: RecordId, actor: AdminForm, session: SessionDep) -> Response:
    """Move a staff account to another staff role (audited; holds at the account's next request)."""
    role = str((await request.form()).get("role", ""))[:20]
    try:
        auth.change_role(session, actor, user_id, role)
    except (Conflict, InvalidInput) as exc:
        return _user_page(request, session, actor, user_id, error=exc.message)
    return _user_page(request, session, actor, user_id, message=f"The account is now {role}.")


@router.post("/admin/users/{user_id}/mfa/reset")
def reset_second_factor(request: Request, user_id: RecordId, actor: AdminForm, session: SessionDep) -> Response:
    """Remove another account's second factor (a lost phone): it must set one up again at its next sign-in."""
    user = auth.get_user(session, user_id)
    if actor.user_id == user.id:
        return _user_page(request, session, actor, user_id, error="Reset your own second factor on /account/mfa.")
    mfa.reset(session, actor, user.id)
    return _user_page(request, session, actor, user_id, message="The second factor was removed.")


@router.post("/admin/users/{user_id}/unblock")
def unblock(request: Request, user_id: RecordId, actor: AdminForm, session: SessionDep) -> Response:
    user = auth.get_user(session, user_id)
    lifted = auth.unblock(session, actor, user.email)
    return _user_page(request, session, actor, user_id, message=f"Lifted {lifted} login block(s).")


@router.post("/admin/clinics/{clinic_id}/staff-mfa")
async def set_staff_mfa(request: Request, clinic_id: RecordId, actor: AdminForm, session: SessionDep) -> Response:
    required = str((await request.form()).get("required", "")) == "yes"
    clinics.set_staff_mfa_required(session, actor, clinic_id, required)
    return redirect("/admin/clinics")


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
