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
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml

from mildpath.content.sources import CONTENT_DIR, ContentError, check_cited
from mildpath.domain.conditions import (
    OPS,
    All,
    Check,
    Coalesce,
    Compare,
    Node,
    Not,
    Present,
    Select,
    Since,
    Span,
    Tri,
    Window,
    selections,
)
from mildpath.domain.conditions import (
    Any as AnyOf,
)
from mildpath.domain.criteria import AgeRange, CriteriaSet, Criterion, Role, StudiedAges, Threshold
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
    data = _read_yaml(VALUESETS_FILE)
    systems = {str(k): str(v) for k, v in (data.get("systems") or {}).items()}
    groups = {str(k): tuple(str(s) for s in v) for k, v in (data.get("status_groups") or {}).items()}
    raw_sets = data.get("value_sets") or {}
    if not isinstance(raw_sets, dict) or not raw_sets:
        raise ContentError(f"{VALUESETS_FILE.name}: value_sets must be a non-empty mapping")

    def url(alias: str, where: str) -> str:
        if alias not in systems:
            raise ContentError(f"{VALUESETS_FILE.name}: {where}: unknown system alias {alias!r}")
        return systems[alias]

    built: dict[str, ValueSet] = {}

    def build(name: str, chain: tuple[str, ...] = ()) -> ValueSet:
        if name in built:
            return built[name]
        if name in chain:
            raise ContentError(f"{VALUESETS_FILE.name}: value set {name!r} includes itself ({' > '.join(chain)})")
        if name not in raw_sets:
            raise ContentError(f"{VALUESETS_FILE.name}: unknown value set {name!r} in an include")
        body = raw_sets[name] or {}
        where = f"{VALUESETS_FILE.name}: value set {name}"
        sources = tuple(body.get("sources") or ())
        check_cited(sources, where)
        entries: list[CodeEntry] = []
        for i, item in enumerate(body.get("codes") or ()):
            try:
                entries.append(
                    CodeEntry(
                        system=url(str(item["system"]), f"{where} code {i + 1}"),
                        code=str(item["code"]),
                        display=str(item.get("display", "")),
                        note=" ".join(str(item.get("note", "")).split()),
                        confirmed=bool(item.get("confirmed", True)),
                    )
                )
            except (KeyError, TypeError) as exc:
                raise ContentError(f"{where}: code {i + 1} needs system and code ({exc})") from exc
        for ingredient in body.get("ingredients") or ():
            words = name_words(str(ingredient)).strip()
            if not words:
                raise ContentError(f"{where}: an empty ingredient name")
            entries.append(
                CodeEntry(
                    system=INGREDIENT_SYSTEM,
                    code=words,
                    display=f"a medication whose coding display or text names {words}",
                    note="recognised by name (clinical reference §4.4)",
                )
            )
        for included in body.get("include") or ():
            for entry in build(str(included), (*chain, name)).entries:
                if entry not in entries:
                    entries.append(entry)
        if not entries:
            raise ContentError(f"{where}: has no codes")
        vs = ValueSet(
            name=name,
            title=str(body.get("title", name)),
            sources=sources,
            entries=tuple(entries),
            verified=bool(body.get("verified", True)),
        )
        built[name] = vs
        return vs

    for name in raw_sets:
        build(str(name))
    assessment = url(str(data.get("assessment_system", "")), "assessment_system")
    return ValueSets(systems=systems, status_groups=groups, sets=built, assessment_system=assessment)


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
    data = _resolve_extends(path, folder, ())
    return _build_set(data, path)


def list_criteria_sets(folder: Path | None = None) -> list[str]:
    """Names of the sets available (shipped, plus a site folder's)."""
    names = {p.stem for p in CRITERIA_DIR.glob("*.yaml") if p.name not in (VALUESETS_FILE.name, FORMS_FILE.name)}
    if folder is not None:
        names |= {p.stem for p in (Path(folder) / "criteria").glob("*.yaml")}
    return sorted(names)


