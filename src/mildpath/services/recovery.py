"""Recovery after the mild procedure: the patient's plan, the symptom diary with red-flag triage, and the
clinician worklist (issue 6). Every read and change checks access, calls the domain and writes its audit row in
the caller's transaction; nothing here commits.

Who may do what
---------------
- The plan: staff set it (:func:`set_plan`); the patient and their clinic's staff read it.
- The diary: a patient records entries for themselves only; staff may record for a patient of their clinic
  (for example during a phone check). Another clinic's patient, or another patient, is :class:`NotFound`.
- The worklist and its flags: staff only, and only flags of patients they may see.

An ``emergency`` or ``same_day`` entry queues one notification per active clinician of the patient's clinic.
The message says only that a patient needs attention; it names no patient and no symptom (issue 6), because
e-mail is not a safe place for health data.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta
from typing import Any

from babel.dates import format_date
from pydantic import ConfigDict, Field
from sqlalchemy.orm import Session

from mildpath.content.milestones import load_milestones
from mildpath.content.procedure import policies as procedure_policies
from mildpath.content.schedule import follow_up_plan
from mildpath.content.symptoms import load_symptom_vocabulary
from mildpath.content.triage import load_triage_rules
from mildpath.domain.diary import DiaryEntry
from mildpath.domain.errors import Conflict, InvalidInput, NotFound
from mildpath.domain.inputs import EdgeInput
from mildpath.domain.procedure.checklist import PreProcedureChecklist, RestartAdvice, restart_advice
from mildpath.domain.recovery import (
    NO_LIFTING_WEEKS_RANGE,
    DatedMilestone,
    FollowUp,
    MilestoneCatalog,
    PlanOptions,
    RecoveryPlan,
    day_number,
    describe_day,
    plan_recovery,
)
from mildpath.domain.schedule import SchedulePlan, Timepoint, place
from mildpath.domain.triage import TriageLevel, TriageResult, classify, clinician_reason
from mildpath.fhir.careplan import to_careplan
from mildpath.reports.ics import to_ics
from mildpath.services import caregivers, clock, notify
from mildpath.services.access import Actor, get_patient_for, record, require_staff, visible_patients
from mildpath.services.read_models import ReadModel
from mildpath.store import clinics as clinics_store
from mildpath.store import procedures as procedures_store
from mildpath.store import recovery as store
from mildpath.store import users as users_store
from mildpath.store.models import Patient

NOTE_MAX = 2000
NOTIFY_LEVELS = (TriageLevel.EMERGENCY, TriageLevel.SAME_DAY)
# The only words a flag notification carries (issue 6: no clinical details in the message text).
NOTIFY_KIND = "triage_flag"
NOTIFY_SUBJECT = "mildpath: a patient needs attention"
NOTIFY_BODY = (
    "A patient in your clinic needs attention in mildpath today.\n\n"
    "Sign in to mildpath and open the worklist to see who and why. This message holds no health details."
)
# Escalation (issue 15): the on-call contact is told that a flag waits; as content-free as the first message.
ESCALATE_KIND = "triage_escalation"
ESCALATE_SUBJECT = "mildpath: an alert is waiting"
ESCALATE_BODY = (
    "An alert in mildpath has not been acknowledged in the time your clinic set.\n\n"
    "Sign in to mildpath and open the worklist. This message holds no health details."
)
# Input sanity, not a clinical rule: a plan's procedure date lies within ten years before and one year after
# today (a typo such as 2205 is refused instead of producing a plan nobody will ever reach).
PROCEDURE_PAST_DAYS = 3660
PROCEDURE_FUTURE_DAYS = 366
# The sentence a follow-up visit gains for its questionnaire window, in each language the plan is worded in
# (content/milestones.yaml carries the milestones' own wording per language).
WINDOW_TEXT = {
    "en": "You can fill in the questionnaires from {opens} to {closes}.",
    "es": "Puede llenar los cuestionarios del {opens} al {closes}.",
}
WINDOW_DATE = {"en": "d MMMM y", "es": "d 'de' MMMM 'de' y"}  # "26 September 2026", "26 de septiembre de 2026"


# ------------------------------------------------------------------------------------------ plain views


class PlanIn(EdgeInput):
    """What a clinician sets for a patient's recovery plan (forms, the API and the demo share it)."""

    model_config = ConfigDict(extra="forbid")

    procedure_date: date = Field(description="The day of the mild procedure (day 0 of the plan)")
    no_lifting_weeks: int | None = Field(
        default=None,
        ge=NO_LIFTING_WEEKS_RANGE[0],
        le=NO_LIFTING_WEEKS_RANGE[1],
        description="Weeks without heavy lifting or vigorous exercise; empty takes the content default",
    )
    physical_therapy: bool = Field(default=False, description="Physical therapy is prescribed")


