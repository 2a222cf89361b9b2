"""The outcomes registry (issue 8): the clinic's results, per timepoint, with confidence intervals, beside the trials.

:func:`outcomes_report` is the one function behind the web dashboard, ``GET /api/v1/outcomes``,
``mildpath report outcomes --json`` and the PDF: they all show the same dict, so their numbers cannot drift apart.

How the registry is read (no N+1): the questionnaire service's registry query (one SELECT of the completed
responses with their patients), the procedure service's registry extract (procedures, operators' names, adverse
events, reinterventions: one SELECT each) and one SELECT of the patients' birth dates. Scores are recomputed from
the stored answers by the domain (:func:`mildpath.domain.instruments.score`), as everywhere in mildpath, and the
responder calls come from the one definition (``content/responders.yaml`` via
:func:`mildpath.domain.instruments.responders`). The statistics are :mod:`mildpath.domain.outcomes`; the
Kaplan-Meier fit is lifelines' (:mod:`mildpath.reports.survival`).

Access: staff only (a clinician sees their clinic, an admin or the command line everything); each report is one
aggregate read in the audit trail (``outcomes.report``; the detail holds the filters and the number of procedures,
no health data). A patient's own trajectory (:func:`patient_outcomes`) is readable by the patient and their
clinic's staff, audited as ``outcomes.patient_read``.

JSON conventions: means, standard deviations and their intervals in the measure's unit with two decimals;
proportions in percent with one decimal (``percent``, ``ci_low``, ``ci_high``); ``null`` where there is nothing to
compute (no pair, no eligible procedure). Changes are follow-up minus baseline (see the domain's ``METHODS``).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import date
from fractions import Fraction
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator
from sqlalchemy.orm import Session

from mildpath.content.benchmarks import Benchmark, Comparator, benchmark_set
from mildpath.content.instruments import instrument_form, responder_content, responder_thresholds
from mildpath.content.procedure import policies
from mildpath.content.schedule import follow_up_plan
from mildpath.content.sources import source
from mildpath.domain.errors import InvalidInput
from mildpath.domain.inputs import IsoDate
from mildpath.domain.instruments import Score, responders, score
from mildpath.domain.outcomes import (
    AGE_BAND_LABELS,
    BASELINE,
    METHODS,
    AgeBand,
    Answered,
    ChangeSummary,
    Cohort,
    CohortEvent,
    CohortFilter,
    MeanCI,
    RateCI,
    ResponderValue,
    ScoreValue,
    SurvivalCurve,
    SurvivalPoint,
    TreatedProcedure,
    age_on,
    change_from_baseline,
    event_rates,
    follow_up_completion,
    responder_rates,
    same_day_discharge,
    time_to_event,
    trajectory,
)
from mildpath.domain.schedule import SchedulePlan
from mildpath.services import outcomes_models as om
from mildpath.services import procedure_exports, proms
from mildpath.services.access import Actor, get_patient_for, record, require_staff, visible_patients
from mildpath.store import outcomes as store
from mildpath.store import procedures as procedure_store
from mildpath.store import proms as proms_store
from mildpath.store import users as users_store
from mildpath.store.models import Patient
from mildpath.store.proms import RegistryResponse

SCHEMA = "mildpath.outcomes/1"


@dataclass(frozen=True)
class MeasureInfo:
    id: str
    label: str
    short: str
    unit: str
    low: float
    high: float
    higher_is_better: bool = False


#: The measures of the registry, in display order; ranges from clinical reference §2 (walking capped at 30 min).
MEASURE_INFO: dict[str, MeasureInfo] = {
    m.id: m
    for m in (
        MeasureInfo("odi", "Oswestry Disability Index", "ODI", "points", 0, 100),
        MeasureInfo("nprs_back", "Back pain (NPRS)", "Back pain", "points", 0, 10),
        MeasureInfo("nprs_leg", "Leg pain (NPRS)", "Leg pain", "points", 0, 10),
        MeasureInfo("zcq_severity", "ZCQ symptom severity", "ZCQ severity", "points", 1, 5),
        MeasureInfo("zcq_function", "ZCQ physical function", "ZCQ function", "points", 1, 4),
        MeasureInfo("zcq_satisfaction", "ZCQ satisfaction", "ZCQ satisfaction", "points", 1, 4),
        MeasureInfo("walking", "Walking tolerance", "Walking", "minutes", 0, 30, higher_is_better=True),
    )
}
#: Measures whose change from baseline the dashboard summarises (satisfaction exists only after treatment).
CHANGE_MEASURES = ("odi", "nprs_back", "nprs_leg", "zcq_severity", "zcq_function", "walking")
#: Responder definitions (``domain.instruments.change``), headline first, with their labels.
DEFINITIONS: dict[str, str] = {
    "odi-points": "ODI improved by 10 points or more",
    "odi-relative": "ODI improved by 30% or more",
    "nprs-back": "Back pain improved by 2 points or 30%",
    "nprs-leg": "Leg pain improved by 2 points or 30%",
    "zcq-composite": "ZCQ composite (severity and function improved, satisfied)",
}
#: Which thresholds of ``responders.yaml`` each definition uses (for the notes and their sources).
_DEFINITION_THRESHOLDS = {
    "odi-points": ("odi_points",),
    "odi-relative": ("odi_relative",),
    "nprs-back": ("nprs_points", "nprs_relative"),
    "nprs-leg": ("nprs_points", "nprs_relative"),
    "zcq-composite": ("zcq_severity_points", "zcq_function_points", "zcq_satisfaction_max"),
}
SURVIVAL_DAYS = (365, 730)


# ---------------------------------------------------------------------------------------------------------------
# Filters


class OutcomeFilters(BaseModel):
    """Who the report covers: procedure dates (inclusive), the operator (a user id), a treated level or the number
    of levels treated, and the age band at the procedure. Every field is optional."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    since: IsoDate | None = Field(default=None, description="First procedure date included")
    until: IsoDate | None = Field(default=None, description="Last procedure date included")
    operator: int | None = Field(default=None, ge=1, le=2_147_483_647, description="Operator's user id")
    level: str | None = Field(default=None, max_length=8, description="A level treated, such as L4-L5")
    levels_treated: int | None = Field(default=None, ge=1, le=5, description="Number of levels treated")
    age_band: AgeBand | None = Field(default=None, description="Age band at the procedure")

    @field_validator("level")
    @classmethod
    def _known_level(cls, value: str | None) -> str | None:
        if value is not None and value not in level_choices():
            raise ValueError(f"must be one of {', '.join(level_choices())}")
        return value

    @model_validator(mode="after")
    def _check(self) -> OutcomeFilters:
        if self.since is not None and self.until is not None and self.since > self.until:
            raise ValueError("since must not be after until")
        return self

    def to_domain(self) -> CohortFilter:
        return CohortFilter(
            since=self.since,
            until=self.until,
            operator_id=self.operator,
            level=self.level,
            level_count=self.levels_treated,
            age_band=self.age_band,
        )


