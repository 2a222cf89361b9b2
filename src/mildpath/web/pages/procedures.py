"""Procedure-day pages for the bedside (issue 5): the day's list, each patient's procedures, and one page per
step of a procedure day: checklist, start (with the clinician's override), procedure record, observation and
discharge, adverse events and later interventions, and the printable documents.

Pages are built for a tablet held at the bedside: one step per page, large touch targets, the step bar on top.
Every POST re-renders its form with what was typed and the messages when it is refused (422 for invalid input,
409 when a safety rule or the procedure's state stops it), and redirects (303) when it is saved.

Patients see their own procedures' summary and download their discharge instructions; the rest is staff-only.
The procedure note and the instructions print from standalone documents (``reports.procedure_note``) served
with their own Content-Security-Policy: no script at all, and the document's embedded stylesheet allowed.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response
from starlette.datastructures import FormData

from mildpath.content.procedure import patient_texts
from mildpath.content.procedure import policies as load_policies
from mildpath.domain.errors import Conflict, InvalidInput, MildpathError, RuleViolation
from mildpath.domain.inputs import check_text
from mildpath.domain.procedure import ChecklistItemId
from mildpath.services import clock
from mildpath.services import procedure_exports as exports
from mildpath.services import procedures as svc
from mildpath.web.deps import (
    PatientId,
    PatientRecordActor,
    RecordId,
    SessionDep,
    SettingsDep,
    Staff,
    StaffPatientRecordActor,
    StaffPatientRecordForm,
)
from mildpath.web.forms import form_date
from mildpath.web.i18n import N_, negotiate
from mildpath.web.pages import _procedure_forms as forms
from mildpath.web.pages._common import redirect, render

router = APIRouter(include_in_schema=False)

NAV = {
    "staff": [{"href": "/procedures/today", "label": "Today's list", "blurb": "Procedures scheduled for today"}],
}
PATIENT_TABS = [
    {
        "href": "/patients/{id}/procedures",
        "label": "Procedure day",
        "blurb": "Checklist, procedure record, observation, discharge and documents",
        "roles": ("clinician", "admin"),
    },
    {
        "href": "/patients/{id}/procedures",
        "label": "My procedure",
        "blurb": "Your procedure summary and discharge instructions",
        "roles": ("patient",),
    },
]

# The printable documents carry their own <style>; they hold no script, so none is allowed at all.
PRINT_CSP = (
    "default-src 'none'; style-src 'unsafe-inline'; img-src data:; frame-ancestors 'none'; "
    "base-uri 'none'; form-action 'none'"
)
STATUS_LABELS = {
    "scheduled": N_("Scheduled"),
    "in_progress": N_("In progress"),
    "completed": N_("Completed"),
    "cancelled": N_("Cancelled"),
}
ITEM_STATUS = {"done": "Done", "open": "Open", "not_applicable": "Not applicable"}
# Which checklist section answers which item (the form's fieldsets follow the content's item order).
ITEM_SECTIONS = {
    ChecklistItemId.CONSENT_SIGNED: "consent",
    ChecklistItemId.IMAGING_REVIEWED: "imaging",
    ChecklistItemId.ANTICOAGULATION_PLAN: "anticoagulation",
    ChecklistItemId.ALLERGIES_REVIEWED: "allergies",
    ChecklistItemId.FASTING_SEDATION_INSTRUCTIONS: "instructions",
    ChecklistItemId.ESCORT_ARRANGED: "escort",
    ChecklistItemId.NO_ACTIVE_INFECTION: "infection",
}


def _url(patient_id: int, procedure_id: int, step: str = "") -> str:
    return f"/patients/{patient_id}/procedures/{procedure_id}" + (f"/{step}" if step else "")


def _steps(view: svc.ProcedureView) -> list[dict[str, str]]:
    """The step bar: each step's link and state (``done``, ``todo`` or ``blocked``)."""
    open_items = len(view.evaluation.open_required)
    started = view.status in ("in_progress", "completed")
    left = view.discharge is not None
    url = _url(view.patient_id, view.id)
    checklist_note = "all required items done" if not open_items else f"{open_items} required open"
    if view.override is not None:
        checklist_note = "overridden at the start"
    return [
        {
            "href": url + "/checklist",
            "label": "Checklist",
            "note": checklist_note,
            "state": "done" if not open_items or started else "todo",
        },
        {
            "href": url + "/start",
            "label": "Start",
            "note": forms.local_time(view.started_at) or "not started",
            "state": "done" if started else ("todo" if not open_items else "blocked"),
        },
        {
            "href": url + "/record",
            "label": "Procedure record",
            "note": f"{view.duration_minutes} min" if view.duration_minutes is not None else "to complete",
            "state": "done" if view.status == "completed" else ("todo" if started else "blocked"),
        },
        {
            "href": url + "/observation",
            "label": "Observation & discharge",
            "note": _outcome_text(view) if left else f"{len(view.observations)} observation(s)",
            "state": "done" if left else ("todo" if started else "blocked"),
        },
        {
            "href": url + "/events",
            "label": "Events",
            "note": f"{len(view.adverse_events)} adverse, {len(view.reinterventions)} later",
            "state": "todo" if started else "blocked",
        },
    ]


