"""The models of the criteria content files (``content/criteria/``), validated by :mod:`mildpath.content.loader`.

What a model checks is the file's shape: keys, types, the rule language's grammar (a rule node is a mapping with
one key, a discriminated union of :data:`Rule`), citations. What needs the other files (a value set's name, a
threshold, a form field) is checked when :mod:`mildpath.content.criteria` builds the domain objects.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping
from typing import Annotated, Any, ClassVar, Literal, Union

from pydantic import (
    BeforeValidator,
    Discriminator,
    Field,
    StrictBool,
    StrictFloat,
    StrictInt,
    StrictStr,
    Tag,
    field_validator,
    model_validator,
)

from mildpath.content.loader import Cited, ContentModel, Prose, SourceId, Text
from mildpath.domain.conditions import Op
from mildpath.domain.criteria import Role
from mildpath.domain.logic import Tri


def _day(value: Any) -> Any:
    """A date as YAML gives it, or ISO text (a timestamp's date part)."""
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, str):
        return value[:10]
    return value


Day = Annotated[dt.date, BeforeValidator(_day)]
Scalar = StrictBool | StrictInt | StrictFloat | StrictStr

# --------------------------------------------------------------------------------------------- valuesets.yaml


class CodeIn(ContentModel):
    system: Text
    code: Text
    display: str = ""
    note: Prose = ""
    #: False for a code the clinical reference does not confirm.
    confirmed: bool = True


class ValueSetIn(ContentModel):
    title: str | None = None
    sources: Cited
    codes: tuple[CodeIn, ...] = ()
    ingredients: tuple[Text, ...] = ()
    include: tuple[Text, ...] = ()
    verified: bool = True


class ValueSetsFile(ContentModel):
    systems: dict[str, str] = {}
    assessment_system: str
    status_groups: dict[str, tuple[str, ...]] = {}
    value_sets: dict[str, ValueSetIn] = Field(min_length=1)


# --------------------------------------------------------------------------------------------- the rule language


class WindowIn(ContentModel):
    """``{last: SPAN, older_than: SPAN, match: start|overlap}`` (at least one of last and older_than)."""

    last: Text | None = None
    older_than: Text | None = None
    match: Literal["start", "overlap"] = "start"

    @model_validator(mode="after")
    def _a_bound(self) -> WindowIn:
        if self.last is None and self.older_than is None:
            raise ValueError("within is 'current' or {last: SPAN, older_than: SPAN, match: start|overlap}")
        return self


Within = Literal["current"] | WindowIn
Test = tuple[Op, Scalar]
CODED = ("diagnosis", "procedure", "medication", "observation")


class SelectIn(ContentModel):
    """Which facts: exactly one of a coded kind (a value set name), ``field`` or ``fields``."""

    diagnosis: Text | None = None
    procedure: Text | None = None
    medication: Text | None = None
    observation: Text | None = None
    field: str | None = None
    fields: tuple[str, ...] | None = None
    status: str | Annotated[tuple[str, ...], Field(min_length=1)] | None = None
    reason: Text | None = None

    @model_validator(mode="after")
    def _one_kind(self) -> SelectIn:
        if len(self.kinds()) != 1:
            raise ValueError("name exactly one of diagnosis, procedure, medication, observation, field(s)")
        if self.reason is not None and self.kinds() != ["procedure"]:
            raise ValueError("reason applies to procedures only")
        return self

    def kinds(self) -> list[str]:
        return [k for k in (*CODED, "field", "fields") if getattr(self, k) is not None]


class PresentIn(SelectIn):
    where: Test | None = None
    within: Within | None = None
    after: SelectIn | None = None
    found: Tri = Tri.MET
    none: Tri = Tri.NOT_MET


class CompareIn(SelectIn):
    test: Test
    pick: Literal["latest", "max", "min"] = "latest"
    within: Within | None = None


class SinceIn(SelectIn):
    at_least: Text


class AllIn(ContentModel):
    all: tuple[Rule, ...] = Field(min_length=1)


class AnyIn(ContentModel):
    any: tuple[Rule, ...] = Field(min_length=1)


class CoalesceIn(ContentModel):
    coalesce: tuple[Rule, ...] = Field(min_length=1)


