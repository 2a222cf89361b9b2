"""The condition language of the criteria sets: CertLogic-small, three-valued, explained, and compilable to SQL.

A criterion's rule is a tree of the nodes below. Each node answers ``evaluate(facts, today) -> Tri`` (met,
not met or unknown; never a truthy value), ``explain(facts, today)`` (the same answer plus the evidence used)
and ``describe() -> str`` (the rule in words). Nodes are frozen dataclasses holding plain data, so
``population/compile.py`` can walk the same tree (:func:`walk`) and translate it to SQL. This docstring is the
specification both translations follow.

Three values
------------
``Tri.MET``, ``Tri.NOT_MET``, ``Tri.UNKNOWN``. The logic is Kleene's, which is SQL's: read MET as TRUE,
NOT_MET as FALSE and UNKNOWN as NULL, and ``All``/``Any``/``Not`` are ``AND``/``OR``/``NOT``, ``Coalesce`` is
``COALESCE``.

Selecting facts: :class:`Select`
--------------------------------
A ``Select`` names one kind of fact (diagnosis, procedure, medication, observation, answer) and narrows it:

- coded kinds: the fact's ``(system, code)`` is in the value set ``value_set`` (members resolved into
  ``codes``; systems and codes compare exactly, as strings);
- answers: the answer's ``field`` is one of ``fields``;
- ``statuses``: the fact's status is one of them; a fact without a status passes (a coded diagnosis without a
  clinical status is still a diagnosis; SQL: ``status IN (...) OR status IS NULL``); ``None``: any status;
- ``reason_codes``: (procedures) the record names a reason whose code is in that value set.

**The as-of rule**: a fact whose ``start`` lies after ``today`` does not exist for any node (screening "as of"
a date sees what was known then). Undated facts are visible.

Date windows: :class:`Window`
-----------------------------
With ``match="start"`` (default) a fact is in the window when its ``start`` is known and

- ``within_last``: ``start >= today - within_last`` (inclusive: "in the last 30 days" includes the day 30 days
  ago), and
- ``older_than``: ``start < today - older_than`` (strict), so ``within_last=N`` and ``older_than=N`` split time
  into two parts with neither gap nor overlap.

With ``match="overlap"`` a fact is in the window when its period ``[start, end]`` (``end`` open when unknown)
shares a day with ``[today - within_last, today]``; ``older_than`` still applies to ``start``. "Current" is
``within_last=0 days, match=overlap``: a medication whose period includes the as-of date.

A :class:`Span` is whole days or calendar months. ``today - 3 months`` is the same day three months earlier,
clamped to the month's end (31 May - 3 months = 28/29 Feb), as DuckDB's ``- INTERVAL 3 MONTH`` and Spark's
``add_months`` compute it.

Leaves and how ``unknown`` arises
---------------------------------
:class:`Present` (existence; closed or open world by choice)
    Candidates: selected facts whose value passes ``where`` (if given). Qualifying: candidates in the window
    (if any) and dated on or after the earliest dated fact of ``after`` (if given; without such a fact nothing
    qualifies). Result: ``if_found`` (default MET) when a candidate qualifies; else UNKNOWN when a window or
    ``after`` applies and some candidate is undated (its date would decide); else ``if_none`` (default
    NOT_MET: "nothing on record" is "no"). ``if_none=UNKNOWN`` makes the leaf open-world (absence is unknown);
    ``if_found=UNKNOWN`` reads a finding that cannot decide alone (a spondylolisthesis code without a grade).
:class:`Compare` (one value against a threshold)
    Candidates: selected facts with a value, in the window (if any; undated facts never are). None:
    UNKNOWN. Otherwise ``pick`` one: ``latest`` (greatest ``start``; undated facts rank first; ties go to the
    larger value), ``max`` or ``min`` (numbers only; ties go to the later fact); then apply ``test``. A value
    of the wrong type for the test (text against a number, a yes/no against a number) is UNKNOWN.
:class:`Since` (how long ago the earliest fact started)
    The earliest dated selected fact: MET when its ``start <= today - at_least``, NOT_MET when later. No dated
    fact: UNKNOWN.

:class:`Check` compares numbers with numbers (``int``/``float``, never ``bool``), yes/no with yes/no and text
with text; ordering (``<`` ...) applies to numbers only.

Logic
-----
:class:`All` (AND), :class:`Any` (OR), :class:`Not`, :class:`Coalesce` (the first child that is not UNKNOWN;
UNKNOWN when all are). ``Coalesce`` expresses an order of authority: the clinician's assessment, when given,
decides; otherwise the chart; otherwise the patient's own answers.

Evidence
--------
``explain`` returns the facts that decided: the qualifying facts of ``Present``; the picked fact of
``Compare``; the earliest fact of ``Since``; for ``Any`` the children that were met (``All``: not met), for
``Coalesce`` the chosen child, otherwise every child's evidence.
"""