def _outcome_text(view: svc.ProcedureView) -> str:
    if view.discharge is None:
        return ""
    if view.discharge.kind.value == "home":
        return f"home at {forms.local_time(view.discharge.at)}"
    return f"kept overnight from {forms.local_time(view.discharge.at)}"


def _context(view: svc.ProcedureView, **extra: Any) -> dict[str, Any]:
    return {
        "proc": view,
        "steps": _steps(view),
        "status_labels": STATUS_LABELS,
        "item_status": ITEM_STATUS,
        "hhmm": forms.local_time,
        "outcome_text": _outcome_text(view),
        "base_url": _url(view.patient_id, view.id),
        **extra,
    }


def _errors(exc: MildpathError) -> list[dict[str, str]]:
    """Every message of a refused change: all the record's errors, or the one message."""
    listed = exc.data.get("errors") if isinstance(exc, InvalidInput) else None
    if listed:
        return [{"field": str(e.get("field", "")), "message": str(e.get("message", ""))} for e in listed]
    field = exc.field if isinstance(exc, InvalidInput) else None
    return [{"field": field or "", "message": exc.message}]


def _status_of(exc: MildpathError) -> int:
    return 409 if isinstance(exc, Conflict | RuleViolation) else 422


def _accept(
    parsed: tuple[dict[str, Any], forms.Errors], save: Callable[[dict[str, Any]], object], done: str
) -> Response | tuple[forms.Errors, int]:
    """The one way a procedure form is accepted: a form that reads (``parsed``: the data and the fields it could
    not read) is saved by ``save`` and answered with a redirect to ``done``; otherwise the errors to show again
    with their status (422 for the form's own errors, the service's status for its refusals)."""
    data, errors = parsed
    if errors:
        return errors, 422
    try:
        save(data)
    except (InvalidInput, Conflict) as exc:
        return _errors(exc), _status_of(exc)
    return redirect(done)


async def _form(request: Request, names: list[str] | None = None) -> forms.FormValues:
    data: FormData = await request.form()
    return forms.form_values(data, names)


def _document(content: bytes, *, pdf: bool, filename: str) -> Response:
    if pdf:
        return Response(
            content,
            media_type="application/pdf",
            headers={"Content-Disposition": f'attachment; filename="{filename}.pdf"'},
        )
    return Response(content, media_type="text/html; charset=utf-8", headers={"Content-Security-Policy": PRINT_CSP})


# ------------------------------------------------------------------------------------------ lists


@router.get("/procedures/today")
def today_list(request: Request, actor: Staff, session: SessionDep) -> Response:
    """Procedures scheduled today for the clinician's clinic, with what is still open."""
    today = clock.today()
    rows = svc.todays_list(session, actor, today=today)
    return render(request, "procedures/today.html", {"rows": rows, "today": today, "status_labels": STATUS_LABELS})


def _tab(
    request: Request,
    session: SessionDep,
    actor: Any,
    patient_id: int,
    *,
    values: dict[str, str] | None = None,
    errors: list[dict[str, str]] | None = None,
    status_code: int = 200,
) -> Response:
    summaries = svc.list_summaries(session, actor, patient_id)
    staff = actor.role != "patient"
    return render(
        request,
        "procedures/list.html",
        {
            "patient_id": patient_id,
            "summaries": summaries,
            "status_labels": STATUS_LABELS,
            "operators": svc.operators(session, actor, patient_id) if staff else [],
            "values": values or {"scheduled_date": "", "operator_user_id": str(actor.user_id or "")},
            "errors": errors or [],
            "hhmm": forms.local_time,
            "has_open": any(s.status in ("scheduled", "in_progress") for s in summaries),
        },
        status_code=status_code,
    )


