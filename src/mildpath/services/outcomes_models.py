"""The registry report as typed, frozen models (issue 16): :class:`OutcomesReport` is what
:func:`mildpath.services.outcomes.outcomes_report` returns, the ``response_model`` of ``GET /api/v1/outcomes``, and
what the dashboard, its charts and the PDF read (attributes of the same object). ``model_dump(mode="json")`` is the
JSON of ``mildpath report outcomes --json`` (contracts, report section), key for key in the order written here.

Field order is the JSON's key order. Numbers that the report writes as they come (integers stay integers) are
``int | float``; statistics are floats rounded by the service (see the conventions in ``services.outcomes``).
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, SerializerFunctionWrapHandler, model_serializer

Number = int | float


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class ReportFilters(_Frozen):
    since: str | None
    until: str | None
    operator: int | None
    level: str | None
    levels_treated: int | None
    age_band: str | None
    operator_name: str


class OperatorCount(_Frozen):
    id: int
    name: str
    procedures: int


class CohortSummary(_Frozen):
    procedures: int
    patients: int
    first_procedure: str | None
    last_procedure: str | None
    by_operator: list[OperatorCount]
    by_levels_treated: dict[str, int]
    by_age_band: dict[str, int]


class TimepointInfo(_Frozen):
    id: str
    label: str
    optional: bool
    after_procedure: bool


class MeasureRow(_Frozen):
    id: str
    label: str
    short: str
    unit: str
    low: Number
    high: Number
    higher_is_better: bool


class Rate(_Frozen):
    """A proportion in percent with its Wilson interval (``None`` when ``n`` is 0)."""

    events: int
    n: int
    percent: float | None
    ci_low: float | None
    ci_high: float | None


class FollowUpRow(_Frozen):
    timepoint: str
    label: str
    pending: int
    events: int
    n: int
    percent: float | None
    ci_low: float | None
    ci_high: float | None


class ChangeRow(_Frozen):
    timepoint: str
    label: str
    baseline_mean: float | None
    follow_up_mean: float | None
    n: int
    mean: float | None
    sd: float | None
    ci_low: float | None
    ci_high: float | None


class RelativeChange(_Frozen):
    walking: list[ChangeRow]


class ResponderDefinition(_Frozen):
    id: str
    label: str
    headline: bool
    verified: bool
    note: str
    sources: list[str]


class ResponderRow(_Frozen):
    timepoint: str
    label: str
    unknown: int
    events: int
    n: int
    percent: float | None
    ci_low: float | None
    ci_high: float | None


class TrajectoryRow(_Frozen):
    timepoint: str
    label: str
    n: int
    q1: float | None
    median: float | None
    q3: float | None


class Discharge(_Frozen):
    same_day: Rate


class EventRow(_Frozen):
    type: str
    label: str
    count: int
    events: int
    n: int
    percent: float | None
    ci_low: float | None
    ci_high: float | None


class CurvePoint(_Frozen):
    days: int
    survival: float
    ci_low: float | None
    ci_high: float | None
    at_risk: int


class SurvivalAt(_Frozen):
    days: int
    months: int
    survival: float | None
    ci_low: float | None
    ci_high: float | None
    at_risk: int


class SurvivalEndpoint(_Frozen):
    endpoint: str
    label: str
    n: int
    events: int
    curve: list[CurvePoint]
    at: list[SurvivalAt]


class Survival(_Frozen):
    any: SurvivalEndpoint
    surgery: SurvivalEndpoint
    surgical_types: list[str]
    surgical_note: str


class ExcludedResponses(_Frozen):
    instrument: str
    label: str
    responses: int


class Wording(_Frozen):
    declared_licensed: list[str]
    excluded_total: int
    excluded_by_instrument: dict[str, int]
    excluded: list[ExcludedResponses]
    why: str
    sources: list[str]


class _WithExcluded(_Frozen):
    """``excluded`` (responses with neutral labels left out) is written only when there are some. The JSON
    schema is the fields' (validation mode), where ``excluded`` is optional."""

    model_config = ConfigDict(json_schema_mode_override="validation")

    @model_serializer(mode="wrap")
    def _drop_unset_excluded(self, handler: SerializerFunctionWrapHandler) -> dict[str, Any]:
        data: dict[str, Any] = handler(self)
        if data.get("excluded") is None:
            data.pop("excluded", None)
        return data