from __future__ import annotations

import calendar
import datetime as dt
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import ClassVar, Literal

from mildpath.domain.facts import Code, Evidence, Fact, Kind, PatientFacts, Value

# Re-exported (explicit aliases): screening callers import the three-valued logic from here.
from mildpath.domain.logic import Tri as Tri
from mildpath.domain.logic import tri_and as tri_and
from mildpath.domain.logic import tri_not as tri_not
from mildpath.domain.logic import tri_or as tri_or

Op = Literal[">=", ">", "<=", "<", "==", "!="]
OPS: tuple[Op, ...] = (">=", ">", "<=", "<", "==", "!=")
Pick = Literal["latest", "max", "min"]
Match = Literal["start", "overlap"]
Unit = Literal["days", "months"]

_KIND_WORDS: dict[Kind, str] = {
    "diagnosis": "a diagnosis",
    "procedure": "a procedure or service request",
    "medication": "a medication",
    "observation": "an observation",
    "answer": "an answer",
}


@dataclass(frozen=True)
class Span:
    """A length of time back from the as-of date: whole days or calendar months."""

    amount: int
    unit: Unit = "days"

    def __post_init__(self) -> None:
        if self.amount < 0:
            raise ValueError(f"a span cannot be negative: {self.amount} {self.unit}")
        if self.unit not in ("days", "months"):
            raise ValueError(f"a span is in days or months, not {self.unit!r}")

    @classmethod
    def parse(cls, text: str) -> Span:
        """``"30 days"``, ``"1 day"``, ``"12 months"``, ``"1 month"``."""
        parts = str(text).split()
        if len(parts) != 2 or not parts[0].isdigit():
            raise ValueError(f"a span is '<whole number> days|months', not {text!r}")
        unit = parts[1].lower()
        unit = {"day": "days", "month": "months"}.get(unit, unit)
        if unit not in ("days", "months"):
            raise ValueError(f"a span is in days or months, not {parts[1]!r}")
        return cls(int(parts[0]), "days" if unit == "days" else "months")

    def back_from(self, today: dt.date) -> dt.date:
        """``today`` minus this span; months keep the day, clamped to the end of the month."""
        if self.unit == "days":
            return today - dt.timedelta(days=self.amount)
        months = today.year * 12 + (today.month - 1) - self.amount
        year, month = divmod(months, 12)
        month += 1
        day = min(today.day, calendar.monthrange(year, month)[1])
        return dt.date(year, month, day)

    def __str__(self) -> str:
        unit = self.unit[:-1] if self.amount == 1 else self.unit
        return f"{self.amount} {unit}"