def _resolve_extends(path: Path, folder: Path | None, chain: tuple[Path, ...]) -> dict[str, Any]:
    data = _read_yaml(path)
    if path in chain:
        raise ContentError(f"{path.name}: 'extends' makes a loop ({' > '.join(p.name for p in chain)})")
    base_name = data.get("extends")
    if base_name is None:
        return data
    base_path = criteria_set_path(str(base_name), folder, exclude=path)
    base = _resolve_extends(base_path, folder, (*chain, path))
    for key in ("name", "version"):
        if not data.get(key):
            raise ContentError(f"{path.name}: a set that extends another needs its own {key}")
    merged = dict(base)
    merged.update({k: data[k] for k in ("name", "version", "title", "studied_ages") if k in data})
    thresholds = dict(base.get("thresholds") or {})
    thresholds.update(data.get("thresholds") or {})
    merged["thresholds"] = thresholds
    criteria = [dict(c) for c in base.get("criteria") or ()]
    removed = set(data.get("remove") or ())
    unknown = removed - {c.get("id") for c in criteria}
    if unknown:
        raise ContentError(f"{path.name}: remove names unknown criteria {sorted(unknown)}")
    criteria = [c for c in criteria if c.get("id") not in removed]
    for item in data.get("criteria") or ():
        ids = [c.get("id") for c in criteria]
        if item.get("id") in ids:
            criteria[ids.index(item.get("id"))] = dict(item)
        else:
            criteria.append(dict(item))
    merged["criteria"] = criteria
    return merged


def _build_set(data: Mapping[str, Any], path: Path) -> CriteriaSet:
    where = path.name
    for key in ("name", "version", "criteria"):
        if not data.get(key):
            raise ContentError(f"{where}: missing {key!r}")
    thresholds: dict[str, Threshold] = {}
    for tname, body in (data.get("thresholds") or {}).items():
        if not isinstance(body, Mapping) or "value" not in body:
            raise ContentError(f"{where}: threshold {tname} needs value and source")
        source = str(body.get("source", ""))
        check_cited([source] if source else [], f"{where}: threshold {tname}")
        value = body["value"]
        if not isinstance(value, int | float | str) or isinstance(value, bool):
            raise ContentError(f"{where}: threshold {tname} must be a number or a span such as '12 months'")
        thresholds[str(tname)] = Threshold(str(tname), value, source, " ".join(str(body.get("note", "")).split()))
    parser = _RuleParser(load_value_sets(), thresholds, where)
    criteria = []
    seen: set[str] = set()
    for i, raw in enumerate(data["criteria"]):
        criteria.append(_build_criterion(raw, parser, thresholds, f"{where}: criterion {i + 1}"))
        if criteria[-1].id in seen:
            raise ContentError(f"{where}: criterion id {criteria[-1].id!r} appears twice")
        seen.add(criteria[-1].id)
    try:
        return CriteriaSet(
            name=str(data["name"]),
            version=str(data["version"]),
            title=str(data.get("title", "")),
            criteria=tuple(criteria),
            thresholds=thresholds,
            studied_ages=_studied_ages(data.get("studied_ages"), where),
        )
    except (ValueError, InvalidInput) as exc:
        raise ContentError(f"{where}: {exc}") from exc


def _studied_ages(raw: Any, where: str) -> StudiedAges | None:
    """``studied_ages: {caution: {id, text, source}, ranges: [{trial, min, max, source}]}`` (None: no caution)."""
    if raw is None:
        return None
    where = f"{where}: studied_ages"
    if not isinstance(raw, Mapping) or not isinstance(raw.get("caution"), Mapping):
        raise ContentError(f"{where}: needs caution {{id, text, source}} and ranges")
    caution = raw["caution"]
    for key in ("id", "text", "source"):
        if not caution.get(key):
            raise ContentError(f"{where}: caution needs {key}")
    check_cited([str(caution["source"])], f"{where} caution")
    ranges = []
    for i, item in enumerate(raw.get("ranges") or ()):
        w = f"{where} range {i + 1}"
        if not isinstance(item, Mapping) or not item.get("trial") or not item.get("source"):
            raise ContentError(f"{w}: needs trial and source (and min and/or max)")
        check_cited([str(item["source"])], w)
        bounds = [item.get("min"), item.get("max")]
        if all(b is None for b in bounds) or any(
            b is not None and (not isinstance(b, int) or isinstance(b, bool)) for b in bounds
        ):
            raise ContentError(f"{w}: min and max are whole years (at least one of them)")
        ranges.append(AgeRange(str(item["trial"]), str(item["source"]), item.get("min"), item.get("max")))
    if not ranges:
        raise ContentError(f"{where}: needs at least one range")
    text = " ".join(str(caution["text"]).split())
    try:
        text.format(age=0, ranges="")
    except (KeyError, IndexError, ValueError) as exc:
        raise ContentError(f"{where}: caution text may use {{age}} and {{ranges}} only ({exc})") from exc
    return StudiedAges(tuple(ranges), str(caution["id"]), text, str(caution["source"]))


