"""The one three-valued logic module serves screening (Tri) and triage (bool | None) alike."""

from __future__ import annotations

import itertools

import pytest

from mildpath.domain import conditions, triage
from mildpath.domain.diary import DiaryEntry
from mildpath.domain.logic import Tri, tri_and, tri_and_known, tri_not, tri_or

M, N, U = Tri.MET, Tri.NOT_MET, Tri.UNKNOWN
BOOLS: list[bool | None] = [True, False, None]


@pytest.mark.parametrize("value", BOOLS)
def test_of_and_as_bool_are_inverse(value: bool | None) -> None:
    assert Tri.of(value).as_bool() is value
    assert (Tri.of(True), Tri.of(False), Tri.of(None)) == (M, N, U)


def test_and_known_ignores_unknowns_and_is_unknown_when_none_is_known() -> None:
    assert tri_and_known([U, M, U]) is M
    assert tri_and_known([U, N, M]) is N
    assert tri_and_known([U, U]) is U
    assert tri_and_known([]) is U


def test_screening_reexports_the_shared_logic() -> None:
    assert conditions.Tri is Tri and conditions.tri_and is tri_and and conditions.tri_or is tri_or
    assert conditions.tri_not is tri_not


class _Fixed:
    """A triage condition with a fixed result, to drive the triage combinators through every pair."""

    def __init__(self, value: bool | None) -> None:
        self.value = value

    def evaluate(self, entry: DiaryEntry, thresholds: object) -> bool | None:
        return self.value

    def describe(self) -> str:
        return str(self.value)

    def thresholds_used(self) -> frozenset[str]:
        return frozenset()


@pytest.mark.parametrize(("a", "b"), list(itertools.product(BOOLS, BOOLS)))
def test_triage_combinators_follow_the_same_truth_tables(a: bool | None, b: bool | None) -> None:
    entry = DiaryEntry.from_mapping({"days_since_procedure": 1})
    parts = (_Fixed(a), _Fixed(b))
    pair = [Tri.of(a), Tri.of(b)]
    assert triage.AllOf(parts).evaluate(entry, {}) is tri_and(pair).as_bool()
    assert triage.AnyOf(parts).evaluate(entry, {}) is tri_or(pair).as_bool()
    assert triage.AllReported(parts).evaluate(entry, {}) is tri_and_known(pair).as_bool()
    assert triage.Not(parts[0]).evaluate(entry, {}) is tri_not(pair[0]).as_bool()
    # the old hand-written tables, kept here as the reference
    known = [x for x in (a, b) if x is not None]
    assert triage.AllReported(parts).evaluate(entry, {}) is (all(known) if known else None)
    expected_and = False if False in (a, b) else (None if None in (a, b) else True)
    assert triage.AllOf(parts).evaluate(entry, {}) is expected_and
