"""Observation after the procedure and the same-day discharge decision.

Observations are timed entries (vitals, a neuro check of both legs, pain 0-10, walking, voiding, and the modified
Aldrete and PADSS totals as the nurse scored them). :func:`evaluate_discharge` reads the latest value of each and
checks the discharge criteria of clinical reference §5.1, in order:

1. Phase I recovery: modified Aldrete >= 9;
2. then home-readiness: PADSS >= 9 (not counted until Aldrete is met);
3. both legs checked, with no new weakness or numbness (new leg weakness or numbness after a spinal procedure is
   an emergency: possible epidural haematoma, §4.5 and §5.1);
4. a responsible adult to take the patient home;
5. written instructions given;

and it refuses discharge while the last temperature is a fever (>= 38.0 °C, §5.1). Nothing recorded is "not met",
never a guess. Voiding and walking are recorded and shown but are not criteria: the reference's PADSS components
(vital signs, activity, nausea/vomiting, pain, surgical bleeding) do not include voiding, and activity is inside PADSS.

A patient kept overnight is recorded with :func:`keep_overnight`, which requires a reason.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import TypeVar

from pydantic import AwareDatetime

from mildpath.domain.errors import InvalidRecord, RuleViolation
from mildpath.domain.procedure._base import Problem, RecordModel, raise_if_any
from mildpath.domain.procedure.policy import DischargePolicy, Sources

T = TypeVar("T")

# Input guards, not clinical thresholds: a body temperature outside 25-45 °C is almost surely a typing error or
# Fahrenheit (the reference is silent; this only refuses impossible entries).
_TEMPERATURE_RANGE_C = (25.0, 45.0)


class NeuroStatus(StrEnum):
    AS_BEFORE = "as_before"
    WORSE = "worse"


class Walking(StrEnum):
    AS_BEFORE = "as_before"
    WITH_HELP = "with_help"
    NOT_YET = "not_yet"


class LegCheck(RecordModel):
    """Strength and sensation of one leg compared with before the procedure; None means not checked."""

    strength: NeuroStatus | None = None
    sensation: NeuroStatus | None = None


class NeuroCheck(RecordModel):
    left: LegCheck = LegCheck()
    right: LegCheck = LegCheck()


class Vitals(RecordModel):
    heart_rate: int | None = None
    systolic_bp: int | None = None
    diastolic_bp: int | None = None
    respiratory_rate: int | None = None
    spo2: int | None = None
    temperature_c: float | None = None


class ObservationEntry(RecordModel):
    """One timed observation; any part may be absent. ``aldrete`` and ``padss`` are the scored totals (0-10)."""

    at: AwareDatetime
    by: str = ""
    vitals: Vitals | None = None
    neuro: NeuroCheck | None = None
    pain: int | None = None
    walking: Walking | None = None
    voided: bool | None = None
    aldrete: int | None = None
    padss: int | None = None
    note: str = ""


class DischargeReadiness(RecordModel):
    """What the nurse confirms at the door: the escort is here and the written instructions were handed over."""

    escort_present: bool = False
    escort_name: str = ""
    written_instructions_given: bool = False


class DischargeKind(StrEnum):
    HOME = "home"
    OVERNIGHT = "overnight"


class DischargeOutcome(RecordModel):
    """How the day ended: home at ``at`` (criteria met), or kept overnight from ``at`` with a ``reason``."""

    kind: DischargeKind
    at: AwareDatetime
    reason: str = ""


@dataclass(frozen=True)
class DischargeCriterion:
    id: str
    label: str
    met: bool
    reason: str
    sources: Sources


@dataclass(frozen=True)
class DischargeEvaluation:
    """``met`` only when every criterion is met and no alert stands; ``alerts`` block discharge too."""

    criteria: tuple[DischargeCriterion, ...]
    alerts: tuple[DischargeCriterion, ...]

    @property
    def met(self) -> bool:
        return all(c.met for c in self.criteria) and not self.alerts

    @property
    def unmet(self) -> tuple[DischargeCriterion, ...]:
        return tuple(c for c in self.criteria if not c.met) + self.alerts


def observation_problems(entry: ObservationEntry, policy: DischargePolicy) -> list[Problem]:
    """Range errors in one observation (pain 0-10, scores 0-10, SpO2 0-100 %, a body temperature in °C)."""
    problems = []
    top = policy.score_max.whole
    for field, value, low, high in (
        ("pain", entry.pain, 0, 10),  # source: nprs (0-10)
        ("aldrete", entry.aldrete, 0, top),
        ("padss", entry.padss, 0, top),
    ):
        if value is not None and not low <= value <= high:
            problems.append(Problem(field, f"{field} must be between {low} and {high}, got {value}"))
    vitals = entry.vitals
    if vitals is not None:
        if vitals.spo2 is not None and not 0 <= vitals.spo2 <= 100:
            problems.append(Problem("vitals.spo2", f"SpO2 is a percentage (0-100), got {vitals.spo2}"))
        low_t, high_t = _TEMPERATURE_RANGE_C
        if vitals.temperature_c is not None and not low_t <= vitals.temperature_c <= high_t:
            problems.append(
                Problem(
                    "vitals.temperature_c",
                    f"temperature {vitals.temperature_c} is not a body temperature in °C",
                )
            )
        for field in ("heart_rate", "systolic_bp", "diastolic_bp", "respiratory_rate"):
            value = getattr(vitals, field)
            if value is not None and value <= 0:
                problems.append(Problem(f"vitals.{field}", f"{field.replace('_', ' ')} must be positive"))
    return problems


def validate_observation(entry: ObservationEntry, policy: DischargePolicy) -> None:
    """Raise ``InvalidRecord`` listing every range error of ``entry``."""
    raise_if_any(observation_problems(entry, policy), "observation")


def _latest(entries: Sequence[ObservationEntry], pick: Callable[[ObservationEntry], T | None]) -> T | None:
    for entry in sorted(entries, key=lambda e: e.at, reverse=True):
        value = pick(entry)
        if value is not None:
            return value
    return None


def evaluate_discharge(
    observations: Sequence[ObservationEntry], readiness: DischargeReadiness, *, policy: DischargePolicy
) -> DischargeEvaluation:
    """Check the §5.1 discharge criteria against the latest observations; see the module docstring."""
    # source: peri-procedural (Aldrete >= 9, then PADSS >= 9, escort, written instructions)
    aldrete = _latest(observations, lambda e: e.aldrete)
    padss = _latest(observations, lambda e: e.padss)
    a_min, p_min = policy.aldrete_min.whole, policy.padss_min.whole
    aldrete_met = aldrete is not None and aldrete >= a_min
    criteria = [
        DischargeCriterion(
            "aldrete",
            f"Phase I recovery: modified Aldrete score of at least {a_min}",
            aldrete_met,
            "not scored yet" if aldrete is None else f"modified Aldrete {aldrete} (needs {a_min} or more)",
            policy.aldrete_min.sources,
        ),
        _padss(padss, p_min, aldrete_met, policy),
        _legs(_latest(observations, lambda e: e.neuro), policy),
        DischargeCriterion(
            "escort",
            "A responsible adult takes the patient home",
            readiness.escort_present,
            f"escort present{': ' + readiness.escort_name.strip() if readiness.escort_name.strip() else ''}"
            if readiness.escort_present
            else "no responsible adult present to take the patient home",
            policy.escort_sources,
        ),
        DischargeCriterion(
            "instructions",
            "Written discharge instructions given",
            readiness.written_instructions_given,
            "given" if readiness.written_instructions_given else "written instructions not yet given",
            policy.instructions_sources,
        ),
    ]
    alerts = []
    temperature = _latest(observations, lambda e: e.vitals.temperature_c if e.vitals else None)
    if temperature is not None and temperature >= policy.fever_celsius.value:
        # source: peri-procedural (fever >= 38.0 °C); post-procedure-triage (fever: same-day assessment)
        alerts.append(
            DischargeCriterion(
                "fever",
                "No fever",
                False,
                f"last temperature {temperature} °C is a fever ({policy.fever_celsius.value} °C or more): "
                "a clinician must assess before discharge",
                policy.fever_celsius.sources,
            )
        )
    return DischargeEvaluation(tuple(criteria), tuple(alerts))


def _padss(padss: int | None, p_min: int, aldrete_met: bool, policy: DischargePolicy) -> DischargeCriterion:
    label = f"Home readiness: PADSS of at least {p_min}"
    if not aldrete_met:
        reason = "assessed only after Phase I recovery (modified Aldrete) is met"
        return DischargeCriterion("padss", label, False, reason, policy.padss_min.sources)
    if padss is None:
        return DischargeCriterion("padss", label, False, "not scored yet", policy.padss_min.sources)
    return DischargeCriterion(
        "padss", label, padss >= p_min, f"PADSS {padss} (needs {p_min} or more)", policy.padss_min.sources
    )


def _legs(neuro: NeuroCheck | None, policy: DischargePolicy) -> DischargeCriterion:
    # source: post-procedure-triage (new or progressive leg weakness or numbness is an emergency)
    label = "Both legs checked: no new weakness or numbness"
    if neuro is None:
        return DischargeCriterion(
            "legs", label, False, "neuro check of both legs not recorded", policy.new_deficit_sources
        )
    missing: list[str] = []
    worse: list[str] = []
    for side, leg in (("left", neuro.left), ("right", neuro.right)):
        for aspect, value, word in (
            ("strength", leg.strength, "weakness"),
            ("sensation", leg.sensation, "numbness"),
        ):
            if value is None:
                missing.append(f"{side} leg {aspect}")
            elif value is NeuroStatus.WORSE:
                worse.append(f"new {word} in the {side} leg")
    if worse:
        reason = (
            f"{' and '.join(worse)}: new leg weakness or numbness after a spinal procedure is an emergency "
            "(possible epidural haematoma); assess now"
        )
        return DischargeCriterion("legs", label, False, reason, policy.new_deficit_sources)
    if missing:
        return DischargeCriterion(
            "legs", label, False, f"not checked: {', '.join(missing)}", policy.new_deficit_sources
        )
    return DischargeCriterion("legs", label, True, "both legs as before the procedure", policy.new_deficit_sources)


def _check_after(at: datetime, procedure_end: datetime | None, what: str) -> None:
    if procedure_end is not None and at < procedure_end:
        raise InvalidRecord(
            f"{what} time {at.isoformat()} is before the procedure ended ({procedure_end.isoformat()})",
            field="at",
            value=at.isoformat(),
        )


def discharge_home(
    evaluation: DischargeEvaluation, at: datetime, *, procedure_end: datetime | None = None
) -> DischargeOutcome:
    """Record a same-day discharge at ``at``.

    Raises :class:`RuleViolation` (``data["unmet"]`` lists criterion ids) while a criterion is unmet or an alert
    stands, and ``InvalidRecord`` for a time before the procedure ended.
    """
    _check_after(at, procedure_end, "discharge")
    if not evaluation.met:
        unmet = evaluation.unmet
        raise RuleViolation(
            "discharge criteria not met: " + "; ".join(f"{c.label} ({c.reason})" for c in unmet),
            unmet=[c.id for c in unmet],
        )
    return DischargeOutcome(kind=DischargeKind.HOME, at=at)


def keep_overnight(reason: str, at: datetime, *, procedure_end: datetime | None = None) -> DischargeOutcome:
    """Record that the patient stays overnight from ``at``; a blank reason raises ``InvalidRecord``.

    The published pathway is same-day discharge (clinical reference §5), so every overnight stay says why."""
    if not reason.strip():
        raise InvalidRecord("an overnight stay needs a reason", field="reason", value=reason)
    _check_after(at, procedure_end, "overnight decision")
    return DischargeOutcome(kind=DischargeKind.OVERNIGHT, at=at, reason=reason.strip())


def check_discharge_outcome(outcome: DischargeOutcome, *, procedure_end: datetime | None = None) -> None:
    """Validate a stored or imported outcome: an overnight stay has a reason; the time follows the procedure."""
    if outcome.kind is DischargeKind.OVERNIGHT and not outcome.reason.strip():
        raise InvalidRecord("an overnight stay needs a reason", field="reason", value=outcome.reason)
    _check_after(outcome.at, procedure_end, "discharge" if outcome.kind is DischargeKind.HOME else "overnight")
