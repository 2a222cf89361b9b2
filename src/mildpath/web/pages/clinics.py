"""Clinic administration (issue 18): ``/admin/clinics`` lists, creates and edits clinics (admins only).

The rules (names unique, IANA zones, bounds) live in services/clinics.py; this page shows them as form errors."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response
from pydantic import ValidationError

from mildpath.domain.errors import Conflict, InvalidInput
from mildpath.services import clinics as svc
from mildpath.web.deps import Admin, AdminForm, RecordId, SessionDep
from mildpath.web.pages._common import form_errors, redirect, render

router = APIRouter(include_in_schema=False)
TEXT_FIELDS = ("name", "phone", "address", "emergency_number", "timezone", "oncall_name", "oncall_email",
               "oncall_phone")
MINUTE_FIELDS = ("escalate_emergency_minutes", "escalate_same_day_minutes")


def _clinics_page(request: Request, session: SessionDep, actor: Admin, errors: list[dict[str, str]] | None = None,
                  values: dict[str, str] | None = None) -> Response:
    return render(request, "admin/clinics.html", {"clinics": svc.list_clinics(session, actor), "errors": errors,
                                                  "values": values}, status_code=422 if errors else 200)


@router.get("/admin/clinics")
def clinics(request: Request, actor: Admin, session: SessionDep) -> Response:
    return _clinics_page(request, session, actor)


@router.post("/admin/clinics")
async def add_clinic(request: Request, actor: AdminForm, session: SessionDep) -> Response:
    form = await request.form()
    values = {k: str(form.get(k, "")) for k in ("name", "phone", "address", "emergency_number", "timezone")}
    try:
        svc.ClinicUpdate.model_validate(values)  # the same rules as editing a clinic (lengths, text)
        clinic = svc.add_clinic(session, actor, **values)
    except ValidationError as exc:
        return _clinics_page(request, session, actor, form_errors(exc), values)
    except (InvalidInput, Conflict) as exc:
        return _clinics_page(request, session, actor, [{"field": getattr(exc, "field", None) or "name",
                                                        "message": exc.message}], values)
    return redirect(f"/admin/clinics/{clinic.id}")


def _clinic_page(request: Request, session: SessionDep, actor: Admin, clinic_id: int,
                 errors: list[dict[str, str]] | None = None, saved: bool = False,
                 values: dict[str, Any] | None = None) -> Response:
    clinic = svc.get_clinic(session, actor, clinic_id)
    return render(request, "admin/clinic.html", {"clinic": clinic, "errors": errors, "saved": saved,
                                                 "values": values},
                  status_code=422 if errors else 200)


@router.get("/admin/clinics/{clinic_id}")
def clinic_page(request: Request, clinic_id: RecordId, actor: Admin, session: SessionDep) -> Response:
    """One clinic's details: phone, address, emergency number, zone, on-call contact and escalation times."""
    return _clinic_page(request, session, actor, clinic_id, saved=request.query_params.get("saved") == "1")


@router.post("/admin/clinics/{clinic_id}")
async def edit_clinic(request: Request, clinic_id: RecordId, actor: AdminForm, session: SessionDep) -> Response:
    form = await request.form()
    values: dict[str, Any] = {k: str(form.get(k, "")) for k in TEXT_FIELDS}
    for key in MINUTE_FIELDS:
        raw = str(form.get(key, "")).strip()
        values[key] = int(raw) if raw.isdigit() and len(raw) < 7 else raw or None
    svc.get_clinic(session, actor, clinic_id)  # an unknown clinic: 404 before the form is judged
    try:
        svc.update_clinic(session, actor, clinic_id, svc.ClinicUpdate.model_validate(values))
    except (ValidationError, InvalidInput, Conflict) as exc:
        errors = form_errors(exc) if not isinstance(exc, Conflict) else [{"field": "name", "message": exc.message}]
        typed = {k: str(form.get(k, "")) for k in (*TEXT_FIELDS, *MINUTE_FIELDS)}
        return _clinic_page(request, session, actor, clinic_id, errors, values=typed)
    return redirect(f"/admin/clinics/{clinic_id}?saved=1")
