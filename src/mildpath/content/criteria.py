"""Criteria sets, their value sets, test vignettes and the screening forms' wording, loaded and checked once.

Shipped files (``content/criteria/``):

- ``valuesets.yaml``: code systems, status groups and value sets (:func:`load_value_sets`). The FHIR reader
  (``mildpath.fhir.codes``) and any SQL compiler read codes from here, so there is one list of codes.
- ``default.yaml``: the default criteria set, ``mild-default@<version>`` (:func:`load_criteria_set`).
- ``cases/*.yaml``: named vignettes with expected results, including "nothing recorded" (:func:`load_cases`).
- ``forms.yaml``: plain-language wording of the self-check and clinician assessment, and the self-check's
  guidance messages (:func:`load_forms`).

Every criterion, threshold, value set, question and message cites a source id of ``content/sources/*.yaml``;
an unknown id, an unknown value set, a misspelt threshold or form field fails loudly at load.

A site's own criteria set
-------------------------
A site keeps its sets in its content folder (``MILDPATH_CONTENT_DIR``, :attr:`Settings.content_dir`) under
``criteria/<name>.yaml`` and passes that folder: ``load_criteria_set("hillside", folder=Path(content_dir))``
(the CLI: ``mildpath screen FILE --criteria-set hillside --content-dir DIR``). A site file either stands alone
(the same format as ``default.yaml``) or builds on another set::

    extends: default             # a set in the site folder, else a shipped set (a file never extends itself)
    name: hillside-mild          # required: a new name ...
    version: 2025.1              # ... and version, stored with every screening as name@version
    thresholds:                  # optional: replace values (each with its source)
      lf_min_mm: {value: 4.1, source: midas3, note: "MiDAS III threshold"}
    criteria:                    # optional: a criterion with an existing id replaces it; a new id is added
      - {id: ..., role: ..., clinician: ..., patient: ..., source: ..., rule: ...}
    remove: [pain_nprs]          # optional: criterion ids to drop

Value sets stay shared (``valuesets.yaml``): a site set uses the shipped value sets by name.
"""

from __future__ import annotations

import datetime as dt
import re
import string
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any, TypeVar

from mildpath.content.criteria_models import (
    AllIn,
    AnyIn,
    CasesFile,
    CoalesceIn,
    CompareNode,
    CriteriaFile,
    CriterionIn,
    DatedAnswer,
    ExpectedIn,
    FactIn,
    FactsIn,
    FormsFile,
    NotIn,
    PresentNode,
    Rule,
    SelectIn,
    TextIn,
    ThresholdIn,
    ValueSetsFile,
    WindowIn,
)
from mildpath.content.loader import load_content, validate, where
from mildpath.content.sources import CONTENT_DIR, ContentError
from mildpath.domain.conditions import (
    All,
    Check,
    Coalesce,
    Compare,
    Node,
    Not,
    Op,
    Present,
    Select,
    Since,
    Span,
    Window,
    selections,
)
from mildpath.domain.conditions import (
    Any as AnyOf,
)
from mildpath.domain.criteria import AgeRange, CriteriaSet, Criterion, StudiedAges, Threshold
from mildpath.domain.errors import InvalidInput
from mildpath.domain.facts import (
    Answer,
    Code,
    Diagnosis,
    Kind,
    MedicationFact,
    ObservationFact,
    PatientFacts,
    ProcedureFact,
)
from mildpath.domain.selfcheck import CLINICIAN_FIELDS, SELF_CHECK_FIELDS, GuidanceKind

CRITERIA_DIR = CONTENT_DIR / "criteria"
VALUESETS_FILE = CRITERIA_DIR / "valuesets.yaml"
FORMS_FILE = CRITERIA_DIR / "forms.yaml"
CASES_DIR = CRITERIA_DIR / "cases"
_F = TypeVar("_F")

_CODED_KINDS: dict[str, Kind] = {
    "diagnosis": "diagnosis",
    "procedure": "procedure",
    "medication": "medication",
    "observation": "observation",
}
_FORM_FIELDS = {"self_check": SELF_CHECK_FIELDS, "clinician": CLINICIAN_FIELDS}
_THRESHOLD = re.compile(r"\$([A-Za-z_][A-Za-z0-9_]*)")