def _build_criterion(
    raw: Mapping[str, Any], parser: _RuleParser, thresholds: Mapping[str, Threshold], where: str
) -> Criterion:
    if not isinstance(raw, Mapping):
        raise ContentError(f"{where}: must be a mapping")
    known = {"id", "role", "clinician", "patient", "patient_es", "missing", "source", "also", "rule"}
    extra = set(raw) - known
    if extra:
        raise ContentError(f"{where}: unknown keys {sorted(extra)}")
    for key in ("id", "role", "clinician", "patient", "source", "rule"):
        if key not in raw:
            raise ContentError(f"{where}: missing {key!r}")
    cid = str(raw["id"])
    where = f"{where} ({cid})"
    try:
        role = Role(str(raw["role"]))
    except ValueError:
        raise ContentError(f"{where}: role must be one of {[r.value for r in Role]}") from None
    also = tuple(str(s) for s in raw.get("also") or ())
    check_cited([str(raw["source"]), *also], where)
    values = {name: _show(t.value) for name, t in thresholds.items()}
    return Criterion(
        id=cid,
        role=role,
        clinician=_fill(str(raw["clinician"]), values, f"{where} clinician"),
        patient=_fill(str(raw["patient"]), values, f"{where} patient"),
        patient_es=_fill(str(raw.get("patient_es", "")), _in_spanish(values), f"{where} patient_es"),
        missing=_fill(str(raw.get("missing", "")), values, f"{where} missing"),
        rule=parser.node(raw["rule"], f"{where} rule"),
        source=str(raw["source"]),
        also=also,
    )


