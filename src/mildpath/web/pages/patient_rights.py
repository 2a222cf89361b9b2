"""Admin pages for patient rights: a patient's "Data rights" page with export, anonymise and erase forms."""

from __future__ import annotations

import json

from fastapi import APIRouter, Request
from fastapi.responses import Response
from pydantic import ValidationError

from mildpath.domain.errors import Conflict, InvalidInput
from mildpath.services import clock
from mildpath.services import patient_rights as svc
from mildpath.services import patients as patients_svc
from mildpath.web.deps import Admin, AdminForm, PatientId, SessionDep
from mildpath.web.downloads import FHIR_JSON, attachment
from mildpath.web.pages._common import form_errors, redirect, render

router = APIRouter(include_in_schema=False)

PATIENT_TABS = [
    {
        "href": "/admin/patients/{id}/rights",
        "label": "Data rights",
        "blurb": "Export the whole record, anonymise or erase it on request",
        "roles": ("admin",),
    }
]
FIELDS = ("reason", "reference", "confirm_mrn")


def _page(request: Request, session, actor, patient_id: int, **extra) -> Response:  # type: ignore[no-untyped-def]
    patient = patients_svc.view_patient(session, actor, patient_id)
    context = {
        "patient": patient,
        "reasons": svc.REASON_LABELS,
        "errors": [],
        "values": {},
        "form": None,
        "done": request.query_params.get("done", ""),
    }
    context.update(extra)
    return render(request, "patient_rights/patient.html", context, status_code=422 if extra.get("errors") else 200)


@router.get("/admin/patients/{patient_id}/rights")
def rights_page(request: Request, patient_id: PatientId, actor: Admin, session: SessionDep) -> Response:
    return _page(request, session, actor, patient_id)


@router.get("/admin/patient-rights")
def erased_page(request: Request, actor: Admin) -> Response:
    """Where an erasure lands: the record is gone, so there is no patient page to return to."""
    return render(request, "patient_rights/erased.html", {"erased": request.query_params.get("erased", "")})


async def _values(request: Request) -> dict[str, str]:
    form = await request.form()
    return {k: str(form.get(k, "")).strip() for k in FIELDS}


@router.post("/admin/patients/{patient_id}/export")
async def export(request: Request, patient_id: PatientId, actor: AdminForm, session: SessionDep) -> Response:
    values = await _values(request)
    try:
        data = svc.RightsRequest.model_validate({"reason": values["reason"], "reference": values["reference"]})
        bundle = svc.export_patient(session, actor, patient_id, data, now=clock.now())
    except (ValidationError, InvalidInput) as exc:
        return _page(request, session, actor, patient_id, errors=form_errors(exc), values=values, form="export")
    return attachment(json.dumps(bundle, indent=2), FHIR_JSON, f"patient-{patient_id}.fhir.json")


@router.post("/admin/patients/{patient_id}/anonymise")
async def anonymise(request: Request, patient_id: PatientId, actor: AdminForm, session: SessionDep) -> Response:
    values = await _values(request)
    try:
        data = svc.ConfirmedRightsRequest.model_validate(values)
        svc.anonymise_patient(session, actor, patient_id, data, now=clock.now())
    except (ValidationError, InvalidInput, Conflict) as exc:
        errors = [{"field": "form", "message": exc.message}] if isinstance(exc, Conflict) else form_errors(exc)
        return _page(request, session, actor, patient_id, errors=errors, values=values, form="anonymise")
    return redirect(f"/admin/patients/{patient_id}/rights?done=anonymised")


@router.post("/admin/patients/{patient_id}/erase")
async def erase(request: Request, patient_id: PatientId, actor: AdminForm, session: SessionDep) -> Response:
    values = await _values(request)
    try:
        data = svc.ConfirmedRightsRequest.model_validate(values)
        svc.erase_patient(session, actor, patient_id, data)
    except (ValidationError, InvalidInput) as exc:
        return _page(request, session, actor, patient_id, errors=form_errors(exc), values=values, form="erase")
    return redirect(f"/admin/patient-rights?erased={patient_id}")
