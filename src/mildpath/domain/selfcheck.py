"""The two screening forms as typed models, turned into :class:`~mildpath.domain.facts.PatientFacts` (issue 3).

- :class:`SelfCheck`: the patient's plain-language self-check (clinical reference §4.1 suggested questionnaire,
  red flags §4.5). It gives *guidance* (:func:`self_check_guidance`): whether to ask a spine specialist about
  mild, to talk to a doctor first, or to seek care now. It never decides candidacy.
- :class:`ClinicianAssessment`: the clinician's assessment: imaging (ligamentum flavum thickness and its date),
  scores (ODI and NPRS, computed elsewhere from the patient's answers, contracts §4) and the exclusions.

Each answered question becomes an :class:`~mildpath.domain.facts.Answer` named ``self_check.<name>`` or
``clinician.<name>`` with record ``form:<that name>``; an unanswered question (``None``) becomes nothing, so the
criteria read it as "not recorded". The wording of every question lives in ``content/criteria/forms.yaml``.

Answer dates: the day the answer describes. The ligamentum flavum thickness is dated by its imaging date
(required with a thickness, because the criterion looks at the last 12 months), the scores by their own date
(else the assessment day), everything else by the day the form was filled.

Choice answers become numbers the criteria can compare: a symptom duration becomes its lower bound in months
(``less_than_3_months`` -> 0, ``3_to_12_months`` -> 3, ``more_than_12_months`` -> 12) and walking tolerance its
lower bound in minutes (< 5 -> 0, 5-15 -> 5, > 15 -> 15).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any, Literal, TypeVar

from pydantic import BaseModel, ConfigDict, Field, ValidationError, ValidationInfo, field_validator

from mildpath.domain.conditions import Tri
from mildpath.domain.criteria import Role
from mildpath.domain.errors import InvalidAnswer
from mildpath.domain.facts import PatientFacts, Value, answers_from
from mildpath.domain.screening import ScreeningResult, Status


class SymptomDuration(StrEnum):
    LESS_THAN_3_MONTHS = "less_than_3_months"
    THREE_TO_12_MONTHS = "3_to_12_months"
    MORE_THAN_12_MONTHS = "more_than_12_months"


class WalkingTolerance(StrEnum):
    UNDER_5_MINUTES = "under_5_minutes"
    FIVE_TO_15_MINUTES = "5_to_15_minutes"
    OVER_15_MINUTES = "over_15_minutes"


class Treatment(StrEnum):
    PHYSICAL_THERAPY = "physical_therapy"
    HOME_EXERCISE = "home_exercise"
    PAIN_MEDICINE = "pain_medicine"
    INJECTIONS = "injections"


# Lower bounds, so "at least 3 months" is met only when the answer guarantees it. source: clinical-history
DURATION_MONTHS: dict[SymptomDuration, int] = {
    SymptomDuration.LESS_THAN_3_MONTHS: 0,
    SymptomDuration.THREE_TO_12_MONTHS: 3,
    SymptomDuration.MORE_THAN_12_MONTHS: 12,
}
# source: clinical-history (§4.1 question 3: < 5 / 5-15 / > 15 min)
WALK_MINUTES: dict[WalkingTolerance, int] = {
    WalkingTolerance.UNDER_5_MINUTES: 0,
    WalkingTolerance.FIVE_TO_15_MINUTES: 5,
    WalkingTolerance.OVER_15_MINUTES: 15,
}

_FROZEN = ConfigDict(frozen=True, extra="forbid")


class SelfCheck(BaseModel):
    """The patient self-check. Every question may be left unanswered (``None``)."""

    model_config = _FROZEN

    answered_on: dt.date
    told_lss: bool | None = None
    leg_symptoms_standing_walking: bool | None = None
    relief_sitting_bending: bool | None = None
    walk_tolerance: WalkingTolerance | None = None
    symptom_duration: SymptomDuration | None = None
    treatments_tried: tuple[Treatment, ...] = ()
    treatment_not_enough: bool | None = None
    blood_thinner: bool | None = None
    bladder_bowel_change: bool | None = None
    saddle_numbness: bool | None = None
    both_legs_weak: bool | None = None
    sexual_dysfunction: bool | None = None
    fever: bool | None = None
    unexplained_weight_loss: bool | None = None
    cancer_history: bool | None = None
    night_pain: bool | None = None
    recent_trauma: bool | None = None
    #: anything else the patient wants to say, in their own words: the services read it with the symptom reader
    #: (issue 15 §1); no screening criterion reads it.
    comment: str | None = Field(default=None, max_length=2000)

    def to_facts(self) -> PatientFacts:
        """The answers as facts, dated ``answered_on``."""
        on = self.answered_on
        values: list[tuple[str, Value, dt.date | None]] = [
            (name, getattr(self, name), on) for name in _SELF_CHECK_YES_NO
        ]
        values.append(("symptom_months", DURATION_MONTHS[self.symptom_duration] if self.symptom_duration else None, on))
        values.append(("walk_minutes", WALK_MINUTES[self.walk_tolerance] if self.walk_tolerance else None, on))
        tried = ",".join(t.value for t in self.treatments_tried) or None
        values.append(("treatments_tried", tried, on))
        return PatientFacts(answers=answers_from("self_check", values))

    @classmethod
    def from_mapping(cls, data: Mapping[str, Any]) -> SelfCheck:
        """Validate plain data; a bad value raises :class:`InvalidAnswer` naming the field."""
        return _validate(cls, data, "self_check")


class ClinicianAssessment(BaseModel):
    """The clinician assessment. Every field may be left unanswered (``None``)."""

    model_config = _FROZEN

    assessed_on: dt.date
    lss_confirmed: bool | None = None
    neurogenic_claudication: bool | None = None
    symptom_months: int | None = Field(default=None, ge=0, le=1200)
    conservative_care_failed: bool | None = None
    lf_thickness_mm: float | None = Field(default=None, gt=0, le=30)
    imaging_date: dt.date | None = Field(default=None, validate_default=True)
    imaging_modality: Literal["MRI", "CT"] | None = None
    odi_score: float | None = Field(default=None, ge=0, le=100)
    odi_date: dt.date | None = None
    nprs: int | None = Field(default=None, ge=0, le=10)
    nprs_date: dt.date | None = None
    spondylolisthesis: bool | None = None
    spondylolisthesis_grade: int | None = Field(default=None, ge=0, le=4)
    instability: bool | None = None
    prior_lumbar_surgery: bool | None = None
    prior_surgery_at_target_level: bool | None = None
    dominant_foraminal_or_disc: bool | None = None
    severe_neurological_deficit: bool | None = None
    infection: bool | None = None
    bleeding_disorder: bool | None = None
    on_anticoagulant: bool | None = None
    anticoagulant_can_be_held: bool | None = None
    recent_epidural_injection: bool | None = None
    opioid_mme_per_day: float | None = Field(default=None, ge=0, le=10000)
    vascular_claudication: bool | None = None
    cauda_equina_signs: bool | None = None
    other_red_flags: bool | None = None

    @field_validator("imaging_date")
    @classmethod
    def _thickness_needs_its_date(cls, value: dt.date | None, info: ValidationInfo) -> dt.date | None:
        if value is None and info.data.get("lf_thickness_mm") is not None:
            raise ValueError("required with lf_thickness_mm (the criterion needs the scan's date)")
        return value

    def to_facts(self) -> PatientFacts:
        """The answers as facts (see the module docstring for their dates)."""
        on = self.assessed_on
        dated = {
            "lf_thickness_mm": self.imaging_date,
            "imaging_modality": self.imaging_date,
            "odi_score": self.odi_date or on,
            "nprs": self.nprs_date or on,
        }
        values: list[tuple[str, Value, dt.date | None]] = [
            (name, getattr(self, name), dated.get(name, on)) for name in sorted(CLINICIAN_FIELDS)
        ]
        return PatientFacts(answers=answers_from("clinician", values))

    @classmethod
    def from_mapping(cls, data: Mapping[str, Any]) -> ClinicianAssessment:
        """Validate plain data; a bad value raises :class:`InvalidAnswer` naming the field."""
        return _validate(cls, data, "clinician")


_SELF_CHECK_YES_NO: tuple[str, ...] = (
    "told_lss",
    "leg_symptoms_standing_walking",
    "relief_sitting_bending",
    "treatment_not_enough",
    "blood_thinner",
    "bladder_bowel_change",
    "saddle_numbness",
    "both_legs_weak",
    "sexual_dysfunction",
    "fever",
    "unexplained_weight_loss",
    "cancer_history",
    "night_pain",
    "recent_trauma",
)

#: The answer names each form produces (what criteria may refer to as ``self_check.<name>``).
SELF_CHECK_FIELDS: frozenset[str] = frozenset(
    {*_SELF_CHECK_YES_NO, "symptom_months", "walk_minutes", "treatments_tried"}
)
#: The answer names of the clinician assessment (``clinician.<name>``); the dates are not answers.
CLINICIAN_FIELDS: frozenset[str] = frozenset(
    set(ClinicianAssessment.model_fields) - {"assessed_on", "imaging_date", "odi_date", "nprs_date"}
)
#: The fields a person fills in (each has wording in forms.yaml).
SELF_CHECK_INPUTS: frozenset[str] = frozenset(set(SelfCheck.model_fields) - {"answered_on"})
CLINICIAN_INPUTS: frozenset[str] = frozenset(set(ClinicianAssessment.model_fields) - {"assessed_on"})


_M = TypeVar("_M", bound=BaseModel)


def _validate(model: type[_M], data: Mapping[str, Any], form: str) -> _M:
    try:
        return model.model_validate(dict(data))
    except ValidationError as exc:
        err = exc.errors()[0]
        loc = ".".join(str(p) for p in err.get("loc", ())) or "form"
        raise InvalidAnswer(f"{form}.{loc}", err.get("input"), f"{form}.{loc}: {err.get('msg')}") from None


# ------------------------------------------------------------------------------------------- guidance


class GuidanceKind(StrEnum):
    """What the self-check tells the patient (wording: ``content/criteria/forms.yaml``), most urgent first."""

    SEEK_CARE_NOW = "seek_care_now"
    SEE_DOCTOR_SOON = "see_doctor_soon"
    ASK_ABOUT_STENOSIS = "ask_about_stenosis"
    TALK_TO_DOCTOR = "talk_to_doctor"
    ASK_SPINE_SPECIALIST = "ask_spine_specialist"


#: Red-flag criteria whose presence means emergency care now (the cauda equina signs, clinical reference §4.5).
EMERGENCY_RED_FLAGS: frozenset[str] = frozenset({"cauda_equina_red_flags"})


@dataclass(frozen=True)
class Guidance:
    """Plain-language guidance from a self-check's screening result: never a decision about candidacy.

    ``unmet``: the patient wording of the criteria the answers did not meet (why mild may not be next);
    ``notes``: extra messages (``blood_thinner``: never stop a blood thinner on your own).
    """

    kind: GuidanceKind
    unmet: tuple[str, ...] = ()
    notes: tuple[str, ...] = ()


def self_check_guidance(
    result: ScreeningResult,
    check: SelfCheck,
    emergency_red_flags: frozenset[str] = EMERGENCY_RED_FLAGS,
    language: str = "en",
) -> Guidance:
    """Guidance for a patient from ``screen(criteria_set, check.to_facts(), check.answered_on)``.

    - a red flag is met: ``seek_care_now`` (cauda equina signs) or ``see_doctor_soon`` (other red flags);
    - no stenosis on record: ``ask_about_stenosis`` (mild treats lumbar spinal stenosis; ask a doctor what
      causes the symptoms);
    - an inclusion not met or an exclusion met: ``talk_to_doctor``, with the reasons in plain words;
    - otherwise (likely, or more information needed, as a self-check always leaves imaging and scores to the
      clinic): ``ask_spine_specialist``: ask a spine specialist about mild.

    ``unmet`` is in the patient wording of ``language`` ("en" or "es") where the criteria set has it.
    """
    notes = ("blood_thinner",) if check.blood_thinner else ()
    red = [f for f in result.findings if f.role is Role.RED_FLAG and f.status is Tri.MET]
    if red:
        emergency = any(f.criterion.id in emergency_red_flags for f in red)
        kind = GuidanceKind.SEEK_CARE_NOW if emergency else GuidanceKind.SEE_DOCTOR_SOON
        return Guidance(kind, tuple(f.criterion.patient_in(language) for f in red), notes)
    if any(f.role is Role.GATE and f.status is not Tri.MET for f in result.findings):
        return Guidance(GuidanceKind.ASK_ABOUT_STENOSIS, (), notes)
    if result.status is Status.NOT_CANDIDATE:
        unmet = tuple(
            f.criterion.patient_in(language)
            for f in result.findings
            if (f.role is Role.INCLUSION and f.status is Tri.NOT_MET)
            or (f.role is Role.EXCLUSION and f.status is Tri.MET)
        )
        return Guidance(GuidanceKind.TALK_TO_DOCTOR, unmet, notes)
    return Guidance(GuidanceKind.ASK_SPINE_SPECIALIST, (), notes)