def parse_filters(values: Mapping[str, Any]) -> OutcomeFilters:
    """Filters from query or command-line values (blank means unset); :class:`InvalidInput` names the field."""
    from pydantic import ValidationError

    clean = {k: (None if isinstance(v, str) and not v.strip() else v) for k, v in values.items()}
    try:
        return OutcomeFilters.model_validate(clean)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first.get("loc", ())) or "since"  # the one cross-field rule
        message = str(first.get("msg", "invalid")).removeprefix("Value error, ")
        raise InvalidInput(f"{where}: {message}", field=where) from None


def level_choices() -> tuple[str, ...]:
    """The lumbar levels a procedure can treat (``content/procedure.yaml``), top down."""
    return tuple(c.id for c in policies().events.levels)


# ---------------------------------------------------------------------------------------------------------------
# Reading the registry


@dataclass(frozen=True)
class Registry:
    """What one bulk read of the store gives: the domain cohort, plus the raw rows exports need."""

    cohort: Cohort
    responses: tuple[RegistryResponse, ...]
    extract: procedure_exports.RegistryExtract
    response_procedure: Mapping[int, int]  # response id -> procedure id
    operators: Mapping[int, str]
    demographics: Mapping[int, tuple[date, str]]
    #: The cohort whose scores may be compared with the trials: scores of a licensed instrument (ODI, ZCQ)
    #: collected with mildpath's neutral labels are left out unless the site declares the licensed wording.
    comparable: Cohort | None = None
    #: ``(procedure id, instrument)`` of each response left out of ``comparable``.
    neutral: tuple[tuple[int, str], ...] = ()
    declared: tuple[str, ...] = ()


def _measures(result: Score) -> dict[str, Fraction]:
    """The registry measures of one score (exact fractions; missing ones left out)."""
    parts: list[tuple[str, Score]] = []
    if result.instrument in ("odi", "walking"):
        parts = [(result.instrument, result)]
    elif result.instrument == "nprs":
        parts = [("nprs_back", result.subscale("back")), ("nprs_leg", result.subscale("leg"))]
    elif result.instrument == "zcq":
        parts = [(f"zcq_{s.instrument.rsplit('.', 1)[-1]}", s) for s in result.subscales]
    return {name: s.exact for name, s in parts if s.exact is not None}