class MilestoneView(ReadModel):
    """A dated milestone with where it stands today: ``past``, ``now`` or ``ahead``; also the API's answer (in
    ``GET /api/v1/patients/{id}/recovery-plan``)."""

    id: str
    kind: str
    title: str
    text: str
    start: date
    end: date | None
    start_day: int
    end_day: int | None
    state: str = Field(description="past, now or ahead, on the server's today")
    sources: tuple[str, ...]


@dataclass(frozen=True)
class PlanView:
    """A patient's plan as seen on ``today``: the headline ("Today is day 5 after your procedure") and the
    dated milestones."""

    plan_id: int
    patient_id: int
    procedure_date: date
    today: date
    day: int
    headline: str
    no_lifting_weeks: int
    no_lifting_weeks_set: int | None
    physical_therapy: bool
    catalog_version: str
    milestones: tuple[MilestoneView, ...]
    plan: RecoveryPlan
    #: The blood thinners held for the procedure and when the hold table says each may restart (reference §4.4).
    restarts: tuple[RestartAdvice, ...] = ()

    @property
    def current(self) -> tuple[MilestoneView, ...]:
        return tuple(m for m in self.milestones if m.state == "now")

    @property
    def next_up(self) -> tuple[MilestoneView, ...]:
        return tuple(m for m in self.milestones if m.state == "ahead")[:3]


class Matched(ReadModel):
    """A sign found in the patient's own words: ``text`` is exactly what they wrote, ``field`` where, and
    ``start``/``end`` its place in that field (for highlighting). The API shows the first four only."""

    text: str = Field(description="The patient's own words that matched, exactly as written")
    rule: str
    level: str = Field(description="emergency, same_day or review")
    source: str = Field(description="The citation id of the rule")
    field: str = Field(exclude=True)
    start: int = Field(exclude=True)
    end: int = Field(exclude=True)
    clinician: str = Field(exclude=True)

    def to_json(self) -> dict[str, str]:
        return {"text": self.text, "rule": self.rule, "level": self.level, "source": self.source}


@dataclass(frozen=True)
class Reason:
    rule_id: str
    level: str
    text: str
    sources: tuple[str, ...]
    matched: Matched | None = None
    text_en: str = ""  # the English of ``text`` when the patient was answered in another language

    def in_language(self, language: str) -> str:
        """The reason in the reader's language: the English for an English reader when it was stored, else the
        words the patient was given."""
        return self.text_en if language == "en" and self.text_en else self.text

    @property
    def clinician_text(self) -> str:
        """Clinician wording: "Patient reported ..." (never the patient-facing "You reported ..."), in English
        whatever language the patient was answered in."""
        if self.matched is not None:
            return self.matched.clinician
        first = self.in_language("en").split(". ")[0].rstrip(".") + "."
        for mine, theirs in (
            ("You reported", "Patient reported"),
            ("Your ", "The patient's "),
            ("You ", "The patient "),
        ):
            if first.startswith(mine):
                return theirs + first[len(mine) :]
        return first


@dataclass(frozen=True)
class DiaryEntryView:
    """One stored entry with the triage result the patient saw, and the care team's handling of its flag."""

    id: int
    patient_id: int
    entered_at: datetime
    entered_by: int | None
    entered_by_staff: bool
    days_since_procedure: int | None
    answers: dict[str, Any]
    level: str
    reasons: tuple[Reason, ...]
    advice: str
    rules_version: str
    flag_id: int | None
    flag_status: str | None
    clinic_phone: str = ""
    entered_by_caregiver: str = ""  # "Ana (daughter)" when a caregiver entered it for the patient (issue 20)
    origin: str = "diary"  # or "questionnaire" / "self_check": a comment read by the symptom reader (issue 15)

    @property
    def sources(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(s for r in self.reasons for s in r.sources))

    @property
    def matched(self) -> tuple[Matched, ...]:
        return tuple(r.matched for r in self.reasons if r.matched is not None)

    def highlighted(self, field: str) -> list[tuple[str, Matched | None]]:
        """The text of ``field`` cut into pieces, each with the match it belongs to (or ``None``), so a page can
        mark the patient's matched words without building HTML from their text."""
        text = str(self.answers.get(field) or "")
        marks = sorted((m for m in self.matched if m.field == field), key=lambda m: m.start)
        pieces: list[tuple[str, Matched | None]] = []
        pos = 0
        for m in marks:
            if m.start < pos or m.end > len(text) or text[m.start : m.end] != m.text:
                continue
            if m.start > pos:
                pieces.append((text[pos : m.start], None))
            pieces.append((text[m.start : m.end], m))
            pos = m.end
        if pos < len(text):
            pieces.append((text[pos:], None))
        return pieces


