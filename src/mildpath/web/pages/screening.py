"""Candidacy screening pages (issue 3): the public self-check and the clinician assessment in the patient's chart.

- ``/self-check``: plain-language questions (wording: ``content/criteria/forms.yaml``), red-flag questions
  included, for anyone; the answer is guidance (ask a spine specialist about mild, talk to a doctor first, seek
  care now), never a decision. It stores **nothing** unless a signed-in patient presses "Save to my record".
- ``/patients/{id}/candidacy``: the chart's Candidacy tab for clinicians: past screenings, a new clinician
  assessment (imaging, scores pre-filled from the latest questionnaires, exclusions, red flags) and the explained
  result: each criterion met, not met or unknown with its evidence (value, date, record) and its source, what is
  missing, and a printable summary.

The wording is "likely candidate, refer for specialist evaluation", never "approved"; an urgent referral says to
seek care now.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response
from markupsafe import Markup
from sqlalchemy.orm import Session
from starlette.datastructures import FormData

from mildpath.content.criteria import Question, load_forms
from mildpath.content.sources import bibliography
from mildpath.domain.errors import InvalidInput
from mildpath.services import clock, comments
from mildpath.services import patients as patients_svc
from mildpath.services import screening as svc
from mildpath.web.deps import (
    PatientId,
    PatientSelf,
    PatientSelfForm,
    PublicActor,
    PublicForm,
    RecordId,
    SessionDep,
    SettingsDep,
    StaffPatientRecordActor,
    StaffPatientRecordForm,
)
from mildpath.web.forms import form_date
from mildpath.web.i18n import N_, negotiate, translations
from mildpath.web.pages._common import redirect, render
from mildpath.web.pages.recovery import LEVEL_LABELS, emergency_notice

router = APIRouter(include_in_schema=False)

NAV = {
    "public": [
        {
            "href": "/self-check",
            "label": "Check if mild may suit you",
            "blurb": "A few plain questions about your back and legs; no account needed, nothing is stored",
        }
    ],
    "patient": [
        {"href": "/self-check", "label": "Self-check", "blurb": "Could mild help? Answer a few questions"},
    ],
}
PATIENT_TABS = [
    {
        "href": "/patients/{id}/candidacy",
        "label": "Candidacy",
        "blurb": "mild candidacy: clinician assessment, explained result with sources, printable summary",
        "roles": ("clinician", "admin"),
    }
]


def _status_column(session: Session, ids: list[int]) -> dict[int, Any]:
    """The patient list's Candidacy column: the latest status as a badge (labels are fixed text, escaped)."""
    out: dict[int, Any] = {}
    for pid, latest in svc.latest_statuses(session, ids).items():
        out[pid] = Markup('<span class="badge status-{}">{}</span>').format(latest.status, latest.label)
    return out


LIST_COLUMNS = [{"key": "screening", "label": "Candidacy", "values": _status_column}]

SELF_CHECK_YES_NO = (
    "told_lss",
    "leg_symptoms_standing_walking",
    "relief_sitting_bending",
    "treatment_not_enough",
    "blood_thinner",
)
SELF_CHECK_CHOICES = ("walk_tolerance", "symptom_duration")
RED_FLAGS_URGENT = ("bladder_bowel_change", "saddle_numbness", "both_legs_weak", "sexual_dysfunction")
RED_FLAGS_OTHER = ("fever", "unexplained_weight_loss", "cancer_history", "night_pain", "recent_trauma")
SELF_CHECK_BOOLEANS = SELF_CHECK_YES_NO + RED_FLAGS_URGENT + RED_FLAGS_OTHER

