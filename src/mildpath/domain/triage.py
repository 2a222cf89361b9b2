"""Red-flag triage of one diary entry after the mild procedure (issue 6; clinical reference §4.5, §5.1).

Every entry gets exactly one :class:`TriageLevel`, most urgent first::

    emergency  >  same_day  >  review  >  expected

How an entry is classified
--------------------------
1. Every rule (data: ``content/triage.yaml``) is evaluated in three-valued logic: ``True`` (met), ``False``
   (not met) or ``None`` (unknown, because a field it needs was not reported). Only a rule that is met fires:
   a warning sign must be reported to count, and "not reported" is never read as "no".
2. The level is the most urgent level among the rules that fired.
3. ``reasons`` lists, most urgent first and then in file order, the plain-language reason of every rule that
   fired above ``expected``, so a clinician sees the fever beside the emergency that outranks it. The
   reassuring ``expected`` reasons are listed only when the entry is ``expected`` (telling someone with new leg
   weakness that soreness is common would blur the one message that matters).
4. When no rule above ``expected`` fires, the entry gets the rules' ``no_warning_sign`` statement: level
   ``expected`` in the shipped rules, with the reason "no warning sign was reported" followed by any
   ``expected`` rule that fired (early soreness). This covers an entry that reports nothing concerning outside
   the first days (day 30, pain 2/10) and an entry that reports nothing at all: neither is a finding for the
   clinician worklist, and ``expected`` is the level whose advice (keep to the recovery plan, and the list of
   warning signs to act on) fits both. A site may raise that level to ``review`` in its YAML.
5. ``advice`` is the winning level's advice, shown to the patient at once.

The condition language (CertLogic-small; results are ``True``/``False``/``None``, never truthy values)
-----------------------------------------------------------------------------------------------------
``{"answered_yes": FIELD}``              a yes/no field is yes (not ``true``: YAML reads that key as a boolean)
``{"compare": [FIELD, OP, VALUE]}``      OP one of ``>= > <= < == !=``; VALUE a number, text or ``$threshold``
``{"includes": [FIELD, [V, ...]]}``      a list field (``incision``) holds at least one of the values
``{"one_of": [FIELD, [V, ...]]}``        a single-choice field is one of the values
``{"rise": [FIELD, BASELINE, BY]}``      FIELD - BASELINE >= BY (pain worse than before)
``{"fall": [FIELD, BASELINE, BY]}``      BASELINE - FIELD >= BY (pain improved)
``{"all": [...]}`` / ``{"any": [...]}``  Kleene and / or
``{"not": COND}``                        Kleene not
``{"all_reported": [...]}``              and over the operands that are known; unknown if none is known. "No
                                         improvement" uses it: with only leg pain reported, the leg decides.

Thresholds are named numbers (``$fever_c``) declared once in the rules, so a site changes one value.
"""

from __future__ import annotations

import math
import string
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from enum import StrEnum
from typing import Any, ClassVar, Final, Protocol

from mildpath.domain.catalog import by_id, in_language, need_mapping, need_sources, need_text
from mildpath.domain.diary import (
    BOOLEAN_FIELDS,
    NUMBER_FIELDS,
    DiaryEntry,
    diary_field_names,
)
from mildpath.domain.errors import InvalidInput
from mildpath.domain.logic import Tri, tri_and, tri_and_known, tri_not, tri_or
from mildpath.domain.symptoms import SymptomMatch, SymptomVocabulary, read_symptoms

Truth = bool | None  # a rule's three-valued result at the triage edge; see mildpath.domain.logic
Scalar = int | float | str


class TriageLevel(StrEnum):
    """The four levels, declared from most to least urgent."""

    EMERGENCY = "emergency"
    SAME_DAY = "same_day"
    REVIEW = "review"
    EXPECTED = "expected"

    @property
    def urgency(self) -> int:
        """Higher is more urgent: emergency 3, same_day 2, review 1, expected 0."""
        return _URGENCY[self]