# --------------------------------------------------------------------------------------------- ingredient names

#: The code system of "a medication whose coding display or text names this ingredient" (clinical reference
#: §4.4: recognise anticoagulants by ingredient name as well as by code). Its codes are ingredient names in
#: :func:`name_words` form; the FHIR reader and the SQL compiler both turn a name found in a medication's
#: ``coding.display`` or ``medicationCodeableConcept.text`` into a fact coded so.
INGREDIENT_SYSTEM = "https://mildpath.org/fhir/CodeSystem/ingredient-name"
#: Accented letters folded to plain ones, the same table in Python and in SQL (``translate``), so that every
#: engine reads a name the same way ("Apixabán" is apixaban).
ACCENTS_FROM = "áàâäãåāéèêëēíìîïīóòôöõøōúùûüūýÿñç"
ACCENTS_TO = "aaaaaaaeeeeeiiiiiooooooouuuuuyync"
_FOLD = str.maketrans(ACCENTS_FROM, ACCENTS_TO)
_NOT_WORD = re.compile(r"[^a-z0-9]+")


def name_words(text: str) -> str:
    """``text`` lower-cased, accents folded, every run of other characters one space, padded with spaces:
    ``"Apixaban 5 MG Oral Tablet"`` -> ``" apixaban 5 mg oral tablet "``. A name is in a text when its own
    ``name_words`` form (stripped) appears between spaces."""
    folded = _NOT_WORD.sub(" ", text.lower().translate(_FOLD)).strip()
    return f" {folded} "


def ingredients_named(texts: Iterable[str], names: Iterable[str]) -> list[str]:
    """The ingredient names (``name_words`` form, stripped) that any of ``texts`` names, in ``names`` order."""
    padded = [name_words(t) for t in texts if t]
    return [n for n in names if any(f" {n} " in p for p in padded)]


# --------------------------------------------------------------------------------------------- value sets


@dataclass(frozen=True)
class CodeEntry:
    """One member of a value set."""

    system: str
    code: str
    display: str = ""
    note: str = ""
    #: False for a code the clinical reference does not confirm (show it so; confirm it before go-live).
    confirmed: bool = True


@dataclass(frozen=True)
class ValueSet:
    """A named code list with its sources; ``codes`` includes the members of the sets it ``include``s."""

    name: str
    title: str
    sources: tuple[str, ...]
    entries: tuple[CodeEntry, ...]
    verified: bool = True

    @property
    def codes(self) -> frozenset[Code]:
        return frozenset((e.system, e.code) for e in self.entries)


@dataclass(frozen=True)
class ValueSets:
    """Everything in ``valuesets.yaml``: system URLs by alias, status groups and the value sets."""

    systems: Mapping[str, str]
    status_groups: Mapping[str, tuple[str, ...]]
    sets: Mapping[str, ValueSet]
    assessment_system: str

    def __getitem__(self, name: str) -> ValueSet:
        try:
            return self.sets[name]
        except KeyError:
            raise ContentError(f"unknown value set {name!r}; known: {', '.join(sorted(self.sets))}") from None

    def system(self, alias_or_url: str) -> str:
        """A system URL from an alias (``icd10cm``) or the URL itself."""
        if alias_or_url in self.systems:
            return self.systems[alias_or_url]
        if alias_or_url in self.systems.values():
            return alias_or_url
        raise ContentError(f"unknown code system {alias_or_url!r}; known aliases: {', '.join(self.systems)}")

    def all_codes(self) -> frozenset[Code]:
        """Every code of every value set (what the FHIR reader keeps)."""
        out: set[Code] = set()
        for vs in self.sets.values():
            out |= vs.codes
        return frozenset(out)