@router.get("/patients/{patient_id}/procedures")
def procedures_tab(request: Request, patient_id: PatientId, actor: PatientRecordActor, session: SessionDep) -> Response:
    """Staff: the patient's procedures and the schedule form. A patient: their procedures' summaries."""
    return _tab(request, session, actor, patient_id)


@router.post("/patients/{patient_id}/procedures")
async def schedule(
    request: Request, patient_id: PatientId, actor: StaffPatientRecordForm, session: SessionDep
) -> Response:
    values = await _form(request, ["scheduled_date", "operator_user_id"])
    errors: list[dict[str, str]] = []
    try:
        when = form_date(values.get("scheduled_date", ""))
    except ValueError:
        errors.append({"field": "scheduled_date", "message": "choose the day of the procedure"})
    operator = values.get("operator_user_id", "")
    if operator and not operator.isdigit():
        errors.append({"field": "operator_user_id", "message": "choose an operator"})
    if not errors:
        try:
            data = svc.ProcedureSchedule(scheduled_date=when, operator_user_id=int(operator) if operator else None)
            view = svc.schedule_procedure(session, actor, patient_id, data, today=clock.today(), now=clock.now())
        except (InvalidInput, Conflict) as exc:
            return _tab(
                request, session, actor, patient_id, values=values, errors=_errors(exc), status_code=_status_of(exc)
            )
        return redirect(_url(patient_id, view.id, "checklist"))
    return _tab(request, session, actor, patient_id, values=values, errors=errors, status_code=422)


@router.get("/patients/{patient_id}/procedures/{procedure_id}")
def overview(
    request: Request, patient_id: PatientId, procedure_id: RecordId, actor: PatientRecordActor, session: SessionDep
) -> Response:
    """Staff: the day at a glance with its steps. A patient: the summary and the discharge instructions."""
    if actor.role == "patient":
        summary = svc.get_summary(session, actor, patient_id, procedure_id)
        return render(
            request,
            "procedures/summary.html",
            {"summary": summary, "status_labels": STATUS_LABELS, "hhmm": forms.local_time, "texts": patient_texts()},
        )
    view = svc.get_procedure(session, actor, patient_id, procedure_id, today=clock.today())
    return render(request, "procedures/overview.html", _context(view))


@router.post("/patients/{patient_id}/procedures/{procedure_id}/cancel")
async def cancel(
    request: Request, patient_id: PatientId, procedure_id: RecordId, actor: StaffPatientRecordForm, session: SessionDep
) -> Response:
    values = await _form(request, ["cancel_reason"])
    try:
        check_text(values.get("cancel_reason", ""), "reason")  # the API's text rules (domain/inputs.py)
        svc.cancel_procedure(
            session,
            actor,
            patient_id,
            procedure_id,
            values.get("cancel_reason", ""),
            today=clock.today(),
            now=clock.now(),
        )
    except (InvalidInput, Conflict) as exc:
        view = svc.get_procedure(session, actor, patient_id, procedure_id, today=clock.today())
        return render(
            request, "procedures/overview.html", _context(view, errors=_errors(exc)), status_code=_status_of(exc)
        )
    return redirect(f"/patients/{patient_id}/procedures")


# ------------------------------------------------------------------------------------------ checklist and start


def _checklist_page(
    request: Request,
    view: svc.ProcedureView,
    values: dict[str, str],
    errors: list[dict[str, str]] | None = None,
    status_code: int = 200,
) -> Response:
    pol = load_policies()
    return render(
        request,
        "procedures/checklist.html",
        _context(
            view,
            values=values,
            errors=errors or [],
            pol=pol,
            sections=ITEM_SECTIONS,
            holds=pol.checklist.hold_intervals,
            never_stop=pol.checklist.never_stop_rule,
            fasting=patient_texts().fasting_instructions,
            med_rows=range(forms.MEDICATION_ROWS),
        ),
        status_code=status_code,
    )


@router.get("/patients/{patient_id}/procedures/{procedure_id}/checklist")
def checklist_page(
    request: Request, patient_id: PatientId, procedure_id: RecordId, actor: StaffPatientRecordActor, session: SessionDep
) -> Response:
    view = svc.get_procedure(session, actor, patient_id, procedure_id, today=clock.today())
    return _checklist_page(request, view, forms.checklist_values(view.checklist))