_URGENCY: Final[dict[TriageLevel, int]] = {
    TriageLevel.EMERGENCY: 3,
    TriageLevel.SAME_DAY: 2,
    TriageLevel.REVIEW: 1,
    TriageLevel.EXPECTED: 0,
}
_LIST_FIELDS: Final[frozenset[str]] = frozenset({"incision"})
_CHOICE_FIELDS: Final[frozenset[str]] = frozenset({"pain_compared_with_before"})
_COMPARISONS: Final[dict[str, Callable[[Any, Any], bool]]] = {
    ">=": lambda a, b: a >= b,
    ">": lambda a, b: a > b,
    "<=": lambda a, b: a <= b,
    "<": lambda a, b: a < b,
    "==": lambda a, b: a == b,
    "!=": lambda a, b: a != b,
}


# ------------------------------------------------------------------------------------------ conditions


class Condition(Protocol):
    """A node of the condition tree."""

    def evaluate(self, entry: DiaryEntry, thresholds: Mapping[str, float]) -> Truth:
        """``True`` met, ``False`` not met, ``None`` unknown (a needed field was not reported)."""
        ...

    def describe(self) -> str:
        """The condition in words, for clinicians and documentation."""
        ...

    def thresholds_used(self) -> frozenset[str]:
        """The ``$threshold`` names this node reads."""
        ...


@dataclass(frozen=True)
class Operand:
    """A literal or a ``$threshold`` reference."""

    literal: Scalar | None = None
    threshold: str | None = None

    def resolve(self, thresholds: Mapping[str, float]) -> Scalar:
        if self.threshold is not None:
            return thresholds[self.threshold]
        assert self.literal is not None  # parse_condition() sets exactly one of the two
        return self.literal

    def describe(self) -> str:
        return f"${self.threshold}" if self.threshold is not None else repr(self.literal)

    def names(self) -> frozenset[str]:
        return frozenset({self.threshold}) if self.threshold is not None else frozenset()


@dataclass(frozen=True)
class _FieldTest(ABC):
    """A test of one diary field; a field not reported makes the answer unknown (``None``)."""

    field: str

    def evaluate(self, entry: DiaryEntry, thresholds: Mapping[str, float]) -> Truth:
        actual = getattr(entry, self.field)
        return None if actual is None else self.holds(actual, thresholds)

    @abstractmethod
    def holds(self, actual: Any, thresholds: Mapping[str, float]) -> bool:
        """The test on a reported value (each kind of condition states its own)."""

    def thresholds_used(self) -> frozenset[str]:
        return frozenset()


@dataclass(frozen=True)
class IsTrue(_FieldTest):
    def holds(self, actual: Any, thresholds: Mapping[str, float]) -> bool:
        return bool(actual)

    def describe(self) -> str:
        return f"{self.field} is yes"


@dataclass(frozen=True)
class Compare(_FieldTest):
    op: str
    value: Operand

    def holds(self, actual: Any, thresholds: Mapping[str, float]) -> bool:
        return _COMPARISONS[self.op](actual, self.value.resolve(thresholds))

    def describe(self) -> str:
        return f"{self.field} {self.op} {self.value.describe()}"

    def thresholds_used(self) -> frozenset[str]:
        return self.value.names()


@dataclass(frozen=True)
class Includes(_FieldTest):
    values: tuple[str, ...]

    def holds(self, actual: Any, thresholds: Mapping[str, float]) -> bool:
        return any(value in actual for value in self.values)

    def describe(self) -> str:
        return f"{self.field} includes any of {', '.join(self.values)}"


@dataclass(frozen=True)
class OneOf(_FieldTest):
    values: tuple[str, ...]

    def holds(self, actual: Any, thresholds: Mapping[str, float]) -> bool:
        return bool(actual in self.values)

    def describe(self) -> str:
        return f"{self.field} is one of {', '.join(self.values)}"


@dataclass(frozen=True)
class Change:
    """``rise``: field - baseline >= by. ``fall``: baseline - field >= by."""

    direction: str  # "rise" | "fall"
    field: str
    baseline: str
    by: Operand

    def evaluate(self, entry: DiaryEntry, thresholds: Mapping[str, float]) -> Truth:
        value, base = getattr(entry, self.field), getattr(entry, self.baseline)
        if value is None or base is None:
            return None
        delta = value - base if self.direction == "rise" else base - value
        return bool(delta >= self.by.resolve(thresholds))

    def describe(self) -> str:
        verb = "rose" if self.direction == "rise" else "fell"
        return f"{self.field} {verb} by {self.by.describe()} or more from {self.baseline}"

    def thresholds_used(self) -> frozenset[str]:
        return self.by.names()