@dataclass(frozen=True)
class Window:
    """Which dates count, relative to the as-of date (see the module docstring for the exact bounds)."""

    within_last: Span | None = None
    older_than: Span | None = None
    match: Match = "start"

    def contains(self, fact: Fact, today: dt.date) -> bool:
        """Whether a dated fact is in the window (an undated fact never is: callers decide what that means)."""
        start = fact.start
        if start is None:
            return False
        if self.older_than is not None and not start < self.older_than.back_from(today):
            return False
        if self.within_last is None:
            return True
        low = self.within_last.back_from(today)
        if self.match == "overlap":
            end = fact.end
            return start <= today and (end is None or end >= low)
        return start >= low

    def describe(self) -> str:
        parts: list[str] = []
        if self.match == "overlap":
            if self.within_last is not None and self.within_last.amount == 0:
                parts.append("current on the as-of date")
            elif self.within_last is not None:
                parts.append(f"in effect at some time in the last {self.within_last}")
        elif self.within_last is not None:
            parts.append(f"dated within the last {self.within_last}")
        if self.older_than is not None:
            parts.append(f"dated more than {self.older_than} before the as-of date")
        return " and ".join(parts)


@dataclass(frozen=True)
class Check:
    """A comparison of one value with a constant (see the module docstring for the typing rules)."""

    op: Op
    value: bool | int | float | str

    def __post_init__(self) -> None:
        if self.op not in OPS:
            raise ValueError(f"unknown operator {self.op!r}; use one of {', '.join(OPS)}")
        if self.op not in ("==", "!=") and not _is_number(self.value):
            raise ValueError(f"{self.op} compares numbers, not {self.value!r}")

    def check(self, value: Value) -> Tri:
        """MET or NOT_MET; UNKNOWN for a missing value or one of another type."""
        if value is None or _type_of(value) != _type_of(self.value):
            return Tri.UNKNOWN
        if self.op == "==":
            result = value == self.value
        elif self.op == "!=":
            result = value != self.value
        else:
            a, b = float(value), float(self.value)
            result = {">=": a >= b, ">": a > b, "<=": a <= b, "<": a < b}[self.op]
        return Tri.MET if result else Tri.NOT_MET

    def describe(self) -> str:
        """``yes``, ``at least 3``, ``not yes``, ``less than 31`` ..."""
        shown = ("yes" if self.value else "no") if isinstance(self.value, bool) else _fmt(self.value)
        words = {">=": "at least", ">": "more than", "<=": "at most", "<": "less than", "==": "", "!=": "not"}
        return f"{words[self.op]} {shown}".strip()


@dataclass(frozen=True)
class Select:
    """Which facts a leaf looks at (see the module docstring)."""

    kind: Kind
    value_set: str | None = None
    codes: frozenset[Code] = frozenset()
    fields: tuple[str, ...] = ()
    statuses: tuple[str, ...] | None = None
    reason_value_set: str | None = None
    reason_codes: frozenset[Code] = frozenset()

    def __post_init__(self) -> None:
        if self.kind == "answer":
            if not self.fields:
                raise ValueError("an answer selection names at least one field")
        elif self.value_set is None:
            raise ValueError(f"a {self.kind} selection names a value set")

    def matches(self, fact: Fact) -> bool:
        if fact.kind != self.kind:
            return False
        if self.kind == "answer":
            if fact.code not in self.fields:
                return False
        elif (fact.system, fact.code) not in self.codes:
            return False
        if self.statuses is not None and fact.status is not None and fact.status not in self.statuses:
            return False
        if self.reason_value_set is not None:
            reasons: frozenset[Code] = getattr(fact, "reasons", frozenset())
            if not reasons & self.reason_codes:
                return False
        return True

    def pick(self, facts: PatientFacts, today: dt.date) -> list[Fact]:
        """The visible facts this selection matches, in record order (facts after ``today`` do not exist)."""
        return [f for f in facts.of_kind(self.kind) if (f.start is None or f.start <= today) and self.matches(f)]

    def describe(self) -> str:
        if self.kind == "answer":
            names = " or ".join(self.fields)
            text = f"an answer to {names}"
        else:
            text = f"{_KIND_WORDS[self.kind]} in '{self.value_set}'"
        if self.statuses is not None:
            text += f" (status {', '.join(self.statuses)})"
        if self.reason_value_set is not None:
            text += f" recorded for a condition in '{self.reason_value_set}'"
        return text