class ClinicFigure(_WithExcluded):
    """The clinic's figure a benchmark is compared with."""

    what: str
    available: Literal[True]
    value: float | None
    ci_low: float | None
    ci_high: float | None
    n: int
    unit: str
    excluded: int | None = None


class MissingFigure(_WithExcluded):
    """No clinic figure to compare with, and why (``note``)."""

    what: str
    available: Literal[False]
    note: str
    excluded: int | None = None


class SourceRef(_Frozen):
    id: str
    title: str


class BenchmarkRow(_Frozen):
    id: str
    metric: str
    study: str
    time: str
    value: Number
    unit: str
    published: str
    verified: bool
    label: str
    comparability: str
    sources: list[SourceRef]
    clinic: list[ClinicFigure | MissingFigure]


class OutcomesReport(_Frozen):
    """The outcomes registry report (schema ``mildpath.outcomes/1``)."""

    model_config = ConfigDict(serialize_by_alias=True, validate_by_name=True, validate_by_alias=True)

    report: Literal["outcomes"] = "outcomes"
    schema_: str = Field(alias="schema")
    as_of: str
    filters: ReportFilters
    filter_description: list[str]
    methods: dict[str, str]
    cohort: CohortSummary
    timepoints: list[TimepointInfo]
    measures: list[MeasureRow]
    follow_up: list[FollowUpRow]
    change: dict[str, list[ChangeRow]]
    relative_change: RelativeChange
    responder_definitions: list[ResponderDefinition]
    responders: dict[str, list[ResponderRow]]
    trajectories: dict[str, list[TrajectoryRow]]
    discharge: Discharge
    adverse_events: list[EventRow]
    reinterventions: list[EventRow]
    survival: Survival
    wording: Wording
    benchmarks: list[BenchmarkRow]


__all__ = [
    "BenchmarkRow",
    "ChangeRow",
    "ClinicFigure",
    "CohortSummary",
    "EventRow",
    "FollowUpRow",
    "MissingFigure",
    "OutcomesReport",
    "Rate",
    "ResponderRow",
    "Survival",
    "SurvivalEndpoint",
    "TrajectoryRow",
    "Wording",
]


class FilterChoices(_Frozen):
    """What the dashboard's filter form offers (:func:`mildpath.services.outcomes.filter_choices`)."""

    operators: list[tuple[int, str]] = Field(description="(user id, name) of operators, by name")
    levels: list[str]
    levels_treated: list[int]
    age_bands: list[tuple[str, str]] = Field(description="(value, label)")


# ------------------------------------------------------------------------------------------ one patient's trajectory


class PatientPoint(_Frozen):
    """One score of one measure at one timepoint (``answered_on``: ISO date, None when not known)."""

    timepoint: str
    label: str
    value: float
    answered_on: str | None


class PatientResponderCall(_Frozen):
    """One responder definition applied to the patient's baseline and one follow-up, the reason in words."""

    timepoint: str
    label: str
    definition: str
    definition_label: str
    headline: bool
    responder: bool | None
    reason: str


class TimepointRef(_Frozen):
    id: str
    label: str


class PatientOutcomes(_Frozen):
    """A patient's own scores per timepoint of their latest procedure (:func:`mildpath.services.outcomes.
    patient_outcomes`): the ``response_model`` of ``GET /api/v1/patients/{id}/outcomes``, what the patient page, its
    charts and the PNG read. ``series`` maps each measure to its points in plan order."""

    patient_id: int
    as_of: str
    procedure_date: str | None
    measures: list[MeasureRow]
    timepoints: list[TimepointRef]
    series: dict[str, list[PatientPoint]]
    responders: list[PatientResponderCall]