def _score(instrument: str, answers: Mapping[str, Any], after_treatment: bool) -> Score | None:
    try:
        return score(instrument, answers, after_treatment=after_treatment)
    except InvalidInput:  # a stored answer that no longer scores (never written by mildpath itself): left out
        return None


def licensed_instruments() -> tuple[str, ...]:
    """The instruments whose validated wording is licensed (``licensed: true`` in ``content/instruments``)."""
    return tuple(i for i in ("odi", "zcq", "nprs", "walking") if instrument_form(i).licensed)


def read_registry(
    session: Session,
    actor: Actor,
    *,
    since: date | None = None,
    until: date | None = None,
    declared: Sequence[str] = (),
) -> Registry:
    """The completed procedures the actor may see (procedure date within ``since``..``until``) with their scores,
    responder calls, adverse events and reinterventions, as a domain :class:`Cohort` (staff only).

    ``declared`` names the instruments whose licensed wording the site declares (``MILDPATH_LICENSED_WORDING``);
    the other licensed instruments' responses stored with neutral labels are left out of ``comparable``."""
    require_staff(actor)
    extract = procedure_exports.registry_extract(session, actor, since=since, until=until)
    responses = tuple(proms.registry_responses(session, actor, proms.RegistryQuery(since=since, until=until)))
    # A subquery rather than an id list: no bound-parameter limit however large the registry.
    visible = visible_patients(actor).with_only_columns(Patient.id)
    demographics = store.demographics(session, patient_ids=visible) if extract.procedures else {}
    thresholds = responder_thresholds()

    by_slot = {(p.patient_id, p.procedure_date): p.procedure_id for p in extract.procedures}
    procedures = []
    for p in extract.procedures:
        birth = demographics.get(p.patient_id, (p.procedure_date, "unknown"))[0]
        procedures.append(
            TreatedProcedure(
                procedure_id=p.procedure_id,
                patient_id=p.patient_id,
                procedure_date=p.procedure_date,
                age=age_on(birth, p.procedure_date),
                operator_id=p.operator_user_id,
                levels=tuple(dict.fromkeys(level.level for level in p.levels)),
                same_day_discharge=p.same_day_discharge,
            )
        )

    scores: list[ScoreValue] = []
    comparable_scores: list[ScoreValue] = []
    neutral: list[tuple[int, str]] = []
    licensed = set(licensed_instruments()) - set(declared)
    answered: list[Answered] = []
    response_procedure: dict[int, int] = {}
    scored: dict[tuple[int, str, str], Score] = {}  # (procedure, instrument, timepoint) -> score
    for row in responses:
        procedure_id = by_slot.get((row.patient_id, row.procedure_date)) if row.procedure_date else None
        if procedure_id is None:
            continue  # a baseline for a procedure not done (yet), or a response of another procedure
        response_procedure[row.response_id] = procedure_id
        answered.append(Answered(procedure_id, row.timepoint, row.instrument))
        result = _score(row.instrument, row.answers, row.after_treatment)
        if result is None:
            continue
        scored[(procedure_id, row.instrument, row.timepoint)] = result
        left_out = row.instrument in licensed and row.wording != "licensed"
        if left_out:
            neutral.append((procedure_id, row.instrument))
        for measure, value in _measures(result).items():
            scores.append(ScoreValue(procedure_id, row.timepoint, measure, float(value)))
            if not left_out:
                comparable_scores.append(ScoreValue(procedure_id, row.timepoint, measure, float(value)))

    calls: list[ResponderValue] = []
    for (procedure_id, instrument, timepoint), follow in scored.items():
        if timepoint == BASELINE:
            continue
        base = scored.get((procedure_id, instrument, BASELINE))
        if base is None:
            # No baseline at all: every definition of the instrument is unknown for this follow-up.
            definitions = [d for d in DEFINITIONS if d.split("-")[0] == instrument]
            calls.extend(ResponderValue(procedure_id, timepoint, d, None) for d in definitions)
            continue
        for call in responders(base, follow, thresholds):
            calls.append(ResponderValue(procedure_id, timepoint, call.definition, call.responder))

    cohort = Cohort(
        procedures=tuple(procedures),
        scores=tuple(scores),
        responders=tuple(calls),
        answered=tuple(answered),
        adverse_events=tuple(
            CohortEvent(e.procedure_id, e.type, e.days_after_procedure, e.serious) for e in extract.adverse_events
        ),
        reinterventions=tuple(
            CohortEvent(r.procedure_id, r.type, r.days_after_procedure) for r in extract.reinterventions
        ),
    )
    operators = {p.operator_user_id: p.operator_name for p in extract.procedures if p.operator_user_id}
    comparable = replace(cohort, scores=tuple(comparable_scores))
    return Registry(
        cohort,
        responses,
        extract,
        response_procedure,
        operators,
        demographics,
        comparable=comparable,
        neutral=tuple(neutral),
        declared=tuple(declared),
    )


