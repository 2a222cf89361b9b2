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
from dataclasses import dataclass
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response
from starlette.datastructures import FormData

from mildpath.content.procedure import patient_texts
from mildpath.content.procedure import policies as load_policies
from mildpath.domain.errors import Conflict, InvalidInput, MildpathError, RuleViolation
from mildpath.domain.inputs import check_text
from mildpath.domain.procedure import ChecklistItemId, ProcedurePolicies
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
from mildpath.web.downloads import PDF, attachment
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


def _url_pattern(step: str) -> str:
    """The route path of a step page (``_url`` with the path parameters)."""
    return "/patients/{patient_id}/procedures/{procedure_id}/" + step


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


Parsed = tuple[dict[str, Any], forms.Errors]
# A refused form shown again: what was typed, the messages, the status.
ShowAgain = Callable[[forms.FormValues, forms.Errors, int], Response]
# A step form's record saved: (session, actor, patient id, procedure id, the parsed form).
Save = Callable[[SessionDep, Any, int, int, dict[str, Any]], object]


def _as_typed(values: forms.FormValues) -> Parsed:
    """A form whose values go to the service as they are (the service names what it refuses)."""
    return dict(values), []


async def _accept(
    request: Request,
    names: list[str],
    parse: Callable[[forms.FormValues], Parsed],
    save: Callable[[dict[str, Any]], Any],
    done: str | Callable[[Any], str],
    show_again: ShowAgain,
    refusals: tuple[type[MildpathError], ...] = (InvalidInput, Conflict),
) -> Response:
    """The one way a procedure form is accepted: the submitted ``names`` are read by ``parse`` (the data and the
    fields it could not read); a form that reads is saved by ``save`` and answered with a redirect to ``done``
    (a URL, or a function of what ``save`` returned); otherwise ``show_again`` shows the form with what was typed
    and the errors, with their status (422 for the form's own errors, the service's status for its
    ``refusals``)."""
    values = await _form(request, names)
    data, errors = parse(values)
    status = 422
    if not errors:
        try:
            saved = save(data)
        except refusals as exc:
            errors, status = _errors(exc), _status_of(exc)
        else:
            return redirect(done if isinstance(done, str) else done(saved))
    return show_again(values, errors, status)


async def _form(request: Request, names: list[str] | None = None) -> forms.FormValues:
    data: FormData = await request.form()
    return forms.form_values(data, names)


def _procedure(session: SessionDep, actor: Any, patient_id: int, procedure_id: int) -> svc.ProcedureView:
    """The procedure day a step page shows (read, and audited, by the service)."""
    return svc.get_procedure(session, actor, patient_id, procedure_id, today=clock.today())


def _document(content: bytes, *, pdf: bool, filename: str) -> Response:
    if pdf:
        return attachment(content, PDF, f"{filename}.pdf")
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
    def parse(values: forms.FormValues) -> Parsed:
        errors: forms.Errors = []
        data: dict[str, Any] = {}
        try:
            data["scheduled_date"] = form_date(values.get("scheduled_date", ""))
        except ValueError:
            errors.append({"field": "scheduled_date", "message": "choose the day of the procedure"})
        operator = values.get("operator_user_id", "")
        if operator and not operator.isdigit():
            errors.append({"field": "operator_user_id", "message": "choose an operator"})
        data["operator_user_id"] = int(operator) if operator.isdigit() else None
        return data, errors

    def save(data: dict[str, Any]) -> svc.ProcedureView:
        schedule = svc.ProcedureSchedule(**data)
        return svc.schedule_procedure(session, actor, patient_id, schedule, today=clock.today(), now=clock.now())

    return await _accept(
        request,
        ["scheduled_date", "operator_user_id"],
        parse,
        save,
        lambda view: _url(patient_id, view.id, "checklist"),
        lambda values, errors, status: _tab(
            request, session, actor, patient_id, values=values, errors=errors, status_code=status
        ),
    )


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
    view = _procedure(session, actor, patient_id, procedure_id)
    return render(request, "procedures/overview.html", _context(view))