@lru_cache(maxsize=1)
def load_value_sets() -> ValueSets:
    """``content/criteria/valuesets.yaml``, checked: systems known, sources cited, includes resolved."""
    data = load_content(VALUESETS_FILE, ValueSetsFile)
    name_of_file = where(VALUESETS_FILE)

    def url(alias: str, at: str) -> str:
        if alias not in data.systems:
            raise ContentError(f"{name_of_file}: {at}: unknown system alias {alias!r}")
        return data.systems[alias]

    built: dict[str, ValueSet] = {}

    def build(name: str, chain: tuple[str, ...] = ()) -> ValueSet:
        if name in built:
            return built[name]
        if name in chain:
            raise ContentError(f"{name_of_file}: value set {name!r} includes itself ({' > '.join(chain)})")
        if name not in data.value_sets:
            raise ContentError(f"{name_of_file}: unknown value set {name!r} in an include")
        body = data.value_sets[name]
        at = f"value_sets.{name}"
        entries = [
            CodeEntry(url(c.system, f"{at}.codes[{i}].system"), c.code, c.display, c.note, c.confirmed)
            for i, c in enumerate(body.codes)
        ]
        for i, ingredient in enumerate(body.ingredients):
            words = name_words(ingredient).strip()
            if not words:
                raise ContentError(f"{name_of_file}: {at}.ingredients[{i}]: an empty ingredient name")
            entries.append(
                CodeEntry(
                    system=INGREDIENT_SYSTEM,
                    code=words,
                    display=f"a medication whose coding display or text names {words}",
                    note="recognised by name (clinical reference §4.4)",
                )
            )
        for included in body.include:
            for entry in build(included, (*chain, name)).entries:
                if entry not in entries:
                    entries.append(entry)
        if not entries:
            raise ContentError(f"{name_of_file}: {at}: has no codes")
        built[name] = ValueSet(name, body.title or name, body.sources, tuple(entries), body.verified)
        return built[name]

    for name in data.value_sets:
        build(name)
    assessment = url(data.assessment_system, "assessment_system")
    return ValueSets(systems=data.systems, status_groups=data.status_groups, sets=built, assessment_system=assessment)


# --------------------------------------------------------------------------------------------- criteria sets


def criteria_set_path(name: str, folder: Path | None = None, *, exclude: Path | None = None) -> Path:
    """The file of set ``name``: ``<folder>/criteria/<name>.yaml`` when a site folder has it, else shipped."""
    if not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9_.-]*", name):
        raise ContentError(f"criteria set name {name!r}: use letters, digits, '-', '_' or '.'")
    candidates = []
    if folder is not None:
        candidates.append(Path(folder) / "criteria" / f"{name}.yaml")
    candidates.append(CRITERIA_DIR / f"{name}.yaml")
    for path in candidates:
        if path.is_file() and (exclude is None or path.resolve() != exclude.resolve()):
            return path
    raise ContentError(f"no criteria set {name!r} (looked in {', '.join(str(p.parent) for p in candidates)})")


@lru_cache(maxsize=32)
def load_criteria_set(name: str = "default", folder: Path | None = None) -> CriteriaSet:
    """The criteria set ``name`` (a site folder first, see the module docstring), validated once and cached.

    Raises :class:`~mildpath.content.sources.ContentError` naming the file and the place of any problem.
    """
    path = criteria_set_path(name, folder)
    return _build_set(_resolve_extends(path, folder, ()), where(path))


def list_criteria_sets(folder: Path | None = None) -> list[str]:
    """Names of the sets available (shipped, plus a site folder's)."""
    names = {p.stem for p in CRITERIA_DIR.glob("*.yaml") if p.name not in (VALUESETS_FILE.name, FORMS_FILE.name)}
    if folder is not None:
        names |= {p.stem for p in (Path(folder) / "criteria").glob("*.yaml")}
    return sorted(names)


@dataclass
class _Merged:
    """A set after its ``extends`` chain: each criterion and threshold with the place that wrote it."""

    file: CriteriaFile
    thresholds: dict[str, tuple[ThresholdIn, str]]
    criteria: list[tuple[CriterionIn, str]]