@dataclass(frozen=True)
class Outcome:
    """A node's answer with the evidence that decided it."""

    status: Tri
    evidence: tuple[Evidence, ...] = ()


class Node(ABC):
    """A node of the condition tree."""

    def evaluate(self, facts: PatientFacts, today: dt.date) -> Tri:
        """Met, not met or unknown for these facts as of ``today``."""
        return self.explain(facts, today).status

    @abstractmethod
    def explain(self, facts: PatientFacts, today: dt.date) -> Outcome:
        """The answer and the evidence behind it."""

    @abstractmethod
    def describe(self) -> str:
        """The rule in words (clinician-facing, for explanations and the SQL package's comments)."""

    def children(self) -> tuple[Node, ...]:
        return ()


@dataclass(frozen=True)
class Present(Node):
    """Is there a selected fact (optionally with a value test, in a window, after an anchor)?"""

    select: Select
    where: Check | None = None
    within: Window | None = None
    after: Select | None = None
    if_found: Tri = Tri.MET
    if_none: Tri = Tri.NOT_MET

    def explain(self, facts: PatientFacts, today: dt.date) -> Outcome:
        candidates = [
            f for f in self.select.pick(facts, today) if self.where is None or self.where.check(f.value) is Tri.MET
        ]
        if self.within is None and self.after is None:
            found = candidates
            undated: list[Fact] = []
        else:
            anchor = _earliest_start(self.after.pick(facts, today)) if self.after is not None else None
            found = [
                f
                for f in candidates
                if f.start is not None
                and (self.within is None or self.within.contains(f, today))
                and (self.after is None or (anchor is not None and f.start >= anchor))
            ]
            undated = [f for f in candidates if f.start is None]
        if found:
            return Outcome(self.if_found, _evidence(found))
        if undated:
            return Outcome(Tri.UNKNOWN, _evidence(undated))
        return Outcome(self.if_none, ())

    def describe(self) -> str:
        text = self.select.describe()
        if self.where is not None:
            text += f" that is {self.where.describe()}"
        if self.within is not None:
            text += f" {self.within.describe()}"
        if self.after is not None:
            text += f", on or after the first {self.after.describe()}"
        text += " is on record"
        extra = []
        if self.if_found is not Tri.MET:
            extra.append(f"if so: {self.if_found.value}")
        if self.if_none is not Tri.NOT_MET:
            extra.append(f"if not: {self.if_none.value}")
        return f"{text} ({'; '.join(extra)})" if extra else text


@dataclass(frozen=True)
class Compare(Node):
    """Does one picked value (latest, largest or smallest) pass a test?"""

    select: Select
    test: Check
    pick: Pick = "latest"
    within: Window | None = None

    def explain(self, facts: PatientFacts, today: dt.date) -> Outcome:
        candidates = [f for f in self.select.pick(facts, today) if f.value is not None]
        if self.within is not None:
            candidates = [f for f in candidates if self.within.contains(f, today)]
        if self.pick != "latest":
            candidates = [f for f in candidates if _is_number(f.value)]
        if not candidates:
            return Outcome(Tri.UNKNOWN, ())
        if self.pick == "latest":
            chosen = max(candidates, key=lambda f: (f.start or dt.date.min, _sort_key(f.value)))
        elif self.pick == "max":
            chosen = max(candidates, key=lambda f: (_sort_key(f.value), f.start or dt.date.min))
        else:
            chosen = min(candidates, key=lambda f: (_sort_key(f.value), _neg_ordinal(f.start)))
        return Outcome(self.test.check(chosen.value), _evidence([chosen]))

    def describe(self) -> str:
        where = f" {self.within.describe()}" if self.within is not None else ""
        what = {"latest": "the latest", "max": "the largest", "min": "the smallest"}[self.pick]
        return f"{what} value of {self.select.describe()}{where} is {self.test.describe()}"