# The clinician assessment, grouped as it appears on the page.
CLINICIAN_GROUPS: list[tuple[str, tuple[str, ...]]] = [
    (
        "Diagnosis and symptoms",
        ("lss_confirmed", "neurogenic_claudication", "symptom_months", "conservative_care_failed"),
    ),
    ("Imaging", ("lf_thickness_mm", "imaging_date", "imaging_modality")),
    ("Scores", ("odi_score", "odi_date", "nprs", "nprs_date")),
    (
        "Exclusions",
        (
            "spondylolisthesis",
            "spondylolisthesis_grade",
            "instability",
            "prior_lumbar_surgery",
            "prior_surgery_at_target_level",
            "dominant_foraminal_or_disc",
            "severe_neurological_deficit",
            "infection",
            "bleeding_disorder",
            "on_anticoagulant",
            "anticoagulant_can_be_held",
            "recent_epidural_injection",
            "opioid_mme_per_day",
            "vascular_claudication",
        ),
    ),
    ("Red flags", ("cauda_equina_signs", "other_red_flags")),
]
CLINICIAN_INPUT_TYPES: dict[str, str] = {
    "symptom_months": "integer",
    "lf_thickness_mm": "decimal",
    "odi_score": "decimal",
    "nprs": "integer",
    "opioid_mme_per_day": "decimal",
    "spondylolisthesis_grade": "integer",
    "imaging_date": "date",
    "odi_date": "date",
    "nprs_date": "date",
    "imaging_modality": "choice",
}
CLINICIAN_FIELDS = tuple(name for _, names in CLINICIAN_GROUPS for name in names)

ROLE_LABELS = {"gate": "Gate", "inclusion": "Inclusion", "exclusion": "Exclusion", "red_flag": "Red flag"}
GUIDANCE_TONE = {
    "seek_care_now": "urgent_referral",
    "see_doctor_soon": "needs_more_information",
    "ask_about_stenosis": "not_candidate",
    "talk_to_doctor": "not_candidate",
    "ask_spine_specialist": "likely_candidate",
}


# ---------------------------------------------------------------------------------------------------------------
# Reading forms


def _self_check_values(form: FormData) -> dict[str, Any]:
    """What the visitor entered, as text (for re-showing the form) plus the list of treatments."""
    values: dict[str, Any] = {name: str(form.get(name, ""))[:40] for name in SELF_CHECK_BOOLEANS + SELF_CHECK_CHOICES}
    values["treatments_tried"] = [str(v)[:32] for v in form.getlist("treatments_tried")][:10]
    values["comment"] = str(form.get("comment", ""))[:2000]
    return values


def _yes_no(value: str) -> bool | None:
    return {"yes": True, "no": False}.get(value)


def _self_check_answers(values: dict[str, Any]) -> dict[str, Any]:
    answers: dict[str, Any] = {name: _yes_no(values.get(name, "")) for name in SELF_CHECK_BOOLEANS}
    for name in SELF_CHECK_CHOICES:
        answers[name] = values.get(name) or None
    answers["treatments_tried"] = list(values.get("treatments_tried") or [])
    answers["comment"] = str(values.get("comment") or "").strip() or None
    return answers


def _clinician_values(form: FormData) -> dict[str, str]:
    return {name: str(form.get(name, "")).strip()[:40] for name in (*CLINICIAN_FIELDS, "assessed_on")}


def _clinician_answers(values: dict[str, str]) -> dict[str, Any]:
    answers: dict[str, Any] = {}
    for name in CLINICIAN_FIELDS:
        raw = values.get(name, "")
        if name in CLINICIAN_INPUT_TYPES:
            answers[name] = raw or None
        else:
            answers[name] = _yes_no(raw)
    return answers


# A self-check's errors in the patient's words (the domain's messages are English, for developers and the API).
SELF_CHECK_ANSWER_ERROR = N_("this answer could not be read; choose one of the answers shown")
SELF_CHECK_FORM_ERROR = N_("Answer at least one question, then try again.")


def _error(exc: InvalidInput, questions: dict[str, Question]) -> dict[str, str]:
    """The error with the question's wording in front ("Ligamentum flavum thickness ...: must be > 0")."""
    field = (exc.field or "form").split(".", 1)[-1]
    message = exc.message.split(": ", 1)[-1] if ": " in exc.message else exc.message
    question = questions.get(field)
    if question is not None:
        return {"field": field, "message": f"{question.text}: {message}"}
    return {"field": field, "message": exc.message}


def _self_check_error(request: Request, exc: InvalidInput) -> dict[str, str]:
    """A self-check error for the patient: the question in the page's language and, in a language other than
    English, a plain message in it (the English keeps the domain's precise message)."""
    language = negotiate(request)
    questions = dict(load_forms(language).self_check)
    error = _error(exc, questions)
    if language == "en":
        return error
    question, words = questions.get(error["field"]), translations(language)  # before render sets the language
    if question is not None:
        return {"field": error["field"], "message": f"{question.text}: {words.gettext(SELF_CHECK_ANSWER_ERROR)}"}
    return {"field": error["field"], "message": words.gettext(SELF_CHECK_FORM_ERROR)}