class NotIn(ContentModel):
    not_: Rule = Field(alias="not")


class PresentNode(ContentModel):
    present: PresentIn


class CompareNode(ContentModel):
    compare: CompareIn


class SinceNode(ContentModel):
    since: SinceIn


_NODES: dict[str, type[ContentModel]] = {
    "all": AllIn,
    "any": AnyIn,
    "not": NotIn,
    "coalesce": CoalesceIn,
    "present": PresentNode,
    "compare": CompareNode,
    "since": SinceNode,
}


def _node_kind(value: Any) -> str | None:
    """The tag of a rule node: its one key (a mapping) or its model's."""
    if isinstance(value, dict):
        if len(value) == 1:
            key = next(iter(value))
            return key if key in _NODES else None
        return None
    for key, model in _NODES.items():
        if isinstance(value, model):
            return key
    return None


Rule = Annotated[
    Union[  # noqa: UP007 (a tagged union needs the Union form)
        Annotated[AllIn, Tag("all")],
        Annotated[AnyIn, Tag("any")],
        Annotated[NotIn, Tag("not")],
        Annotated[CoalesceIn, Tag("coalesce")],
        Annotated[PresentNode, Tag("present")],
        Annotated[CompareNode, Tag("compare")],
        Annotated[SinceNode, Tag("since")],
    ],
    Discriminator(
        _node_kind,
        custom_error_type="unknown_node",
        custom_error_message=(
            "unknown node: a rule node is a mapping with exactly one key, one of all, any, not, coalesce, "
            "present, compare, since"
        ),
    ),
]

for _model in (AllIn, AnyIn, NotIn, CoalesceIn):
    _model.model_rebuild()

# --------------------------------------------------------------------------------------------- criteria sets


class ThresholdIn(ContentModel):
    value: StrictInt | StrictFloat | StrictStr
    source: SourceId
    note: Prose = ""


class CautionIn(ContentModel):
    id: str = Field(min_length=1)
    text: Prose = Field(min_length=1)
    source: SourceId

    @field_validator("text")
    @classmethod
    def _placeholders(cls, text: str) -> str:
        try:
            text.format(age=0, ranges="")
        except (KeyError, IndexError, ValueError) as exc:
            raise ValueError(f"caution text may use {{age}} and {{ranges}} only ({exc})") from exc
        return text


class AgeRangeIn(ContentModel):
    trial: Text = Field(min_length=1)
    source: SourceId
    min: StrictInt | None = None
    max: StrictInt | None = None

    @model_validator(mode="after")
    def _a_bound(self) -> AgeRangeIn:
        if self.min is None and self.max is None:
            raise ValueError("min and max are whole years (at least one of them)")
        return self


class StudiedAgesIn(ContentModel):
    caution: CautionIn
    ranges: tuple[AgeRangeIn, ...] = Field(min_length=1)


class CriterionIn(ContentModel):
    id: Text
    role: Role
    clinician: str
    patient: str
    patient_es: str = ""
    missing: str = ""
    source: SourceId
    also: tuple[SourceId, ...] = ()
    rule: Rule


class CriteriaFile(ContentModel):
    """A criteria set file: standalone (name, version, criteria) or ``extends`` another set (see criteria.py)."""

    extends: Text | None = None
    name: Text | None = None
    version: Text | None = None
    title: str = ""
    studied_ages: StudiedAgesIn | None = None
    thresholds: dict[str, ThresholdIn] = {}
    criteria: tuple[CriterionIn, ...] = ()
    remove: tuple[Text, ...] = ()


# --------------------------------------------------------------------------------------------- vignettes


class CodeRef(ContentModel):
    system: Text
    code: Text


Resolve = Callable[[str, str], str]
"""``(system alias or URL, where) -> system URL``, raising :class:`ContentError` for an unknown alias."""

_IDENTITY = frozenset({"system", "code", "record"})