class FlagView(ReadModel):
    """A worklist row: the flag, who it is about and why, and how far the care team got with it; also the API's
    answer (``GET /api/v1/worklist``, ``POST /api/v1/flags/{id}/...``)."""

    id: int
    patient_id: int
    patient_name: str
    mrn: str
    entry_id: int
    level: str
    status: str
    raised_at: datetime
    days_since_procedure: int | None
    reasons: tuple[str, ...] = Field(description="Clinician wording: 'Patient reported ...'")
    matched: tuple[Matched, ...] = Field(default=(), description="The patient's own words that matched")
    acknowledged_by: str
    acknowledged_at: datetime | None
    resolved_by: str
    resolved_at: datetime | None
    resolution_note: str
    escalated_at: datetime | None = Field(default=None, exclude=True)
    origin: str = Field(
        default="diary", description="Where the words were written: diary, or a questionnaire or self_check comment"
    )

    @property
    def overdue(self) -> bool:
        """Not acknowledged within the clinic's time: the on-call contact has been told."""
        return self.escalated_at is not None and self.status == "open"


# ------------------------------------------------------------------------------------------ the plan


def set_plan(session: Session, actor: Actor, patient_id: int, data: PlanIn, *, today: date) -> PlanView:
    """Create or change a patient's recovery plan (staff only). The plan is dated by the domain before it is
    stored, so settings the domain refuses are never saved."""
    require_staff(actor)
    get_patient_for(session, actor, patient_id)
    _check_procedure_date(data.procedure_date, today)
    options = PlanOptions(no_lifting_weeks=data.no_lifting_weeks, physical_therapy=data.physical_therapy)
    plan_recovery(data.procedure_date, load_milestones(), options)  # raises InvalidInput naming the setting
    row, created = store.save_plan(
        session,
        patient_id=patient_id,
        procedure_date=data.procedure_date,
        no_lifting_weeks=data.no_lifting_weeks,
        physical_therapy=data.physical_therapy,
        user_id=actor.user_id,
        now=clock.now(),
    )
    action = "recovery.plan_create" if created else "recovery.plan_update"
    record(session, actor, action, "RecoveryPlan", row.id, patient_id)
    return _plan_view(row, today)


def get_plan_view(
    session: Session, actor: Actor, patient_id: int, *, today: date, language: str = "en"
) -> PlanView | None:
    """The patient's plan on ``today``, worded in ``language`` (the reader's), or ``None`` when no plan has been
    set yet."""
    get_patient_for(session, actor, patient_id)
    row = store.get_plan(session, patient_id=patient_id)
    record(session, actor, "recovery.plan_read", "RecoveryPlan", row.id if row else None, patient_id)
    if row is None:
        return None
    return replace(_plan_view(row, today, language), restarts=_restarts(session, patient_id))


def export_plan_ics(session: Session, actor: Actor, patient_id: int, *, now: datetime) -> bytes:
    """The plan as an iCalendar file in the patient's language (the calendar is theirs, whoever downloads it);
    :class:`NotFound` when the patient has no plan."""
    patient = get_patient_for(session, actor, patient_id)
    row = _require_plan(session, actor, patient_id)
    record(session, actor, "recovery.plan_export", "RecoveryPlan", row.id, patient_id, {"format": "ics"})
    # The UID namespace is the plan's row id: opaque, stable for this plan, different for every patient.
    plan = _build_plan(row, _patient_language(patient))
    return to_ics(plan, now=now, uid_namespace=f"mildpath-plan-{row.id}")


def _patient_language(patient: Patient) -> str:
    return patient.preferred_language if patient.preferred_language in WINDOW_TEXT else "en"