# ---------------------------------------------------------------------------------------------------------------
# Explaining a result (plain dicts for the templates)


def explain(result: dict[str, Any]) -> list[dict[str, Any]]:
    """Each criterion of a stored (or fresh) result ready to show: verdict, tone, evidence rows, sources."""
    forms = load_forms()
    sources = bibliography()
    rows = []
    for item in result.get("criteria") or ():
        role, status = str(item.get("role")), str(item.get("status"))
        rows.append(
            {
                "id": item["id"],
                "role": ROLE_LABELS.get(role, role),
                "status": status,
                "verdict": _verdict(role, status),
                "tone": _tone(role, status),
                "clinician": item.get("clinician") or item["id"],
                "missing": item.get("missing") or "",
                "evidence": [_evidence_row(e, forms) for e in item.get("evidence") or () if e.get("counted", True)],
                "uncounted": [
                    _evidence_row(e, forms) | {"why": str(e.get("why") or "")}
                    for e in item.get("evidence") or ()
                    if e.get("counted", True) is False
                ],
                "sources": [_source(s, sources) for s in [item.get("source"), *(item.get("also") or [])] if s],
            }
        )
    return rows


def _verdict(role: str, status: str) -> str:
    if status == "unknown":
        return "Unknown"
    if role in ("exclusion", "red_flag"):
        return "Present" if status == "met" else "Not present"
    return "Met" if status == "met" else "Not met"


def _tone(role: str, status: str) -> str:
    if status == "unknown":
        return "unknown"
    bad = status == "met" if role in ("exclusion", "red_flag") else status == "not_met"
    return "not_met" if bad else "met"


def _evidence_row(e: dict[str, Any], forms: Any) -> dict[str, str]:
    record = str(e.get("record") or "")
    label = record
    if record.startswith("form:"):
        form_name, _, field = record.removeprefix("form:").partition(".")
        questions = forms.clinician if form_name == "clinician" else forms.self_check
        question = questions.get(field)
        where = "Clinician assessment" if form_name == "clinician" else "Patient self-check"
        label = f"{where}: {question.text}" if question is not None else record
    value = e.get("value")
    shown = "yes" if value is True else "no" if value is False else "—" if value is None else str(value)
    return {"value": shown, "date": str(e.get("date") or "undated"), "record": record, "label": label}


def _source(source_id: str, sources: dict[str, Any]) -> dict[str, Any]:
    found = sources.get(source_id)
    if found is None:
        return {"id": source_id, "cite": source_id, "verified": True}
    return {"id": source_id, "cite": found.cite(), "verified": found.verified}


def _answers_rows(view: svc.ScreeningView) -> list[dict[str, str]]:
    """The stored input, worded: form answers with their questions (a FHIR import lists the facts read)."""
    forms = load_forms()
    if view.kind == "fhir_import":
        return [
            {"question": f"{f.get('kind')} {f.get('code')}", "answer": f"{f.get('value')} ({f.get('record')})"}
            for f in view.answers.get("facts") or []
        ]
    questions = forms.clinician if view.kind == "clinician_assessment" else forms.self_check
    rows = []
    for name, value in view.answers.items():
        question = questions.get(name)
        if question is None:
            continue
        if isinstance(value, list):
            shown = ", ".join(question.options.get(v, v) for v in value) or "none"
        elif isinstance(value, bool):
            shown = "yes" if value else "no"
        else:
            shown = question.options.get(str(value), str(value))
        rows.append({"question": question.text, "answer": shown})
    return rows


def _result_context(view: svc.ScreeningView) -> dict[str, Any]:
    return {
        "screening": view,
        "criteria": explain(view.result),
        "missing": view.result.get("missing") or [],
        "reasons": view.result.get("reasons") or [],
        "cautions": _cautions(view.result),
        "not_assessed": _not_assessed(view.result),
        "answers": _answers_rows(view),
    }


def _cautions(result: dict[str, Any]) -> list[dict[str, Any]]:
    """The result's cautions with their citation, for the headline."""
    sources = bibliography()
    return [
        {"id": c.get("id"), "text": c.get("text"), "source": _source(str(c.get("source")), sources)}
        for c in result.get("cautions") or ()
    ]