@router.post("/patients/{patient_id}/procedures/{procedure_id}/cancel")
async def cancel(
    request: Request, patient_id: PatientId, procedure_id: RecordId, actor: StaffPatientRecordForm, session: SessionDep
) -> Response:
    def save(data: dict[str, Any]) -> None:
        reason = data.get("cancel_reason", "")
        check_text(reason, "reason")  # the API's text rules (domain/inputs.py)
        svc.cancel_procedure(session, actor, patient_id, procedure_id, reason, today=clock.today(), now=clock.now())

    return await _accept(
        request,
        ["cancel_reason"],
        _as_typed,
        save,
        f"/patients/{patient_id}/procedures",
        lambda values, errors, status: render(
            request,
            "procedures/overview.html",
            _context(_procedure(session, actor, patient_id, procedure_id), errors=errors),
            status_code=status,
        ),
    )


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


@router.post("/patients/{patient_id}/procedures/{procedure_id}/start")
async def start(
    request: Request, patient_id: PatientId, procedure_id: RecordId, actor: StaffPatientRecordForm, session: SessionDep
) -> Response:
    def show_again(values: forms.FormValues, errors: forms.Errors, status: int) -> Response:
        view = _procedure(session, actor, patient_id, procedure_id)
        ctx = _context(view, errors=errors, reason=values.get("override_reason", ""), today=clock.today())
        return render(request, "procedures/start.html", ctx, status_code=status)

    return await _accept(
        request,
        ["override_reason"],
        _as_typed,
        lambda data: svc.start_procedure(
            session,
            actor,
            patient_id,
            procedure_id,
            now=clock.now(),
            override_reason=data.get("override_reason") or None,
        ),
        _url(patient_id, procedure_id, "record"),
        show_again,
        (InvalidInput, Conflict, RuleViolation),
    )


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


@router.post("/patients/{patient_id}/procedures/{procedure_id}/record")
async def save_record(
    request: Request, patient_id: PatientId, procedure_id: RecordId, actor: StaffPatientRecordForm, session: SessionDep
) -> Response:
    pol = load_policies()
    view = _procedure(session, actor, patient_id, procedure_id)  # read once: its date is the times' day
    return await _accept(
        request,
        forms.record_fields(pol),
        lambda values: forms.record_from_form(values, view.scheduled_date, pol),
        lambda data: svc.save_record(session, actor, patient_id, procedure_id, data, now=clock.now()),
        _url(patient_id, procedure_id, "record") + "?saved=1",
        lambda values, errors, status: _record_page(request, view, values, errors, status),
    )


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


@router.post("/patients/{patient_id}/procedures/{procedure_id}/discharge")
async def discharge(
    request: Request,
    patient_id: PatientId,
    procedure_id: RecordId,
    actor: StaffPatientRecordForm,
    session: SessionDep,
    settings: SettingsDep,
) -> Response:
    return await _accept(
        request,
        ["escort_present", "escort_name", "instructions_given", "discharge_time"],
        lambda values: forms.discharge_from_form(values, clock.today()),
        lambda data: svc.discharge(
            session,
            actor,
            patient_id,
            procedure_id,
            data["readiness"],
            now=clock.now(),
            at=data["at"],
            fallback_phone=settings.clinic_phone,
        ),
        _url(patient_id, procedure_id),
        _show_leaving(request, session, actor, patient_id, procedure_id),
        (InvalidInput, Conflict, RuleViolation),
    )


@router.post("/patients/{patient_id}/procedures/{procedure_id}/overnight")
async def overnight(
    request: Request, patient_id: PatientId, procedure_id: RecordId, actor: StaffPatientRecordForm, session: SessionDep
) -> Response:
    return await _accept(
        request,
        ["overnight_reason", "overnight_time"],
        lambda values: forms.overnight_from_form(values, clock.today()),
        lambda data: svc.keep_overnight(
            session, actor, patient_id, procedure_id, data["reason"], now=clock.now(), at=data["at"]
        ),
        _url(patient_id, procedure_id),
        _show_leaving(request, session, actor, patient_id, procedure_id),
    )


def _show_leaving(request: Request, session: SessionDep, actor: Any, patient_id: int, procedure_id: int) -> ShowAgain:
    """A refused discharge or overnight stay: the observation page with the form of the two shown again."""
    return lambda values, errors, status: _observation_page(
        request,
        _procedure(session, actor, patient_id, procedure_id),
        discharge_values=values,
        discharge_errors=errors,
        status_code=status,
    )


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


# ------------------------------------------------------------------------------------------ step pages and forms
# Each step page is shown the same way (the procedure day read for the staff member, then the step's page), and
# the forms that add or replace one record of the day (the checklist, an observation, an adverse event, a later
# intervention) are accepted the same way: one table each, one function registering its routes.