@router.post("/patients/{patient_id}/procedures/{procedure_id}/checklist")
async def save_checklist(
    request: Request, patient_id: PatientId, procedure_id: RecordId, actor: StaffPatientRecordForm, session: SessionDep
) -> Response:
    pol = load_policies()
    values = await _form(request, forms.checklist_fields(pol))
    answer = _accept(
        forms.checklist_from_form(values, pol),
        lambda data: svc.update_checklist(
            session, actor, patient_id, procedure_id, data, today=clock.today(), now=clock.now()
        ),
        _url(patient_id, procedure_id, "checklist") + "?saved=1",
    )
    if isinstance(answer, Response):
        return answer
    errors, status = answer
    view = svc.get_procedure(session, actor, patient_id, procedure_id, today=clock.today())
    return _checklist_page(request, view, values, errors, status)


@router.get("/patients/{patient_id}/procedures/{procedure_id}/start")
def start_page(
    request: Request, patient_id: PatientId, procedure_id: RecordId, actor: StaffPatientRecordActor, session: SessionDep
) -> Response:
    view = svc.get_procedure(session, actor, patient_id, procedure_id, today=clock.today())
    return render(request, "procedures/start.html", _context(view, errors=[], reason="", today=clock.today()))


@router.post("/patients/{patient_id}/procedures/{procedure_id}/start")
async def start(
    request: Request, patient_id: PatientId, procedure_id: RecordId, actor: StaffPatientRecordForm, session: SessionDep
) -> Response:
    values = await _form(request, ["override_reason"])
    reason = values.get("override_reason", "")
    try:
        svc.start_procedure(session, actor, patient_id, procedure_id, now=clock.now(), override_reason=reason or None)
    except (InvalidInput, Conflict, RuleViolation) as exc:
        view = svc.get_procedure(session, actor, patient_id, procedure_id, today=clock.today())
        ctx = _context(view, errors=_errors(exc), reason=reason, today=clock.today())
        return render(request, "procedures/start.html", ctx, status_code=_status_of(exc))
    return redirect(_url(patient_id, procedure_id, "record"))


# ------------------------------------------------------------------------------------------ record


def _record_page(
    request: Request,
    view: svc.ProcedureView,
    values: dict[str, str],
    errors: list[dict[str, str]] | None = None,
    status_code: int = 200,
) -> Response:
    return render(
        request,
        "procedures/record.html",
        _context(view, values=values, errors=errors or [], rp=load_policies().record),
        status_code=status_code,
    )


@router.get("/patients/{patient_id}/procedures/{procedure_id}/record")
def record_page(
    request: Request, patient_id: PatientId, procedure_id: RecordId, actor: StaffPatientRecordActor, session: SessionDep
) -> Response:
    view = svc.get_procedure(session, actor, patient_id, procedure_id, today=clock.today())
    values = forms.record_values(view.record, operator=view.operator_name, started_at=view.started_at)
    return _record_page(request, view, values)


@router.post("/patients/{patient_id}/procedures/{procedure_id}/record")
async def save_record(
    request: Request, patient_id: PatientId, procedure_id: RecordId, actor: StaffPatientRecordForm, session: SessionDep
) -> Response:
    pol = load_policies()
    values = await _form(request, forms.record_fields(pol))
    view = svc.get_procedure(session, actor, patient_id, procedure_id, today=clock.today())
    answer = _accept(
        forms.record_from_form(values, view.scheduled_date, pol),
        lambda data: svc.save_record(session, actor, patient_id, procedure_id, data, now=clock.now()),
        _url(patient_id, procedure_id, "record") + "?saved=1",
    )
    if isinstance(answer, Response):
        return answer
    errors, status = answer
    return _record_page(request, view, values, errors, status)


# ------------------------------------------------------------------------------------------ observation, discharge


def _observation_page(
    request: Request,
    view: svc.ProcedureView,
    *,
    values: dict[str, str] | None = None,
    errors: list[dict[str, str]] | None = None,
    discharge_values: dict[str, str] | None = None,
    discharge_errors: list[dict[str, str]] | None = None,
    status_code: int = 200,
) -> Response:
    now = forms.local_time(clock.now())
    return render(
        request,
        "procedures/observation.html",
        _context(
            view,
            rows=[forms.observation_row(o.entry) for o in view.observations],
            values=values or {"at_time": now},
            errors=errors or [],
            discharge_values=discharge_values or {"discharge_time": now, "overnight_time": now},
            discharge_errors=discharge_errors or [],
            pain_options=[("", "—")] + [(str(n), str(n)) for n in range(11)],  # source: nprs (0-10)
        ),
        status_code=status_code,
    )