def _resolve_extends(path: Path, folder: Path | None, chain: tuple[Path, ...]) -> _Merged:
    name = where(path)
    data = load_content(path, CriteriaFile)
    if path in chain:
        raise ContentError(f"{name}: 'extends' makes a loop ({' > '.join(p.name for p in chain)})")
    own = _Merged(
        data,
        {t: (body, f"{name}: thresholds.{t}") for t, body in data.thresholds.items()},
        [(c, f"{name}: criteria[{i}]") for i, c in enumerate(data.criteria)],
    )
    if data.extends is None:
        return own
    base = _resolve_extends(criteria_set_path(data.extends, folder, exclude=path), folder, (*chain, path))
    for key in ("name", "version"):
        if not getattr(data, key):
            raise ContentError(f"{name}: a set that extends another needs its own {key}")
    kept: dict[str, Any] = {
        k: getattr(data, k) for k in ("name", "version", "title", "studied_ages") if k in data.model_fields_set
    }
    criteria = list(base.criteria)
    unknown = set(data.remove) - {c.id for c, _ in criteria}
    if unknown:
        raise ContentError(f"{name}: remove names unknown criteria {sorted(unknown)}")
    criteria = [(c, at) for c, at in criteria if c.id not in data.remove]
    for item in own.criteria:
        ids = [c.id for c, _ in criteria]
        if item[0].id in ids:
            criteria[ids.index(item[0].id)] = item
        else:
            criteria.append(item)
    return _Merged(base.file.model_copy(update=kept), base.thresholds | own.thresholds, criteria)


def _build_set(merged: _Merged, name: str) -> CriteriaSet:
    data = merged.file
    for key, value in (("name", data.name), ("version", data.version), ("criteria", merged.criteria)):
        if not value:
            raise ContentError(f"{name}: missing {key!r}")
    thresholds = {t: Threshold(t, body.value, body.source, body.note) for t, (body, _) in merged.thresholds.items()}
    rules = _Rules(load_value_sets(), thresholds)
    values = {t: _show(th.value) for t, th in thresholds.items()}
    criteria: list[Criterion] = []
    for raw, at in merged.criteria:
        if raw.id in {c.id for c in criteria}:
            raise ContentError(f"{name}: criterion id {raw.id!r} appears twice")
        criteria.append(
            Criterion(
                id=raw.id,
                role=raw.role,
                clinician=_fill(raw.clinician, values, f"{at}.clinician"),
                patient=_fill(raw.patient, values, f"{at}.patient"),
                patient_es=_fill(raw.patient_es, _in_spanish(values), f"{at}.patient_es"),
                missing=_fill(raw.missing, values, f"{at}.missing"),
                rule=rules.node(raw.rule, f"{at}.rule"),
                source=raw.source,
                also=raw.also,
            )
        )
    ages = data.studied_ages
    studied = None
    if ages is not None:
        ranges = tuple(AgeRange(r.trial, r.source, r.min, r.max) for r in ages.ranges)
        studied = StudiedAges(ranges, ages.caution.id, ages.caution.text, ages.caution.source)
    try:
        return CriteriaSet(
            name=str(data.name),
            version=str(data.version),
            title=data.title,
            criteria=tuple(criteria),
            thresholds=thresholds,
            studied_ages=studied,
        )
    except (ValueError, InvalidInput) as exc:
        raise ContentError(f"{name}: {exc}") from exc


