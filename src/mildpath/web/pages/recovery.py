"""Recovery pages: the patient's timeline ("Today is day 5"), the phone-first symptom diary with its advice at
once, the diary history, and the clinicians' worklist of flagged patients (issue 6).

Patients reach their own pages from the navigation (``/me/recovery``, ``/me/diary``); staff reach a patient's
from the chart tabs, and the worklist from the navigation. The worklist's acknowledge and resolve forms work
as plain POSTs and, with HTMX, swap only the flag's card.
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any

from babel.dates import format_datetime
from fastapi import APIRouter, Request
from fastapi.responses import Response
from pydantic import ValidationError
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import FormData

from mildpath.content.education import emergency_signs
from mildpath.content.symptoms import load_symptom_vocabulary
from mildpath.domain.diary import INCISION_FINE, INCISION_SIGNS
from mildpath.domain.errors import Conflict, InvalidInput
from mildpath.domain.inputs import check_text
from mildpath.services import clock
from mildpath.services import patients as patients_svc
from mildpath.services import recovery as svc
from mildpath.services.access import Actor
from mildpath.web.deps import (
    DiaryRecordActor,
    DiaryRecordForm,
    PatientId,
    PatientSelf,
    PlanRecordActor,
    RecordId,
    SessionDep,
    Staff,
    StaffForm,
    StaffPatientRecordForm,
)
from mildpath.web.downloads import CALENDAR, attachment
from mildpath.web.i18n import current_language, negotiate
from mildpath.web.pages import _plan_wording
from mildpath.web.pages._common import form_errors, redirect, render

router = APIRouter(include_in_schema=False)

NAV = {
    "staff": [
        {"href": "/worklist", "label": "Worklist", "blurb": "Patients whose symptom diary needs the care team"},
    ],
    "patient": [
        {"href": "/me/recovery", "label": "My recovery", "blurb": "Your recovery plan, day by day"},
        {"href": "/me/diary", "label": "Symptom diary", "blurb": "Tell your care team how you are doing"},
    ],
}
PATIENT_TABS = [
    {
        "href": "/patients/{id}/recovery",
        "label": "Recovery plan",
        "blurb": "Dated milestones after the procedure, as a calendar file too",
        "roles": ("patient", "clinician", "admin"),
    },
    {
        "href": "/patients/{id}/diary",
        "label": "Symptom diary",
        "blurb": "Diary entries and the advice each one gave",
        "roles": ("patient", "clinician", "admin"),
    },
]

# Short headings above the advice; the advice itself comes from content/triage.yaml. The wording follows
# issue 6's levels ("call emergency services / go to the emergency department now", "call the clinic today").
LEVEL_LABELS = {
    "emergency": "Emergency: get help now",
    "same_day": "Call the clinic today",
    "review": "Your care team should look at this",
    "expected": "Expected during recovery",
}
# The worklist speaks to clinicians: the level's name, not the patient's instruction.
STAFF_LEVEL_LABELS = {"emergency": "Emergency", "same_day": "Same day", "review": "Review", "expected": "Expected"}
STATUS_LABELS = {"open": "New", "acknowledged": "Acknowledged", "resolved": "Resolved"}
YES_NO_QUESTIONS = [
    ("new_weakness", "New or worse weakness in a leg or foot?"),
    ("bilateral_weakness", "Weakness in both legs?"),
    ("new_numbness", "New or worse numbness in a leg or foot?"),
    ("saddle_numbness", "Numbness between your legs, around your bottom or genitals?"),
    ("bladder_bowel_change", "A new change in bladder or bowel control?"),
    ("urine_trouble", "Trouble passing urine, or you cannot empty your bladder?"),
    ("sexual_numbness_or_dysfunction", "New numbness of your genitals, or a new problem with sex?"),
    ("chest_pain_or_breathless", "Chest pain, or are you short of breath?"),
    ("swollen_calf", "A swollen, painful calf?"),
    ("wound_bleeding", "Is the wound bleeding?"),
    ("headache_upright", "A headache that is worse when you sit or stand, and better lying down?"),
    ("fever_or_chills", "Do you feel feverish or have chills?"),
]
# Plain words for every diary field, wherever a field is named (answers, errors), patient and clinician side.
FIELD_LABELS = {
    "days_since_procedure": "Days since the procedure",
    "pain_back": "Back pain",
    "pain_leg": "Leg pain",
    "incision": "The wound",
    "temperature_c": "Temperature (°C)",
    "temperature": "Temperature",
    "new_numbness": "New numbness in a leg",
    "new_weakness": "New weakness in a leg",
    "bilateral_weakness": "Weakness in both legs",
    "saddle_numbness": "Numbness between the legs",
    "bladder_bowel_change": "Change in bladder or bowel control",
    "urine_trouble": "Trouble passing urine",
    "chest_pain_or_breathless": "Chest pain or short of breath",
    "swollen_calf": "Swollen, painful calf",
    "wound_bleeding": "Wound bleeding",
    "sexual_numbness_or_dysfunction": "Genital numbness or sexual problem",
    "headache_upright": "Headache worse when upright",
    "fever_or_chills": "Feverish or chills",
    "pain_medicines": "Pain medicines",
    "activity": "What you did",
    "notes": "Notes",
    "baseline_pain_back": "Back pain before the procedure",
    "baseline_pain_leg": "Leg pain before the procedure",
    "pain_compared_with_before": "Pain compared with before",
    "flare_days": "Days of the flare-up",
    "language": "Language",
    "entry": "Your entry",
}


WORKLIST_PAGE = 50


def plain_message(message: str) -> str:
    """A domain message starts with the field name ("pain_back: must be ..."): put the plain label there."""
    head, sep, rest = message.partition(": ")
    return f"{FIELD_LABELS[head]}: {rest}" if sep and head in FIELD_LABELS else message


INCISION_CHOICES = [
    (INCISION_FINE, "Looks fine"),
    ("redness", "Redness"),
    ("swelling", "Swelling"),
    ("drainage", "Fluid coming out"),
]
COMPARISONS = [("better", "Better"), ("same", "About the same"), ("worse", "Worse")]
INT_FIELDS = ("pain_back", "pain_leg", "flare_days")
TEXT_FIELDS = ("activity", "notes")
# The form's field for each entry field, so an error from the domain lands next to what was typed.
FORM_FIELD = {"temperature_c": "temperature"}
assert {c for c, _ in INCISION_CHOICES} == {INCISION_FINE, *INCISION_SIGNS}
# What an entry's stored answers are called where they are shown (translated in the template).
ANSWER_LABELS = {
    "pain_back": "Back pain now",
    "pain_leg": "Leg pain now",
    "temperature_c": "Temperature (°C)",
    "temperature": "Temperature (°C)",
    "incision": "The small wound on your back",
    "pain_compared_with_before": "Compared with before the procedure",
    "flare_days": "Days of flare-up",
    "pain_medicines": "Pain medicines taken",
    "activity": "What did you do today?",
    "notes": "Anything else",
    **dict(YES_NO_QUESTIONS),
}
VALUE_LABELS = dict(INCISION_CHOICES) | dict(COMPARISONS)


def emergency_notice(request: Request, session: Session | None, patient: Any) -> str:
    """The "not watched around the clock" notice in the page's language, with the clinic's emergency number
    (``patient``: the patient or their id; None, or no session: the site's number, for the anonymous self-check)."""
    from mildpath.web.deps import get_settings

    notice = load_symptom_vocabulary().emergency_notice
    if notice is None:
        return ""
    fallback = get_settings(request).emergency_number
    patient_id = patient if isinstance(patient, int) or patient is None else patient.id
    number = svc.emergency_number(session, patient_id, fallback) if session is not None and patient_id else fallback
    language = getattr(request.state, "lang", None) or negotiate(request)  # the page's language, set at render
    return notice.get("es" if language == "es" else "en").replace("{number}", number)


def _when(value: datetime | None) -> str:
    """A stored UTC time in the server's local time, as people read it."""
    if value is None:
        return ""
    local = value.astimezone()
    if current_language() != "en":  # "7 dic 2026, 0:32" in the page's language
        return format_datetime(local, "d MMM y, H:mm", locale=current_language())
    return local.strftime("%d %b %Y, %H:%M")


def _common(extra: dict[str, Any]) -> dict[str, Any]:
    return {
        "level_labels": LEVEL_LABELS,
        "staff_level_labels": STAFF_LEVEL_LABELS,
        "field_labels": FIELD_LABELS,
        "status_labels": STATUS_LABELS,
        "when": _when,
        "answer_labels": ANSWER_LABELS,
        "plan_headline": _plan_wording.headline,
        "weeks_text": _plan_wording.weeks_text,
        "today": clock.today(),
        "value_labels": VALUE_LABELS,
        **extra,
    }


# ------------------------------------------------------------------------------------------ patients' shortcuts


@router.get("/me/recovery")
def my_recovery(actor: PatientSelf) -> Response:
    return redirect(f"/patients/{actor.patient_id}/recovery")


@router.get("/me/diary")
def my_diary(actor: PatientSelf) -> Response:
    return redirect(f"/patients/{actor.patient_id}/diary")


# ------------------------------------------------------------------------------------------ the plan


@router.get("/patients/{patient_id}/recovery")
def recovery_page(request: Request, patient_id: PatientId, actor: PlanRecordActor, session: SessionDep) -> Response:
    return _plan_page(request, session, actor, patient_id)


def _plan_page(
    request: Request,
    session: Session,
    actor: Actor,
    patient_id: int,
    *,
    values: dict[str, Any] | None = None,
    errors: list[dict[str, str]] | None = None,
    status_code: int = 200,
) -> Response:
    patient = patients_svc.view_patient(session, actor, patient_id)
    language = negotiate(request)
    view = svc.get_plan_view(session, actor, patient_id, today=clock.today(), language=language)
    if values is None:
        values = (
            {
                "procedure_date": view.procedure_date.isoformat(),
                "no_lifting_weeks": view.no_lifting_weeks_set or "",
                "physical_therapy": view.physical_therapy,
            }
            if view
            else {}
        )
    return render(
        request,
        "recovery/plan.html",
        _common(
            {
                "patient": patient,
                "view": view,
                "values": values,
                "errors": errors or [],
                "emergency": emergency_signs(language),
            }
        ),
        status_code=status_code,
    )


@router.post("/patients/{patient_id}/recovery")
async def save_plan(
    request: Request, patient_id: PatientId, actor: StaffPatientRecordForm, session: SessionDep
) -> Response:
    form = await request.form()
    values = {
        "procedure_date": str(form.get("procedure_date", "")).strip(),
        "no_lifting_weeks": str(form.get("no_lifting_weeks", "")).strip(),
        "physical_therapy": form.get("physical_therapy") == "yes",
    }
    try:
        data = svc.PlanIn.model_validate(
            {
                "procedure_date": values["procedure_date"] or None,
                "no_lifting_weeks": values["no_lifting_weeks"] or None,
                "physical_therapy": values["physical_therapy"],
            }
        )
        svc.set_plan(session, actor, patient_id, data, today=clock.today())
    except (ValidationError, InvalidInput) as exc:
        return _plan_page(request, session, actor, patient_id, values=values, errors=form_errors(exc), status_code=422)
    return redirect(f"/patients/{patient_id}/recovery")


@router.get("/patients/{patient_id}/recovery.ics")
def recovery_ics(patient_id: PatientId, actor: PlanRecordActor, session: SessionDep) -> Response:
    body = svc.export_plan_ics(session, actor, patient_id, now=clock.now())
    return attachment(body, CALENDAR, "recovery-plan.ics")


# ------------------------------------------------------------------------------------------ the diary


@router.get("/patients/{patient_id}/diary")
def diary_page(request: Request, patient_id: PatientId, actor: DiaryRecordActor, session: SessionDep) -> Response:
    return _diary_page(request, session, actor, patient_id)


def _diary_page(
    request: Request,
    session: Session,
    actor: Actor,
    patient_id: int,
    *,
    values: dict[str, Any] | None = None,
    errors: list[dict[str, str]] | None = None,
    status_code: int = 200,
) -> Response:
    patient = patients_svc.view_patient(session, actor, patient_id)
    plan = svc.get_plan_view(session, actor, patient_id, today=clock.today())
    entries = svc.list_entries(session, actor, patient_id, limit=60)
    return render(
        request,
        "recovery/diary.html",
        _common(
            {
                "patient": patient,
                "plan": plan,
                "entries": entries,
                "values": values or {"temperature_unit": "c"},
                "errors": errors or [],
                "error_fields": {e["field"] for e in errors or []},
                "yes_no": YES_NO_QUESTIONS,
                "incision_choices": INCISION_CHOICES,
                "comparisons": COMPARISONS,
                "emergency_notice": emergency_notice(request, session, patient),
            }
        ),
        status_code=status_code,
    )


@router.post("/patients/{patient_id}/diary")
async def submit_diary(
    request: Request, patient_id: PatientId, actor: DiaryRecordForm, session: SessionDep
) -> Response:
    form = await request.form()
    values = _form_values(form)

    def save() -> Response:  # database work in a worker thread, never on the event loop
        try:
            view = svc.record_diary_entry(session, actor, patient_id, diary_data(values), now=clock.now())
        except InvalidInput as exc:
            field = FORM_FIELD.get(exc.field or "", exc.field or "form")
            errors = [{"field": field, "message": plain_message(exc.message)}]
            return _diary_page(request, session, actor, patient_id, values=values, errors=errors, status_code=422)
        return redirect(f"/patients/{patient_id}/diary/{view.id}")

    return await run_in_threadpool(save)


@router.get("/patients/{patient_id}/diary/{entry_id}")
def diary_entry_page(
    request: Request, patient_id: PatientId, entry_id: RecordId, actor: DiaryRecordActor, session: SessionDep
) -> Response:
    entry = svc.get_diary_entry(session, actor, patient_id, entry_id)
    patient = patients_svc.view_patient(session, actor, patient_id)
    notice = emergency_notice(request, session, patient)
    return render(
        request, "recovery/entry.html", _common({"patient": patient, "entry": entry, "emergency_notice": notice})
    )


def _form_values(form: FormData) -> dict[str, Any]:
    """What was typed, kept as text so a refused form shows it again unchanged."""
    values: dict[str, Any] = {
        name: str(form.get(name, "")).strip()
        for name in (*INT_FIELDS, *TEXT_FIELDS, "temperature", "temperature_unit", "pain_medicines")
    }
    values["pain_compared_with_before"] = str(form.get("pain_compared_with_before", "")).strip()
    for name, _ in YES_NO_QUESTIONS:
        values[name] = str(form.get(name, "")).strip()
    values["incision"] = [str(v) for v in form.getlist("incision")]
    return values


def diary_data(values: dict[str, Any]) -> dict[str, Any]:
    """Form text -> the diary entry's fields. Empty means "not reported" and is left out; a value that cannot
    be read is passed on unchanged, so the domain refuses it with the field's name."""
    data: dict[str, Any] = {}
    for name in INT_FIELDS:
        raw = values.get(name, "")
        if raw:
            data[name] = int(raw) if re.fullmatch(r"-?\d{1,6}", raw) else raw
    temperature = _temperature(values.get("temperature", ""), values.get("temperature_unit", "c"))
    if temperature is not None:
        data["temperature_c"] = temperature
    for name, _ in YES_NO_QUESTIONS:
        answer = values.get(name, "")
        if answer in ("yes", "no"):
            data[name] = answer == "yes"
    if values.get("incision"):
        data["incision"] = list(values["incision"])
    if values.get("pain_compared_with_before"):
        data["pain_compared_with_before"] = values["pain_compared_with_before"]
    medicines = [m.strip() for m in re.split(r"[,\n;]", values.get("pain_medicines", "")) if m.strip()]
    if medicines:
        data["pain_medicines"] = medicines
    for name in TEXT_FIELDS:
        if values.get(name):
            check_text(values[name], name)  # the API's text rules (its body is checked by the same function)
            data[name] = values[name]
    return data


def _temperature(raw: str, unit: str) -> float | str | None:
    """°C as typed, or °F converted to °C (one decimal: 100.4 °F is 38.0 °C). Unreadable text is returned as
    is for the domain to refuse."""
    if not raw:
        return None
    try:
        value = float(raw.replace(",", "."))
    except ValueError:
        return raw
    if unit == "f":
        return round((value - 32) * 5 / 9, 1)
    return value


# ------------------------------------------------------------------------------------------ the worklist


@router.get("/worklist")
def worklist_page(request: Request, actor: Staff, session: SessionDep, page: int = 1) -> Response:
    page = max(1, min(page, 10_000))
    flags = svc.worklist(session, actor, limit=WORKLIST_PAGE + 1, offset=(page - 1) * WORKLIST_PAGE)
    more = len(flags) > WORKLIST_PAGE
    counts = svc.worklist_counts(session, actor)
    return render(
        request,
        "recovery/worklist.html",
        _common({"flags": flags[:WORKLIST_PAGE], "counts": counts, "page": page, "more": more}),
    )


def _is_htmx(request: Request) -> bool:
    return request.headers.get("hx-request") == "true"


@router.post("/worklist/{flag_id}/acknowledge")
def acknowledge(request: Request, flag_id: RecordId, actor: StaffForm, session: SessionDep) -> Response:
    try:
        flag = svc.acknowledge_flag(session, actor, flag_id, now=clock.now())
    except Conflict as exc:
        return _flag_card(
            request,
            svc.get_flag(session, actor, flag_id),
            error=exc.message,
            status_code=409,
            counts=svc.worklist_counts(session, actor),
        )
    if not _is_htmx(request):
        return redirect("/worklist")
    return _flag_card(request, flag, counts=svc.worklist_counts(session, actor))


@router.post("/worklist/{flag_id}/resolve")
async def resolve(request: Request, flag_id: RecordId, actor: StaffForm, session: SessionDep) -> Response:
    form = await request.form()
    note = str(form.get("note", ""))
    try:
        check_text(note, "note")  # the API's text rules (domain/inputs.py)
        flag = svc.resolve_flag(session, actor, flag_id, note, now=clock.now())
    except (InvalidInput, Conflict) as exc:
        status = 422 if isinstance(exc, InvalidInput) else 409
        return _flag_card(
            request, svc.get_flag(session, actor, flag_id), error=exc.message, note=note, status_code=status
        )
    if not _is_htmx(request):
        return redirect("/worklist")
    return _flag_card(request, flag, counts=svc.worklist_counts(session, actor))


def _flag_card(
    request: Request,
    flag: svc.FlagView,
    *,
    error: str = "",
    note: str = "",
    status_code: int = 200,
    counts: dict[str, int] | None = None,
) -> Response:
    """The flag's card alone (an HTMX swap, with the worklist's counters swapped out of band so they follow the
    list), or, without HTMX, a page holding just that card and the error."""
    template = "recovery/_flag.html" if _is_htmx(request) else "recovery/flag_page.html"
    ctx = _common({"flag": flag, "error": error, "note": note, "oob_counts": counts if _is_htmx(request) else None})
    return render(request, template, ctx, status_code=status_code)