@dataclass(frozen=True)
class _Group:
    """Several parts joined by one Kleene connective of :mod:`mildpath.domain.logic`."""

    parts: tuple[Condition, ...]
    combine: ClassVar[Callable[[Iterable[Tri]], Tri]]
    opening: ClassVar[str] = "("
    joiner: ClassVar[str]

    def evaluate(self, entry: DiaryEntry, thresholds: Mapping[str, float]) -> Truth:
        combine = type(self).combine
        return combine(Tri.of(part.evaluate(entry, thresholds)) for part in self.parts).as_bool()

    def describe(self) -> str:
        return self.opening + self.joiner.join(part.describe() for part in self.parts) + ")"

    def thresholds_used(self) -> frozenset[str]:
        return _union(part.thresholds_used() for part in self.parts)


@dataclass(frozen=True)
class AllOf(_Group):
    combine = tri_and
    joiner = " and "


@dataclass(frozen=True)
class AnyOf(_Group):
    combine = tri_or
    joiner = " or "


@dataclass(frozen=True)
class AllReported(_Group):
    """And over the operands that are known; ``None`` when none is known."""

    combine = tri_and_known
    opening = "(of those reported: "
    joiner = " and "


@dataclass(frozen=True)
class Not:
    part: Condition

    def evaluate(self, entry: DiaryEntry, thresholds: Mapping[str, float]) -> Truth:
        return tri_not(Tri.of(self.part.evaluate(entry, thresholds))).as_bool()

    def describe(self) -> str:
        return f"not {self.part.describe()}"

    def thresholds_used(self) -> frozenset[str]:
        return self.part.thresholds_used()


def _union(sets: Iterable[frozenset[str]]) -> frozenset[str]:
    out: frozenset[str] = frozenset()
    for item in sets:
        out = out | item
    return out


def parse_condition(data: object, where: str = "when") -> Condition:
    """Build a condition tree from plain data (parsed YAML or JSON).

    Raises :class:`InvalidInput` with ``field`` = ``where`` (a path such as ``rules[3].when.any[0]``) for an
    unknown operator, an unknown or ill-typed field, or a malformed operand.
    """
    if not isinstance(data, Mapping) or len(data) != 1:
        raise InvalidInput(f"{where}: a condition is a mapping with exactly one operator", field=where)
    ((op, arg),) = data.items()
    parser = _PARSERS.get(str(op))
    if parser is None:
        raise InvalidInput(f"{where}: unknown operator {op!r}; use {', '.join(_PARSERS)}", field=where)
    return parser(arg, f"{where}.{op}")


def _parse_true(arg: object, where: str) -> Condition:
    return IsTrue(_field(arg, where, BOOLEAN_FIELDS))


def _parse_compare(arg: object, where: str) -> Condition:
    items = _sequence(arg, where, 3)
    name = _field(items[0], where, (*NUMBER_FIELDS, *_CHOICE_FIELDS))
    op = items[1]
    if op not in _COMPARISONS:
        raise InvalidInput(f"{where}: unknown comparison {op!r}", field=where)
    value = _operand(items[2], where)
    if name in NUMBER_FIELDS and value.threshold is None and not _is_number(value.literal):
        raise InvalidInput(f"{where}: {name} is compared with a number", field=where)
    if name in _CHOICE_FIELDS and (
        op not in ("==", "!=") or value.threshold is not None or not isinstance(value.literal, str)
    ):
        raise InvalidInput(f"{where}: {name} is compared with == or != and a text", field=where)
    return Compare(name, str(op), value)


def _parse_includes(arg: object, where: str) -> Condition:
    items = _sequence(arg, where, 2)
    return Includes(_field(items[0], where, tuple(_LIST_FIELDS)), _texts(items[1], where))


def _parse_one_of(arg: object, where: str) -> Condition:
    items = _sequence(arg, where, 2)
    return OneOf(_field(items[0], where, tuple(_CHOICE_FIELDS)), _texts(items[1], where))


