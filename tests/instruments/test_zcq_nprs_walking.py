"""ZCQ subscale means and their missing-item rules; NPRS back and leg; walking tolerance capped at 30."""

from __future__ import annotations

from decimal import Decimal

import pytest

from mildpath.domain.errors import InvalidAnswer
from mildpath.domain.instruments import score, score_nprs, score_walking, score_zcq

SEVERITY = [2, 3, 3, 2, 2, 1, 3]  # 16 / 7
FUNCTION = [2, 2, 1, 1, 1]  # 7 / 5
SATISFACTION = [1, 2, 2, 1, 2, 2]  # 10 / 6


def test_zcq_scores_each_subscale_as_the_mean_of_its_answers() -> None:
    result = score_zcq(SEVERITY, FUNCTION, SATISFACTION)
    assert result.subscale("severity").value == Decimal("2.29")
    assert result.subscale("function").value == Decimal("1.40")
    assert result.subscale("satisfaction").value == Decimal("1.67")
    assert result.value is None and result.answered == 18


@pytest.mark.parametrize(
    ("subscale", "answers", "scored"),
    [
        ("severity", [2, None, 3, None, 2, 1, 3], True),
        ("severity", [None, None, None, 2, 2, 1, 3], False),
        ("function", [2, None, 1, 1, 1], True),
        ("function", [2, None, None, 1, 1], False),
        ("satisfaction", [1, 2, None, 1, 2, 2], True),
        ("satisfaction", [1, None, None, 1, 2, 2], False),
    ],
    ids=[
        "severity-2-missing",
        "severity-3-missing",
        "function-1-missing",
        "function-2-missing",
        "satisfaction-1-missing",
        "satisfaction-2-missing",
    ],
)
def test_zcq_missing_item_allowance_per_subscale(subscale: str, answers: list[int | None], scored: bool) -> None:
    parts = {"severity": SEVERITY, "function": FUNCTION, "satisfaction": SATISFACTION, subscale: answers}
    result = score_zcq(parts["severity"], parts["function"], parts["satisfaction"]).subscale(subscale)
    assert (result.value is not None) is scored
    assert scored or (result.reason and "unanswered" in result.reason)


def test_zcq_balance_item_accepts_only_one_three_or_five() -> None:
    score_zcq([2, 3, 3, 2, 2, 1, 5], FUNCTION)
    with pytest.raises(InvalidAnswer) as caught:
        score_zcq([2, 3, 3, 2, 2, 1, 2], FUNCTION)
    assert caught.value.item_id == "zcq-7"


def test_zcq_without_satisfaction_says_it_was_not_asked() -> None:
    sat = score_zcq(SEVERITY, FUNCTION).subscale("satisfaction")
    assert sat.value is None and sat.reason and "after treatment" in sat.reason


def test_zcq_refuses_satisfaction_answers_before_treatment() -> None:
    with pytest.raises(InvalidAnswer) as caught:
        score_zcq(SEVERITY, FUNCTION, [None, 2, 2, 1, 2, 2], after_treatment=False)
    assert caught.value.item_id == "zcq-14"


@pytest.mark.parametrize(
    ("severity", "function", "item"),
    [
        ([2, 3, 3, 2, 2, 1], FUNCTION, "zcq"),  # six severity answers
        (SEVERITY, [2, 2, 5, 1, 1], "zcq-10"),  # function answers stop at 4
        ([0, 3, 3, 2, 2, 1, 3], FUNCTION, "zcq-1"),
    ],
    ids=["wrong-count", "function-five", "severity-zero"],
)
def test_zcq_rejects_invalid_answers_naming_the_item(severity: list[int], function: list[int], item: str) -> None:
    with pytest.raises(InvalidAnswer) as caught:
        score_zcq(severity, function)
    assert caught.value.item_id == item


def test_zcq_scores_from_one_mapping_of_item_ids() -> None:
    answers = {f"zcq-{n}": v for n, v in enumerate([*SEVERITY, *FUNCTION, *SATISFACTION], start=1)}
    result = score("zcq", answers)
    assert [s.value for s in result.subscales] == [Decimal("2.29"), Decimal("1.40"), Decimal("1.67")]


def test_nprs_scores_back_and_leg_separately() -> None:
    result = score_nprs(6, None)
    assert result.subscale("back").value == Decimal("6.00")
    assert result.subscale("leg").value is None and result.missing == (2,)


@pytest.mark.parametrize(("back", "item"), [(11, "nprs-back"), (-1, "nprs-back"), ("high", "nprs-back")])
def test_nprs_rejects_values_outside_zero_to_ten(back: object, item: str) -> None:
    with pytest.raises(InvalidAnswer) as caught:
        score_nprs(back, 3)  # type: ignore[arg-type]
    assert caught.value.item_id == item


@pytest.mark.parametrize(
    ("minutes", "value"),
    [(0, "0.00"), (12.5, "12.50"), ("7.25", "7.25"), (30, "30.00"), (45, "30.00"), (1000, "30.00")],
    ids=["zero", "decimal", "text", "thirty", "capped", "far-over"],
)
def test_walking_tolerance_is_capped_at_thirty_minutes(minutes: object, value: str) -> None:
    assert score_walking(minutes).value == Decimal(value)  # type: ignore[arg-type]


@pytest.mark.parametrize("minutes", [-1, "soon", True, float("inf")], ids=["negative", "text", "bool", "inf"])
def test_walking_tolerance_rejects_what_is_not_a_time(minutes: object) -> None:
    with pytest.raises(InvalidAnswer) as caught:
        score_walking(minutes)  # type: ignore[arg-type]
    assert caught.value.item_id == "walking-minutes"


def test_walking_tolerance_unanswered_has_no_value() -> None:
    assert score_walking(None).value is None


def test_score_dispatch_rejects_unknown_items_and_instruments() -> None:
    with pytest.raises(InvalidAnswer):
        score("nprs", {"nprs-arm": 3})
    with pytest.raises(InvalidAnswer):
        score("sf36", {})