STEP_PAGES: tuple[tuple[str, str, Callable[[Request, svc.ProcedureView], Response]], ...] = (
    # (step, the route's name, the page showing what is stored)
    (
        "checklist",
        "checklist_page",
        lambda request, view: _checklist_page(request, view, forms.checklist_values(view.checklist)),
    ),
    (
        "start",
        "start_page",
        lambda request, view: render(
            request, "procedures/start.html", _context(view, errors=[], reason="", today=clock.today())
        ),
    ),
    (
        "record",
        "record_page",
        lambda request, view: _record_page(
            request, view, forms.record_values(view.record, operator=view.operator_name, started_at=view.started_at)
        ),
    ),
    ("observation", "observation_page", _observation_page),
    ("events", "events_page", _events_page),
)


def _add_step_page_route(step: str, name: str, show: Callable[[Request, svc.ProcedureView], Response]) -> None:
    def page(
        request: Request,
        patient_id: PatientId,
        procedure_id: RecordId,
        actor: StaffPatientRecordActor,
        session: SessionDep,
    ) -> Response:
        return show(request, _procedure(session, actor, patient_id, procedure_id))

    router.add_api_route(_url_pattern(step), page, methods=["GET"], name=name)


for _page in STEP_PAGES:
    _add_step_page_route(*_page)


@dataclass(frozen=True)
class _StepForm:
    """A form adding or replacing one record of the procedure day: posted to ``step``, read by ``parse``, saved
    by ``save``; saved, it goes on to ``done``; refused, the ``page`` of the step shows it again under its keywords
    ``shown_as`` (values, errors)."""

    step: str
    name: str  # the route's name
    fields: Callable[[ProcedurePolicies], list[str]]
    parse: Callable[[forms.FormValues, ProcedurePolicies], Parsed]
    save: Save
    done: str
    page: Callable[..., Response]
    shown_as: tuple[str, str] = ("values", "errors")


def _today_and_now(service: Callable[..., object]) -> Save:
    """A service saving a step's record that takes the clinic's day and the time, called with today and now."""
    return lambda session, actor, patient_id, procedure_id, data: service(
        session, actor, patient_id, procedure_id, data, today=clock.today(), now=clock.now()
    )


STEP_FORMS = (
    _StepForm(
        "checklist",
        "save_checklist",
        forms.checklist_fields,
        forms.checklist_from_form,
        _today_and_now(svc.update_checklist),
        "checklist?saved=1",
        _checklist_page,
    ),
    _StepForm(
        "observation",
        "add_observation",
        lambda pol: forms.OBSERVATION_FIELDS,
        lambda values, pol: forms.observation_from_form(values, clock.today()),
        lambda session, actor, patient_id, procedure_id, data: svc.add_observation(
            session, actor, patient_id, procedure_id, data, now=clock.now()
        ),
        "observation#discharge",
        _observation_page,
    ),
    _StepForm(
        "events/adverse",
        "add_adverse_event",
        lambda pol: forms.ADVERSE_FIELDS,
        lambda values, pol: forms.adverse_event_from_form(values),
        _today_and_now(svc.record_adverse_event),
        "events",
        _events_page,
    ),
    _StepForm(
        "events/reintervention",
        "add_reintervention",
        forms.reintervention_fields,
        forms.reintervention_from_form,
        _today_and_now(svc.record_reintervention),
        "events",
        _events_page,
        ("r_values", "r_errors"),
    ),
)


def _add_step_form_route(form: _StepForm) -> None:
    async def accept(
        request: Request,
        patient_id: PatientId,
        procedure_id: RecordId,
        actor: StaffPatientRecordForm,
        session: SessionDep,
    ) -> Response:
        pol = load_policies()
        values_as, errors_as = form.shown_as
        return await _accept(
            request,
            form.fields(pol),
            lambda values: form.parse(values, pol),
            lambda data: form.save(session, actor, patient_id, procedure_id, data),
            _url(patient_id, procedure_id, form.done),
            lambda values, errors, status: form.page(
                request,
                _procedure(session, actor, patient_id, procedure_id),
                **{values_as: values, errors_as: errors},
                status_code=status,
            ),
        )

    router.add_api_route(_url_pattern(form.step), accept, methods=["POST"], name=form.name)


for _form_of in STEP_FORMS:
    _add_step_form_route(_form_of)


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