class _Rules:
    """A validated rule model -> the condition tree of :mod:`mildpath.domain.conditions`: value set names, form
    fields and ``$threshold`` references resolved (what the models cannot check alone)."""

    def __init__(self, value_sets: ValueSets, thresholds: Mapping[str, Threshold]) -> None:
        self.vs = value_sets
        self.thresholds = thresholds

    def node(self, rule: Rule, at: str) -> Node:
        try:
            return self._node(rule, at)
        except _Refused as exc:
            raise ContentError(f"{exc.at}: {exc.problem}") from None

    def _node(self, rule: Rule, at: str) -> Node:
        if isinstance(rule, AllIn):
            return All(tuple(self._node(r, f"{at}.all[{i}]") for i, r in enumerate(rule.all)))
        if isinstance(rule, AnyIn):
            return AnyOf(tuple(self._node(r, f"{at}.any[{i}]") for i, r in enumerate(rule.any)))
        if isinstance(rule, CoalesceIn):
            return Coalesce(tuple(self._node(r, f"{at}.coalesce[{i}]") for i, r in enumerate(rule.coalesce)))
        if isinstance(rule, NotIn):
            return Not(self._node(rule.not_, f"{at}.not"))
        try:
            if isinstance(rule, PresentNode):
                at, p = f"{at}.present", rule.present
                return Present(
                    select=self.select(p, at),
                    where=self.test(p.where, f"{at}.where") if p.where is not None else None,
                    within=self.window(p.within, f"{at}.within") if p.within is not None else None,
                    after=self.select(p.after, f"{at}.after") if p.after is not None else None,
                    if_found=p.found,
                    if_none=p.none,
                )
            if isinstance(rule, CompareNode):
                at, c = f"{at}.compare", rule.compare
                return Compare(
                    select=self.select(c, at),
                    test=self.test(c.test, f"{at}.test"),
                    pick=c.pick,
                    within=self.window(c.within, f"{at}.within") if c.within is not None else None,
                )
            at, s = f"{at}.since", rule.since
            return Since(select=self.select(s, at), at_least=self.span(s.at_least, f"{at}.at_least"))
        except ValueError as exc:  # a domain node refusing its parts (ContentError is a ValueError too)
            if isinstance(exc, _Refused):
                raise
            raise _Refused(at, str(exc)) from exc

    def select(self, body: SelectIn, at: str) -> Select:
        statuses = self.statuses(body.status, f"{at}.status") if body.status is not None else None
        reason_vs = self.value_set(body.reason, f"{at}.reason") if body.reason is not None else None
        (kind_key,) = body.kinds()
        if kind_key in ("field", "fields"):
            names = [str(body.field)] if kind_key == "field" else list(body.fields or ())
            for name in names:
                self.check_field(name, f"{at}.{kind_key}")
            return Select(kind="answer", fields=tuple(names), statuses=statuses)
        vs = self.value_set(str(getattr(body, kind_key)), f"{at}.{kind_key}")
        return Select(
            kind=_CODED_KINDS[kind_key],
            value_set=vs.name,
            codes=vs.codes,
            statuses=statuses,
            reason_value_set=reason_vs.name if reason_vs else None,
            reason_codes=reason_vs.codes if reason_vs else frozenset(),
        )

    def value_set(self, name: str, at: str) -> ValueSet:
        try:
            return self.vs[name]
        except ContentError as exc:
            raise _Refused(at, str(exc)) from None

    @staticmethod
    def check_field(name: str, at: str) -> None:
        form, _, field = name.partition(".")
        if form not in _FORM_FIELDS or field not in _FORM_FIELDS[form]:
            raise _Refused(
                at, f"unknown form field {name!r} (self_check.<name> or clinician.<name> of domain/selfcheck.py)"
            )

    def statuses(self, value: str | tuple[str, ...], at: str) -> tuple[str, ...]:
        if isinstance(value, tuple):
            return value
        if value not in self.vs.status_groups:
            raise _Refused(at, f"unknown status group {value!r}")
        return self.vs.status_groups[value]

    def test(self, value: tuple[Op, bool | int | float | str], at: str) -> Check:
        operand = self.substitute(value[1], at)
        return Check(value[0], operand)

    def window(self, value: str | WindowIn, at: str) -> Window:
        if not isinstance(value, WindowIn):  # "current"
            return Window(within_last=Span(0, "days"), match="overlap")
        return Window(
            within_last=self.span(value.last, f"{at}.last") if value.last is not None else None,
            older_than=self.span(value.older_than, f"{at}.older_than") if value.older_than is not None else None,
            match=value.match,
        )

    def span(self, value: str, at: str) -> Span:
        try:
            return Span.parse(str(self.substitute(value, at)))
        except ValueError as exc:
            raise _Refused(at, str(exc)) from exc

    def substitute(self, value: bool | int | float | str, at: str) -> bool | int | float | str:
        """``"$name"`` -> the threshold's value; ``"$name months"`` -> text with the value put in."""
        if not isinstance(value, str) or "$" not in value:
            return value
        whole = _THRESHOLD.fullmatch(value)
        if whole:
            return self.threshold(whole.group(1), at).value
        return _THRESHOLD.sub(lambda m: _show(self.threshold(m.group(1), at).value), value)

    def threshold(self, name: str, at: str) -> Threshold:
        if name not in self.thresholds:
            raise _Refused(at, f"unknown threshold ${name}; declare it under thresholds")
        return self.thresholds[name]


class _Refused(ContentError):
    """A rule's part the other files refuse, with its place (made a ContentError by :meth:`_Rules.node`)."""

    def __init__(self, at: str, problem: str) -> None:
        super().__init__(f"{at}: {problem}")
        self.at = at
        self.problem = problem


# --------------------------------------------------------------------------------------------- vignettes


