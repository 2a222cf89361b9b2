"""Hypothesis properties that pin the scoring maths: bounds, the missing-item rules, monotonicity, order
independence, exact half-up rounding, and the vectorised path agreeing with the per-response path."""

from __future__ import annotations

import decimal
from decimal import ROUND_HALF_UP, Decimal
from fractions import Fraction

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from mildpath.content.instruments import responder_thresholds
from mildpath.domain.errors import InvalidAnswer
from mildpath.domain.instruments import (
    BANDS,
    odi_band_codes,
    odi_responder_array,
    responder_array,
    responders,
    score_nprs,
    score_odi,
    score_odi_array,
    score_zcq,
)
from mildpath.domain.instruments.base import round2
from mildpath.fhir.questionnaires import questionnaire_response, read_questionnaire_response

section = st.integers(-1, 5).map(lambda v: None if v < 0 else v)  # about one in seven unanswered
odi_answers = st.lists(section, min_size=10, max_size=10)
complete_odi = st.lists(st.integers(0, 5), min_size=10, max_size=10)
scorable_odi = st.tuples(complete_odi, st.integers(0, 10)).map(
    lambda pair: [None if i == pair[1] else v for i, v in enumerate(pair[0])]  # index 10: nothing missing
)


def as_array(responses: list[list[int | None]]) -> np.ndarray:
    return np.array([[np.nan if v is None else v for v in row] for row in responses], dtype=np.float64)


@given(odi_answers)
def test_odi_score_lies_between_0_and_100_and_exists_with_at_most_one_section_missing(answers) -> None:
    result = score_odi(answers)
    missing = answers.count(None)
    assert (result.value is None) is (missing >= 2)
    assert result.answered == 10 - missing
    assert list(result.missing) == [i + 1 for i, v in enumerate(answers) if v is None]
    if result.value is not None:
        assert Decimal(0) <= result.value <= Decimal(100)
        assert result.band in BANDS
        answered = [v for v in answers if v is not None]
        assert result.exact == Fraction(100 * sum(answered), 5 * len(answered))


@given(scorable_odi, st.integers(0, 9))
def test_odi_never_falls_when_one_answer_rises(answers, index) -> None:
    if answers[index] is None or answers[index] == 5:
        return
    worse = list(answers)
    worse[index] += 1
    assert score_odi(worse).exact > score_odi(answers).exact
    assert BANDS.index(score_odi(worse).band) >= BANDS.index(score_odi(answers).band)


@given(complete_odi, st.integers(0, 9))
def test_leaving_a_section_out_moves_the_score_toward_that_sections_answer(answers, index) -> None:
    full = score_odi(answers).exact
    partial = list(answers)
    removed = partial[index]
    partial[index] = None
    without = score_odi(partial).exact
    # Dropping an answer above the mean lowers the score; below the mean raises it.
    assert (without - full) * (Fraction(removed * 20) - full) <= 0


@given(odi_answers, st.randoms())
def test_odi_score_does_not_depend_on_section_order(answers, rnd) -> None:
    shuffled = list(answers)
    rnd.shuffle(shuffled)
    assert score_odi(shuffled).value == score_odi(answers).value


@given(st.fractions(min_value=-1000, max_value=1000, max_denominator=10_000))
def test_round2_equals_decimal_round_half_up(value: Fraction) -> None:
    with decimal.localcontext() as ctx:
        ctx.prec = 60
        exact = Decimal(value.numerator) / Decimal(value.denominator)
        assert round2(value) == exact.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)


@given(st.lists(odi_answers, min_size=1, max_size=40))
def test_vectorised_odi_scoring_equals_the_per_response_path(responses) -> None:
    scores, answered = score_odi_array(as_array(responses))
    codes = odi_band_codes(scores)
    for row, vec_score, vec_answered, code in zip(responses, scores, answered, codes, strict=True):
        scalar = score_odi(row)
        assert vec_answered == scalar.answered
        if scalar.value is None:
            assert np.isnan(vec_score) and code == -1
        else:
            assert vec_score == float(scalar.value)  # bit for bit
            assert BANDS[code] == scalar.band


