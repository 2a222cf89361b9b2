"""Candidacy screening use cases (issue 3): screen a patient from a form or a FHIR chart, store it, read it back.

Every function that reads or stores a patient's screenings takes the acting person, checks access with
:func:`~mildpath.services.access.get_patient_for` (404 for a patient not visible, before any role check) and
writes its audit row in the same transaction. Audit details name the kind and the criteria set, never answers
or statuses (no health data in the trail).

Who may store what (mildpath's choices; the reference is silent on them):

- ``clinician_assessment`` and ``fhir_import``: clinicians of the patient's clinic and admins.
- ``self_check``: the patient, for their own record (the "save to my record" of the public self-check), or staff
  typing in a self-check the patient filled on paper.
- Anyone, without an account, may *evaluate* a self-check (:func:`evaluate_self_check`): a pure function call
  that reads no database and stores nothing.

The criteria set is ``default`` from the site's content folder when ``content_dir`` (``Settings.content_dir``)
holds ``criteria/default.yaml``, else the shipped one; each screening stores its ``name@version``.
The wording everywhere is "likely candidate, refer for specialist evaluation", never "approved"; an urgent
referral says to seek care now (``mildpath.domain.screening.SUMMARY``).

Each screening is screened on its own input: a clinician assessment is not merged with an earlier self-check or
FHIR import, so what the page explains is exactly what was entered.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from datetime import date, datetime
from pathlib import Path
from typing import Any, Literal, TypedDict

from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy.orm import Session

from mildpath.content.criteria import load_criteria_set, load_forms
from mildpath.domain.conditions import Present, Select, Tri
from mildpath.domain.criteria import CriteriaSet, Criterion, Finding, Role
from mildpath.domain.errors import InvalidAnswer, InvalidInput, NotFound
from mildpath.domain.facts import Evidence, PatientFacts
from mildpath.domain.referrals import REFERRABLE
from mildpath.domain.screening import Caution, ScreeningResult, Status, screen
from mildpath.domain.selfcheck import ClinicianAssessment, Guidance, SelfCheck, self_check_guidance
from mildpath.fhir.read import FhirRead, facts_from_resources
from mildpath.fhir.write import guidance_response, risk_assessment
from mildpath.services import clock
from mildpath.services import proms as proms_svc
from mildpath.services import referrals as referrals_svc
from mildpath.services.access import Actor, get_patient_for, record, require_role, require_staff
from mildpath.services.comments import CommentTriage, CommentTriageView, stored_comment_triage, triage_comment
from mildpath.store import screenings as store
from mildpath.store import users as users_store
from mildpath.store.models import Patient

KINDS = store.KINDS
FORM_KINDS = ("self_check", "clinician_assessment")
FhirResourceType = Literal["RiskAssessment", "GuidanceResponse"]

#: Short labels for lists and badges; the full sentences are ``ScreeningResult.summary``. source: issue 3
STATUS_LABELS: dict[str, str] = {
    "likely_candidate": "Likely candidate: refer for specialist evaluation",
    "not_candidate": "Not a candidate on the information on record",
    "needs_more_information": "More information needed",
    "urgent_referral": "Urgent: seek care now",
}
KIND_LABELS: dict[str, str] = {
    "self_check": "Patient self-check",
    "clinician_assessment": "Clinician assessment",
    "fhir_import": "FHIR import",
}
_DATE_FIELD = {"self_check": "answered_on", "clinician_assessment": "assessed_on"}
# Dates of the clinician assessment that must not lie after the assessment itself.
_DATED = ("imaging_date", "odi_date", "nprs_date")


# ---------------------------------------------------------------------------------------------------------------
# Plain views (templates and API schemas read these, never ORM rows)


@dataclass(frozen=True)
class ScreeningView:
    id: int
    patient_id: int
    kind: str
    as_of: date
    criteria_set: str
    status: str
    summary: str
    result: dict[str, Any]
    answers: dict[str, Any]
    created_by: int | None
    created_by_name: str
    created_at: datetime
    #: what the symptom reader made of a self-check's comment (issue 15 §1); filled where one screening is shown
    comment_triage: CommentTriage | None = None

    @property
    def status_label(self) -> str:
        return STATUS_LABELS[self.status]

    @property
    def kind_label(self) -> str:
        return KIND_LABELS[self.kind]


@dataclass(frozen=True)
class SelfCheckOutcome:
    """An evaluated self-check: the validated answers, the screening result and the guidance for the patient."""

    check: SelfCheck
    result: ScreeningResult
    guidance: Guidance


@dataclass(frozen=True)
class LatestStatus:
    screening_id: int
    status: str
    kind: str
    as_of: date

    @property
    def label(self) -> str:
        text = STATUS_LABELS[self.status]
        return f"{text} (self-check)" if self.kind == "self_check" else text


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True)


class EvidenceView(_Frozen):
    """One piece of evidence. Evidence that was found but did not count (too old, too recent) also carries
    ``"counted": false`` and ``"why"`` (contracts §3); evidence that counted has only the three keys."""

    model_config = ConfigDict(frozen=True, extra="allow")

    value: bool | int | float | str | None
    date: date | None
    record: str = Field(description="A FHIR reference (Condition/123) or a form field (form:clinician.nprs)")


class CautionView(_Frozen):
    id: str
    text: str
    source: str = Field(description="Citation id of the content bibliography")


class CriterionView(_Frozen):
    id: str
    status: str = Field(description="met, not_met or unknown (for an exclusion or red flag, met means it applies)")
    role: str = Field(description="gate, inclusion, exclusion or red_flag")
    evidence: list[EvidenceView]
    source: str = Field(description="Citation id of the content bibliography")
    clinician: str = ""
    patient: str = ""


class ScreeningResultView(_Frozen):
    """A stored screening as the API answers it (contracts, screening sections): the service's typed result."""

    id: int
    patient_id: int
    kind: str = Field(description="self_check, clinician_assessment or fhir_import")
    as_of: date
    criteria_set: str = Field(description="name@version")
    status: str = Field(description="likely_candidate, not_candidate, needs_more_information or urgent_referral")
    summary: str
    missing: list[str]
    reasons: list[str]
    cautions: list[CautionView] = Field(
        default_factory=list, description="What the specialist must weigh; the status does not change (contracts §3)"
    )
    not_assessed: list[str] = Field(
        default_factory=list, description="Exclusions with no record either way (criterion ids)"
    )
    criteria: list[CriterionView]
    answers: dict[str, Any] = Field(description="The input: the form's answers, or a summary of the FHIR facts read")
    created_by: int | None
    created_at: Any
    comment_triage: CommentTriageView | None = Field(
        default=None, description="What the symptom reader made of a self-check's comment (answers.comment)"
    )