def export_careplan(session: Session, actor: Actor, patient_id: int, *, today: date) -> dict[str, Any]:
    """The plan as a FHIR R4 ``CarePlan``; ``completed`` once its last milestone has passed."""
    row = _require_plan(session, actor, patient_id)
    record(session, actor, "recovery.plan_export", "RecoveryPlan", row.id, patient_id, {"format": "fhir"})
    plan = _build_plan(row)
    return to_careplan(
        plan,
        patient_ref=f"Patient/{patient_id}",
        careplan_id=f"recovery-{row.id}",
        created=row.created_at.date(),
        status="completed" if today > plan.end_date else "active",
        last_updated=row.updated_at,
    )


def procedure_date_for(session: Session, patient_id: int) -> date | None:
    """The procedure date on the patient's plan (no access check: for callers that already made one)."""
    row = store.get_plan(session, patient_id=patient_id)
    return row.procedure_date if row is not None else None


def _restarts(session: Session, patient_id: int) -> tuple[RestartAdvice, ...]:
    """When each blood thinner held for the latest procedure may restart, from the (site's) hold table."""
    rows = [r for r in procedures_store.list_for_patient(session, patient_id=patient_id) if r.status != "cancelled"]
    if not rows:
        return ()
    plan = PreProcedureChecklist.model_validate(rows[0].checklist or {}).anticoagulation
    return restart_advice(plan, procedure_policies().checklist)


def _require_plan(session: Session, actor: Actor, patient_id: int) -> store.RecoveryPlanRecord:
    get_patient_for(session, actor, patient_id)
    row = store.get_plan(session, patient_id=patient_id)
    if row is None:
        raise NotFound(f"patient {patient_id} has no recovery plan", record_type="RecoveryPlan")
    return row


def _check_procedure_date(value: date, today: date) -> None:
    if not today - timedelta(days=PROCEDURE_PAST_DAYS) <= value <= today + timedelta(days=PROCEDURE_FUTURE_DAYS):
        raise InvalidInput(
            "procedure_date: must lie within ten years before and one year after today",
            field="procedure_date",
            value=value.isoformat(),
        )


def _build_plan(row: store.RecoveryPlanRecord, language: str = "en") -> RecoveryPlan:
    catalog = load_milestones()
    options = PlanOptions(
        no_lifting_weeks=row.no_lifting_weeks,
        physical_therapy=row.physical_therapy,
        follow_ups=plan_follow_ups(row.procedure_date, catalog, follow_up_plan(), language),
    )
    return plan_recovery(row.procedure_date, catalog, options, language=language)


def plan_follow_ups(
    procedure_date: date, catalog: MilestoneCatalog, schedule: SchedulePlan, language: str = "en"
) -> list[FollowUp]:
    """The plan's visits and questionnaires: the catalogue's follow-ups, joined with the PROM schedule.

    A catalogue visit on the same day as a questionnaire timepoint keeps its title and gains the
    questionnaire window ("You can fill in the questionnaires from ... to ..."); a timepoint with no visit
    on its day becomes its own follow-up; visits without questionnaires (the phone check, the wound check)
    stay as they are. Baseline comes before the procedure and is not part of a recovery plan. Catalogue
    follow-ups are worded in ``language`` where the catalogue has it, and keep the catalogue's ids.
    """
    language = language if language in WINDOW_TEXT else "en"
    timepoints = {
        tp.target(procedure_date): tp for tp in schedule.timepoints if tp.after_procedure
    }  # source: follow-up-schedule
    out: list[FollowUp] = []
    for spec in catalog.follow_ups:
        start = spec.start.apply(procedure_date, catalog.settings)
        end = spec.end.apply(procedure_date, catalog.settings) if spec.end is not None else None
        title, text = spec.wording(language)
        sources = spec.sources
        tp = timepoints.pop(start, None)
        if tp is not None:
            text = f"{text} {_window_text(tp, procedure_date, language)}".strip()
            sources = tuple(dict.fromkeys((*sources, schedule.source)))
        out.append(FollowUp(title, start, end, text, sources, spec.id))
    for target, tp in sorted(timepoints.items()):
        title = f"{tp.label}: questionnaires" + (" (optional)" if tp.optional else "")
        out.append(FollowUp(title, target, None, _window_text(tp, procedure_date, language), (schedule.source,)))
    return out