@given(st.lists(st.tuples(odi_answers, odi_answers), min_size=1, max_size=30))
def test_vectorised_odi_responders_equal_the_per_response_calls(pairs) -> None:
    t = responder_thresholds()
    by_points, by_relative, known, relative_known = odi_responder_array(
        as_array([b for b, _ in pairs]), as_array([f for _, f in pairs]), points=t.odi_points, relative=t.odi_relative
    )
    for i, (b, f) in enumerate(pairs):
        points_call, relative_call = responders(score_odi(b), score_odi(f), t)
        assert bool(known[i]) is (points_call.responder is not None)
        assert bool(relative_known[i]) is (relative_call.responder is not None)
        assert bool(by_points[i]) is bool(points_call.responder)
        assert bool(by_relative[i]) is bool(relative_call.responder)


def test_vectorised_odi_responders_keep_an_exact_thirty_percent() -> None:
    # 20/45 -> 14/45: 44.44 -> 31.11 rounded is 29.995 %, exactly 30 % unrounded: a responder.
    base = [[5, 5, 5, 5, 0, 0, 0, 0, 0, None]]
    follow = [[5, 5, 4, 0, 0, 0, 0, 0, 0, None]]
    _, by_relative, _, _ = odi_responder_array(as_array(base), as_array(follow), points=10, relative=0.3)
    assert by_relative[0]
    assert responders(score_odi(base[0]), score_odi(follow[0]), responder_thresholds())[1].responder


@given(st.integers(0, 10), st.integers(0, 10))
def test_vectorised_nprs_responders_equal_the_per_response_call(baseline: int, follow_up: int) -> None:
    t = responder_thresholds()
    call, _ = responders(score_nprs(baseline, None), score_nprs(follow_up, None), t)
    hit, known = responder_array([baseline], [follow_up], points=float(t.nprs_points), relative=float(t.nprs_relative))
    assert known[0] and bool(hit[0]) is call.responder


zcq_severity = st.lists(st.none() | st.integers(1, 5), min_size=6, max_size=6).flatmap(
    lambda six: st.sampled_from([None, 1, 3, 5]).map(lambda balance: [*six, balance])
)
zcq_four = st.lists(st.none() | st.integers(1, 4), min_size=5, max_size=5)
zcq_sat = st.lists(st.none() | st.integers(1, 4), min_size=6, max_size=6)


@given(zcq_severity, zcq_four, zcq_sat)
def test_zcq_subscales_stay_in_range_and_follow_their_missing_item_allowances(sev, fun, sat) -> None:
    result = score_zcq(sev, fun, sat)
    for name, answers, top, allowed in (("severity", sev, 5, 2), ("function", fun, 4, 1), ("satisfaction", sat, 4, 1)):
        sub = result.subscale(name)
        assert (sub.value is None) is (answers.count(None) > allowed)
        if sub.value is not None:
            assert Decimal(1) <= sub.value <= Decimal(top)


@given(zcq_severity, zcq_four, st.integers(0, 4))
def test_zcq_function_never_falls_when_one_answer_rises(sev, fun, index) -> None:
    if fun[index] is None or fun[index] == 4 or fun.count(None) > 1:
        return
    worse = list(fun)
    worse[index] += 1
    assert score_zcq(sev, worse).subscale("function").exact > score_zcq(sev, fun).subscale("function").exact


@given(st.integers(0, 9), st.integers().filter(lambda v: not 0 <= v <= 5))
def test_any_odi_answer_outside_0_to_5_is_rejected_naming_its_section(index: int, value: int) -> None:
    answers: list[int | None] = [1] * 10
    answers[index] = value
    with pytest.raises(InvalidAnswer) as caught:
        score_odi(answers)
    assert caught.value.item_id == f"odi-{index + 1}"


@given(odi_answers)
def test_odi_answers_survive_a_fhir_round_trip(answers) -> None:
    mapping = {f"odi-{i}": v for i, v in enumerate(answers, start=1)}
    resource = questionnaire_response("odi", mapping, subject="Patient/1", authored="2025-06-10")
    back = read_questionnaire_response(resource)
    assert back.answers == {k: v for k, v in mapping.items() if v is not None}
    assert back.score().value == score_odi(answers).value