class NoteView(_Frozen):
    title: str
    text: str
    source: str


class GuidanceView(_Frozen):
    kind: str = Field(
        description="seek_care_now, see_doctor_soon, ask_about_stenosis, talk_to_doctor, ask_spine_specialist"
    )
    title: str
    text: str
    source: str
    unmet: list[str] = Field(description="Why mild may not be next, in plain words")
    notes: list[NoteView]


class SelfCheckResultView(_Frozen):
    """An anonymous self-check as the API answers it: the guidance in its words, the result, nothing stored."""

    guidance: GuidanceView
    status: str
    criteria_set: str
    criteria: list[CriterionView]
    stored: bool = Field(description="Always false: an anonymous self-check stores nothing")


#: The fields a :class:`ScreeningResultView` takes from the :class:`ScreeningView` as they are.
_STORED_FIELDS = ("id", "patient_id", "kind", "as_of", "criteria_set", "status", "summary", "answers", "created_by",
                  "created_at")


def screening_result(view: ScreeningView) -> ScreeningResultView:
    """The typed result of a stored screening (what the API answers for it)."""
    result = view.result
    return ScreeningResultView(
        **{name: getattr(view, name) for name in _STORED_FIELDS},
        missing=list(result.get("missing") or []),
        reasons=list(result.get("reasons") or []),
        cautions=[CautionView.model_validate(c) for c in result.get("cautions") or []],
        not_assessed=list(result.get("not_assessed") or []),
        criteria=[CriterionView.model_validate(c) for c in result.get("criteria") or []],
        comment_triage=CommentTriageView.model_validate(view.comment_triage) if view.comment_triage else None,
    )