class _RuleParser:
    """YAML rule -> condition tree (syntax: see default.yaml and mildpath.domain.conditions)."""

    _SELECT_KEYS = {*_CODED_KINDS, "field", "fields", "status", "reason"}
    _LEAF_KEYS = {
        "present": {"where", "within", "after", "found", "none"},
        "compare": {"test", "pick", "within"},
        "since": {"at_least"},
    }

    def __init__(self, value_sets: ValueSets, thresholds: Mapping[str, Threshold], where: str) -> None:
        self.vs = value_sets
        self.thresholds = thresholds
        self.where = where

    def node(self, data: Any, where: str) -> Node:
        if not isinstance(data, Mapping) or len(data) != 1:
            raise ContentError(f"{where}: a rule node is a mapping with exactly one key (all, any, ...)")
        ((key, body),) = data.items()
        where = f"{where} > {key}"
        if key in ("all", "any", "coalesce"):
            if not isinstance(body, list) or not body:
                raise ContentError(f"{where}: needs a non-empty list")
            items = tuple(self.node(item, f"{where}[{i + 1}]") for i, item in enumerate(body))
            if key == "all":
                return All(items)
            return AnyOf(items) if key == "any" else Coalesce(items)
        if key == "not":
            return Not(self.node(body, where))
        if key in self._LEAF_KEYS:
            if not isinstance(body, Mapping):
                raise ContentError(f"{where}: needs a mapping")
            extra = set(body) - self._SELECT_KEYS - self._LEAF_KEYS[key]
            if extra:
                raise ContentError(f"{where}: unknown keys {sorted(extra)}")
            try:
                if key == "present":
                    return self._present(body, where)
                if key == "compare":
                    return self._compare(body, where)
                return self._since(body, where)
            except ValueError as exc:
                raise ContentError(f"{where}: {exc}") from exc
        raise ContentError(f"{where}: unknown node {key!r} (all, any, not, coalesce, present, compare, since)")

    def _present(self, body: Mapping[str, Any], where: str) -> Node:
        after = body.get("after")
        return Present(
            select=self.select(body, where),
            where=self.test(body["where"], where) if "where" in body else None,
            within=self.window(body["within"], where) if "within" in body else None,
            after=self.select(after, f"{where} after") if after is not None else None,
            if_found=self.tri(body.get("found", "met"), where),
            if_none=self.tri(body.get("none", "not_met"), where),
        )

    def _compare(self, body: Mapping[str, Any], where: str) -> Node:
        if "test" not in body:
            raise ContentError(f"{where}: needs test: [op, value]")
        pick = str(body.get("pick", "latest"))
        if pick not in ("latest", "max", "min"):
            raise ContentError(f"{where}: pick is latest, max or min")
        return Compare(
            select=self.select(body, where),
            test=self.test(body["test"], where),
            pick=pick,  # type: ignore[arg-type]
            within=self.window(body["within"], where) if "within" in body else None,
        )

    def _since(self, body: Mapping[str, Any], where: str) -> Node:
        if "at_least" not in body:
            raise ContentError(f"{where}: needs at_least: '<n> days|months'")
        return Since(select=self.select(body, where), at_least=self.span(body["at_least"], where))

    def select(self, body: Any, where: str) -> Select:
        if not isinstance(body, Mapping):
            raise ContentError(f"{where}: a selection is a mapping such as {{diagnosis: lumbar-stenosis}}")
        kinds = [k for k in (*_CODED_KINDS, "field", "fields") if k in body]
        if len(kinds) != 1:
            raise ContentError(f"{where}: name exactly one of diagnosis, procedure, medication, observation, field(s)")
        kind_key = kinds[0]
        statuses = self.statuses(body["status"], where) if "status" in body else None
        reason = body.get("reason")
        reason_vs = self.vs[str(reason)] if reason is not None else None
        if reason is not None and kind_key != "procedure":
            raise ContentError(f"{where}: reason applies to procedures only")
        if kind_key in ("field", "fields"):
            names = [body[kind_key]] if kind_key == "field" else list(body[kind_key] or ())
            for name in names:
                self.check_field(str(name), where)
            return Select(kind="answer", fields=tuple(str(n) for n in names), statuses=statuses)
        vs = self.vs[str(body[kind_key])]
        return Select(
            kind=_CODED_KINDS[kind_key],
            value_set=vs.name,
            codes=vs.codes,
            statuses=statuses,
            reason_value_set=reason_vs.name if reason_vs else None,
            reason_codes=reason_vs.codes if reason_vs else frozenset(),
        )

    def check_field(self, name: str, where: str) -> None:
        form, _, field = name.partition(".")
        if form not in _FORM_FIELDS or field not in _FORM_FIELDS[form]:
            raise ContentError(
                f"{where}: unknown form field {name!r} (self_check.<name> or clinician.<name> of domain/selfcheck.py)"
            )

    def statuses(self, value: Any, where: str) -> tuple[str, ...]:
        if isinstance(value, str):
            if value not in self.vs.status_groups:
                raise ContentError(f"{where}: unknown status group {value!r}")
            return self.vs.status_groups[value]
        if isinstance(value, list) and value:
            return tuple(str(v) for v in value)
        raise ContentError(f"{where}: status is a status group name or a list of statuses")

    def test(self, value: Any, where: str) -> Check:
        if not isinstance(value, list) or len(value) != 2 or value[0] not in OPS:
            raise ContentError(f"{where}: a test is [op, value] with op one of {', '.join(OPS)}")
        operand = self.substitute(value[1], where)
        if not isinstance(operand, bool | int | float | str):
            raise ContentError(f"{where}: a test compares with a number, yes/no or text")
        return Check(value[0], operand)

    def window(self, value: Any, where: str) -> Window:
        if value == "current":
            return Window(within_last=Span(0, "days"), match="overlap")
        if (
            not isinstance(value, Mapping)
            or not set(value) <= {"last", "older_than", "match"}
            or not ({"last", "older_than"} & set(value))
        ):
            raise ContentError(
                f"{where}: within is 'current' or {{last: SPAN, older_than: SPAN, match: start|overlap}}"
            )
        match = str(value.get("match", "start"))
        if match not in ("start", "overlap"):
            raise ContentError(f"{where}: match is start or overlap")
        return Window(
            within_last=self.span(value["last"], where) if "last" in value else None,
            older_than=self.span(value["older_than"], where) if "older_than" in value else None,
            match=match,  # type: ignore[arg-type]
        )

    def span(self, value: Any, where: str) -> Span:
        text = self.substitute(value, where)
        try:
            return Span.parse(str(text))
        except ValueError as exc:
            raise ContentError(f"{where}: {exc}") from exc

    def tri(self, value: Any, where: str) -> Tri:
        try:
            return Tri(str(value))
        except ValueError:
            raise ContentError(f"{where}: found/none is met, not_met or unknown") from None

    def substitute(self, value: Any, where: str) -> Any:
        """``"$name"`` -> the threshold's value; ``"$name months"`` -> text with the value put in."""
        if not isinstance(value, str) or "$" not in value:
            return value
        whole = _THRESHOLD.fullmatch(value)
        if whole:
            return self.threshold(whole.group(1), where).value
        return _THRESHOLD.sub(lambda m: _show(self.threshold(m.group(1), where).value), value)

    def threshold(self, name: str, where: str) -> Threshold:
        if name not in self.thresholds:
            raise ContentError(f"{where}: unknown threshold ${name}; declare it under thresholds")
        return self.thresholds[name]


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
        data = _read_yaml(path)
        if str(data.get("criteria_set", "default")) != criteria_set:
            continue
        file_as_of = data.get("as_of")
        names: set[str] = set()
        for i, raw in enumerate(data.get("cases") or ()):
            where = f"{path.name}: case {i + 1}"
            if not isinstance(raw, Mapping) or "name" not in raw or "expected" not in raw:
                raise ContentError(f"{where}: needs name, facts and expected")
            if raw["name"] in names:
                raise ContentError(f"{where}: duplicate case name {raw['name']!r}")
            names.add(raw["name"])
            as_of = _date(raw.get("as_of", file_as_of), f"{where} as_of")
            if as_of is None:
                raise ContentError(f"{where}: needs as_of (on the case or the file)")
            expected = raw["expected"] or {}
            out.append(
                Case(
                    file=path.name,
                    name=str(raw["name"]),
                    criteria_set=criteria_set,
                    as_of=as_of,
                    facts=facts_from_data(raw.get("facts") or {}, as_of=as_of, where=where),
                    expected_status=expected.get("status"),
                    expected_criteria={str(k): str(v) for k, v in (expected.get("criteria") or {}).items()},
                )
            )
    return tuple(out)