class FactIn(ContentModel):
    """What every coded fact of a vignette has: a system (an alias of valuesets.yaml or a URL), a code, and the
    record it stands for (default ``<record_of>-<n>``).

    The other fields are the fact class's fields of the same name, but for those ``renamed`` names.
    """

    system: Text
    code: Text
    record: str | None = None
    record_of: ClassVar[str]
    renamed: ClassVar[Mapping[str, str]] = {}

    def fact_fields(self, resolve: Resolve, at: str) -> dict[str, Any]:
        """The fact's fields other than system, code and record, by the fact class's names."""
        names = (name for name in type(self).model_fields if name not in _IDENTITY)
        return {self.renamed.get(name, name): getattr(self, name) for name in names}


class DiagnosisIn(FactIn):
    record_of: ClassVar[str] = "Condition/diagnosis"
    clinical_status: str | None = "active"
    onset: Day | None = None
    recorded: Day | None = None
    abatement: Day | None = None


class ProcedureIn(FactIn):
    record_of: ClassVar[str] = "Procedure/procedure"
    status: str | None = "completed"
    performed: Day | None = None
    performed_end: Day | None = None
    resource_type: str = "Procedure"
    reasons: tuple[CodeRef, ...] = ()

    def fact_fields(self, resolve: Resolve, at: str) -> dict[str, Any]:
        reasons = frozenset((resolve(r.system, f"{at}.reasons"), r.code) for r in self.reasons)
        return super().fact_fields(resolve, at) | {"reasons": reasons}


class MedicationIn(FactIn):
    record_of: ClassVar[str] = "MedicationRequest/medication"
    renamed: ClassVar[Mapping[str, str]] = {"start": "period_start", "end": "period_end"}
    system: Text = "rxnorm"
    status: str | None = "active"
    start: Day | None = None
    end: Day | None = None


class ObservationIn(FactIn):
    record_of: ClassVar[str] = "Observation/observation"
    renamed: ClassVar[Mapping[str, str]] = {"date": "effective"}
    value: Scalar | None = None
    unit: str | None = None
    date: Day | None = None
    status: str | None = "final"


class DatedAnswer(ContentModel):
    value: Scalar | None = None
    date: Day | None = None


class FactsIn(ContentModel):
    """The vignette format of a patient's facts (see :func:`mildpath.content.criteria.facts_from_data`)."""

    patient_id: Text | None = None
    birth_date: Day | None = None
    sex: str | None = None
    diagnoses: tuple[DiagnosisIn, ...] = ()
    procedures: tuple[ProcedureIn, ...] = ()
    medications: tuple[MedicationIn, ...] = ()
    observations: tuple[ObservationIn, ...] = ()
    answers: dict[str, DatedAnswer | Scalar | None] = {}


class ExpectedIn(ContentModel):
    status: str | None = None
    criteria: dict[str, Text] = {}


class CaseIn(ContentModel):
    name: Text
    as_of: Day | None = None
    facts: FactsIn | None = None
    expected: ExpectedIn | None


class CasesFile(ContentModel):
    criteria_set: Text = "default"
    as_of: Day | None = None
    cases: tuple[CaseIn, ...] = ()

    @field_validator("cases")
    @classmethod
    def _unique_names(cls, cases: tuple[CaseIn, ...]) -> tuple[CaseIn, ...]:
        names = [c.name for c in cases]
        twice = sorted({n for n in names if names.count(n) > 1})
        if twice:
            raise ValueError(f"duplicate case names {twice}")
        return cases


# --------------------------------------------------------------------------------------------- forms.yaml


class QuestionIn(ContentModel):
    text: str
    text_es: str | None = None
    help: str = ""
    help_es: str | None = None
    source: SourceId
    options: dict[Text, str] = {}
    options_es: dict[Text, str] | None = None

    @model_validator(mode="after")
    def _same_answers(self) -> QuestionIn:
        if self.options_es is not None and set(self.options_es) != set(self.options):
            raise ValueError("options_es must name the same answers as options")
        return self


class QuestionsIn(ContentModel):
    title: str = ""
    title_es: str | None = None
    intro: str = ""
    intro_es: str | None = None
    questions: dict[str, QuestionIn] = {}


class TextIn(ContentModel):
    title: str
    title_es: str | None = None
    text: str
    text_es: str | None = None
    source: SourceId


class FormsFile(ContentModel):
    self_check: QuestionsIn
    clinician: QuestionsIn
    guidance: dict[str, TextIn]
    notes: dict[str, TextIn]