def guidance_view(guidance: Guidance) -> GuidanceView:
    """The guidance with its wording from ``content/criteria/forms.yaml``."""
    forms = load_forms()
    text = forms.guidance[guidance.kind.value]
    return GuidanceView(
        kind=guidance.kind.value,
        title=text.title,
        text=text.text,
        source=text.source,
        unmet=list(guidance.unmet),
        notes=[
            NoteView(title=forms.notes[n].title, text=forms.notes[n].text, source=forms.notes[n].source)
            for n in guidance.notes
        ],
    )


def self_check_result(outcome: SelfCheckOutcome) -> SelfCheckResultView:
    """The typed answer of an anonymous self-check (nothing stored)."""
    return SelfCheckResultView(
        guidance=guidance_view(outcome.guidance),
        status=outcome.result.status.value,
        criteria_set=outcome.result.criteria_set,
        criteria=[CriterionView.model_validate(c) for c in result_json(outcome.result)["criteria"]],
        stored=False,
    )


# ---------------------------------------------------------------------------------------------------------------
# Criteria set, forms and the stored result


def criteria_set_for(content_dir: str = "") -> CriteriaSet:
    """The ``default`` set: the site's ``<content_dir>/criteria/default.yaml`` when there is one, else shipped."""
    return load_criteria_set("default", Path(content_dir) if content_dir else None)


def parse_form(
    kind: str, answers: Mapping[str, Any], *, today: date, as_of: date | None = None
) -> SelfCheck | ClinicianAssessment:
    """Validate a form's answers. The form's date is ``as_of``, else the date in the answers, else ``today``.

    Raises :class:`InvalidInput` (field ``as_of``) for a date after ``today``, and
    :class:`~mildpath.domain.errors.InvalidAnswer` naming the field (``clinician.lf_thickness_mm``) for a bad
    answer, or for an imaging, ODI or pain date after the assessment.
    """
    if kind not in FORM_KINDS:
        raise InvalidInput(f"kind: must be one of {', '.join(FORM_KINDS)}", field="kind", value=kind)
    if not isinstance(answers, Mapping):
        raise InvalidInput("answers: must be an object of question -> answer", field="answers")
    field = _DATE_FIELD[kind]
    data = dict(answers)
    day = as_of or _as_date(data.get(field), field) or today
    if day > today:
        raise InvalidInput(f"as_of: {day.isoformat()} is in the future", field="as_of", value=day.isoformat())
    data[field] = day
    if kind == "self_check":
        return SelfCheck.from_mapping(data)
    assessment = ClinicianAssessment.from_mapping(data)
    for name in _DATED:
        when = getattr(assessment, name)
        if when is not None and when > day:
            raise InvalidAnswer(
                f"clinician.{name}", when.isoformat(), f"clinician.{name}: {when.isoformat()} is after the assessment"
            )
    return assessment


def _as_date(value: Any, field: str) -> date | None:
    if value is None or value == "":
        return None
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(str(value))
    except ValueError:
        raise InvalidInput(f"{field}: {value!r} is not a date (YYYY-MM-DD)", field=field, value=value) from None