@dataclass(frozen=True)
class Since(Node):
    """Did the earliest selected fact start at least ``at_least`` before the as-of date?"""

    select: Select
    at_least: Span

    def explain(self, facts: PatientFacts, today: dt.date) -> Outcome:
        dated = [f for f in self.select.pick(facts, today) if f.start is not None]
        if not dated:
            return Outcome(Tri.UNKNOWN, ())
        first = min(dated, key=lambda f: f.start or dt.date.min)
        start = first.start or dt.date.min
        status = Tri.MET if start <= self.at_least.back_from(today) else Tri.NOT_MET
        return Outcome(status, _evidence([first]))

    def describe(self) -> str:
        return f"the earliest {self.select.describe()} started at least {self.at_least} before the as-of date"


@dataclass(frozen=True)
class _Junction(Node):
    """Kleene AND or OR of the children; when one child decides, its evidence alone explains the answer."""

    items: tuple[Node, ...]
    combine: ClassVar[Callable[[Iterable[Tri]], Tri]]
    decisive: ClassVar[Tri]
    heading: ClassVar[str]

    def explain(self, facts: PatientFacts, today: dt.date) -> Outcome:
        outcomes = [n.explain(facts, today) for n in self.items]
        status = type(self).combine(o.status for o in outcomes)
        chosen = [o for o in outcomes if o.status is status] if status is self.decisive else outcomes
        return Outcome(status, _merge(chosen))

    def describe(self) -> str:
        return self.heading + "; ".join(f"({n.describe()})" for n in self.items)

    def children(self) -> tuple[Node, ...]:
        return self.items


@dataclass(frozen=True)
class All(_Junction):
    """Kleene AND of the children."""

    combine = tri_and
    decisive = Tri.NOT_MET
    heading = "all of: "


@dataclass(frozen=True)
class Any(_Junction):
    """Kleene OR of the children."""

    combine = tri_or
    decisive = Tri.MET
    heading = "any of: "


@dataclass(frozen=True)
class Not(Node):
    """Kleene NOT of the child."""

    item: Node

    def explain(self, facts: PatientFacts, today: dt.date) -> Outcome:
        inner = self.item.explain(facts, today)
        return Outcome(tri_not(inner.status), inner.evidence)

    def describe(self) -> str:
        return f"not ({self.item.describe()})"

    def children(self) -> tuple[Node, ...]:
        return (self.item,)


@dataclass(frozen=True)
class Coalesce(Node):
    """The first child that is not UNKNOWN, in order of authority; UNKNOWN when all are."""

    items: tuple[Node, ...]

    def explain(self, facts: PatientFacts, today: dt.date) -> Outcome:
        outcomes = []
        for node in self.items:
            outcome = node.explain(facts, today)
            if outcome.status is not Tri.UNKNOWN:
                return outcome
            outcomes.append(outcome)
        return Outcome(Tri.UNKNOWN, _merge(outcomes))

    def describe(self) -> str:
        return "the first known of: " + "; then ".join(f"({n.describe()})" for n in self.items)

    def children(self) -> tuple[Node, ...]:
        return self.items


def walk(node: Node) -> Iterator[Node]:
    """Every node of the tree, parents before children (for compilers and for listing value sets)."""
    yield node
    for child in node.children():
        yield from walk(child)


def selections(node: Node) -> Iterator[Select]:
    """Every :class:`Select` in the tree, including ``Present.after`` anchors."""
    for n in walk(node):
        if isinstance(n, Present | Compare | Since):
            yield n.select
        if isinstance(n, Present) and n.after is not None:
            yield n.after