@dataclass(frozen=True)
class Case:
    """One named vignette: facts, an as-of date and what screening must answer."""

    file: str
    name: str
    criteria_set: str
    as_of: dt.date
    facts: PatientFacts
    expected_status: str | None
    expected_criteria: Mapping[str, str]

    @property
    def id(self) -> str:
        return f"{self.file}: {self.name}"


def load_cases(criteria_set: str = "default") -> tuple[Case, ...]:
    """Every vignette of ``cases/*.yaml`` written for ``criteria_set`` (files say ``criteria_set: <name>``)."""
    out: list[Case] = []
    for path in sorted(CASES_DIR.glob("*.yaml")):
        data = load_content(path, CasesFile)
        if data.criteria_set != criteria_set:
            continue
        for i, raw in enumerate(data.cases):
            at = f"{where(path)}: cases[{i}]"
            as_of = raw.as_of or data.as_of
            if as_of is None:
                raise ContentError(f"{at}: needs as_of (on the case or the file)")
            expected = raw.expected or ExpectedIn()
            out.append(
                Case(
                    file=path.name,
                    name=raw.name,
                    criteria_set=criteria_set,
                    as_of=as_of,
                    facts=_facts(raw.facts or FactsIn(), as_of, f"{at}.facts"),
                    expected_status=expected.status,
                    expected_criteria=dict(expected.criteria),
                )
            )
    return tuple(out)


def facts_from_data(data: Mapping[str, Any], *, as_of: dt.date, where: str = "facts") -> PatientFacts:
    """:class:`PatientFacts` from plain data (the vignette format; also handy for demos and tests).

    ``diagnoses`` / ``procedures`` / ``medications`` / ``observations``: lists of mappings with the fields of
    the fact classes (dates as ISO text; ``system`` as an alias of ``valuesets.yaml`` or a URL; ``record``
    defaults to ``<Resource>/<kind>-<n>``). ``answers``: ``{field: value}`` or ``{field: {value, date}}``, the
    date defaulting to ``as_of``. The shape is :class:`~mildpath.content.criteria_models.FactsIn`.
    """
    return _facts(validate(data, FactsIn, where), as_of, where)


def _facts(data: FactsIn, as_of: dt.date, at: str) -> PatientFacts:
    vs = load_value_sets()

    def system(alias: str, place_: str) -> str:
        try:
            return vs.system(alias)
        except ContentError as exc:
            raise ContentError(f"{at}.{place_}: {exc}") from None

    def coded(items: Iterable[FactIn], make: Callable[..., _F], name: str) -> tuple[_F, ...]:
        return tuple(
            make(
                system=system(x.system, f"{name}[{i}].system"),
                code=x.code,
                record=x.record or f"{x.record_of}-{i + 1}",
                **x.fact_fields(system, f"{name}[{i}]"),
            )
            for i, x in enumerate(items)
        )

    diagnoses = coded(data.diagnoses, Diagnosis, "diagnoses")
    procedures = coded(data.procedures, ProcedureFact, "procedures")
    medications = coded(data.medications, MedicationFact, "medications")
    observations = coded(data.observations, ObservationFact, "observations")
    answers: list[Answer] = []
    for field, raw in data.answers.items():
        try:
            _Rules.check_field(field, f"{at}.answers.{field}")
        except _Refused as exc:
            raise ContentError(str(exc)) from None
        value, when = (raw.value, raw.date or as_of) if isinstance(raw, DatedAnswer) else (raw, as_of)
        if value is None:
            continue
        answers.append(Answer(field=field, value=value, record=f"form:{field}", date=when))
    return PatientFacts(
        patient_id=data.patient_id,
        birth_date=data.birth_date,
        sex=data.sex,
        diagnoses=diagnoses,
        procedures=procedures,
        medications=medications,
        observations=observations,
        answers=tuple(answers),
    )


# --------------------------------------------------------------------------------------------- forms


@dataclass(frozen=True)
class Question:
    """One form field's plain-language wording (and answer options for choice fields)."""

    field: str
    text: str
    source: str
    options: Mapping[str, str]
    help: str = ""


@dataclass(frozen=True)
class GuidanceText:
    kind: str
    title: str
    text: str
    source: str