def result_json(result: ScreeningResult) -> dict[str, Any]:
    """``result.to_json()`` plus each criterion's wording in force (clinician, patient, what to collect, other
    sources), so a stored screening explains itself after the criteria set changes."""
    data = result.to_json()
    criteria: list[dict[str, Any]] = data["criteria"]  # type: ignore[assignment]
    for item, finding in zip(criteria, result.findings, strict=True):
        c = finding.criterion
        item.update(clinician=c.clinician, patient=c.patient, missing=c.to_collect, also=list(c.also))
    return data


def result_from_json(data: Mapping[str, Any], criteria_set: CriteriaSet | None = None) -> ScreeningResult:
    """A stored result back as a :class:`ScreeningResult` (for FHIR output and guidance).

    When the stored ``criteria_set`` is ``criteria_set``'s label, its criteria are used; otherwise (the set has
    changed since) each criterion is rebuilt from the stored wording, with a rule that reads nothing: a stored
    result is never re-evaluated, only re-expressed.
    """
    same = criteria_set is not None and criteria_set.label == data.get("criteria_set")
    findings = []
    for item in data.get("criteria") or ():
        criterion = _stored_criterion(item, criteria_set if same else None)
        items = [
            Evidence(
                e.get("value"),
                date.fromisoformat(e["date"]) if e.get("date") else None,
                str(e.get("record")),
                counted=e.get("counted", True) is not False,
                why=str(e.get("why") or ""),
            )
            for e in item.get("evidence") or ()
        ]
        findings.append(
            Finding(
                criterion,
                Tri(item["status"]),
                tuple(e for e in items if e.counted),
                uncounted=tuple(e for e in items if not e.counted),
                assessed=str(item["id"]) not in (data.get("not_assessed") or ()),
            )
        )
    return ScreeningResult(
        status=Status(data["status"]),
        criteria_set=str(data["criteria_set"]),
        as_of=date.fromisoformat(str(data["as_of"])),
        findings=tuple(findings),
        missing=tuple(data.get("missing") or ()),
        reasons=tuple(data.get("reasons") or ()),
        cautions=tuple(Caution(str(c["id"]), str(c["text"]), str(c["source"])) for c in data.get("cautions") or ()),
        not_assessed=tuple(str(c) for c in data.get("not_assessed") or ()),
    )


def _stored_criterion(item: Mapping[str, Any], rules: CriteriaSet | None) -> Criterion:
    if rules is not None:
        try:
            return rules.criterion(str(item["id"]))
        except KeyError:
            pass
    return Criterion(
        id=str(item["id"]),
        role=Role(str(item["role"])),
        clinician=str(item.get("clinician") or item["id"]),
        patient=str(item.get("patient") or ""),
        # A placeholder rule: this criterion is only re-expressed (FHIR, guidance), never evaluated.
        rule=Present(Select("answer", fields=(f"stored.{item['id']}",))),
        source=str(item["source"]),
        also=tuple(str(s) for s in item.get("also") or ()),
        missing=str(item.get("missing") or ""),
    )


def _with_demographics(facts: PatientFacts, patient: Patient) -> PatientFacts:
    """Facts plus the patient's birth date and sex where the input did not carry them."""
    return facts.merge(PatientFacts(patient_id=str(patient.id), birth_date=patient.birth_date, sex=patient.sex))


def _facts_summary(read: FhirRead) -> dict[str, Any]:
    """What a FHIR import read, for the stored input: each fact with its code, value, date and record."""
    return {
        "resources": read.resources,
        "skipped": dict(read.skipped),
        "facts": [
            {
                "kind": f.kind,
                "system": f.system,
                "code": f.code,
                "value": f.value,
                "date": f.start.isoformat() if f.start else None,
                "record": f.record,
            }
            for f in read.facts
        ],
    }


# ---------------------------------------------------------------------------------------------------------------
# Anonymous evaluation (no session, no storage)