# ---------------------------------------------------------------------------------------------------------------
# The report: one small function per section, each returning its typed part of :class:`OutcomesReport`


def _r(value: float | None, digits: int = 2) -> float | None:
    return None if value is None else round(float(value), digits)


def _iso(day: date | None) -> str | None:
    return None if day is None else day.isoformat()


def _pct(value: float | None) -> float | None:
    return None if value is None else round(100.0 * value, 1)


def _rate(rate: RateCI) -> dict[str, Any]:
    """The proportion fields every rate row carries (``events``, ``n``, ``percent``, ``ci_low``, ``ci_high``)."""
    return {
        "events": rate.events,
        "n": rate.n,
        "percent": _pct(rate.rate),
        "ci_low": _pct(rate.low),
        "ci_high": _pct(rate.high),
    }


def _mean(ci: MeanCI) -> dict[str, Any]:
    return {"n": ci.n, "mean": _r(ci.mean), "sd": _r(ci.sd), "ci_low": _r(ci.low), "ci_high": _r(ci.high)}


@dataclass(frozen=True)
class _Plan:
    """The follow-up plan as the sections read it: labels, the follow-up timepoints, every timepoint."""

    plan: SchedulePlan
    labels: Mapping[str, str]
    follow: tuple[str, ...]
    everything: tuple[str, ...]

    @classmethod
    def load(cls) -> _Plan:
        plan = follow_up_plan()
        return cls(
            plan,
            {tp.id: tp.label for tp in plan.timepoints},
            tuple(tp.id for tp in plan.timepoints if tp.after_procedure),
            tuple(tp.id for tp in plan.timepoints),
        )


def _filters_section(filters: OutcomeFilters, operators: Mapping[int, str]) -> om.ReportFilters:
    name = operators.get(filters.operator, "") if filters.operator else ""
    return om.ReportFilters(**filters.model_dump(mode="json"), operator_name=name)


def _cohort_section(cohort: Cohort, operators: Mapping[int, str]) -> om.CohortSummary:
    procedures = cohort.procedures
    return om.CohortSummary(
        procedures=len(procedures),
        patients=cohort.patients,
        first_procedure=_iso(min((p.procedure_date for p in procedures), default=None)),
        last_procedure=_iso(max((p.procedure_date for p in procedures), default=None)),
        by_operator=[
            om.OperatorCount(id=oid, name=name, procedures=sum(1 for p in procedures if p.operator_id == oid))
            for oid, name in sorted(operators.items(), key=lambda kv: kv[1])
            if any(p.operator_id == oid for p in procedures)
        ],
        by_levels_treated={
            str(k): sum(1 for p in procedures if len(p.levels) == k)
            for k in sorted({len(p.levels) for p in procedures})
        },
        by_age_band={band.value: sum(1 for p in procedures if p.age_band == band) for band in AgeBand},
    )


def _timepoints_section(plan: _Plan) -> list[om.TimepointInfo]:
    return [
        om.TimepointInfo(id=tp.id, label=tp.label, optional=tp.optional, after_procedure=tp.after_procedure)
        for tp in plan.plan.timepoints
    ]


def _measure_row(info: MeasureInfo) -> om.MeasureRow:
    return om.MeasureRow(
        id=info.id,
        label=info.label,
        short=info.short,
        unit=info.unit,
        low=info.low,
        high=info.high,
        higher_is_better=info.higher_is_better,
    )


def _follow_up_section(cohort: Cohort, plan: _Plan, today: date) -> list[om.FollowUpRow]:
    return [
        om.FollowUpRow(timepoint=c.timepoint, label=plan.labels[c.timepoint], pending=c.pending, **_rate(c.rate))
        for c in follow_up_completion(cohort, plan.plan.timepoints, today)
    ]


def _change_row(s: ChangeSummary, labels: Mapping[str, str]) -> om.ChangeRow:
    return om.ChangeRow(
        timepoint=s.timepoint,
        label=labels.get(s.timepoint, s.timepoint),
        baseline_mean=_r(s.baseline_mean),
        follow_up_mean=_r(s.follow_up_mean),
        **_mean(s.change),
    )


def _change_section(cohort: Cohort, plan: _Plan) -> dict[str, list[om.ChangeRow]]:
    return {
        measure: [_change_row(s, plan.labels) for s in change_from_baseline(cohort, measure, plan.follow)]
        for measure in CHANGE_MEASURES
    }


def _relative_change_section(cohort: Cohort, plan: _Plan) -> om.RelativeChange:
    rows = change_from_baseline(cohort, "walking", plan.follow, relative=True)
    return om.RelativeChange(walking=[_change_row(s, plan.labels) for s in rows])