def _window_text(tp: Timepoint, procedure_date: date, language: str = "en") -> str:
    placed = place(tp, procedure_date, procedure_date, completed=False)
    pattern = WINDOW_DATE[language]
    return WINDOW_TEXT[language].format(
        opens=format_date(placed.opens, pattern, locale=language),
        closes=format_date(placed.closes, pattern, locale=language),
    )


def _plan_view(row: store.RecoveryPlanRecord, today: date, language: str = "en") -> PlanView:
    plan = _build_plan(row, language)
    return PlanView(
        plan_id=row.id,
        patient_id=row.patient_id,
        procedure_date=row.procedure_date,
        today=today,
        day=day_number(row.procedure_date, today),
        headline=describe_day(row.procedure_date, today),
        no_lifting_weeks=int(plan.settings.get("no_lifting_weeks", 0)),
        no_lifting_weeks_set=row.no_lifting_weeks,
        physical_therapy=row.physical_therapy,
        catalog_version=plan.catalog_version,
        milestones=tuple(_milestone_view(m, row.procedure_date, today) for m in plan.milestones),
        plan=plan,
    )


def _milestone_view(m: DatedMilestone, procedure_date: date, today: date) -> MilestoneView:
    state = "now" if m.is_active(today) else ("past" if m.last_day < today else "ahead")
    return MilestoneView(
        id=m.id,
        kind=m.kind.value,
        title=m.title,
        text=m.text,
        start=m.start,
        end=m.end,
        sources=m.sources,
        state=state,
        start_day=day_number(procedure_date, m.start),
        end_day=day_number(procedure_date, m.end) if m.end is not None else None,
    )


# ------------------------------------------------------------------------------------------ the diary


def record_diary_entry(
    session: Session, actor: Actor, patient_id: int, data: Mapping[str, Any], *, now: datetime, origin: str = "diary"
) -> DiaryEntryView:
    """Validate, triage and store one diary entry; raise a flag (and, for ``emergency`` or ``same_day``, queue
    the clinicians' notifications) when the entry is above ``expected``.

    ``data`` holds the :class:`~mildpath.domain.diary.DiaryEntry` fields (missing means "not reported").
    When ``days_since_procedure`` is missing and the patient has a plan, it is the number of days from the
    plan's procedure date to ``now``'s local date (left empty before the procedure). Invalid data raises
    :class:`InvalidInput` naming the field before anything is written. ``origin`` says where the words were
    written (``diary``; ``questionnaire`` or ``self_check`` for a comment: :mod:`mildpath.services.comments`).
    """
    patient = get_patient_for(session, actor, patient_id)
    values = dict(data)
    if DiaryEntry.from_mapping(values).is_empty():
        raise InvalidInput(
            "entry: answer at least one question or write a note; an empty entry is not saved",
            field="entry",
            value=None,
        )
    if values.get("days_since_procedure") is None:
        procedure = procedure_date_for(session, patient_id)
        if procedure is not None:
            days = day_number(procedure, now.astimezone().date())
            values["days_since_procedure"] = days if days >= 0 else None
    entry = DiaryEntry.from_mapping(values)
    language = entry.language or (patient.preferred_language if patient.preferred_language in ("en", "es") else "en")
    rules, vocabulary = load_triage_rules(), load_symptom_vocabulary()
    result = classify(entry, rules, vocabulary, language=language)
    # The same reasons in English for the care team (the worklist and a clinician's view read English).
    english = classify(entry, rules, vocabulary, language="en") if language != "en" else None
    row = store.add_entry(
        session,
        patient_id=patient_id,
        entered_by=actor.user_id,
        entered_at=now,
        answers=_answers_json(entry),
        days_since_procedure=entry.days_since_procedure,
        level=result.level.value,
        reasons=_reasons_json(result, english),
        advice=result.advice,
        rules_version=result.rules_version,
        origin=origin,
    )
    record(session, actor, "recovery.diary_create", "DiaryEntry", row.id, patient_id, {"origin": origin})
    flag = None
    if result.level is not TriageLevel.EXPECTED:
        flag = store.add_flag(session, patient_id=patient_id, entry_id=row.id, level=result.level.value, created_at=now)
        record(session, actor, "recovery.flag_raise", "TriageFlag", flag.id, patient_id)
        if result.level in NOTIFY_LEVELS:
            _notify_clinicians(session, patient.clinic_id)
    caregiver = caregivers.entered_by_names(session, patient_id, {actor.user_id}) if actor.role == "caregiver" else {}
    return _entry_view(row, flag, _clinic_phone(session, patient), staff_entered=actor.role not in NOT_STAFF,
                       caregiver=caregiver.get(actor.user_id or 0, ""))