@dataclass(frozen=True)
class Forms:
    """The self-check and clinician assessment wording, and the self-check's guidance messages."""

    self_check_title: str
    self_check_intro: str
    self_check: Mapping[str, Question]
    clinician: Mapping[str, Question]
    guidance: Mapping[str, GuidanceText]
    notes: Mapping[str, GuidanceText]


FORM_LANGUAGES = ("en", "es")


@lru_cache(maxsize=len(FORM_LANGUAGES))
def load_forms(language: str = "en") -> Forms:
    """``content/criteria/forms.yaml``: every model field worded, every guidance kind written, all cited.

    In ``language`` ("es"): each text takes its ``_es`` sibling (``title_es``, ``intro_es``, ``text_es``,
    ``options_es``) where the file has one, else the English; an ``options_es`` must name the same answers."""
    from mildpath.domain.selfcheck import CLINICIAN_INPUTS, SELF_CHECK_INPUTS

    data = load_content(FORMS_FILE, FormsFile)
    name = where(FORMS_FILE)
    spanish = language == "es"

    def word(english: str, translated: str | None) -> str:
        return (translated if spanish else None) or english

    def questions(section: str, expected: frozenset[str]) -> dict[str, Question]:
        raw = getattr(data, section).questions
        if set(raw) != set(expected):
            raise ContentError(
                f"{name}: {section}.questions must match the form model; missing {sorted(expected - set(raw))}, "
                f"unknown {sorted(set(raw) - expected)}"
            )
        return {
            fname: Question(
                field=f"{section}.{fname}",
                text=word(body.text, body.text_es),
                source=body.source,
                options=dict((body.options_es if spanish else None) or body.options),
                help=word(body.help, body.help_es),
            )
            for fname, body in raw.items()
        }

    def texts(section: str, kinds: Iterable[str]) -> dict[str, GuidanceText]:
        raw: dict[str, TextIn] = getattr(data, section)
        missing = [k for k in kinds if k not in raw]
        if missing:
            raise ContentError(f"{name}: {section}: missing {missing} (each needs title, text and source)")
        return {
            k: GuidanceText(
                k,
                word(raw[k].title, raw[k].title_es),
                " ".join(word(raw[k].text, raw[k].text_es).split()),
                raw[k].source,
            )
            for k in kinds
        }

    return Forms(
        self_check_title=word(data.self_check.title, data.self_check.title_es),
        self_check_intro=" ".join(word(data.self_check.intro, data.self_check.intro_es).split()),
        self_check=questions("self_check", SELF_CHECK_INPUTS),
        clinician=questions("clinician", CLINICIAN_INPUTS),
        guidance=texts("guidance", [k.value for k in GuidanceKind]),
        notes=texts("notes", ["blood_thinner"]),
    )


# --------------------------------------------------------------------------------------------- helpers


def value_sets_used(criteria_set: CriteriaSet) -> list[str]:
    """Names of the value sets a set's rules use (for ValueSet export and the SQL compiler)."""
    names: list[str] = []
    for c in criteria_set.criteria:
        for s in selections(c.rule):
            for name in (s.value_set, s.reason_value_set):
                if name and name not in names:
                    names.append(name)
    return names


_SPANISH_UNITS = {
    "months": "meses",
    "month": "mes",
    "weeks": "semanas",
    "week": "semana",
    "days": "días",
    "day": "día",
    "years": "años",
    "year": "año",
}


def _in_spanish(values: Mapping[str, str]) -> dict[str, str]:
    """Threshold values for Spanish wording: a span's unit in Spanish ("12 months" -> "12 meses")."""
    out = {}
    for name, value in values.items():
        number, _, unit = value.partition(" ")
        out[name] = f"{number} {_SPANISH_UNITS[unit]}" if unit in _SPANISH_UNITS else value
    return out


def _show(value: object) -> str:
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _fill(text: str, values: Mapping[str, str], where: str) -> str:
    text = " ".join(text.split())
    try:
        names = [f for _, f, _, _ in string.Formatter().parse(text) if f]
    except ValueError as exc:
        raise ContentError(f"{where}: {exc}") from exc
    unknown = [n for n in names if n not in values]
    if unknown:
        raise ContentError(f"{where}: unknown threshold placeholders {unknown}")
    return text.format_map(values)