def _definitions_section() -> list[om.ResponderDefinition]:
    info = responder_content()
    out = []
    for definition, label in DEFINITIONS.items():
        names = _DEFINITION_THRESHOLDS[definition]
        out.append(
            om.ResponderDefinition(
                id=definition,
                label=label,
                headline=definition == "odi-points",
                verified=all(info[n].verified for n in names),
                note=" ".join(info[n].note for n in names),
                sources=sorted({s for n in names for s in info[n].sources}),
            )
        )
    return out


def _responders_section(cohort: Cohort, plan: _Plan) -> dict[str, list[om.ResponderRow]]:
    return {
        d: [
            om.ResponderRow(timepoint=r.timepoint, label=plan.labels[r.timepoint], unknown=r.unknown, **_rate(r.rate))
            for r in responder_rates(cohort, d, plan.follow)
        ]
        for d in DEFINITIONS
    }


def _trajectories_section(cohort: Cohort, plan: _Plan) -> dict[str, list[om.TrajectoryRow]]:
    return {
        measure: [
            om.TrajectoryRow(
                timepoint=t.timepoint,
                label=plan.labels[t.timepoint],
                n=t.quartiles.n,
                q1=_r(t.quartiles.q1),
                median=_r(t.quartiles.median),
                q3=_r(t.quartiles.q3),
            )
            for t in trajectory(cohort, measure, plan.everything)
        ]
        for measure in MEASURE_INFO
    }


def _adverse_events_section(cohort: Cohort) -> list[om.EventRow]:
    events = policies().events
    labels = {c.id: c.label for c in events.adverse_event_types} | {
        "any": "Any adverse event",
        "serious": "Serious adverse event",
    }
    types = [c.id for c in events.adverse_event_types]
    return [
        om.EventRow(type=r.type, label=labels[r.type], count=r.events, **_rate(r.rate))
        for r in event_rates(cohort.procedure_ids, cohort.adverse_events, types)
    ]


def _reinterventions_section(cohort: Cohort) -> list[om.EventRow]:
    events = policies().events
    labels = {c.id: c.label for c in events.reintervention_types} | {"any": "Any later intervention"}
    types = [c.id for c in events.reintervention_types]
    return [
        om.EventRow(type=r.type, label=labels[r.type], count=r.events, **_rate(r.rate))
        for r in event_rates(cohort.procedure_ids, cohort.reinterventions, types)
        if r.type != "serious"
    ]


def _survival_endpoint(curve: SurvivalCurve, endpoint: str, label: str) -> om.SurvivalEndpoint:
    def at(days: int, p: SurvivalPoint | None) -> om.SurvivalAt:
        months = round(days / 30.4375)
        if p is None:
            return om.SurvivalAt(days=days, months=months, survival=None, ci_low=None, ci_high=None, at_risk=0)
        return om.SurvivalAt(
            days=days,
            months=months,
            survival=_pct(p.survival),
            ci_low=_pct(p.low),
            ci_high=_pct(p.high),
            at_risk=p.at_risk,
        )

    return om.SurvivalEndpoint(
        endpoint=endpoint,
        label=label,
        n=curve.n,
        events=curve.events,
        curve=[
            om.CurvePoint(
                days=int(p.days),
                survival=round(float(p.survival), 4),
                ci_low=_r(p.low, 4),
                ci_high=_r(p.high, 4),
                at_risk=p.at_risk,
            )
            for p in curve.points
        ],
        at=[at(days, p) for days, p in curve.at],
    )


def _survival_section(curves: Mapping[str, SurvivalCurve]) -> om.Survival:
    return om.Survival(
        any=_survival_endpoint(curves["any"], "any", "Free of any later intervention"),
        surgery=_survival_endpoint(curves["surgery"], "surgery", "Free of surgery or reoperation"),
        surgical_types=list(benchmark_set().surgical_reintervention_types),
        surgical_note=benchmark_set().surgical_reintervention_note,
    )


def _fit(cohort: Cohort, today: date, types: Iterable[str] | None, at_days: Sequence[int]) -> SurvivalCurve:
    from mildpath.reports.survival import kaplan_meier

    tte = time_to_event(cohort, today, None if types is None else set(types))
    return kaplan_meier(tte.durations, tte.observed, at_days=at_days)


def _curves(cohort: Cohort, today: date) -> dict[str, SurvivalCurve]:
    days = _benchmark_days()
    surgical = benchmark_set().surgical_reintervention_types
    return {"any": _fit(cohort, today, None, days), "surgery": _fit(cohort, today, surgical, days)}