def facts_from_data(data: Mapping[str, Any], *, as_of: dt.date, where: str = "facts") -> PatientFacts:
    """:class:`PatientFacts` from plain data (the vignette format; also handy for demos and tests).

    ``diagnoses`` / ``procedures`` / ``medications`` / ``observations``: lists of mappings with the fields of
    the fact classes (dates as ISO text; ``system`` as an alias of ``valuesets.yaml`` or a URL; ``record``
    defaults to ``<Resource>/<kind>-<n>``). ``answers``: ``{field: value}`` or ``{field: {value, date}}``, the
    date defaulting to ``as_of``.
    """
    vs = load_value_sets()
    known = {"diagnoses", "procedures", "medications", "observations", "answers", "birth_date", "sex", "patient_id"}
    extra = set(data) - known
    if extra:
        raise ContentError(f"{where}: unknown keys {sorted(extra)}")

    def items(key: str) -> Iterable[tuple[int, Mapping[str, Any]]]:
        for i, item in enumerate(data.get(key) or ()):
            if not isinstance(item, Mapping):
                raise ContentError(f"{where}: {key}[{i + 1}] must be a mapping")
            yield i, item

    try:
        diagnoses = tuple(
            Diagnosis(
                system=vs.system(str(d["system"])),
                code=str(d["code"]),
                record=str(d.get("record", f"Condition/diagnosis-{i + 1}")),
                clinical_status=d.get("clinical_status", "active"),
                onset=_date(d.get("onset"), where),
                recorded=_date(d.get("recorded"), where),
                abatement=_date(d.get("abatement"), where),
            )
            for i, d in items("diagnoses")
        )
        procedures = tuple(
            ProcedureFact(
                system=vs.system(str(p["system"])),
                code=str(p["code"]),
                record=str(p.get("record", f"Procedure/procedure-{i + 1}")),
                status=p.get("status", "completed"),
                performed=_date(p.get("performed"), where),
                performed_end=_date(p.get("performed_end"), where),
                resource_type=str(p.get("resource_type", "Procedure")),
                reasons=frozenset((vs.system(str(r["system"])), str(r["code"])) for r in p.get("reasons") or ()),
            )
            for i, p in items("procedures")
        )
        medications = tuple(
            MedicationFact(
                system=vs.system(str(m.get("system", "rxnorm"))),
                code=str(m["code"]),
                record=str(m.get("record", f"MedicationRequest/medication-{i + 1}")),
                status=m.get("status", "active"),
                period_start=_date(m.get("start"), where),
                period_end=_date(m.get("end"), where),
            )
            for i, m in items("medications")
        )
        observations = tuple(
            ObservationFact(
                system=vs.system(str(o["system"])),
                code=str(o["code"]),
                record=str(o.get("record", f"Observation/observation-{i + 1}")),
                value=o.get("value"),
                unit=o.get("unit"),
                effective=_date(o.get("date"), where),
                status=o.get("status", "final"),
            )
            for i, o in items("observations")
        )
    except KeyError as exc:
        raise ContentError(f"{where}: a fact needs {exc}") from exc
    answers: list[Answer] = []
    for field, raw in (data.get("answers") or {}).items():
        _RuleParser(vs, {}, where).check_field(str(field), where)
        value, when = (raw.get("value"), raw.get("date", as_of)) if isinstance(raw, Mapping) else (raw, as_of)
        if value is None:
            continue
        answers.append(Answer(field=str(field), value=value, record=f"form:{field}", date=_date(when, where)))
    return PatientFacts(
        patient_id=data.get("patient_id"),
        birth_date=_date(data.get("birth_date"), where),
        sex=data.get("sex"),
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
    data = _read_yaml(FORMS_FILE)
    where = FORMS_FILE.name
    suffix = f"_{language}" if language in FORM_LANGUAGES and language != "en" else ""

    def word(body: Mapping[str, Any], key: str, default: Any = "") -> Any:
        return (body.get(f"{key}{suffix}") if suffix else None) or body.get(key, default)

    def questions(section: str, expected: frozenset[str]) -> dict[str, Question]:
        raw = (data.get(section) or {}).get("questions") or {}
        out: dict[str, Question] = {}
        for fname, body in raw.items():
            w = f"{where}: {section}.{fname}"
            if not isinstance(body, Mapping) or "text" not in body or "source" not in body:
                raise ContentError(f"{w}: needs text and source")
            check_cited([str(body["source"])], w)
            options = {str(k): str(v) for k, v in (word(body, "options") or {}).items()}
            if set(options) != {str(k) for k in body.get("options") or {}}:
                raise ContentError(f"{w}: options{suffix} must name the same answers as options")
            out[str(fname)] = Question(
                field=f"{section}.{fname}",
                text=str(word(body, "text")),
                source=str(body["source"]),
                options=options,
                help=str(word(body, "help")),
            )
        if set(out) != set(expected):
            raise ContentError(
                f"{where}: {section} questions must match the form model; missing {sorted(expected - set(out))}, "
                f"unknown {sorted(set(out) - expected)}"
            )
        return out

    from mildpath.domain.selfcheck import CLINICIAN_INPUTS, SELF_CHECK_INPUTS

    def texts(section: str, kinds: Iterable[str]) -> dict[str, GuidanceText]:
        raw = data.get(section) or {}
        out = {}
        for kind in kinds:
            body = raw.get(kind)
            if not isinstance(body, Mapping) or not {"title", "text", "source"} <= set(body):
                raise ContentError(f"{where}: {section}.{kind} needs title, text and source")
            check_cited([str(body["source"])], f"{where}: {section}.{kind}")
            title, text = str(word(body, "title")), " ".join(str(word(body, "text")).split())
            out[kind] = GuidanceText(kind, title, text, str(body["source"]))
        return out

    self_check = data.get("self_check") or {}
    return Forms(
        self_check_title=str(word(self_check, "title")),
        self_check_intro=" ".join(str(word(self_check, "intro")).split()),
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


def _read_yaml(path: Path) -> dict[str, Any]:
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        raise ContentError(f"{path.name}: not valid YAML ({exc})") from exc
    except OSError as exc:
        raise ContentError(f"{path}: cannot read ({exc.strerror})") from exc
    if not isinstance(data, dict):
        raise ContentError(f"{path.name}: must hold a mapping")
    return data


def _date(value: Any, where: str) -> dt.date | None:
    if value is None or isinstance(value, dt.date) and not isinstance(value, dt.datetime):
        return value
    if isinstance(value, dt.datetime):
        return value.date()
    try:
        return dt.date.fromisoformat(str(value)[:10])
    except ValueError:
        raise ContentError(f"{where}: {value!r} is not a date (YYYY-MM-DD)") from None


_SPANISH_UNITS = {"months": "meses", "month": "mes", "weeks": "semanas", "week": "semana", "days": "días",
                  "day": "día", "years": "años", "year": "año"}


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
