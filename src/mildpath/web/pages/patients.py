"""Patient list, search, registration, chart and edit pages."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response
from pydantic import ValidationError
from sqlalchemy.orm import Session

from mildpath.domain.errors import Conflict, InvalidInput
from mildpath.services import patients as svc
from mildpath.services.clock import today
from mildpath.web.deps import PatientId, PatientRecordActor, SessionDep, Staff, StaffForm
from mildpath.web.i18n import N_
from mildpath.web.pages._common import blank_to_none, form_errors, redirect, render

router = APIRouter(include_in_schema=False)

# The chart shows the stored FHIR AdministrativeGender code in words of the viewer's language.
SEX_LABELS = {"female": N_("female"), "male": N_("male"), "other": N_("other"), "unknown": N_("unknown")}
assert set(SEX_LABELS) == set(svc.SEXES)
FIELDS = ("mrn", "given_name", "family_name", "birth_date", "sex", "phone", "email", "address", "preferred_language")


@router.get("/patients")
def patient_list(request: Request, actor: Staff, session: SessionDep, q: str = "", page: int = 1) -> Response:
    page = max(page, 1)
    rows, total = svc.search_patients(session, actor, q[:100], limit=50, offset=(page - 1) * 50)
    extra = _list_extras(request, session, [p.id for p in rows])
    patients = [{**_plain(p), "extra": extra.get(p.id, {})} for p in rows]
    return render(
        request,
        "patients/list.html",
        {"patients": patients, "total": total, "q": q, "list_columns": request.app.state.list_columns},
    )


def _list_extras(request: Request, session: Session, ids: list[int]) -> dict[int, dict[str, Any]]:
    """Columns other subjects add to the list (for example the latest screening status), fetched in bulk."""
    out: dict[int, dict[str, Any]] = {}
    for column in request.app.state.list_columns:
        for pid, value in column["values"](session, ids).items():
            out.setdefault(pid, {})[column["key"]] = value
    return out


def _plain(p: Any) -> dict[str, Any]:
    return {
        "id": p.id,
        "mrn": p.mrn,
        "given_name": p.given_name,
        "family_name": p.family_name,
        "birth_date": p.birth_date,
        "sex": p.sex,
    }


@router.get("/patients/new")
def new_patient(request: Request, actor: Staff) -> Response:
    return render(request, "patients/form.html", {"values": {}, "errors": [], "sexes": svc.SEXES, "patient_id": None})


@router.post("/patients")
async def create_patient(request: Request, actor: StaffForm, session: SessionDep) -> Response:
    form = await request.form()
    values = {k: str(form.get(k, "")) for k in FIELDS}
    try:
        data = svc.PatientIn.model_validate(
            blank_to_none(values) | {"phone": values["phone"], "address": values["address"]}
        )
        patient = svc.create_patient(session, actor, data, today=today())
    except (ValidationError, InvalidInput, Conflict) as exc:
        errors = form_errors(exc) if not isinstance(exc, Conflict) else [{"field": "mrn", "message": exc.message}]
        return render(
            request,
            "patients/form.html",
            {"values": values, "errors": errors, "sexes": svc.SEXES, "patient_id": None},
            status_code=422,
        )
    return redirect(f"/patients/{patient.id}")


@router.get("/patients/{patient_id}")
def patient_chart(request: Request, patient_id: PatientId, actor: PatientRecordActor, session: SessionDep) -> Response:
    patient = svc.view_patient(session, actor, patient_id)
    tabs = [
        {**tab, "href": tab["href"].format(id=patient.id)}
        for tab in request.app.state.patient_tabs
        if actor.role in tab.get("roles", ("patient", "clinician", "admin"))
    ]
    return render(
        request,
        "patients/detail.html",
        {
            "patient": patient,
            "age": svc.age_on(patient.birth_date, today()),
            "clinic_name": svc.clinic_name(session, patient.clinic_id),
            "tabs": tabs,
            "sex_labels": SEX_LABELS,
        },
    )


@router.get("/patients/{patient_id}/edit")
def edit_patient(request: Request, patient_id: PatientId, actor: Staff, session: SessionDep) -> Response:
    patient = svc.view_patient(session, actor, patient_id)
    values = {k: getattr(patient, k) for k in FIELDS}
    return render(
        request, "patients/form.html", {"values": values, "errors": [], "sexes": svc.SEXES, "patient_id": patient.id}
    )


@router.post("/patients/{patient_id}")
async def update_patient(request: Request, patient_id: PatientId, actor: StaffForm, session: SessionDep) -> Response:
    form = await request.form()
    values = {k: str(form.get(k, "")) for k in FIELDS if k != "mrn"}
    try:
        data = svc.PatientUpdate.model_validate(
            blank_to_none(values) | {"phone": values["phone"], "address": values["address"]}
        )
        svc.update_patient(session, actor, patient_id, data, today=today())
    except (ValidationError, InvalidInput) as exc:
        return render(
            request,
            "patients/form.html",
            {"values": values, "errors": form_errors(exc), "sexes": svc.SEXES, "patient_id": patient_id},
            status_code=422,
        )
    return redirect(f"/patients/{patient_id}")