@router.get("/patients/{patient_id}/procedures/{procedure_id}/observation")
def observation_page(
    request: Request, patient_id: PatientId, procedure_id: RecordId, actor: StaffPatientRecordActor, session: SessionDep
) -> Response:
    view = svc.get_procedure(session, actor, patient_id, procedure_id, today=clock.today())
    return _observation_page(request, view)


@router.post("/patients/{patient_id}/procedures/{procedure_id}/observation")
async def add_observation(
    request: Request, patient_id: PatientId, procedure_id: RecordId, actor: StaffPatientRecordForm, session: SessionDep
) -> Response:
    values = await _form(request, forms.OBSERVATION_FIELDS)
    answer = _accept(
        forms.observation_from_form(values, clock.today()),
        lambda data: svc.add_observation(session, actor, patient_id, procedure_id, data, now=clock.now()),
        _url(patient_id, procedure_id, "observation") + "#discharge",
    )
    if isinstance(answer, Response):
        return answer
    errors, status = answer
    view = svc.get_procedure(session, actor, patient_id, procedure_id, today=clock.today())
    return _observation_page(request, view, values=values, errors=errors, status_code=status)


@router.post("/patients/{patient_id}/procedures/{procedure_id}/discharge")
async def discharge(
    request: Request,
    patient_id: PatientId,
    procedure_id: RecordId,
    actor: StaffPatientRecordForm,
    session: SessionDep,
    settings: SettingsDep,
) -> Response:
    values = await _form(request, ["escort_present", "escort_name", "instructions_given", "discharge_time"])
    errors: list[dict[str, str]] = []
    at = forms.at_datetime(values, "discharge_time", "at", clock.today(), errors)
    status = 422
    if not errors:
        readiness = {
            "escort_present": values.get("escort_present") == "1",
            "escort_name": values.get("escort_name", ""),
            "written_instructions_given": values.get("instructions_given") == "1",
        }
        try:
            svc.discharge(
                session,
                actor,
                patient_id,
                procedure_id,
                readiness,
                now=clock.now(),
                at=at,
                fallback_phone=settings.clinic_phone,
            )
        except (InvalidInput, Conflict, RuleViolation) as exc:
            errors, status = _errors(exc), _status_of(exc)
        else:
            return redirect(_url(patient_id, procedure_id))
    view = svc.get_procedure(session, actor, patient_id, procedure_id, today=clock.today())
    return _observation_page(request, view, discharge_values=values, discharge_errors=errors, status_code=status)


@router.post("/patients/{patient_id}/procedures/{procedure_id}/overnight")
async def overnight(
    request: Request, patient_id: PatientId, procedure_id: RecordId, actor: StaffPatientRecordForm, session: SessionDep
) -> Response:
    values = await _form(request, ["overnight_reason", "overnight_time"])
    errors: list[dict[str, str]] = []
    at = forms.at_datetime(values, "overnight_time", "at", clock.today(), errors)
    status = 422
    if not errors:
        try:
            svc.keep_overnight(
                session,
                actor,
                patient_id,
                procedure_id,
                values.get("overnight_reason", ""),
                now=clock.now(),
                at=at,
            )
        except (InvalidInput, Conflict) as exc:
            errors, status = _errors(exc), _status_of(exc)
        else:
            return redirect(_url(patient_id, procedure_id))
    view = svc.get_procedure(session, actor, patient_id, procedure_id, today=clock.today())
    return _observation_page(request, view, discharge_values=values, discharge_errors=errors, status_code=status)


# ------------------------------------------------------------------------------------------ events


def _events_page(
    request: Request,
    view: svc.ProcedureView,
    *,
    values: dict[str, str] | None = None,
    errors: list[dict[str, str]] | None = None,
    r_values: dict[str, str] | None = None,
    r_errors: list[dict[str, str]] | None = None,
    status_code: int = 200,
) -> Response:
    return render(
        request,
        "procedures/events.html",
        _context(
            view,
            ep=load_policies().events,
            values=values or {},
            errors=errors or [],
            r_values=r_values or {},
            r_errors=r_errors or [],
            severities=("mild", "moderate", "severe"),
            outcomes=("resolved", "recovering", "ongoing", "resolvedWithSequelae", "fatal", "unknown"),
        ),
        status_code=status_code,
    )


