"""The pre-procedure checklist: what must be done before a mild procedure may be marked started.

Each item's *answers* are a small frozen model (stored as JSON); its *rule* is a function here; its label, required
flag and sources come from the site's content (:class:`~mildpath.domain.procedure.policy.ChecklistPolicy`).
:func:`evaluate_checklist` gives every item a status (``done`` / ``open`` / ``not_applicable``) with the reasons,
and :func:`can_start` refuses the start while a required item is open, unless a clinician overrides with a reason.

Edge cases, decided here once:

- Nothing recorded is ``open``, never a guess.
- Dates after ``today`` (a consent or imaging study "signed tomorrow") are ``open``: they are typing errors.
- Imaging counts when the study date is no earlier than the procedure date minus the window (12 months by
  default), calendar months, the boundary day included; 29 February falls back to 28 February.
- A blood thinner's hold is long enough when ``procedure_date - last_dose`` is at least the interval's upper
  bound in days (the cautious end of a range such as prasugrel 7-10 days). A shorter hold, or a drug the data
  does not know, leaves the item open until a clinician records the reason for the plan.
- A required item can never be marked not applicable; only an override lets the procedure start without it."""

from __future__ import annotations

import calendar
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from enum import StrEnum

from pydantic import AwareDatetime

from mildpath.domain.errors import RuleViolation
from mildpath.domain.procedure._base import RecordModel
from mildpath.domain.procedure.policy import ChecklistItemId, ChecklistPolicy, Sources


class ItemStatus(StrEnum):
    DONE = "done"
    OPEN = "open"
    NOT_APPLICABLE = "not_applicable"


class AllergyAnswer(StrEnum):
    NONE_KNOWN = "none_known"
    ALLERGIC = "allergic"


class Consent(RecordModel):
    """``signed_on``: the day the patient signed the consent form; None while unsigned."""

    signed_on: date | None = None


class Imaging(RecordModel):
    """The MRI or CT the procedure is planned on, and whether the operator reviewed it."""

    study_date: date | None = None
    modality: str = ""
    reviewed: bool = False
    reviewed_by: str = ""


class BloodThinner(RecordModel):
    """One anticoagulant or antiplatelet drug the patient takes.

    ``drug`` is matched against ``content/anticoagulants.yaml`` (id, name or alias). ``last_dose`` is the planned
    or actual last dose before the procedure. ``deviation_reason`` is the clinician's reason when the plan differs
    from the data's interval, or when the data has no interval for the drug.
    """

    drug: str
    last_dose: date | None = None
    prescriber_consulted: bool = False
    deviation_reason: str = ""


class Anticoagulation(RecordModel):
    """The blood-thinner plan. ``takes_blood_thinner`` None means nobody has asked yet.

    ``confirmed_by`` names the clinician who confirmed the plan (or that there is no blood thinner)."""

    takes_blood_thinner: bool | None = None
    medications: tuple[BloodThinner, ...] = ()
    patient_told_never_stop: bool = False
    confirmed_by: str = ""


class Allergies(RecordModel):
    """The three allergies the procedure touches: contrast (epidurogram), latex, local anaesthetics. None = not
    asked."""

    contrast: AllergyAnswer | None = None
    latex: AllergyAnswer | None = None
    local_anaesthetic: AllergyAnswer | None = None
    details: str = ""


class Instructions(RecordModel):
    """Fasting and sedation instructions given to the patient (in writing or aloud)."""

    fasting_given: bool = False
    sedation_given: bool = False


class Escort(RecordModel):
    """A responsible adult who will take the patient home."""

    arranged: bool = False
    name: str = ""


class Infection(RecordModel):
    """``active_infection`` None: not checked; True: a local or systemic infection is present."""

    active_infection: bool | None = None


class PreProcedureChecklist(RecordModel):
    """The answers of one scheduled procedure's checklist. ``not_applicable`` maps an optional item to the reason
    it does not apply."""

    consent: Consent = Consent()
    imaging: Imaging = Imaging()
    anticoagulation: Anticoagulation = Anticoagulation()
    allergies: Allergies = Allergies()
    instructions: Instructions = Instructions()
    escort: Escort = Escort()
    infection: Infection = Infection()
    not_applicable: dict[ChecklistItemId, str] = {}