def _wording_section(cohort: Cohort, neutral: Sequence[tuple[int, str]], declared: Sequence[str]) -> om.Wording:
    """How many responses were kept out of the comparisons with the trials, and why (issue 15 §5)."""
    ids = cohort.procedure_ids
    counts = {i: sum(1 for pid, inst in neutral if pid in ids and inst == i) for i in licensed_instruments()}
    titles = {i: instrument_form(i).short_title for i in counts}
    return om.Wording(
        declared_licensed=list(declared),
        excluded_total=sum(counts.values()),
        excluded_by_instrument={i: n for i, n in counts.items() if n},
        excluded=[om.ExcludedResponses(instrument=i, label=titles[i], responses=n) for i, n in counts.items() if n],
        why=(
            "Answered with mildpath's own short neutral labels, not the licensed wording of the validated "
            "questionnaire, so these scores are not compared with the trials. A site that holds the licence "
            "installs the wording (MILDPATH_CONTENT_DIR/instruments) or declares it (MILDPATH_LICENSED_WORDING)."
        ),
        sources=["instrument-licences"],
    )


def _months_label(timepoint: str) -> str:
    """``"36m"`` -> ``"36 months"`` (a benchmark timepoint the plan does not collect)."""
    return f"{timepoint[:-1]} months" if timepoint.endswith("m") and timepoint[:-1].isdigit() else timepoint


def _benchmark_days() -> tuple[int, ...]:
    days = {c.days for b in benchmark_set().benchmarks for c in b.compare if c.days}
    return tuple(sorted(days | set(SURVIVAL_DAYS)))


@dataclass(frozen=True)
class _Basis:
    """The clinic's figures the benchmarks compare with: the change tables of the comparable cohort, the adverse
    event rates, the wording counts and the survival curves."""

    change: Mapping[str, Sequence[om.ChangeRow]]
    relative_change: Mapping[str, Sequence[om.ChangeRow]]
    adverse_events: Sequence[om.EventRow]
    wording: om.Wording
    curves: Mapping[str, SurvivalCurve]
    labels: Mapping[str, str]


Figure = om.ClinicFigure | om.MissingFigure


def _change_figure(comp: Comparator, basis: _Basis) -> Figure:
    assert comp.measure is not None and comp.timepoint is not None
    info = MEASURE_INFO[comp.measure]
    what = f"{info.short}, {basis.labels.get(comp.timepoint) or _months_label(comp.timepoint)}"
    if comp.timepoint not in basis.labels:
        return om.MissingFigure(what=what, available=False, note="not collected: the follow-up plan ends at 24 months")
    table = (basis.relative_change if comp.kind == "relative_change" else basis.change).get(comp.measure, [])
    row = next((r for r in table if r.timepoint == comp.timepoint), None)
    left_out = basis.wording.excluded_by_instrument.get(comp.measure.split("_")[0], 0) or None
    if row is None or row.mean is None:
        note = "no pairs yet"
        if left_out:
            note = f"no pairs with the licensed wording ({left_out} responses with neutral labels left out)"
        return om.MissingFigure(what=what, available=False, note=note, excluded=left_out)
    return om.ClinicFigure(
        what=what,
        available=True,
        value=row.mean,
        ci_low=row.ci_low,
        ci_high=row.ci_high,
        n=row.n,
        unit="%" if comp.kind == "relative_change" else info.unit,
        excluded=left_out,
    )


def _event_figure(comp: Comparator, basis: _Basis) -> Figure:
    row = next((r for r in basis.adverse_events if r.type == str(comp.type)), None)
    what = "Any adverse event" if comp.type == "any" else (row.label if row else str(comp.type))
    if row is None or row.percent is None:
        return om.MissingFigure(what=what, available=False, note="no procedures")
    return om.ClinicFigure(
        what=what, available=True, value=row.percent, ci_low=row.ci_low, ci_high=row.ci_high, n=row.n, unit="%"
    )


def _incidence_figure(comp: Comparator, basis: _Basis) -> Figure:
    """Cumulative incidence = 1 - reintervention-free survival at ``comp.days``."""
    assert comp.days is not None
    endpoint = str(comp.endpoint)
    curve = basis.curves[endpoint]
    years = comp.days / 365.25
    what = f"{'Surgery or reoperation' if endpoint == 'surgery' else 'Any reintervention'} by {years:.0f} year" + (
        "s" if round(years) != 1 else ""
    )
    point = curve.estimate_at(comp.days)
    if point is None:
        return om.MissingFigure(what=what, available=False, note="follow-up too short")
    return om.ClinicFigure(
        what=what,
        available=True,
        value=_pct(1.0 - point.survival),
        ci_low=_pct(1.0 - point.high) if point.high is not None else None,
        ci_high=_pct(1.0 - point.low) if point.low is not None else None,
        n=curve.n,
        unit="%",
    )


