"""ODI v2.1a scoring: the worked examples of the sources, the missing-section rule, the bands, invalid answers."""

from __future__ import annotations

from decimal import Decimal
from fractions import Fraction

import numpy as np
import pytest

from mildpath.domain.errors import InvalidAnswer
from mildpath.domain.instruments import odi_band, score_odi, score_odi_array
from mildpath.domain.instruments.base import round2
from mildpath.domain.instruments.vectorised import odi_band_names


def test_odi_scores_sixteen_of_fifty_as_thirty_two_percent() -> None:
    result = score_odi([3, 3, 2, 1, 2, 1, 1, 1, 1, 1])
    assert result.value == Decimal("32.00")
    assert result.exact == 32
    assert (result.band, result.answered, result.missing) == ("moderate", 10, ())


def test_odi_ignores_an_unanswered_section_in_the_denominator() -> None:
    # 16 of 45 (clinical reference §2.1; contracts §4 asks for two decimals: 35.56)
    result = score_odi([3, 3, 2, 1, 2, 1, 1, None, 1, 2])
    assert result.value == Decimal("35.56")
    assert result.exact == Fraction(1600, 45)
    assert (result.answered, result.missing) == (9, (8,))


@pytest.mark.parametrize(
    "answers",
    [
        pytest.param([3, 3, None, 1, 2, 1, 1, None, 1, 2], id="two-missing"),
        pytest.param([None] * 10, id="nothing-answered"),
        pytest.param([None, None, None, 1, 2, 1, 1, 1, 1, 2], id="three-missing"),
    ],
)
def test_odi_gives_no_score_with_two_or_more_sections_missing(answers: list[int | None]) -> None:
    result = score_odi(answers)
    assert result.value is None and result.exact is None and result.band is None
    assert result.reason and "unanswered" in result.reason


def test_odi_accepts_a_mapping_of_item_ids_where_absent_items_are_missing() -> None:
    answers = {f"odi-{n}": v for n, v in zip(range(1, 11), [3, 3, 2, 1, 2, 1, 1, None, 1, 2], strict=True)}
    del answers["odi-8"]
    assert score_odi(answers).value == Decimal("35.56")


def test_odi_accepts_text_fields_with_blank_as_missing() -> None:
    assert score_odi(["3", "3", "2", "1", "2", "1", "1", "", "1", " 2 "]).value == Decimal("35.56")


@pytest.mark.parametrize(
    ("score", "band"),
    [
        (0, "minimal"),
        (20, "minimal"),
        (Fraction(200, 9), "moderate"),  # 10 of 45 = 22.22
        (40, "moderate"),
        (42, "severe"),
        (60, "severe"),
        (Fraction(560, 9), "crippled"),
        (80, "crippled"),
        (82, "bed_bound"),
        (100, "bed_bound"),
    ],
    ids=lambda v: str(v),
)
def test_odi_bands_follow_the_cut_points(score: Fraction | int, band: str) -> None:
    assert odi_band(score) == band


def test_odi_band_of_a_nine_section_score_of_exactly_twenty_is_minimal() -> None:
    result = score_odi([1, 1, 1, 1, 1, 1, 1, 1, 1, None])  # 9 of 45 = 20 exactly
    assert (result.value, result.band) == (Decimal("20.00"), "minimal")


@pytest.mark.parametrize(
    ("answers", "item"),
    [
        pytest.param([3, 3, 2, 1, 2, 1, 1, 6, 1, 2], "odi-8", id="six"),
        pytest.param([-1, 3, 2, 1, 2, 1, 1, 1, 1, 2], "odi-1", id="negative"),
        pytest.param([3, "x", 2, 1, 2, 1, 1, 1, 1, 2], "odi-2", id="text"),
        pytest.param([3, 3, 2.5, 1, 2, 1, 1, 1, 1, 2], "odi-3", id="fraction"),
        pytest.param([3, 3, 2, True, 2, 1, 1, 1, 1, 2], "odi-4", id="boolean"),
        pytest.param([3, 3, 2, 1, [2], 1, 1, 1, 1, 2], "odi-5", id="list"),
        pytest.param([3, 3, 2, 1, 2, "nan", 1, 1, 1, 2], "odi-6", id="text-nan"),
        pytest.param([3, 3, 2], "odi", id="three-answers"),
        pytest.param([0] * 11, "odi", id="eleven-answers"),
        pytest.param({"odi-11": 2}, "odi-11", id="unknown-item"),
        pytest.param("3,3,2", "odi", id="a-string-not-a-list"),
    ],
)
def test_odi_rejects_invalid_answers_naming_the_item(answers: object, item: str) -> None:
    with pytest.raises(InvalidAnswer) as caught:
        score_odi(answers)  # type: ignore[arg-type]
    assert caught.value.item_id == item
    assert caught.value.message.startswith(f"{item}:")


def test_odi_reads_integral_floats_and_nan_like_the_vectorised_path() -> None:
    assert score_odi([3.0, 3, 2, 1, 2, 1, 1, float("nan"), 1, 2]).value == Decimal("35.56")


@pytest.mark.parametrize(
    ("value", "rounded"),
    [
        (Fraction(1, 200), Decimal("0.01")),  # 0.005 rounds half up
        (Fraction(-1, 200), Decimal("-0.01")),  # ties away from zero, like decimal.ROUND_HALF_UP
        (Fraction(1, 300), Decimal("0.00")),
        (Fraction(2000, 9), Decimal("222.22")),
        (Fraction(2005, 9), Decimal("222.78")),
    ],
    ids=str,
)
def test_round2_rounds_half_up_exactly(value: Fraction, rounded: Decimal) -> None:
    assert round2(value) == rounded


@pytest.mark.parametrize(
    ("value", "item"),
    [(6.0, "odi-3"), (-1.0, "odi-3"), (2.5, "odi-3"), (np.inf, "odi-3")],
    ids=["six", "negative", "fraction", "infinite"],
)
def test_vectorised_scoring_rejects_invalid_cells_naming_section_and_row(value: float, item: str) -> None:
    data = np.zeros((4, 10))
    data[2, 2] = value
    with pytest.raises(InvalidAnswer) as caught:
        score_odi_array(data)
    assert caught.value.item_id == item and "row 2" in caught.value.message


def test_vectorised_scoring_rejects_the_wrong_shape() -> None:
    with pytest.raises(InvalidAnswer):
        score_odi_array(np.zeros((3, 9)))


def test_vectorised_band_names_match_the_per_response_bands() -> None:
    scores, _ = score_odi_array([[1] * 9 + [np.nan], [5] * 10, [np.nan, np.nan] + [1] * 8])
    assert list(odi_band_names(scores)) == ["minimal", "bed_bound", None]