def _not_assessed(result: dict[str, Any]) -> list[dict[str, str]]:
    """The exclusions with no record either way, worded (clinician wording of the stored criteria)."""
    words = {str(c.get("id")): str(c.get("clinician") or c.get("id")) for c in result.get("criteria") or ()}
    return [{"id": cid, "clinician": words.get(cid, cid)} for cid in result.get("not_assessed") or ()]


def _guidance_context(request: Request, outcome: svc.SelfCheckOutcome) -> dict[str, Any]:
    forms = load_forms(negotiate(request))
    kind = outcome.guidance.kind.value
    return {
        "guidance": forms.guidance[kind],
        "tone": GUIDANCE_TONE[kind],
        "unmet": outcome.guidance.unmet,
        "notes": [forms.notes[n] for n in outcome.guidance.notes],
        "emergency": kind == "seek_care_now",
    }


# ---------------------------------------------------------------------------------------------------------------
# The public self-check


def _self_check_page(
    request: Request, values: dict[str, Any], errors: list[dict[str, str]], status: int = 200
) -> Response:
    forms = load_forms(negotiate(request))
    return render(
        request,
        "screening/self_check.html",
        {
            "title": forms.self_check_title,
            "intro": forms.self_check_intro,
            # a page where a patient reports symptoms says the service is not watched around the clock
            "emergency_notice": emergency_notice(request, None, None),
            "q": forms.self_check,
            "values": values,
            "errors": errors,
            "error_fields": {e["field"] for e in errors},
            "yes_no": SELF_CHECK_YES_NO,
            "red_urgent": RED_FLAGS_URGENT,
            "red_other": RED_FLAGS_OTHER,
        },
        status_code=status,
    )


@router.get("/self-check")
def self_check_form(request: Request, actor: PublicActor) -> Response:
    """The self-check, for anyone; nothing is stored by answering it."""
    return _self_check_page(request, {"treatments_tried": []}, [])


@router.post("/self-check")
async def self_check_result(request: Request, actor: PublicForm, settings: SettingsDep) -> Response:
    """The guidance for the answers given. Stores nothing (a signed-in patient may then save it)."""
    values = _self_check_values(await request.form())
    try:
        outcome = svc.evaluate_self_check(
            _self_check_answers(values), today=clock.today(), content_dir=settings.content_dir,
            language=negotiate(request),
        )
    except InvalidInput as exc:
        return _self_check_page(request, values, [_self_check_error(request, exc)], status=422)
    # The comment is read at once (nothing is stored until a signed-in patient saves the self-check).
    triage = comments.read_anonymous_comment(values.get("comment", ""), language=negotiate(request))
    return render(
        request,
        "screening/self_check_result.html",
        {**_guidance_context(request, outcome), "values": values, "can_save": actor.role == "patient", "saved": None,
         "comment_triage": triage, "level_labels": LEVEL_LABELS},
    )


@router.post("/self-check/save")
async def save_self_check(
    request: Request, actor: PatientSelfForm, session: SessionDep, settings: SettingsDep
) -> Response:
    """Save the answers just evaluated to the signed-in patient's own record."""
    values = _self_check_values(await request.form())
    assert actor.patient_id is not None
    try:
        view = svc.screen_patient_from_form(
            session,
            actor,
            actor.patient_id,
            "self_check",
            _self_check_answers(values),
            today=clock.today(),
            content_dir=settings.content_dir,
        )
    except InvalidInput as exc:
        return _self_check_page(request, values, [_self_check_error(request, exc)], status=422)
    return redirect(f"/me/self-checks/{view.id}")


@router.get("/me/self-checks")
def my_self_checks(request: Request, actor: PatientSelf, session: SessionDep) -> Response:
    assert actor.patient_id is not None
    views = svc.list_screenings(session, actor, actor.patient_id, kind="self_check")
    return render(request, "screening/my_self_checks.html", {"screenings": views})


@router.get("/me/self-checks/{screening_id}")
def my_self_check(
    request: Request, screening_id: RecordId, actor: PatientSelf, session: SessionDep, settings: SettingsDep
) -> Response:
    """A saved self-check's guidance, as the patient saw it."""
    assert actor.patient_id is not None
    view = svc.get_screening(session, actor, actor.patient_id, screening_id)
    outcome = svc.self_check_outcome(view, content_dir=settings.content_dir, language=negotiate(request))
    return render(
        request,
        "screening/self_check_result.html",
        {**_guidance_context(request, outcome), "values": {}, "can_save": False, "saved": view,
         "comment_triage": view.comment_triage, "level_labels": LEVEL_LABELS},
    )