def _is_number(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _type_of(value: object) -> str:
    if isinstance(value, bool):
        return "bool"
    if _is_number(value):
        return "number"
    return type(value).__name__


def _sort_key(value: Value) -> tuple[int, float, str]:
    if isinstance(value, bool):
        return (1, float(value), "")
    if isinstance(value, int | float):
        return (0, float(value), "")
    return (2, 0.0, str(value))


def _neg_ordinal(day: dt.date | None) -> int:
    return -(day or dt.date.min).toordinal()


def _earliest_start(facts: list[Fact]) -> dt.date | None:
    dates = [f.start for f in facts if f.start is not None]
    return min(dates) if dates else None


def _evidence(facts: Iterable[Fact]) -> tuple[Evidence, ...]:
    out: list[Evidence] = []
    for f in facts:
        item = Evidence(value=f.value, date=f.start, record=f.record)
        if item not in out:
            out.append(item)
    return tuple(out)


def _merge(outcomes: Iterable[Outcome]) -> tuple[Evidence, ...]:
    out: list[Evidence] = []
    for o in outcomes:
        for item in o.evidence:
            if item not in out:
                out.append(item)
    return tuple(out)


def _fmt(value: object) -> str:
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def uncounted(
    node: Node, facts: PatientFacts, today: dt.date, counted: Iterable[Evidence] = ()
) -> tuple[Evidence, ...]:
    """Evidence the rule found but did not count, each with why (contracts §3: ``"counted": false``).

    For every leaf with a date window or an ``after`` anchor: the selected facts (with a value that passes the
    leaf's ``where``, for ``Present``) that the window or the anchor left out: too old, too recent, before the
    anchor, or undated where a date decides. Facts already in ``counted`` (the finding's evidence) and facts
    dated after the as-of date (they do not exist yet) are not listed.
    """
    seen = {(e.value, e.date, e.record) for e in counted}
    out: list[Evidence] = []
    for leaf in walk(node):
        if isinstance(leaf, Present) and (leaf.within is not None or leaf.after is not None):
            candidates = [
                f for f in leaf.select.pick(facts, today) if leaf.where is None or leaf.where.check(f.value) is Tri.MET
            ]
            anchor = _earliest_start(leaf.after.pick(facts, today)) if leaf.after is not None else None
            for f in candidates:
                why = _why_left_out(f, today, leaf.within, leaf.after, anchor)
                _add_uncounted(out, seen, f, why)
        elif isinstance(leaf, Compare) and leaf.within is not None:
            for f in leaf.select.pick(facts, today):
                if f.value is None:
                    continue
                _add_uncounted(out, seen, f, _why_left_out(f, today, leaf.within, None, None))
    return tuple(out)


def _why_left_out(
    fact: Fact, today: dt.date, window: Window | None, after: Select | None, anchor: dt.date | None
) -> str | None:
    """Why a selected fact does not count for a leaf (``None``: it counts)."""
    start = fact.start
    if start is None:
        return "undated: a date is needed to know whether it counts"
    if window is not None and window.older_than is not None:
        bound = window.older_than.back_from(today)
        if not start < bound:
            return f"dated {start}, less than {window.older_than} before {today}: too recent to count yet"
    if window is not None and window.within_last is not None and not window.contains(fact, today):
        low = window.within_last.back_from(today)
        if window.match == "overlap":
            return f"ended before {low}: not current on {today}"
        return f"dated {start}, before {low} (older than {window.within_last} on {today}): too old to count"
    if after is not None:
        if anchor is None:
            return f"no {after.describe()} on record to date it against"
        if start < anchor:
            return f"dated {start}, before the first {after.describe()} ({anchor})"
    return None


def _add_uncounted(
    out: list[Evidence], seen: set[tuple[Value, dt.date | None, str]], fact: Fact, why: str | None
) -> None:
    if why is None:
        return
    key = (fact.value, fact.start, fact.record)
    if key in seen:
        return
    seen.add(key)
    out.append(Evidence(value=fact.value, date=fact.start, record=fact.record, counted=False, why=why))