def get_diary_entry(session: Session, actor: Actor, patient_id: int, entry_id: int) -> DiaryEntryView:
    """One entry of the patient's diary (the page a patient sees right after submitting)."""
    patient = get_patient_for(session, actor, patient_id)
    row = store.get_entry(session, patient_id=patient_id, entry_id=entry_id)
    if row is None:
        raise NotFound(f"no diary entry {entry_id}", record_type="DiaryEntry", record_id=entry_id)
    record(session, actor, "recovery.diary_read", "DiaryEntry", row.id, patient_id)
    flag = store.flags_for_entries(session, entry_ids=[row.id]).get(row.id)
    staff = _staff_ids(session, {row.entered_by})
    names = caregivers.entered_by_names(session, patient_id, {row.entered_by})
    return _entry_view(row, flag, _clinic_phone(session, patient), staff_entered=row.entered_by in staff,
                       caregiver=names.get(row.entered_by or 0, ""))


def list_entries(session: Session, actor: Actor, patient_id: int, *, limit: int = 50) -> list[DiaryEntryView]:
    """The patient's diary, newest first, each entry with its flag's status."""
    get_patient_for(session, actor, patient_id)
    rows = store.list_entries(session, patient_id=patient_id, limit=max(1, min(limit, 500)))
    flags = store.flags_for_entries(session, entry_ids=[r.id for r in rows])
    staff = _staff_ids(session, {r.entered_by for r in rows})
    names = caregivers.entered_by_names(session, patient_id, {r.entered_by for r in rows})
    record(session, actor, "recovery.diary_list", "DiaryEntry", None, patient_id, {"results": len(rows)})
    return [_entry_view(row, flags.get(row.id), staff_entered=row.entered_by in staff,
                        caregiver=names.get(row.entered_by or 0, "")) for row in rows]


NOT_STAFF = ("patient", "caregiver")  # the store's staff_ids leaves the same roles out


def _staff_ids(session: Session, ids: set[int | None]) -> set[int | None]:
    """Which of these users are staff (an entry a clinician typed in for the patient, e.g. on a phone call)."""
    return set(users_store.staff_ids(session, user_ids=ids))


def _answers_json(entry: DiaryEntry) -> dict[str, Any]:
    return {k: list(v) if isinstance(v, tuple) else v for k, v in entry.reported().items()}


def _reasons_json(result: TriageResult, english: TriageResult | None = None) -> list[dict[str, Any]]:
    """The findings as stored; ``english`` (the same entry classified in English) adds each reason's ``text_en``
    when the patient was answered in another language."""
    in_english = (
        {(f.rule_id, f.field, f.match.start if f.match else -1): f.reason for f in english.findings} if english else {}
    )
    out: list[dict[str, Any]] = []
    for f in result.findings:
        item: dict[str, Any] = {
            "rule_id": f.rule_id,
            "level": f.level.value,
            "text": f.reason,
            "sources": list(f.sources),
        }
        text_en = in_english.get((f.rule_id, f.field, f.match.start if f.match else -1))
        if text_en and text_en != f.reason:
            item["text_en"] = text_en
        if f.match is not None:
            item["match"] = {
                "text": f.match.text,
                "rule": f.match.rule,
                "level": f.match.level,
                "source": f.match.source,
                "field": f.field,
                "start": f.match.start,
                "end": f.match.end,
                "clinician": clinician_reason(f.match),
            }
        out.append(item)
    return out


def _matched(data: Any) -> Matched | None:
    if not isinstance(data, Mapping):
        return None
    return Matched(
        text=str(data.get("text", "")),
        rule=str(data.get("rule", "")),
        level=str(data.get("level", "")),
        source=str(data.get("source", "")),
        field=str(data.get("field", "")),
        start=int(data.get("start", 0)),
        end=int(data.get("end", 0)),
        clinician=str(data.get("clinician", "")),
    )


def _reason(stored: Mapping[str, Any]) -> Reason:
    return Reason(
        str(stored.get("rule_id", "")),
        str(stored.get("level", "")),
        str(stored.get("text", "")),
        tuple(stored.get("sources") or ()),
        _matched(stored.get("match")),
        str(stored.get("text_en", "")),
    )