@router.get("/patients/{patient_id}/procedures/{procedure_id}/events")
def events_page(
    request: Request, patient_id: PatientId, procedure_id: RecordId, actor: StaffPatientRecordActor, session: SessionDep
) -> Response:
    view = svc.get_procedure(session, actor, patient_id, procedure_id, today=clock.today())
    return _events_page(request, view)


@router.post("/patients/{patient_id}/procedures/{procedure_id}/events/adverse")
async def add_adverse_event(
    request: Request, patient_id: PatientId, procedure_id: RecordId, actor: StaffPatientRecordForm, session: SessionDep
) -> Response:
    values = await _form(request, forms.ADVERSE_FIELDS)
    answer = _accept(
        forms.adverse_event_from_form(values),
        lambda data: svc.record_adverse_event(
            session, actor, patient_id, procedure_id, data, today=clock.today(), now=clock.now()
        ),
        _url(patient_id, procedure_id, "events"),
    )
    if isinstance(answer, Response):
        return answer
    errors, status = answer
    view = svc.get_procedure(session, actor, patient_id, procedure_id, today=clock.today())
    return _events_page(request, view, values=values, errors=errors, status_code=status)


@router.post("/patients/{patient_id}/procedures/{procedure_id}/events/reintervention")
async def add_reintervention(
    request: Request, patient_id: PatientId, procedure_id: RecordId, actor: StaffPatientRecordForm, session: SessionDep
) -> Response:
    pol = load_policies()
    values = await _form(request, forms.reintervention_fields(pol))
    answer = _accept(
        forms.reintervention_from_form(values, pol),
        lambda data: svc.record_reintervention(
            session, actor, patient_id, procedure_id, data, today=clock.today(), now=clock.now()
        ),
        _url(patient_id, procedure_id, "events"),
    )
    if isinstance(answer, Response):
        return answer
    errors, status = answer
    view = svc.get_procedure(session, actor, patient_id, procedure_id, today=clock.today())
    return _events_page(request, view, r_values=values, r_errors=errors, status_code=status)


# ------------------------------------------------------------------------------------------ documents


@router.get("/patients/{patient_id}/procedures/{procedure_id}/note")
def note_print(
    request: Request, patient_id: PatientId, procedure_id: RecordId, actor: StaffPatientRecordActor, session: SessionDep
) -> Response:
    """The procedure note as a standalone page to print."""
    html = exports.procedure_note(session, actor, patient_id, procedure_id, fmt="html", today=clock.today())
    return _document(html, pdf=False, filename="")


@router.get("/patients/{patient_id}/procedures/{procedure_id}/note.pdf")
def note_pdf(
    request: Request, patient_id: PatientId, procedure_id: RecordId, actor: StaffPatientRecordActor, session: SessionDep
) -> Response:
    pdf = exports.procedure_note(session, actor, patient_id, procedure_id, fmt="pdf", today=clock.today())
    return _document(pdf, pdf=True, filename=f"procedure-note-{procedure_id}")


@router.get("/patients/{patient_id}/procedures/{procedure_id}/instructions")
def instructions_print(
    request: Request,
    patient_id: PatientId,
    procedure_id: RecordId,
    actor: PatientRecordActor,
    session: SessionDep,
    settings: SettingsDep,
) -> Response:
    """The discharge instructions as a standalone page to print (the patient may open their own)."""
    html = exports.discharge_instructions(
        session,
        actor,
        patient_id,
        procedure_id,
        fmt="html",
        fallback_phone=settings.clinic_phone,
        language=negotiate(request),
    )
    return _document(html, pdf=False, filename="")


@router.get("/patients/{patient_id}/procedures/{procedure_id}/instructions.pdf")
def instructions_pdf(
    request: Request,
    patient_id: PatientId,
    procedure_id: RecordId,
    actor: PatientRecordActor,
    session: SessionDep,
    settings: SettingsDep,
) -> Response:
    pdf = exports.discharge_instructions(
        session,
        actor,
        patient_id,
        procedure_id,
        fmt="pdf",
        fallback_phone=settings.clinic_phone,
        language=negotiate(request),
    )
    return _document(pdf, pdf=True, filename="discharge-instructions")
