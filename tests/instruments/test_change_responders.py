"""Change from baseline and responders: ODI 10 points (headline) and 30 %, NPRS 2 points or 30 %, ZCQ composite."""

from __future__ import annotations

from decimal import Decimal
from fractions import Fraction

import pytest

from mildpath.content.instruments import responder_content, responder_thresholds
from mildpath.content.sources import bibliography
from mildpath.domain.instruments import (
    ResponderThresholds,
    Score,
    improvement,
    responders,
    score_nprs,
    score_odi,
    score_walking,
    score_zcq,
)


@pytest.fixture(scope="module")
def t() -> ResponderThresholds:
    return responder_thresholds()


def odi_of(total: int, missing_one: bool = False) -> Score:
    """An ODI response with this sum, spread over the sections (section 10 left out if ``missing_one``)."""
    n = 9 if missing_one else 10
    answers: list[int | None] = [min(5, max(0, total - 5 * i)) for i in range(n)]
    assert sum(a for a in answers if a is not None) == total
    return score_odi(answers + [None] * (10 - n))


def test_thresholds_come_from_content_with_their_sources(t: ResponderThresholds) -> None:
    assert (t.odi_points, t.odi_relative) == (10, Fraction(3, 10))
    assert (t.nprs_points, t.nprs_relative) == (2, Fraction(3, 10))
    assert (t.zcq_severity_points, t.zcq_function_points, t.zcq_satisfaction_max) == (
        Fraction(1, 2),
        Fraction(1, 2),
        Fraction(5, 2),
    )
    for info in responder_content().values():
        assert info.sources and all(s in bibliography() for s in info.sources)
    assert responder_content()["odi_points"].headline
    assert not responder_content()["zcq_severity_points"].verified  # the reference: "not re-verified"


@pytest.mark.parametrize(
    ("baseline", "follow_up", "points", "relative"),
    [
        (25, 20, True, False),  # 50 -> 40: 10 points, 20 %
        (20, 16, False, False),  # 40 -> 32: 8 points, 20 %
        (10, 6, False, True),  # 20 -> 12: 8 points, 40 %
        (10, 7, False, True),  # 20 -> 14: 6 points, exactly 30 %
        (30, 26, False, False),  # 60 -> 52: 8 points, 13 %
        (10, 10, False, False),
        (10, 15, False, False),  # worse
    ],
    ids=["10-points", "8-points-20pct", "8-points-40pct", "6-points-30pct", "8-points-13pct", "same", "worse"],
)
def test_odi_responder_definitions(
    t: ResponderThresholds, baseline: int, follow_up: int, points: bool, relative: bool
) -> None:
    by_points, by_relative = responders(odi_of(baseline), odi_of(follow_up), t)
    assert (by_points.definition, by_points.headline, by_points.responder) == ("odi-points", True, points)
    assert (by_relative.definition, by_relative.headline, by_relative.responder) == ("odi-relative", False, relative)


def test_odi_improvement_of_exactly_ten_points_between_nine_section_scores_counts() -> None:
    baseline, follow_up = odi_of(16, missing_one=True), odi_of(11, missing_one=True)  # 35.56 -> 24.44
    call = responders(baseline, follow_up, responder_thresholds())[0]
    assert call.changes[0].improvement_2dp == Decimal("11.11")
    tight = improvement("odi", Fraction(1600, 45), Fraction(1150, 45))
    assert tight.improvement == 10  # 35.56 -> 25.56 is exactly 10 points, not 9.999...


def test_odi_relative_change_is_undefined_at_a_baseline_of_zero(t: ResponderThresholds) -> None:
    by_points, by_relative = responders(odi_of(0), odi_of(0), t)
    assert by_points.responder is False
    assert by_relative.responder is None


def test_odi_responder_is_unknown_when_a_score_is_missing(t: ResponderThresholds) -> None:
    no_score = score_odi([1, 1, None, None, 1, 1, 1, 1, 1, 1])
    calls = responders(odi_of(30), no_score, t)
    assert [c.responder for c in calls] == [None, None]
    assert "no score" in calls[0].reason


@pytest.mark.parametrize(
    ("back", "expected"),
    [((8, 6), True), ((8, 7), False), ((3, 2), True), ((2, 1), True), ((10, 8), True), ((0, 0), False)],
    ids=["2-points", "1-point-12pct", "1-point-33pct", "1-point-50pct", "2-points-20pct", "baseline-zero"],
)
def test_nprs_responder_is_two_points_or_thirty_percent(
    t: ResponderThresholds, back: tuple[int, int], expected: bool
) -> None:
    back_call, leg_call = responders(score_nprs(back[0], 5), score_nprs(back[1], None), t)
    assert (back_call.definition, back_call.responder) == ("nprs-back", expected)
    assert (leg_call.definition, leg_call.responder) == ("nprs-leg", None)


BASE_SEV, BASE_FUN = [4, 4, 4, 4, 3, 3, 3], [3, 3, 3, 2, 2]  # 25/7 = 3.57, 13/5 = 2.6


@pytest.mark.parametrize(
    ("severity", "function", "satisfaction", "expected"),
    [
        ([3, 3, 3, 3, 3, 3, 3], [2, 2, 2, 2, 2], [2, 2, 2, 2, 3, 3], True),  # -0.57, -0.6, 2.33
        ([3, 3, 3, 3, 3, 3, 3], [2, 2, 2, 2, 2], [3, 3, 3, 2, 2, 2], True),  # satisfaction exactly 2.5
        ([3, 3, 3, 3, 3, 3, 3], [2, 2, 2, 2, 2], [3, 3, 3, 3, 2, 2], False),  # satisfaction 2.67
        ([4, 4, 4, 3, 3, 3, 3], [2, 2, 2, 2, 2], [1, 1, 1, 1, 1, 1], False),  # severity -0.14
        ([3, 3, 3, 3, 3, 3, 3], [3, 3, 2, 2, 2], [1, 1, 1, 1, 1, 1], False),  # function -0.4
        ([3, 3, 3, 3, 3, 3, 3], [2, 2, 2, 2, 2], None, None),  # satisfaction not asked: unknown
    ],
    ids=["responder", "satisfaction-2.5", "satisfaction-2.67", "severity-short", "function-short", "no-sat"],
)
def test_zcq_composite_needs_severity_function_and_satisfaction(
    t: ResponderThresholds,
    severity: list[int],
    function: list[int],
    satisfaction: list[int] | None,
    expected: bool | None,
) -> None:
    (call,) = responders(score_zcq(BASE_SEV, BASE_FUN), score_zcq(severity, function, satisfaction), t)
    assert (call.definition, call.responder) == ("zcq-composite", expected)
    assert "zcq-responder" in call.sources


def test_walking_tolerance_has_no_responder_definition(t: ResponderThresholds) -> None:
    assert responders(score_walking(5), score_walking(20), t) == ()


def test_responders_refuse_to_compare_different_instruments(t: ResponderThresholds) -> None:
    with pytest.raises(ValueError):
        responders(odi_of(20), score_walking(20), t)