def evaluate_self_check(
    answers: Mapping[str, Any], *, today: date, as_of: date | None = None, content_dir: str = "",
    language: str = "en",
) -> SelfCheckOutcome:
    """Screen a self-check and give the patient's guidance (in ``language``); reads no database and stores
    nothing."""
    check = parse_form("self_check", answers, today=today, as_of=as_of)
    assert isinstance(check, SelfCheck)
    result = screen(criteria_set_for(content_dir), check.to_facts(), check.answered_on)
    return SelfCheckOutcome(check, result, self_check_guidance(result, check, language=language))


def self_check_outcome(view: ScreeningView, *, content_dir: str = "", language: str = "en") -> SelfCheckOutcome:
    """The guidance of a stored self-check (already read through :func:`get_screening`), in ``language``."""
    if view.kind != "self_check":
        raise InvalidInput("this screening is not a self-check", field="kind", value=view.kind)
    check = SelfCheck.from_mapping(view.answers)
    result = result_from_json(view.result, criteria_set_for(content_dir))
    return SelfCheckOutcome(check, result, self_check_guidance(result, check, language=language))


# ---------------------------------------------------------------------------------------------------------------
# Storing screenings


def screen_patient_from_form(
    session: Session,
    actor: Actor,
    patient_id: int,
    kind: str,
    answers: Mapping[str, Any],
    *,
    today: date,
    as_of: date | None = None,
    content_dir: str = "",
    refer: bool = True,
) -> ScreeningView:
    """Screen a patient from the self-check or the clinician assessment, store it with its criteria-set version.

    ``as_of``: the form's date (default: the date in the answers, else ``today``; never after ``today``).
    ``refer``: an answer that calls for a specialist becomes a referral source (issue 18; the demo's history
    of treated patients passes False).
    """
    patient = get_patient_for(session, actor, patient_id)
    if kind == "clinician_assessment":
        require_staff(actor)
    elif kind == "self_check":
        require_role(actor, "patient", "clinician", "admin")
    else:
        raise InvalidInput(f"kind: must be one of {', '.join(FORM_KINDS)}", field="kind", value=kind)
    form = parse_form(kind, answers, today=today, as_of=as_of)
    day = form.answered_on if isinstance(form, SelfCheck) else form.assessed_on
    stored_answers = form.model_dump(mode="json", exclude_none=True)
    if not any(v not in (None, [], "") for k, v in stored_answers.items() if k != _DATE_FIELD[kind]):
        raise InvalidInput("answers: answer at least one question before saving", field="answers")
    view = _store(session, actor, patient, kind, day, form.to_facts(), stored_answers, content_dir, refer=refer)
    comment = getattr(form, "comment", None)
    if not comment:
        return view
    # The comment is read like a diary note: a sign raises a diary entry of origin self_check and its flag.
    triage = triage_comment(session, actor, patient.id, comment, origin="self_check", now=clock.now())
    if triage is not None and triage.entry_id is not None:
        store.set_comment_entry(session, screening_id=view.id, entry_id=triage.entry_id)
    return replace(view, comment_triage=triage)


def screen_from_fhir(
    session: Session,
    actor: Actor,
    patient_id: int,
    bundle: Mapping[str, Any],
    *,
    today: date,
    as_of: date | None = None,
    content_dir: str = "",
) -> ScreeningView:
    """Screen a patient from a FHIR R4 Bundle (or one resource) of their chart, posted by an EHR; store it.

    Codes screening does not use are ignored; unreadable input is :class:`~mildpath.domain.errors.FhirInputError`.
    A Bundle whose Patient has another birth date than this patient is refused (field ``bundle``): it was most
    likely meant for someone else.
    """
    patient = get_patient_for(session, actor, patient_id)
    require_staff(actor)
    if not isinstance(bundle, Mapping) or not isinstance(bundle.get("resourceType"), str):
        raise InvalidInput("bundle: must be a FHIR resource (a Bundle of the patient's chart)", field="bundle")
    day = as_of or today
    if day > today:
        raise InvalidInput(f"as_of: {day.isoformat()} is in the future", field="as_of", value=day.isoformat())
    read = facts_from_resources([bundle], where="bundle")
    if read.facts.birth_date is not None and read.facts.birth_date != patient.birth_date:
        raise InvalidInput(
            "bundle: its Patient's birthDate does not match this patient's; was it meant for another patient?",
            field="bundle",
        )
    return _store(session, actor, patient, "fhir_import", day, read.facts, _facts_summary(read), content_dir)