def _change_parser(direction: str) -> Callable[[object, str], Condition]:
    def parse(arg: object, where: str) -> Condition:
        items = _sequence(arg, where, 3)
        value = _field(items[0], where, NUMBER_FIELDS)
        base = _field(items[1], where, NUMBER_FIELDS)
        by = _operand(items[2], where)
        if by.threshold is None and not _is_number(by.literal):
            raise InvalidInput(f"{where}: the change is a number or a $threshold", field=where)
        return Change(direction, value, base, by)

    return parse


def _group_parser(kind: type[_Group]) -> Callable[[object, str], Condition]:
    def parse(arg: object, where: str) -> Condition:
        if not isinstance(arg, list | tuple) or not arg:
            raise InvalidInput(f"{where}: needs a non-empty list of conditions", field=where)
        return kind(tuple(parse_condition(item, f"{where}[{i}]") for i, item in enumerate(arg)))

    return parse


def _parse_not(arg: object, where: str) -> Condition:
    return Not(parse_condition(arg, where))


_PARSERS: Final[dict[str, Callable[[object, str], Condition]]] = {
    "answered_yes": _parse_true,
    "compare": _parse_compare,
    "includes": _parse_includes,
    "one_of": _parse_one_of,
    "rise": _change_parser("rise"),
    "fall": _change_parser("fall"),
    "all": _group_parser(AllOf),
    "any": _group_parser(AnyOf),
    "all_reported": _group_parser(AllReported),
    "not": _parse_not,
}