@dataclass(frozen=True)
class ItemResult:
    """The status of one checklist item and why. ``reasons`` are whole sentences for the bedside screen."""

    item_id: ChecklistItemId
    label: str
    required: bool
    status: ItemStatus
    reasons: tuple[str, ...]
    sources: Sources

    @property
    def blocks_start(self) -> bool:
        return self.required and self.status is ItemStatus.OPEN


@dataclass(frozen=True)
class ChecklistEvaluation:
    """Every item's result, in the site's order, evaluated for ``procedure_date`` as of ``today``."""

    items: tuple[ItemResult, ...]
    procedure_date: date
    today: date

    @property
    def open_required(self) -> tuple[ItemResult, ...]:
        return tuple(item for item in self.items if item.blocks_start)

    @property
    def ready(self) -> bool:
        """True when no required item is open."""
        return not self.open_required

    def item(self, item_id: ChecklistItemId) -> ItemResult:
        return next(item for item in self.items if item.item_id == item_id)


class ChecklistOverride(RecordModel):
    """A clinician's decision to start although required items are open; audited by the caller."""

    by: str
    reason: str
    at: AwareDatetime


@dataclass(frozen=True)
class StartDecision:
    """The procedure may start. ``overridden`` lists the open required items the override set aside."""

    allowed: bool
    overridden: tuple[ChecklistItemId, ...]
    override: ChecklistOverride | None


_Outcome = tuple[ItemStatus, list[str]]


def evaluate_checklist(
    checklist: PreProcedureChecklist, procedure_date: date, today: date, *, policy: ChecklistPolicy
) -> ChecklistEvaluation:
    """Give each item of ``checklist`` its status and reasons for a procedure on ``procedure_date``."""
    rules: dict[ChecklistItemId, Callable[[], _Outcome]] = {
        ChecklistItemId.CONSENT_SIGNED: lambda: _consent(checklist.consent, procedure_date, today),
        ChecklistItemId.IMAGING_REVIEWED: lambda: _imaging(checklist.imaging, procedure_date, today, policy),
        ChecklistItemId.ANTICOAGULATION_PLAN: lambda: _anticoagulation(
            checklist.anticoagulation, procedure_date, policy
        ),
        ChecklistItemId.ALLERGIES_REVIEWED: lambda: _allergies(checklist.allergies),
        ChecklistItemId.FASTING_SEDATION_INSTRUCTIONS: lambda: _instructions(checklist.instructions),
        ChecklistItemId.ESCORT_ARRANGED: lambda: _escort(checklist.escort),
        ChecklistItemId.NO_ACTIVE_INFECTION: lambda: _infection(checklist.infection),
    }
    results = []
    for spec in policy.items:
        status, reasons = rules[spec.id]()
        na_reason = checklist.not_applicable.get(spec.id, "").strip()
        if spec.id in checklist.not_applicable and status is ItemStatus.OPEN:
            if spec.required:
                reasons.append("A required item cannot be marked not applicable; a clinician may override instead.")
            elif na_reason:
                status, reasons = ItemStatus.NOT_APPLICABLE, [f"Marked not applicable: {na_reason}"]
            else:
                reasons.append("Marking an item not applicable needs a reason.")
        results.append(ItemResult(spec.id, spec.label, spec.required, status, tuple(reasons), spec.sources))
    return ChecklistEvaluation(tuple(results), procedure_date, today)


def can_start(evaluation: ChecklistEvaluation, override: ChecklistOverride | None = None) -> StartDecision:
    """Allow the start when no required item is open, or when a clinician overrides with a name and a reason.

    Raises :class:`RuleViolation` (``data["open_items"]`` lists the item ids) otherwise, including when the
    override's reason or name is blank. An override given while nothing is open is not kept: there was nothing
    to override.
    """
    blocking = evaluation.open_required
    if not blocking:
        return StartDecision(allowed=True, overridden=(), override=None)
    ids = tuple(item.item_id for item in blocking)
    if override is not None and override.reason.strip() and override.by.strip():
        return StartDecision(allowed=True, overridden=ids, override=override)
    labels = "; ".join(item.label for item in blocking)
    hint = (
        "an override needs the clinician's name and a reason"
        if override is not None
        else "complete them or have a clinician override with a reason"
    )
    raise RuleViolation(
        f"the procedure cannot start: required checklist items are open: {labels} ({hint})",
        open_items=[str(i) for i in ids],
    )


