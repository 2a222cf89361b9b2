"""Criteria and criteria sets: the versioned, cited data that screening evaluates (issue 3).

A :class:`CriteriaSet` is loaded from ``content/criteria/<name>.yaml`` by
:func:`mildpath.content.criteria.load_criteria_set`; this module only holds the shapes, so the domain stays pure.

Roles (how a criterion's status feeds the result; see :mod:`mildpath.domain.screening`):

- ``gate``: must be met for the pathway to apply at all (lumbar spinal stenosis on record, contracts §3);
- ``inclusion``: must be met; not met makes the patient ``not_candidate``, unknown asks for more information;
- ``exclusion``: must *not* be met; met makes the patient ``not_candidate``, unknown asks for more information;
- ``red_flag``: met makes the result ``urgent_referral`` whatever else is true.

A finding's status is the rule's status: for an exclusion or a red flag "met" means the exclusion or red flag
applies.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from types import MappingProxyType

from mildpath.domain.catalog import by_id, in_language
from mildpath.domain.conditions import Node, Tri, selections, uncounted
from mildpath.domain.errors import InvalidInput
from mildpath.domain.facts import Evidence, PatientFacts


class Role(StrEnum):
    GATE = "gate"
    INCLUSION = "inclusion"
    EXCLUSION = "exclusion"
    RED_FLAG = "red_flag"


@dataclass(frozen=True)
class Criterion:
    """One criterion: what it checks in a clinician's words and a patient's, its rule and its source."""

    id: str
    role: Role
    clinician: str
    patient: str
    rule: Node
    source: str
    also: tuple[str, ...] = ()
    missing: str = ""
    patient_es: str = ""  # the patient wording in Spanish (empty: not translated, the English is shown)

    def patient_in(self, language: str) -> str:
        """The patient wording in ``language`` ("en" or "es"); English when there is no translation."""
        return in_language(language, self.patient, self.patient_es)

    def evaluate(self, facts: PatientFacts, today: dt.date) -> Finding:
        """The finding for these facts as of ``today``: status plus the evidence that decided it."""
        outcome = self.rule.explain(facts, today)
        assessed = any(s.pick(facts, today) for s in selections(self.rule))
        extra = uncounted(self.rule, facts, today, outcome.evidence) if outcome.status is Tri.UNKNOWN else ()
        return Finding(self, outcome.status, outcome.evidence, uncounted=extra, assessed=assessed)

    @property
    def sources(self) -> tuple[str, ...]:
        return (self.source, *self.also)

    @property
    def to_collect(self) -> str:
        """What to collect when this criterion is unknown (falls back to its clinician wording)."""
        return self.missing or self.clinician


@dataclass(frozen=True)
class Finding:
    """A criterion's status for one patient, with the evidence used (value, date, source record)."""

    criterion: Criterion
    status: Tri
    evidence: tuple[Evidence, ...] = ()
    #: Evidence found that did not count (too old, too recent, before the diagnosis), each with why; only for
    #: an ``unknown`` finding, so that "unknown" shows what was there (contracts §3).
    uncounted: tuple[Evidence, ...] = ()
    #: Whether any record the rule reads exists at all (either way): an exclusion with none is "not assessed".
    assessed: bool = True

    @property
    def id(self) -> str:
        return self.criterion.id

    @property
    def role(self) -> Role:
        return self.criterion.role

    def to_json(self) -> dict[str, object]:
        """``{"id", "status", "evidence", "source", "role"}`` (contracts §2-§3; ``role`` tells how to read it)."""
        return {
            "id": self.criterion.id,
            "status": self.status.value,
            "evidence": [e.to_json() for e in (*self.evidence, *self.uncounted)],
            "source": self.criterion.source,
            "role": self.criterion.role.value,
        }


@dataclass(frozen=True)
class Threshold:
    """A named, configurable number or span used by the rules, with the source it comes from."""

    name: str
    value: float | int | str
    source: str
    note: str = ""


@dataclass(frozen=True)
class AgeRange:
    """The ages a trial enrolled (inclusive bounds; ``None``: no bound), with its source."""

    trial: str
    source: str
    min_age: int | None = None
    max_age: int | None = None

    def contains(self, age: int) -> bool:
        return (self.min_age is None or age >= self.min_age) and (self.max_age is None or age <= self.max_age)

    def describe(self) -> str:
        if self.min_age is not None and self.max_age is not None:
            return f"{self.trial} {self.min_age}-{self.max_age}"
        if self.min_age is not None:
            return f"{self.trial} {self.min_age} or older"
        return f"{self.trial} up to {self.max_age}"


@dataclass(frozen=True)
class StudiedAges:
    """The trials' enrolled age ranges and the caution shown for an age outside every one of them."""

    ranges: tuple[AgeRange, ...]
    caution_id: str
    caution_text: str
    source: str

    def outside(self, age: int | None) -> bool:
        """True when ``age`` is known and lies outside every range (no range: never)."""
        return age is not None and bool(self.ranges) and not any(r.contains(age) for r in self.ranges)


@dataclass(frozen=True)
class CriteriaSet:
    """A named, versioned set of criteria (``name@version``), with its thresholds."""

    name: str
    version: str
    criteria: tuple[Criterion, ...]
    title: str = ""
    thresholds: Mapping[str, Threshold] = field(default_factory=lambda: MappingProxyType({}))
    studied_ages: StudiedAges | None = None

    def __post_init__(self) -> None:
        ids = [c.id for c in self.criteria]
        duplicates = sorted({i for i in ids if ids.count(i) > 1})
        if duplicates:
            raise InvalidInput(f"criteria set {self.name}: duplicate criterion ids {duplicates}", field="criteria")
        if not any(c.role is Role.GATE for c in self.criteria):
            raise InvalidInput(f"criteria set {self.name}: needs at least one gate criterion", field="criteria")
        object.__setattr__(self, "thresholds", MappingProxyType(dict(self.thresholds)))

    def __hash__(self) -> int:
        return hash((self.name, self.version, self.criteria, self.studied_ages))

    @property
    def label(self) -> str:
        """``name@version``, as stored with every screening and printed by the CLI."""
        return f"{self.name}@{self.version}"

    def criterion(self, criterion_id: str) -> Criterion:
        return by_id(self.criteria, criterion_id)

    def of_role(self, role: Role) -> tuple[Criterion, ...]:
        return tuple(c for c in self.criteria if c.role is role)