def _is_number(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _field(value: object, where: str, allowed: Sequence[str]) -> str:
    if not isinstance(value, str) or value not in allowed:
        raise InvalidInput(f"{where}: {value!r} is not one of the fields {', '.join(allowed)}", field=where)
    return value


def _sequence(value: object, where: str, length: int) -> Sequence[object]:
    if not isinstance(value, list | tuple) or len(value) != length:
        raise InvalidInput(f"{where}: needs a list of {length} items", field=where)
    return value


def _texts(value: object, where: str) -> tuple[str, ...]:
    if not isinstance(value, list | tuple) or not value or not all(isinstance(v, str) for v in value):
        raise InvalidInput(f"{where}: needs a non-empty list of texts", field=where)
    return tuple(str(v) for v in value)


def _operand(value: object, where: str) -> Operand:
    if isinstance(value, str) and value.startswith("$"):
        return Operand(threshold=value[1:])
    if _is_number(value) or isinstance(value, str):
        return Operand(literal=value)  # type: ignore[arg-type]
    raise InvalidInput(f"{where}: {value!r} is not a number, a text or a $threshold", field=where)


# ------------------------------------------------------------------------------------------ rules


@dataclass(frozen=True)
class TriageRule:
    """One rule: when ``when`` is met, the entry is at least ``level``; ``reason`` says why in plain words.

    ``reason`` may name thresholds (``{fever_c}``) and diary fields (``{temperature_c}``) in braces.
    """

    id: str
    level: TriageLevel
    reason: str
    sources: tuple[str, ...]
    when: Condition
    reason_es: str = ""

    def describe(self) -> str:
        return f"{self.level.value} when {self.when.describe()}"


@dataclass(frozen=True)
class Statement:
    """A level with its plain-language text and sources: the advice per level, and ``no_warning_sign``."""

    level: TriageLevel
    text: str
    sources: tuple[str, ...]
    text_es: str = ""

    def in_language(self, language: str) -> str:
        return in_language(language, self.text, self.text_es)


@dataclass(frozen=True)
class TriageRules:
    """A validated rule set. Build it with :func:`make_triage_rules` or the content loader."""

    version: str
    thresholds: Mapping[str, float]
    rules: tuple[TriageRule, ...]
    advice: Mapping[TriageLevel, Statement]
    no_warning_sign: Statement
    threshold_sources: Mapping[str, tuple[str, ...]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        _validate(self)

    def with_thresholds(self, overrides: Mapping[str, float]) -> TriageRules:
        """A copy with some thresholds changed (a site's policy); unknown names are refused."""
        for name, value in overrides.items():
            if name not in self.thresholds:
                raise InvalidInput(f"thresholds: unknown threshold {name!r}", field=f"thresholds.{name}")
            _check_threshold(name, value)
        return replace(self, thresholds={**self.thresholds, **overrides})

    def rule(self, rule_id: str) -> TriageRule:
        return by_id(self.rules, rule_id)


def make_triage_rules(data: Mapping[str, Any]) -> TriageRules:
    """Build and validate :class:`TriageRules` from plain data (the parsed ``triage.yaml``).

    The shape::

        version: "2025-01"
        thresholds: {NAME: {value: NUMBER, sources: [ID, ...]}, ...}
        advice: {emergency: {text, sources}, same_day: ..., review: ..., expected: ...}
        no_warning_sign: {level, reason, sources}
        rules: [{id, level, reason, sources, when}, ...]

    Raises :class:`InvalidInput` whose ``field`` locates the problem. Source ids are checked by the caller
    (the content layer owns the bibliography).
    """
    thresholds: dict[str, float] = {}
    threshold_sources: dict[str, tuple[str, ...]] = {}
    raw_thresholds = need_mapping(data.get("thresholds", {}), "thresholds")
    for name, spec in raw_thresholds.items():
        where = f"thresholds.{name}"
        spec_map = need_mapping(spec, where)
        value = spec_map.get("value")
        _check_threshold(str(name), value)
        thresholds[str(name)] = value  # type: ignore[assignment]
        threshold_sources[str(name)] = need_sources(spec_map.get("sources"), where, tuples=True)
    advice: dict[TriageLevel, Statement] = {}
    for level_name, spec in need_mapping(data.get("advice"), "advice").items():
        level = _level(level_name, f"advice.{level_name}")
        spec_map = need_mapping(spec, f"advice.{level_name}")
        advice[level] = Statement(
            level,
            need_text(spec_map.get("text"), f"advice.{level_name}.text"),
            need_sources(spec_map.get("sources"), f"advice.{level_name}", tuples=True),
            _optional_text(spec_map.get("text_es"), f"advice.{level_name}.text_es"),
        )
    fallback = need_mapping(data.get("no_warning_sign"), "no_warning_sign")
    no_warning_sign = Statement(
        _level(fallback.get("level"), "no_warning_sign.level"),
        need_text(fallback.get("reason"), "no_warning_sign.reason"),
        need_sources(fallback.get("sources"), "no_warning_sign", tuples=True),
        _optional_text(fallback.get("reason_es"), "no_warning_sign.reason_es"),
    )
    raw_rules = data.get("rules")
    if not isinstance(raw_rules, list) or not raw_rules:
        raise InvalidInput("rules: needs a non-empty list", field="rules")
    rules = tuple(_rule(item, f"rules[{i}]") for i, item in enumerate(raw_rules))
    return TriageRules(
        version=need_text(data.get("version"), "version"),
        thresholds=thresholds,
        rules=rules,
        advice=advice,
        no_warning_sign=no_warning_sign,
        threshold_sources=threshold_sources,
    )


def _rule(item: object, where: str) -> TriageRule:
    spec = need_mapping(item, where)
    rule_id = need_text(spec.get("id"), f"{where}.id")
    where = f"rules[{rule_id}]"
    return TriageRule(
        id=rule_id,
        level=_level(spec.get("level"), f"{where}.level"),
        reason=need_text(spec.get("reason"), f"{where}.reason"),
        sources=need_sources(spec.get("sources"), where, tuples=True),
        when=parse_condition(spec.get("when"), f"{where}.when"),
        reason_es=_optional_text(spec.get("reason_es"), f"{where}.reason_es"),
    )


def _optional_text(value: object, where: str) -> str:
    return "" if value is None else need_text(value, where)


def _level(value: object, where: str) -> TriageLevel:
    try:
        return TriageLevel(str(value))
    except ValueError:
        levels = ", ".join(level.value for level in TriageLevel)
        raise InvalidInput(f"{where}: {value!r} is not a level ({levels})", field=where) from None


def _check_threshold(name: str, value: object) -> None:
    if not _is_number(value) or not math.isfinite(float(value)):  # type: ignore[arg-type]
        raise InvalidInput(f"thresholds.{name}: needs a number, got {value!r}", field=f"thresholds.{name}")


def _validate(rules: TriageRules) -> None:
    missing = [level.value for level in TriageLevel if level not in rules.advice]
    if missing:
        raise InvalidInput(f"advice: no advice for {', '.join(missing)}", field="advice")
    seen: set[str] = set()
    for rule in rules.rules:
        if rule.id in seen:
            raise InvalidInput(f"rules: id {rule.id!r} appears twice", field=f"rules[{rule.id}]")
        seen.add(rule.id)
        unknown = rule.when.thresholds_used() - set(rules.thresholds)
        if unknown:
            raise InvalidInput(
                f"rules[{rule.id}]: unknown threshold {', '.join(sorted(unknown))}", field=f"rules[{rule.id}]"
            )
        _check_template(rule.reason, rules.thresholds, f"rules[{rule.id}].reason")
        _check_template(rule.reason_es, rules.thresholds, f"rules[{rule.id}].reason_es")
    _check_template(rules.no_warning_sign.text, rules.thresholds, "no_warning_sign.reason")
    _check_template(rules.no_warning_sign.text_es, rules.thresholds, "no_warning_sign.reason_es")
    for level, statement in rules.advice.items():
        _check_template(statement.text, rules.thresholds, f"advice.{level.value}.text")
        _check_template(statement.text_es, rules.thresholds, f"advice.{level.value}.text_es")


def _check_template(text: str, thresholds: Mapping[str, float], where: str) -> None:
    names = set(thresholds) | set(diary_field_names())
    try:
        placeholders = [name for _, name, spec, conv in string.Formatter().parse(text) if name is not None]
    except ValueError as exc:
        raise InvalidInput(f"{where}: malformed braces ({exc})", field=where) from None
    for name in placeholders:
        if name not in names:
            raise InvalidInput(f"{where}: {{{name}}} names no threshold or diary field", field=where)


# ------------------------------------------------------------------------------------------ classify


@dataclass(frozen=True)
class Finding:
    """One reason an entry got its level: the rule (or ``no_warning_sign``), its level, words and sources."""

    rule_id: str
    level: TriageLevel
    reason: str
    sources: tuple[str, ...]
    match: SymptomMatch | None = None
    field: str = ""


@dataclass(frozen=True)
class TriageResult:
    """Exactly one level, the reasons in plain words (most urgent first), the advice and the sources."""

    level: TriageLevel
    findings: tuple[Finding, ...]
    advice: str
    advice_sources: tuple[str, ...]
    not_reported: tuple[str, ...]
    rules_version: str
    language: str = "en"

    @property
    def matches(self) -> tuple[SymptomMatch, ...]:
        """The signs found in the patient's own words, worst first."""
        return tuple(f.match for f in self.findings if f.match is not None)

    @property
    def reasons(self) -> tuple[str, ...]:
        return tuple(finding.reason for finding in self.findings)

    @property
    def rule_ids(self) -> tuple[str, ...]:
        return tuple(finding.rule_id for finding in self.findings)

    @property
    def sources(self) -> tuple[str, ...]:
        """Every source id behind the reasons and the advice, first mention first, no repeats."""
        ids = [sid for finding in self.findings for sid in finding.sources] + list(self.advice_sources)
        return tuple(dict.fromkeys(ids))

    def to_json(self) -> dict[str, Any]:
        """The CLI contract (contracts §2 and §8): ``{"level", "reasons", "advice", "matched"}``."""
        return {
            "level": self.level.value,
            "reasons": list(self.reasons),
            "advice": self.advice,
            "matched": [m.to_json() for m in self.matches],
        }


def classify(
    entry: DiaryEntry,
    rules: TriageRules,
    vocabulary: SymptomVocabulary | None = None,
    *,
    language: str = "en",
) -> TriageResult:
    """Classify one diary entry; the most urgent level wins and every reason above ``expected`` is listed.

    With a symptom ``vocabulary`` the free-text fields (``notes``, ``activity``) are read too
    (:func:`~mildpath.domain.symptoms.read_symptoms`): every sign found is a finding at its level, carrying the
    patient's own words, and the structured answers and the text combine: the worst level wins (issue 15).
    ``language`` (``en`` or ``es``; the entry's own ``language`` field wins) selects the wording of reasons and
    advice; a text with no Spanish version falls back to English.

    Example, with the shipped rules (``mildpath.content.triage.load_triage_rules()``): an entry on day 2 with
    saddle numbness and a temperature of 38.4 °C is ``emergency``, with the saddle-numbness reason first and the
    fever reason after it, and the emergency advice. An empty entry is ``expected`` with the reason "None of your
    answers is a warning sign." (callers refuse empty entries before classifying them: see
    :meth:`DiaryEntry.is_empty`). Fields that were not reported are listed in ``not_reported``.
    """
    lang = entry.language or (language if language in ("en", "es") else "en")
    fired = [rule for rule in rules.rules if rule.when.evaluate(entry, rules.thresholds) is True]
    concerning = [rule for rule in fired if rule.level is not TriageLevel.EXPECTED]
    text_findings = _text_findings(entry, rules, vocabulary, lang)
    findings: list[Finding]
    if concerning or text_findings:
        ranked = [
            _finding(rule.id, rule.level, _reason_text(rule, lang), rule.sources, entry, rules) for rule in concerning
        ] + text_findings
        level = max((f.level for f in ranked), key=lambda lv: lv.urgency)
        findings = sorted(ranked, key=lambda f: -f.level.urgency)  # stable: structured first, then the text
    else:
        fallback = rules.no_warning_sign
        level = fallback.level
        findings = [
            _finding("no_warning_sign", fallback.level, fallback.in_language(lang), fallback.sources, entry, rules)
        ]
        findings += [
            _finding(rule.id, rule.level, _reason_text(rule, lang), rule.sources, entry, rules)
            for rule in fired
            if rule.level is TriageLevel.EXPECTED
        ]
    advice = rules.advice[level]
    return TriageResult(
        level=level,
        findings=tuple(findings),
        advice=_render(advice.in_language(lang), entry, rules.thresholds),
        advice_sources=advice.sources,
        not_reported=entry.not_reported(),
        rules_version=rules.version,
        language=lang,
    )


def _reason_text(rule: TriageRule, language: str) -> str:
    return in_language(language, rule.reason, rule.reason_es)


def _text_findings(
    entry: DiaryEntry, rules: TriageRules, vocabulary: SymptomVocabulary | None, language: str
) -> list[Finding]:
    if vocabulary is None:
        return []
    fever_c = float(rules.thresholds.get("fever_c", 38.0))
    out: list[Finding] = []
    for name, text in entry.texts().items():
        for match in read_symptoms(text, vocabulary, fever_c=fever_c).matches:
            out.append(
                Finding(
                    rule_id=match.rule,
                    level=TriageLevel(match.level),
                    reason=patient_reason(match, language),
                    sources=match.sources,
                    match=match,
                    field=name,
                )
            )
    return out


def patient_reason(match: SymptomMatch, language: str = "en") -> str:
    """What the patient is told about a sign found in their words."""
    if language == "es":
        return f"Usted escribió «{match.text}»: {match.label.es}. {match.meaning.es}"
    return f'You wrote "{match.text}": {match.label.en}. {match.meaning.en}'


def clinician_reason(match: SymptomMatch) -> str:
    """The same sign in clinician wording, for the worklist."""
    return f'Patient reported "{match.text}": {match.clinician}.'


def _finding(
    rule_id: str,
    level: TriageLevel,
    text: str,
    sources: tuple[str, ...],
    entry: DiaryEntry,
    rules: TriageRules,
) -> Finding:
    return Finding(rule_id, level, _render(text, entry, rules.thresholds), sources)


def _render(text: str, entry: DiaryEntry, thresholds: Mapping[str, float]) -> str:
    values: dict[str, str] = {name: _show(value) for name, value in thresholds.items()}
    for name in diary_field_names():
        values[name] = _show(getattr(entry, name))
    return text.format_map(values)


def _show(value: object) -> str:
    """Plain rendering: ``None`` is "not reported", 38.0 stays "38.0", 7.0 as a count shows "7"."""
    if value is None:
        return "not reported"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        return f"{value:.1f}"
    if isinstance(value, tuple):
        return ", ".join(str(item) for item in value) or "fine"
    return str(value)