def _done_or_open(reasons: list[str], done_reason: str) -> _Outcome:
    return (ItemStatus.OPEN, reasons) if reasons else (ItemStatus.DONE, [done_reason])


def _consent(consent: Consent, procedure_date: date, today: date) -> _Outcome:
    signed = consent.signed_on
    if signed is None:
        return ItemStatus.OPEN, ["Consent is not recorded as signed."]
    if signed > today:
        return ItemStatus.OPEN, [f"Consent date {signed} is in the future: check the date."]
    if signed > procedure_date:
        return ItemStatus.OPEN, [f"Consent date {signed} is after the procedure date {procedure_date}."]
    return ItemStatus.DONE, [f"Consent signed on {signed}."]


def months_before(day: date, months: int) -> date:
    """The same calendar day ``months`` earlier; a day that month lacks becomes its last day (29 Feb -> 28 Feb)."""
    year, month0 = divmod(day.year * 12 + (day.month - 1) - months, 12)
    last_day = calendar.monthrange(year, month0 + 1)[1]
    return date(year, month0 + 1, min(day.day, last_day))


def _imaging(imaging: Imaging, procedure_date: date, today: date, policy: ChecklistPolicy) -> _Outcome:
    # source: imaging (MOTION required imaging within 12 months); the window is site content.
    window = policy.imaging_max_age_months.whole
    reasons: list[str] = []
    study = imaging.study_date
    if study is None:
        reasons.append("No imaging study date recorded.")
    elif study > today:
        reasons.append(f"Imaging date {study} is in the future: check the date.")
    elif study > procedure_date:
        reasons.append(f"Imaging date {study} is after the procedure date {procedure_date}.")
    elif study < months_before(procedure_date, window):
        reasons.append(
            f"Imaging of {study} is older than {window} months before the procedure on {procedure_date} "
            f"(it must be on or after {months_before(procedure_date, window)}): repeat or justify."
        )
    if not imaging.reviewed:
        reasons.append("Imaging is not marked as reviewed.")
    who = f" by {imaging.reviewed_by}" if imaging.reviewed_by.strip() else ""
    return _done_or_open(reasons, f"Imaging of {study} reviewed{who}, within {window} months.")


def _anticoagulation(plan: Anticoagulation, procedure_date: date, policy: ChecklistPolicy) -> _Outcome:
    # source: asra-anticoagulation (mild is high bleeding risk; coordinate with the prescriber; never stop alone)
    # source: asra-hold-intervals (UNVERIFIED drug intervals, stored as data)
    confirmed = plan.confirmed_by.strip()
    if plan.takes_blood_thinner is None:
        return ItemStatus.OPEN, ["Nobody has recorded whether the patient takes an anticoagulant or antiplatelet."]
    if not plan.takes_blood_thinner:
        if not confirmed:
            return ItemStatus.OPEN, ["No blood thinner reported: a clinician must confirm this."]
        return ItemStatus.NOT_APPLICABLE, [f"No anticoagulant or antiplatelet (confirmed by {confirmed})."]
    reasons: list[str] = []
    notes: list[str] = []
    if not plan.medications:
        reasons.append("The patient takes a blood thinner but none is listed: list each drug.")
    for med in plan.medications:
        problem, note = _hold_problem(med, procedure_date, policy)
        if problem and not med.deviation_reason.strip():
            reasons.append(problem)
        elif problem:
            notes.append(f"{problem.rstrip('.')}; clinician's reason: {med.deviation_reason.strip()}.")
        else:
            notes.append(note)
        if not med.prescriber_consulted:
            reasons.append(f"{med.drug}: the plan is not yet agreed with the prescriber.")
    if not plan.patient_told_never_stop:
        reasons.append(f"The patient has not been told: {policy.never_stop_rule}")
    if not confirmed:
        reasons.append("A clinician must confirm the blood-thinner plan (mild is a high bleeding-risk procedure).")
    if reasons:
        return ItemStatus.OPEN, reasons + notes
    return ItemStatus.DONE, [*notes, f"Plan confirmed by {confirmed}."]