def _entry_view(
    row: store.DiaryEntryRecord, flag: store.TriageFlag | None, clinic_phone: str = "", *, staff_entered: bool,
    caregiver: str = "",
) -> DiaryEntryView:
    reasons = tuple(_reason(r) for r in row.reasons or [])
    return DiaryEntryView(
        id=row.id,
        patient_id=row.patient_id,
        entered_at=row.entered_at,
        entered_by=row.entered_by,
        entered_by_staff=staff_entered,
        days_since_procedure=row.days_since_procedure,
        answers=dict(row.answers or {}),
        level=row.level,
        reasons=reasons,
        advice=row.advice,
        rules_version=row.rules_version,
        flag_id=flag.id if flag else None,
        flag_status=flag.status if flag else None,
        clinic_phone=clinic_phone,
        entered_by_caregiver=caregiver,
        origin=row.origin or "diary",
    )


def _clinic_phone(session: Session, patient: Patient) -> str:
    clinic = clinics_store.get_or_none(session, clinic_id=patient.clinic_id)
    return clinic.phone if clinic is not None else ""


def _notify_clinicians(session: Session, clinic_id: int) -> int:
    """Queue the content-free notification for every active clinician of the clinic; returns how many."""
    clinicians = users_store.active_clinicians(session, clinic_id=clinic_id)
    for user in clinicians:
        notify.queue(
            session,
            kind=NOTIFY_KIND,
            subject=NOTIFY_SUBJECT,
            body=NOTIFY_BODY,
            recipient_user_id=user.id,
            recipient_address=user.email,
        )
    return len(clinicians)


# ------------------------------------------------------------------------------------------ the worklist


def worklist(session: Session, actor: Actor, *, limit: int = 500, offset: int = 0) -> list[FlagView]:
    """Open and acknowledged flags of the patients the staff member may see (a clinician: their clinic),
    most urgent first, then the longest waiting first; ``offset`` pages through a long list."""
    require_staff(actor)
    visible = visible_patients(actor).with_only_columns(Patient.id)
    rows = store.worklist_rows(session, patient_ids=visible, limit=max(1, min(limit, 500)), offset=max(0, offset))
    people = [u for flag, _, _ in rows for u in (flag.acknowledged_by, flag.resolved_by)]
    names = users_store.display_names(session, user_ids=people)
    record(session, actor, "recovery.worklist_read", "TriageFlag", None, None, {"results": len(rows)})
    return [_flag_view(flag, entry, patient, names) for flag, entry, patient in rows]


def worklist_counts(session: Session, actor: Actor) -> dict[str, int]:
    """The worklist's counters (open, acknowledged) over every flag the staff member may see."""
    require_staff(actor)
    return store.worklist_counts(session, patient_ids=visible_patients(actor).with_only_columns(Patient.id))


def acknowledge_flag(session: Session, actor: Actor, flag_id: int, *, now: datetime) -> FlagView:
    """Mark an open flag as seen by this staff member. An acknowledged or resolved flag is a :class:`Conflict`."""
    flag, entry, patient = _flag_for(session, actor, flag_id)
    if flag.status != "open":
        raise Conflict(f"this flag is already {flag.status}")
    flag.status = "acknowledged"
    flag.acknowledged_by = actor.user_id
    flag.acknowledged_at = now
    session.flush()
    record(session, actor, "recovery.flag_acknowledge", "TriageFlag", flag.id, patient.id)
    return _flag_view(flag, entry, patient, users_store.display_names(session, user_ids={flag.acknowledged_by}))


def resolve_flag(session: Session, actor: Actor, flag_id: int, note: str, *, now: datetime) -> FlagView:
    """Close a flag with a note saying what was done (required). An open flag is acknowledged on the way."""
    text = (note or "").strip()
    if not text:
        raise InvalidInput("note: say what was done before resolving the flag", field="note", value=note)
    if len(text) > NOTE_MAX:
        raise InvalidInput(f"note: longer than {NOTE_MAX} characters", field="note", value=len(text))
    flag, entry, patient = _flag_for(session, actor, flag_id)
    if flag.status == "resolved":
        raise Conflict("this flag is already resolved")
    if flag.acknowledged_at is None:
        flag.acknowledged_by, flag.acknowledged_at = actor.user_id, now
    flag.status = "resolved"
    flag.resolved_by = actor.user_id
    flag.resolved_at = now
    flag.resolution_note = text
    session.flush()
    # The note may hold health details: the audit row names the record only.
    record(session, actor, "recovery.flag_resolve", "TriageFlag", flag.id, patient.id)
    names = users_store.display_names(session, user_ids=[flag.acknowledged_by, flag.resolved_by])
    return _flag_view(flag, entry, patient, names)