def _store(
    session: Session,
    actor: Actor,
    patient: Patient,
    kind: str,
    day: date,
    facts: PatientFacts,
    answers: dict[str, Any],
    content_dir: str,
    *,
    refer: bool = False,
) -> ScreeningView:
    rules = criteria_set_for(content_dir)
    result = screen(rules, _with_demographics(facts, patient), day)
    row = store.add_screening(
        session,
        patient_id=patient.id,
        kind=kind,
        as_of=day,
        criteria_set=result.criteria_set,
        status=result.status.value,
        result=result_json(result),
        answers=answers,
        created_by=actor.user_id,
        created_at=clock.now(),
    )
    record(
        session, actor, "screening.create", "Screening", row.id, patient.id, {"kind": kind, "criteria_set": rules.label}
    )
    if refer:
        _refer(session, actor, row.id, patient.id, kind, result)
    return _views(session, [row])[0]


# Issue 18: a self-check the patient saved to their record (their consent to share it with the clinic) and a
# clinician screening become referral sources when the answer calls for a specialist (services/referrals.py).
REFERRAL_KINDS = {"self_check": "self_check", "clinician_assessment": "clinician_screening"}


def _refer(session: Session, actor: Actor, screening_id: int, patient_id: int, kind: str,
           result: ScreeningResult) -> None:
    if kind not in REFERRAL_KINDS or result.status.value not in REFERRABLE:
        return
    referrals_svc.add_source(
        session, actor, kind=REFERRAL_KINDS[kind], key=f"screening:{screening_id}", dated=result.as_of,
        now=clock.now(), patient_id=patient_id, result=result.status.value, criteria_set=result.criteria_set,
        reasons=result.reasons, missing=result.missing,
        criteria={c: t.value for c, t in result.statuses().items()})


# ---------------------------------------------------------------------------------------------------------------
# Reading screenings


def list_screenings(
    session: Session, actor: Actor, patient_id: int, *, kind: str | None = None, limit: int = 100
) -> list[ScreeningView]:
    """The patient's screenings, newest first."""
    get_patient_for(session, actor, patient_id)
    if kind is not None and kind not in KINDS:
        raise InvalidInput(f"kind: must be one of {', '.join(KINDS)}", field="kind", value=kind)
    rows = store.list_for_patient(session, patient_id=patient_id, kind=kind, limit=limit)
    record(session, actor, "screening.list", "Screening", None, patient_id, {"results": len(rows)})
    return _views(session, rows)


def get_screening(session: Session, actor: Actor, patient_id: int, screening_id: int) -> ScreeningView:
    """One screening of the patient; :class:`NotFound` for another patient's id or no such id."""
    get_patient_for(session, actor, patient_id)
    row = store.get_screening(session, patient_id=patient_id, screening_id=screening_id)
    if row is None:
        raise NotFound(f"no screening {screening_id}", record_type="Screening", record_id=screening_id)
    record(session, actor, "screening.read", "Screening", row.id, patient_id)
    triage = stored_comment_triage(session, actor, patient_id, row.comment_entry_id)  # None without a comment
    return replace(_views(session, [row])[0], comment_triage=triage)


def screening_fhir(
    session: Session,
    actor: Actor,
    patient_id: int,
    screening_id: int,
    *,
    resource_type: FhirResourceType | None = None,
    content_dir: str = "",
) -> dict[str, Any]:
    """The screening as a FHIR R4 resource: ``GuidanceResponse`` for a self-check, else ``RiskAssessment``
    (``resource_type`` chooses)."""
    view = get_screening(session, actor, patient_id, screening_id)
    return _fhir(view, resource_type, criteria_set_for(content_dir))