def _hold_problem(med: BloodThinner, procedure_date: date, policy: ChecklistPolicy) -> tuple[str, str]:
    """(problem, note): a problem sentence when the hold is unknown or too short, else a note describing it."""
    interval = policy.hold_interval(med.drug)
    if interval is None:
        return f"{med.drug}: no hold interval on file; a clinician must set the plan.", ""
    if med.last_dose is None:
        return f"{med.drug}: the last dose before the procedure is not recorded.", ""
    held = (procedure_date - med.last_dose).days
    if held < interval.max_days:
        return (
            f"{interval.label}: last dose {med.last_dose} is only {held} days before the procedure; "
            f"{interval.describe()}.",
            "",
        )
    return "", f"{interval.label}: last dose {med.last_dose}, {held} days before the procedure; {interval.describe()}."


def _allergies(allergies: Allergies) -> _Outcome:
    answers = {
        "contrast": allergies.contrast,
        "latex": allergies.latex,
        "local anaesthetics": allergies.local_anaesthetic,
    }
    missing = [name for name, answer in answers.items() if answer is None]
    if missing:
        return ItemStatus.OPEN, [f"Allergy not asked: {', '.join(missing)}."]
    allergic = [name for name, answer in answers.items() if answer is AllergyAnswer.ALLERGIC]
    if not allergic:
        return ItemStatus.DONE, ["No known allergy to contrast, latex or local anaesthetics."]
    details = f" ({allergies.details.strip()})" if allergies.details.strip() else ""
    return ItemStatus.DONE, [f"Allergy recorded: {', '.join(allergic)}{details}. Plan the procedure accordingly."]


def _instructions(instructions: Instructions) -> _Outcome:
    reasons = []
    if not instructions.fasting_given:
        reasons.append("Fasting instructions not yet given.")
    if not instructions.sedation_given:
        reasons.append("Sedation instructions not yet given.")
    return _done_or_open(reasons, "Fasting and sedation instructions given.")


def _escort(escort: Escort) -> _Outcome:
    if not escort.arranged:
        return ItemStatus.OPEN, ["No responsible adult arranged to take the patient home."]
    who = f": {escort.name.strip()}" if escort.name.strip() else ""
    return ItemStatus.DONE, [f"Escort home arranged{who}."]


def _infection(infection: Infection) -> _Outcome:
    # source: exclusions (local or systemic infection is a contraindication)
    if infection.active_infection is None:
        return ItemStatus.OPEN, ["Not yet checked for an active infection."]
    if infection.active_infection:
        return ItemStatus.OPEN, ["Active infection recorded: local or systemic infection is a contraindication."]
    return ItemStatus.DONE, ["No active infection."]


@dataclass(frozen=True)
class RestartAdvice:
    """When a blood thinner the patient held for the procedure may start again, as the hold table gives it.

    ``restart`` is the table's interval ("24 h", "12-24 h"), empty when the table has none for the drug;
    ``status`` its verification status ("secondary source" or "UNVERIFIED"). The prescriber's word decides."""

    drug: str
    label: str
    restart: str
    status: str
    sources: tuple[str, ...]


def restart_advice(plan: Anticoagulation, policy: ChecklistPolicy) -> tuple[RestartAdvice, ...]:
    """The restart interval of each blood thinner on the plan (source: clinical-reference §4.4, via the table)."""
    if not plan.takes_blood_thinner:
        return ()
    out = []
    for med in plan.medications:
        interval = policy.hold_interval(med.drug)
        if interval is None:
            out.append(RestartAdvice(med.drug, med.drug, "", "", ()))
            continue
        status = interval.restart_status or interval.status
        out.append(
            RestartAdvice(interval.drug, interval.label, interval.restart, status if interval.restart else "",
                          tuple(interval.sources))
        )
    return tuple(out)
