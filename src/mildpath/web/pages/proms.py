"""Questionnaire pages (issue 4): the patient portal on a phone, the clinician's view of a patient's responses with
paper entry, and the clinic's follow-up list.

Patients answer one step at a time (an ODI section, a few ZCQ items, the two pain scores, the walking time):
every Next saves the step, so leaving and coming back later resumes where they stopped. An invalid answer re-shows
the step with what was entered and a message naming the question. The result page shows the score and the
patient's own trend as a server-side SVG chart (no script needed).

Wording: a site's licensed wording from ``MILDPATH_CONTENT_DIR/instruments/<id>.yaml`` when present (see
``docs/questionnaires.md``), otherwise mildpath's short neutral labels.
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response
from pydantic import ValidationError
from sqlalchemy.orm import Session

from mildpath.content.instruments import InstrumentForm
from mildpath.content.schedule import follow_up_plan
from mildpath.domain.errors import Conflict, InvalidAnswer, InvalidInput
from mildpath.domain.instruments import INSTRUMENTS
from mildpath.services import clock
from mildpath.services import patients as patients_svc
from mildpath.services import proms as svc
from mildpath.services.access import Actor
from mildpath.services.comments import clean_comment
from mildpath.web.deps import (
    PatientId,
    PatientSelf,
    QuestionnaireRecordActor,
    QuestionnaireRecordForm,
    RecordId,
    SessionDep,
    SettingsDep,
    Staff,
    StaffPatientRecordActor,
    StaffPatientRecordForm,
    get_settings,
)
from mildpath.web.i18n import N_, gettext, negotiate, translations
from mildpath.web.pages._common import form_errors, redirect, render
from mildpath.web.pages._proms_chart import chart
from mildpath.web.pages.recovery import LEVEL_LABELS, emergency_notice

router = APIRouter(include_in_schema=False)

NAV = {
    "staff": [{"href": "/follow-up", "label": "Follow-up", "blurb": "Patients with questionnaires due or overdue"}],
    "patient": [
        {"href": "/me/questionnaires", "label": "Questionnaires", "blurb": "Questionnaires to answer, your results"}
    ],
}
PATIENT_TABS = [
    {
        "href": "/patients/{id}/questionnaires",
        "label": "Questionnaires",
        "blurb": "Follow-up schedule, answers and scores (ODI, ZCQ, pain, walking)",
        "roles": ("patient", "clinician", "admin"),
    }
]

# ODI bands with their cut points (source: odi). Patients see the range only; staff see the band's name too.
BAND_RANGES = {"minimal": "0-20", "moderate": "21-40", "severe": "41-60", "crippled": "61-80", "bed_bound": "81-100"}
STATUS_LABELS = {
    "completed": N_("Done"),
    "upcoming": N_("Not open yet"),
    "due": N_("Due"),
    "overdue": N_("Overdue"),
    "missed": N_("Missed"),
    "in_progress": N_("In progress"),
    "not_started": N_("Not started"),
}
MODE_LABELS = {"patient": "by the patient", "paper": "from a paper form", "import": "imported",
               "proxy": "by a caregiver for the patient"}
BAND_NAMES = {
    "minimal": N_("minimal"),
    "moderate": N_("moderate"),
    "severe": N_("severe"),
    "crippled": N_("crippled"),
    "bed_bound": N_("bed-bound"),
}
SUBSCALE_NAMES = {
    "severity": N_("severity"),
    "function": N_("function"),
    "satisfaction": N_("satisfaction"),
    "back": N_("back"),
    "leg": N_("leg"),
}


# ------------------------------------------------------------------------------------------ formatting helpers


def _num(value: Any, places: int = 2) -> str:
    if value is None:
        return "—"
    quantum = Decimal(1).scaleb(-places)
    return f"{Decimal(str(value)).quantize(quantum, rounding=ROUND_HALF_UP).normalize():f}"


def summary(instrument: str, scores: dict[str, Any] | None) -> str:
    """One line of scores for tables: ``ODI 35.56 (moderate)``, ``severity 2.29 · function 1.5`` ...
    (in the page's language: it is called while a page renders)."""
    if not scores:
        return "—"
    if instrument in ("odi", "walking"):
        if scores.get("value") is None:
            return gettext("no score") + " (" + str(scores.get("reason") or gettext("too many unanswered")) + ")"
        unit = " min" if instrument == "walking" else ""
        band = f" ({gettext(BAND_NAMES[scores['band']])})" if scores.get("band") in BAND_NAMES else ""
        return f"{_num(scores['value'])}{unit}{band}"
    parts = [
        f"{gettext(SUBSCALE_NAMES.get(name, name))} {_num(sub.get('value'))}"
        for name, sub in (scores.get("subscales") or {}).items()
        if not (name == "satisfaction" and sub.get("value") is None and not sub.get("answered"))
    ]
    return " · ".join(parts) or "—"


def _whole(value: Any) -> str:
    """Whole percent for patients (contracts §4: displays may round to whole percent)."""
    return _num(value, 0)


def _when(value: Any) -> str:
    return "" if value is None else value.astimezone().strftime("%d %b %Y, %H:%M")


def _form(settings: Any, instrument: str, language: str = "en") -> InstrumentForm:
    return svc.form_for(instrument, settings.content_dir, language)


def _titles(request: Request) -> dict[str, str]:
    """Each instrument's title in the page's language (trend charts)."""
    language = negotiate(request)
    return {i: svc.form_for(i, get_settings(request).content_dir, language).title for i in INSTRUMENTS}


def _labelled(form: InstrumentForm, exc: InvalidInput) -> dict[str, str]:
    """An error for the form: the question's label in front of what is wrong ("Lifting: answer 7 is outside 0-5"),
    framed in the form's language (the error is built before the page renders)."""
    field = exc.field or "form"
    message = exc.message
    try:
        item = form.item(field)
    except KeyError:
        return {"field": field, "message": message}
    what = message.split(": ", 1)[1] if message.startswith(f"{field}: ") else message
    frame = translations(form.language).gettext("Question %(n)s (%(label)s): %(what)s")
    message = frame % {"n": item.number, "label": item.label, "what": what}
    return {"field": field, "message": message}


def _common(extra: dict[str, Any]) -> dict[str, Any]:
    return {
        "status_labels": STATUS_LABELS,
        "mode_labels": MODE_LABELS,
        "answering_roles": svc.ANSWERING_ROLES,
        "band_ranges": BAND_RANGES,
        "summary": summary,
        "num": _num,
        "whole": _whole,
        "when": _when,
        **extra,
    }


# ------------------------------------------------------------------------------------------ the overview


@router.get("/me/questionnaires")
def my_questionnaires(actor: PatientSelf) -> Response:
    return redirect(f"/patients/{actor.patient_id}/questionnaires")


@router.get("/patients/{patient_id}/questionnaires")
def overview(
    request: Request, patient_id: PatientId, actor: QuestionnaireRecordActor, session: SessionDep, saved: int = 0
) -> Response:
    return _overview(request, session, actor, patient_id, saved=bool(saved))


def _overview(
    request: Request,
    session: Session,
    actor: Actor,
    patient_id: int,
    *,
    saved: bool = False,
    error: str = "",
    status_code: int = 200,
) -> Response:
    patient = patients_svc.view_patient(session, actor, patient_id)
    schedule = svc.patient_schedule(session, actor, patient_id, today=clock.today())
    responses = svc.list_responses(session, actor, patient_id)
    trends = [{"trend": t, "chart": chart(t)} for t in svc.patient_trends(session, actor, patient_id)]
    in_progress = {r.id: r for r in responses if r.status == "in_progress"}
    return render(
        request,
        "proms/overview.html",
        _common(
            {
                "patient": patient,
                "schedule": schedule,
                "responses": list(reversed(responses)),
                "in_progress": in_progress,
                "trends": trends,
                "saved": saved,
                "error": error,
                "instruments": list(INSTRUMENTS),
                "titles": _titles(request),
            }
        ),
        status_code=status_code,
    )


@router.post("/patients/{patient_id}/questionnaires/start")
async def start(
    request: Request, patient_id: PatientId, actor: QuestionnaireRecordForm, session: SessionDep, settings: SettingsDep
) -> Response:
    form = await request.form()
    instrument = str(form.get("instrument", ""))[:16]
    timepoint = str(form.get("timepoint", ""))[:16]
    try:
        view = svc.start_response(
            session,
            actor,
            patient_id,
            instrument,
            timepoint,
            today=clock.today(),
            now=clock.now(),
            content_dir=settings.content_dir,
        )
    except (Conflict, InvalidInput) as exc:
        return _overview(request, session, actor, patient_id, error=exc.message, status_code=409)
    return redirect(f"/patients/{patient_id}/responses/{view.id}/fill?step={view.resume_step + 1}")


# ------------------------------------------------------------------------------------------ filling, step by step


@router.get("/patients/{patient_id}/responses/{response_id}/fill")
def fill(
    request: Request,
    patient_id: PatientId,
    response_id: RecordId,
    actor: QuestionnaireRecordActor,
    session: SessionDep,
    settings: SettingsDep,
    step: int = 0,
) -> Response:
    """``step`` is 1-based in the address (``?step=3``); without it the form resumes where the patient stopped."""
    view = svc.get_response(session, actor, patient_id, response_id)
    if view.status == "completed":
        return redirect(f"/patients/{patient_id}/responses/{response_id}")
    index = view.resume_step if step < 1 else min(step - 1, view.steps_total - 1)
    return _step_page(request, session, settings, view, index, dict(view.answers), [])


def _step_page(
    request: Request,
    session: Session,
    settings: Any,
    view: svc.ResponseView,
    index: int,
    values: dict[str, Any],
    errors: list[dict[str, str]],
    status_code: int = 200,
    comment: str = "",
) -> Response:
    form = _form(settings, view.instrument, negotiate(request))
    steps = svc.steps_for(view.instrument, view.after_treatment)
    step = steps[index]
    groups = dict(form.subscale_labels)
    heading = groups.get(step.group, "") if view.instrument == "zcq" else ""
    return render(
        request,
        "proms/step.html",
        _common(
            {
                "response": view,
                "form": form,
                "step": step,
                "steps_total": len(steps),
                "items": [form.item(i) for i in step.item_ids],
                "heading": heading,
                "values": {k: str(v) for k, v in values.items() if v is not None},
                "errors": errors,
                "error_fields": {e["field"] for e in errors},
                "comment": comment,
                # the last step takes free text: the page says the service is not watched around the clock
                "emergency_notice": emergency_notice(request, session, view.patient_id)
                if step.index + 1 == len(steps) else "",
            }
        ),
        status_code=status_code,
    )


@router.post("/patients/{patient_id}/responses/{response_id}/fill")
async def save_step(
    request: Request,
    patient_id: PatientId,
    response_id: RecordId,
    actor: QuestionnaireRecordForm,
    session: SessionDep,
    settings: SettingsDep,
) -> Response:
    form = await request.form()
    view = svc.get_response(session, actor, patient_id, response_id)
    if view.status == "completed":
        return redirect(f"/patients/{patient_id}/responses/{response_id}")
    steps = svc.steps_for(view.instrument, view.after_treatment)
    try:
        index = min(max(int(str(form.get("step", "0"))), 0), len(steps) - 1)
    except ValueError:
        index = view.resume_step
    action = str(form.get("action", "next"))
    answers = {item_id: str(form.get(item_id, "")) for item_id in steps[index].item_ids}
    comment = str(form.get("comment", ""))
    # Leaving resumes on the next step when this one is fully answered, else on this one.
    leave_to = index + 1 if all(answers.values()) and index + 1 < len(steps) else index
    go_to = {"back": index - 1, "leave": leave_to}.get(action, index + 1)
    try:
        if index + 1 >= len(steps):  # the comment is read before anything is saved: a refused one loses nothing
            clean_comment(comment)
        svc.save_section(session, actor, patient_id, response_id, index, answers, now=clock.now(), go_to=max(go_to, 0))
        if action == "next" and index + 1 >= len(steps):
            svc.complete_response(
                session, actor, patient_id, response_id, today=clock.today(), now=clock.now(), comment=comment
            )
            return redirect(f"/patients/{patient_id}/responses/{response_id}?done=1")
    except InvalidAnswer as exc:
        # The error may name an item of another step (a question still needed at the end): show that step.
        target = next((s.index for s in steps if exc.item_id in s.item_ids), index)
        fresh = svc.get_response(session, actor, patient_id, response_id) if target != index else view
        values = {**view.answers, **{k: v for k, v in answers.items() if v}} if target == index else fresh.answers
        error = _labelled(_form(settings, view.instrument, negotiate(request)), exc)
        return _step_page(
            request, session, settings, fresh, target, dict(values), [error], status_code=422, comment=comment
        )
    except InvalidInput as exc:
        error = _labelled(_form(settings, view.instrument, negotiate(request)), exc)
        values = {**view.answers, **answers}
        return _step_page(request, session, settings, view, index, values, [error], status_code=422, comment=comment)
    if action == "leave":
        return redirect(f"/patients/{patient_id}/questionnaires?saved=1")
    return redirect(f"/patients/{patient_id}/responses/{response_id}/fill?step={max(go_to, 0) + 1}")


# ------------------------------------------------------------------------------------------ the result


@router.get("/patients/{patient_id}/responses/{response_id}")
def result(
    request: Request,
    patient_id: PatientId,
    response_id: RecordId,
    actor: QuestionnaireRecordActor,
    session: SessionDep,
    settings: SettingsDep,
    done: int = 0,
) -> Response:
    view = svc.get_response(session, actor, patient_id, response_id)
    if view.status != "completed" and actor.role in svc.ANSWERING_ROLES:
        return redirect(f"/patients/{patient_id}/responses/{response_id}/fill")
    patient = patients_svc.view_patient(session, actor, patient_id)
    trend = svc.patient_trend(session, actor, patient_id, view.instrument)
    language = negotiate(request)
    form = _form(settings, view.instrument, language)
    answers = [
        {"item": item, "value": view.answers.get(item.id), "option": _option_label(item, view.answers.get(item.id))}
        for item in form.items
        if item.subscale != "satisfaction" or view.after_treatment
    ]
    return render(
        request,
        "proms/result.html",
        _common(
            {
                "patient": patient,
                "response": view,
                "form": form,
                "trend": trend,
                "chart": chart(trend) if trend.points else None,
                "answers": answers,
                "done": bool(done),
                "subscale_labels": dict(form.subscale_labels),
                "level_labels": LEVEL_LABELS,
                "title": svc.response_title(view, language),
                "titles": _titles(request),
            }
        ),
    )


def _option_label(item: Any, value: Any) -> str:
    if value is None:
        return gettext("not answered")
    for option in item.options:
        if option.value == value:
            return str(option.label)
    return str(value)


# ------------------------------------------------------------------------------------------ paper entry (staff)


def _paper_page(
    request: Request,
    session: Session,
    actor: Actor,
    settings: Any,
    patient_id: int,
    instrument: str,
    *,
    values: dict[str, str] | None = None,
    errors: list[dict[str, str]] | None = None,
    status_code: int = 200,
) -> Response:
    patient = patients_svc.view_patient(session, actor, patient_id)
    schedule = svc.patient_schedule(session, actor, patient_id, today=clock.today())
    form = _form(settings, instrument)
    default_tp = next((tp.id for tp in schedule.timepoints if tp.open), "")
    values = values if values is not None else {"answered_on": clock.today().isoformat(), "timepoint": default_tp}
    errors = errors or []
    return render(
        request,
        "proms/paper.html",
        _common(
            {
                "patient": patient,
                "form": form,
                "instrument": instrument,
                "instruments": [(i, svc.form_for(i).short_title) for i in INSTRUMENTS],
                "timepoints": follow_up_plan().timepoints,
                "schedule": schedule,
                "values": values,
                "errors": errors,
                "error_fields": {e["field"] for e in errors},
                "groups": dict(form.subscale_labels),
            }
        ),
        status_code=status_code,
    )


@router.get("/patients/{patient_id}/questionnaires/paper")
def paper_form(
    request: Request,
    patient_id: PatientId,
    actor: StaffPatientRecordActor,
    session: SessionDep,
    settings: SettingsDep,
    instrument: str = "odi",
) -> Response:
    instrument = instrument if instrument in INSTRUMENTS else "odi"
    return _paper_page(request, session, actor, settings, patient_id, instrument)


@router.post("/patients/{patient_id}/questionnaires/paper")
async def paper_submit(
    request: Request,
    patient_id: PatientId,
    actor: StaffPatientRecordForm,
    session: SessionDep,
    settings: SettingsDep,
) -> Response:
    raw = await request.form()
    instrument = str(raw.get("instrument", "odi"))
    instrument = instrument if instrument in INSTRUMENTS else "odi"
    items = [item.id for item in INSTRUMENTS[instrument].items]
    values = {k: str(raw.get(k, "")).strip()[:20] for k in (*items, "timepoint", "answered_on")}
    answers: dict[str, Any] = {k: values[k] or None for k in items}
    try:
        data = svc.ResponseIn.model_validate(
            {
                "instrument": instrument,
                "timepoint": values["timepoint"] or None,
                "answers": answers,
                "answered_on": values["answered_on"] or None,
            }
        )
        view = svc.record_response(
            session, actor, patient_id, data, today=clock.today(), now=clock.now(), content_dir=settings.content_dir
        )
    except ValidationError as exc:
        return _paper_page(
            request,
            session,
            actor,
            settings,
            patient_id,
            instrument,
            values=values,
            errors=form_errors(exc),
            status_code=422,
        )
    except (InvalidInput, Conflict) as exc:
        form = _form(settings, instrument)
        error = _labelled(form, exc) if isinstance(exc, InvalidInput) else {"field": "form", "message": exc.message}
        return _paper_page(
            request,
            session,
            actor,
            settings,
            patient_id,
            instrument,
            values=values,
            errors=[error],
            status_code=422 if isinstance(exc, InvalidInput) else 409,
        )
    return redirect(f"/patients/{patient_id}/responses/{view.id}")


# ------------------------------------------------------------------------------------------ clinic follow-up


@router.get("/follow-up")
def follow_up(request: Request, actor: Staff, session: SessionDep, status: str = "open") -> Response:
    """The clinic's open questionnaire timepoints: overdue first, then due (``?status=overdue|due|missed``)."""
    wanted = {"overdue": ("overdue",), "due": ("due",), "missed": ("missed",)}.get(status, ("overdue", "due"))
    rows = svc.clinic_follow_up(session, actor, today=clock.today(), statuses=wanted)
    return render(
        request,
        "proms/follow_up.html",
        _common({"rows": rows, "status": status if status in ("overdue", "due", "missed") else "open"}),
    )