def _fhir(view: ScreeningView, resource_type: FhirResourceType | None, rules: CriteriaSet) -> dict[str, Any]:
    result = result_from_json(view.result, rules)
    chosen = resource_type or ("GuidanceResponse" if view.kind == "self_check" else "RiskAssessment")
    subject = f"Patient/{view.patient_id}"
    if chosen == "GuidanceResponse":
        return guidance_response(result, subject=subject, resource_id=f"screening-{view.id}",
                                 last_updated=view.created_at)
    return risk_assessment(result, subject=subject, resource_id=f"screening-{view.id}", last_updated=view.created_at)


def fhir_resources_for_patient(session: Session, patient_id: int) -> list[dict[str, Any]]:
    """Every stored screening as FHIR (patient-rights export registry: no access check or audit here)."""
    rows = store.list_for_patient(session, patient_id=patient_id, limit=10_000)
    rules = criteria_set_for()
    return [_fhir(view, None, rules) for view in reversed(_views(session, rows))]


def latest_statuses(session: Session, patient_ids: Iterable[int]) -> dict[int, LatestStatus]:
    """The latest screening status of each patient (the clinic's screenings before self-checks), in bulk.

    For the patient list's column: the caller passes ids it already listed through an access-checked search,
    which wrote the audit row.
    """
    rows = store.latest_by_patient(session, patient_ids=patient_ids)
    return {pid: LatestStatus(row.id, row.status, row.kind, row.as_of) for pid, row in rows.items()}


class PrefillScores(TypedDict, total=False):
    """The assessment fields :func:`prefill_scores` can fill, by form field name (absent: no questionnaire)."""

    odi_score: float
    odi_date: date
    nprs: int
    nprs_date: date


def prefill_scores(session: Session, actor: Actor, patient_id: int) -> PrefillScores:
    """The latest questionnaire scores for the clinician assessment: ``odi_score``/``odi_date`` and
    ``nprs``/``nprs_date`` (the larger of back and leg pain, as the criteria set reads it), where completed
    questionnaires exist. The clinician sees and may change them before saving."""
    out: PrefillScores = {}
    odi = [
        p
        for p in proms_svc.patient_trend(session, actor, patient_id, "odi").points
        if p.values.get("value") is not None
    ]
    if odi:
        latest = max(odi, key=lambda p: (p.answered_on, p.response_id))
        value = latest.values["value"]
        if value is not None:  # always: the points were kept for having one
            out |= {"odi_score": value, "odi_date": latest.answered_on}
    nprs = [
        p
        for p in proms_svc.patient_trend(session, actor, patient_id, "nprs").points
        if any(v is not None for v in p.values.values())
    ]
    if nprs:
        latest = max(nprs, key=lambda p: (p.answered_on, p.response_id))
        # source: motion-eligibility (NPRS >= 5; the larger of back and leg, an ASSUMPTION noted in default.yaml)
        worst = max(v for v in latest.values.values() if v is not None)
        out |= {"nprs": round(worst), "nprs_date": latest.answered_on}
    return out


def _views(session: Session, rows: Iterable[store.Screening]) -> list[ScreeningView]:
    rows = list(rows)
    names = users_store.display_names(session, user_ids=(r.created_by for r in rows))
    return [
        ScreeningView(
            id=r.id,
            patient_id=r.patient_id,
            kind=r.kind,
            as_of=r.as_of,
            criteria_set=r.criteria_set,
            status=r.status,
            summary=str((r.result or {}).get("summary") or STATUS_LABELS[r.status]),
            result=dict(r.result or {}),
            answers=dict(r.answers or {}),
            created_by=r.created_by,
            created_by_name=names.get(r.created_by, "") if r.created_by is not None else "",
            created_at=r.created_at,
        )
        for r in rows
    ]