def _clinic_figure(comp: Comparator, basis: _Basis) -> Figure:
    """The clinic's figure a benchmark is compared with (``available`` false with a note when there is none)."""
    if comp.kind in ("change", "relative_change"):
        return _change_figure(comp, basis)
    if comp.kind == "event_rate":
        return _event_figure(comp, basis)
    return _incidence_figure(comp, basis)


def _benchmark_row(b: Benchmark, basis: _Basis) -> om.BenchmarkRow:
    return om.BenchmarkRow(
        id=b.id,
        metric=b.metric,
        study=b.study,
        time=b.time,
        value=b.value,
        unit=b.unit,
        published=b.display,
        verified=b.verified,
        label=b.label,
        comparability=b.comparability,
        sources=[om.SourceRef(id=s, title=source(s).title) for s in b.sources],
        clinic=[_clinic_figure(c, basis) for c in b.compare],
    )


def build_report(
    cohort: Cohort,
    filters: OutcomeFilters,
    *,
    today: date,
    operators: Mapping[int, str] | None = None,
    comparable: Cohort | None = None,
    neutral: Sequence[tuple[int, str]] = (),
    declared: Sequence[str] = (),
) -> om.OutcomesReport:
    """The report from a cohort already read (no database access; see :func:`outcomes_report`).

    ``filters`` are applied here (the period too, so a cohort read without a period can be filtered);
    ``operators`` names the operators by user id. ``comparable`` is the cohort the benchmarks compare with (see
    :class:`Registry`; default: ``cohort``); ``neutral`` lists the responses left out of it."""
    operators = operators or {}
    plan = _Plan.load()
    cohort = cohort.where(filters.to_domain())
    change = _change_section(cohort, plan)
    relative = _relative_change_section(cohort, plan)
    adverse_events = _adverse_events_section(cohort)
    wording = _wording_section(cohort, neutral, declared)
    curves = _curves(cohort, today)
    if comparable is not None:
        same = comparable.where(filters.to_domain())
        basis_change, basis_relative = _change_section(same, plan), _relative_change_section(same, plan)
    else:
        basis_change, basis_relative = change, relative
    basis = _Basis(basis_change, {"walking": basis_relative.walking}, adverse_events, wording, curves, plan.labels)
    return om.OutcomesReport(
        schema_=SCHEMA,
        as_of=today.isoformat(),
        filters=_filters_section(filters, operators),
        filter_description=list(filters.to_domain().describe()),
        methods=dict(METHODS),
        cohort=_cohort_section(cohort, operators),
        timepoints=_timepoints_section(plan),
        measures=[_measure_row(info) for info in MEASURE_INFO.values()],
        follow_up=_follow_up_section(cohort, plan, today),
        change=change,
        relative_change=relative,
        responder_definitions=_definitions_section(),
        responders=_responders_section(cohort, plan),
        trajectories=_trajectories_section(cohort, plan),
        discharge=om.Discharge(same_day=om.Rate(**_rate(same_day_discharge(cohort)))),
        adverse_events=adverse_events,
        reinterventions=_reinterventions_section(cohort),
        survival=_survival_section(curves),
        wording=wording,
        benchmarks=[_benchmark_row(b, basis) for b in benchmark_set().benchmarks],
    )


def outcomes_report(
    session: Session,
    actor: Actor,
    filters: OutcomeFilters | None = None,
    *,
    today: date,
    declared: Sequence[str] = (),
) -> om.OutcomesReport:
    """The registry report (staff only; one aggregate read in the audit trail); ``model_dump(mode="json")`` is
    its JSON.

    The period filter is applied in SQL; operator, levels and age band on the cohort (the domain's
    :class:`~mildpath.domain.outcomes.CohortFilter`). ``today`` is the as-of day: it decides which follow-up
    windows have closed and where survival is censored.
    """
    require_staff(actor)
    filters = filters or OutcomeFilters()
    registry = read_registry(session, actor, since=filters.since, until=filters.until, declared=declared)
    report = build_report(
        registry.cohort,
        filters,
        today=today,
        operators=registry.operators,
        comparable=registry.comparable,
        neutral=registry.neutral,
        declared=registry.declared,
    )
    record(
        session,
        actor,
        "outcomes.report",
        "OutcomesReport",
        None,
        None,
        {"filters": report.filters.model_dump(mode="json"), "procedures": report.cohort.procedures},
    )
    return report