# ---------------------------------------------------------------------------------------------------------------
# The clinician's Candidacy tab


@router.get("/patients/{patient_id}/candidacy")
def candidacy(request: Request, patient_id: PatientId, actor: StaffPatientRecordActor, session: SessionDep) -> Response:
    patient = patients_svc.view_patient(session, actor, patient_id)
    views = svc.list_screenings(session, actor, patient_id)
    return render(request, "screening/candidacy.html", {"patient": patient, "screenings": views})


def _assessment_page(
    request: Request,
    patient: Any,
    values: dict[str, str],
    errors: list[dict[str, str]],
    prefilled: list[str],
    status: int = 200,
) -> Response:
    forms = load_forms()
    return render(
        request,
        "screening/assessment.html",
        {
            "patient": patient,
            "groups": [(title, [(name, forms.clinician[name]) for name in names]) for title, names in CLINICIAN_GROUPS],
            "types": CLINICIAN_INPUT_TYPES,
            "values": values,
            "errors": errors,
            "error_fields": {e["field"] for e in errors},
            "prefilled": prefilled,
            "today": clock.today(),
        },
        status_code=status,
    )


@router.get("/patients/{patient_id}/candidacy/new")
def new_assessment(
    request: Request, patient_id: PatientId, actor: StaffPatientRecordActor, session: SessionDep
) -> Response:
    """A blank clinician assessment, the ODI and pain scores pre-filled from the latest questionnaires."""
    patient = patients_svc.view_patient(session, actor, patient_id)
    scores = svc.prefill_scores(session, actor, patient_id)
    values = {k: (v.isoformat() if isinstance(v, date) else _number(v)) for k, v in scores.items()}
    values["assessed_on"] = clock.today().isoformat()
    return _assessment_page(request, patient, values, [], sorted(scores))


def _number(value: Any) -> str:
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


@router.post("/patients/{patient_id}/candidacy")
async def save_assessment(
    request: Request, patient_id: PatientId, actor: StaffPatientRecordForm, session: SessionDep, settings: SettingsDep
) -> Response:
    """Screen and store the clinician assessment; invalid answers re-show the form with what was entered."""
    patient = patients_svc.view_patient(session, actor, patient_id)
    values = _clinician_values(await request.form())
    try:
        as_of = form_date(values["assessed_on"]) if values.get("assessed_on") else None
    except ValueError:
        error = {"field": "assessed_on", "message": "Date of the assessment: use YYYY-MM-DD"}
        return _assessment_page(request, patient, values, [error], [], status=422)
    try:
        view = svc.screen_patient_from_form(
            session,
            actor,
            patient_id,
            "clinician_assessment",
            _clinician_answers(values),
            today=clock.today(),
            as_of=as_of,
            content_dir=settings.content_dir,
        )
    except InvalidInput as exc:
        errors = [_error(exc, dict(load_forms().clinician))]
        if errors[0]["field"] == "as_of":
            errors[0]["field"] = "assessed_on"
        return _assessment_page(request, patient, values, errors, [], status=422)
    return redirect(f"/patients/{patient_id}/candidacy/{view.id}")


@router.get("/patients/{patient_id}/candidacy/{screening_id}")
def screening_result(
    request: Request, patient_id: PatientId, screening_id: RecordId, actor: StaffPatientRecordActor, session: SessionDep
) -> Response:
    """The explained result: status, every criterion with its evidence and source, what is missing."""
    patient = patients_svc.view_patient(session, actor, patient_id)
    view = svc.get_screening(session, actor, patient_id, screening_id)
    return render(request, "screening/result.html", {"patient": patient, **_result_context(view)})


@router.get("/patients/{patient_id}/candidacy/{screening_id}/print")
def screening_print(
    request: Request, patient_id: PatientId, screening_id: RecordId, actor: StaffPatientRecordActor, session: SessionDep
) -> Response:
    """A print-friendly summary of one screening (no navigation; prints on A4 or Letter)."""
    patient = patients_svc.view_patient(session, actor, patient_id)
    view = svc.get_screening(session, actor, patient_id, screening_id)
    age = patients_svc.age_on(patient.birth_date, view.as_of)
    return render(
        request,
        "screening/print.html",
        {"patient": patient, "age": age, "printed_on": clock.today(), **_result_context(view)},
    )