def get_flag(session: Session, actor: Actor, flag_id: int) -> FlagView:
    """One flag (staff only), for re-rendering a worklist row."""
    flag, entry, patient = _flag_for(session, actor, flag_id)
    record(session, actor, "recovery.flag_read", "TriageFlag", flag.id, patient.id)
    names = users_store.display_names(session, user_ids=[flag.acknowledged_by, flag.resolved_by])
    return _flag_view(flag, entry, patient, names)


def _flag_for(session: Session, actor: Actor, flag_id: int) -> tuple[store.TriageFlag, store.DiaryEntryRecord, Patient]:
    require_staff(actor)
    flag = store.get_flag(session, flag_id=flag_id)
    if flag is None:
        raise NotFound(f"no flag {flag_id}", record_type="TriageFlag", record_id=flag_id)
    patient = get_patient_for(session, actor, flag.patient_id)  # another clinic's flag: the same 404
    entry = store.get_entry(session, patient_id=flag.patient_id, entry_id=flag.entry_id)
    assert entry is not None  # the foreign key guarantees it
    return flag, entry, patient


def _flag_view(
    flag: store.TriageFlag, entry: store.DiaryEntryRecord, patient: Patient, names: Mapping[int, str]
) -> FlagView:
    concerning = [_reason(r) for r in entry.reasons or [] if r.get("level") != TriageLevel.EXPECTED.value]
    reasons = tuple(r.clinician_text for r in concerning)
    return FlagView(
        id=flag.id,
        patient_id=patient.id,
        patient_name=f"{patient.given_name} {patient.family_name}",
        mrn=patient.mrn,
        entry_id=entry.id,
        level=flag.level,
        status=flag.status,
        raised_at=flag.created_at,
        days_since_procedure=entry.days_since_procedure,
        reasons=reasons,
        matched=tuple(r.matched for r in concerning if r.matched is not None),
        acknowledged_by=names.get(flag.acknowledged_by, "") if flag.acknowledged_by else "",
        acknowledged_at=flag.acknowledged_at,
        resolved_by=names.get(flag.resolved_by, "") if flag.resolved_by else "",
        resolved_at=flag.resolved_at,
        resolution_note=flag.resolution_note,
        escalated_at=flag.escalated_at,
        origin=entry.origin or "diary",
    )


# ------------------------------------------------------------------------------------------ escalation


def escalate_overdue(session: Session, *, now: datetime) -> int:
    """Mark every open ``emergency`` / ``same_day`` flag older than its clinic's limit (default 30 minutes and
    4 hours) as overdue, tell the clinic's on-call contact through the outbox (or, with no contact set, the
    clinic's clinicians again), and audit it. Each flag escalates once. Returns how many were escalated."""
    actor = Actor.system("escalation")
    done = 0
    for flag, patient in store.overdue_candidates(session):
        clinic = clinics_store.get_or_none(session, clinic_id=patient.clinic_id)
        minutes = 30 if clinic is None else clinic.escalate_emergency_minutes
        if flag.level == TriageLevel.SAME_DAY.value:
            minutes = 240 if clinic is None else clinic.escalate_same_day_minutes
        if now - flag.created_at < timedelta(minutes=minutes):
            continue
        flag.escalated_at = now
        if clinic is not None and clinic.oncall_email:
            notify.queue(
                session,
                kind=ESCALATE_KIND,
                subject=ESCALATE_SUBJECT,
                body=ESCALATE_BODY,
                recipient_address=clinic.oncall_email,
            )
            told = "oncall"
        else:
            told = f"{_notify_clinicians(session, patient.clinic_id)} clinicians"
        session.flush()
        record(session, actor, "recovery.flag_escalate", "TriageFlag", flag.id, patient.id, {"told": told})
        done += 1
    return done


def emergency_number(session: Session, patient_id: int, fallback: str) -> str:
    """The number a patient calls in an emergency: their clinic's, else the setting (default 911)."""
    clinic = clinics_store.of_patient(session, patient_id=patient_id)
    return (clinic.emergency_number if clinic is not None and clinic.emergency_number else "") or fallback