def filter_choices(session: Session, actor: Actor) -> om.FilterChoices:
    """What the dashboard's filter form offers: operators who did procedures the actor may see, levels, bands."""
    require_staff(actor)
    ids = visible_patients(actor).with_only_columns(Patient.id)
    rows = procedure_store.registry_procedures(session, patient_ids=ids)
    names = users_store.display_names(session, user_ids=[r.operator_user_id for r in rows])
    return om.FilterChoices(
        operators=sorted(names.items(), key=lambda kv: kv[1]),
        levels=list(level_choices()),
        levels_treated=[1, 2, 3],
        age_bands=[(band.value, AGE_BAND_LABELS[band]) for band in AgeBand],
    )


def outcomes_report_pdf(
    session: Session,
    actor: Actor,
    filters: OutcomeFilters | None = None,
    *,
    today: date,
    declared: Sequence[str] = (),
) -> bytes:
    """The registry report as a PDF (charts and the benchmark table); the same numbers as the JSON."""
    from mildpath.reports.outcomes_pdf import report_pdf

    return report_pdf(outcomes_report(session, actor, filters, today=today, declared=declared))


# ---------------------------------------------------------------------------------------------------------------
# One patient's trajectory


def patient_outcomes(session: Session, actor: Actor, patient_id: int, *, today: date) -> om.PatientOutcomes:
    """A patient's own scores per timepoint of their latest procedure, with change from baseline and responder
    calls (the patient, or staff of their clinic). Audited as ``outcomes.patient_read``.

    ``series`` maps each measure to its points (timepoint, label, value, answered_on) in plan order;
    ``responders`` lists each follow-up's calls with the reason in words.
    """
    get_patient_for(session, actor, patient_id)
    plan = follow_up_plan()
    labels = {tp.id: tp.label for tp in plan.timepoints}
    order = {tp.id: i for i, tp in enumerate(plan.timepoints)}
    procedure_date = procedure_store.latest_procedure_date(session, patient_id=patient_id, completed_only=True)
    rows = proms_store.list_for_patient(session, patient_id=patient_id, status="completed")
    if procedure_date is not None:
        rows = [r for r in rows if r.procedure_date == procedure_date]
    else:  # no procedure done yet: whatever was collected (a baseline)
        latest = max((r.procedure_date for r in rows if r.procedure_date), default=None)
        rows = [r for r in rows if r.procedure_date == latest]
    record(session, actor, "outcomes.patient_read", "PromResponse", None, patient_id, {"results": len(rows)})

    results: dict[tuple[str, str], tuple[Score, date | None]] = {}
    for row in sorted(rows, key=lambda r: order.get(r.timepoint, 99)):
        result = _score(row.instrument, dict(row.answers or {}), row.after_treatment)
        if result is not None:
            results[(row.instrument, row.timepoint)] = (result, row.answered_on)

    series: dict[str, list[om.PatientPoint]] = defaultdict(list)
    for (_instrument, timepoint), (result, answered_on) in results.items():
        for measure, value in _measures(result).items():
            series[measure].append(
                om.PatientPoint(
                    timepoint=timepoint,
                    label=labels.get(timepoint, timepoint),
                    value=round(float(value), 2),
                    answered_on=_iso(answered_on),
                )
            )
    for values in series.values():
        values.sort(key=lambda v: order.get(v.timepoint, 99))

    calls: list[om.PatientResponderCall] = []
    thresholds = responder_thresholds()
    for (instrument, timepoint), (follow, _day) in sorted(results.items(), key=lambda kv: order.get(kv[0][1], 99)):
        base = results.get((instrument, BASELINE))
        if timepoint == BASELINE or base is None:
            continue
        for call in responders(base[0], follow, thresholds):
            calls.append(
                om.PatientResponderCall(
                    timepoint=timepoint,
                    label=labels.get(timepoint, timepoint),
                    definition=call.definition,
                    definition_label=DEFINITIONS.get(call.definition, call.definition),
                    headline=call.headline,
                    responder=call.responder,
                    reason=call.reason,
                )
            )
    return om.PatientOutcomes(
        patient_id=patient_id,
        as_of=today.isoformat(),
        procedure_date=_iso(procedure_date),
        measures=[_measure_row(m) for m in MEASURE_INFO.values() if m.id in series],
        timepoints=[om.TimepointRef(id=tp.id, label=tp.label) for tp in plan.timepoints],
        series={m: series[m] for m in MEASURE_INFO if m in series},
        responders=calls,
    )


__all__ = [
    "CHANGE_MEASURES",
    "DEFINITIONS",
    "MEASURE_INFO",
    "SCHEMA",
    "OutcomeFilters",
    "Registry",
    "build_report",
    "filter_choices",
    "level_choices",
    "outcomes_report",
    "outcomes_report_pdf",
    "parse_filters",
    "patient_outcomes",
    "read_registry",
]
