"""The diary entry: every field optional, every invalid value refused with the field named."""

from __future__ import annotations

from typing import Any

import pytest

from mildpath.domain.diary import DiaryEntry, diary_field_names
from mildpath.domain.errors import InvalidInput

INVALID = [
    ("pain_back", 11),
    ("pain_back", -1),
    ("pain_leg", 7.5),
    ("pain_leg", "7"),
    ("pain_back", True),
    ("baseline_pain_back", 12),
    ("baseline_pain_leg", -2),
    ("days_since_procedure", -1),
    ("days_since_procedure", 1.5),
    ("days_since_procedure", "3"),
    ("temperature_c", 100.4),
    ("temperature_c", 29.9),
    ("temperature_c", 45.1),
    ("temperature_c", "38"),
    ("temperature_c", float("nan")),
    ("temperature_c", True),
    ("incision", ["pus"]),
    ("incision", ["fine", "redness"]),
    ("incision", 3),
    ("incision", {"redness": True}),
    ("new_numbness", "yes"),
    ("new_weakness", 1),
    ("saddle_numbness", 0),
    ("bladder_bowel_change", "false"),
    ("headache_upright", []),
    ("fever_or_chills", "no"),
    ("pain_compared_with_before", "much better"),
    ("flare_days", -3),
    ("pain_medicines", [""]),
    ("pain_medicines", [42]),
    ("pain_medicines", ["x"] * 21),
    ("notes", "x" * 2001),
    ("activity", 5),
]


@pytest.mark.parametrize(("field", "value"), INVALID, ids=[f"{f}={v!r}"[:40] for f, v in INVALID])
def test_an_invalid_value_is_refused_naming_the_field(field: str, value: Any) -> None:
    with pytest.raises(InvalidInput) as caught:
        DiaryEntry.from_mapping({field: value})
    assert caught.value.field == field
    assert field in caught.value.message


VALID = [
    ("pain_back", 0, 0),
    ("pain_back", 10, 10),
    ("pain_leg", 7.0, 7),
    ("temperature_c", 30.0, 30.0),
    ("temperature_c", 45.0, 45.0),
    ("temperature_c", 38, 38),
    ("days_since_procedure", 0, 0),
    ("incision", [], ()),
    ("incision", "redness", ("redness",)),
    ("incision", ["fine"], ("fine",)),
    ("pain_medicines", "ibuprofen", ("ibuprofen",)),
    ("new_weakness", False, False),
    ("pain_compared_with_before", "worse", "worse"),
]


@pytest.mark.parametrize(("field", "value", "stored"), VALID, ids=[f"{f}={v!r}" for f, v, _ in VALID])
def test_a_valid_value_is_kept(field: str, value: Any, stored: Any) -> None:
    assert getattr(DiaryEntry.from_mapping({field: value}), field) == stored


def test_every_field_is_optional_and_means_not_reported() -> None:
    entry = DiaryEntry.from_mapping({})
    assert entry.reported() == {}
    assert entry.not_reported() == diary_field_names()


def test_null_is_the_same_as_a_missing_field() -> None:
    assert DiaryEntry.from_mapping({"pain_back": None, "saddle_numbness": None}) == DiaryEntry()


def test_an_unknown_field_is_refused_rather_than_silently_not_reported() -> None:
    with pytest.raises(InvalidInput) as caught:
        DiaryEntry.from_mapping({"saddle_numbnes": True})
    assert caught.value.field == "saddle_numbnes"


def test_an_entry_must_be_a_mapping() -> None:
    with pytest.raises(InvalidInput) as caught:
        DiaryEntry.from_mapping([1, 2])  # type: ignore[arg-type]
    assert caught.value.field == "entry"


def test_a_fahrenheit_reading_is_refused_with_a_hint() -> None:
    with pytest.raises(InvalidInput, match="Fahrenheit"):
        DiaryEntry(temperature_c=100.4)


def test_a_flare_cannot_be_older_than_the_procedure() -> None:
    assert DiaryEntry(days_since_procedure=3, flare_days=4).flare_days == 4
    with pytest.raises(InvalidInput) as caught:
        DiaryEntry(days_since_procedure=3, flare_days=5)
    assert caught.value.field == "flare_days"


def test_direct_construction_validates_too() -> None:
    with pytest.raises(InvalidInput) as caught:
        DiaryEntry(pain_leg=11)
    assert caught.value.field == "pain_leg"


def test_the_cli_contract_fields_are_all_diary_fields() -> None:
    contract = [
        "days_since_procedure",
        "pain_back",
        "pain_leg",
        "incision",
        "temperature_c",
        "new_numbness",
        "new_weakness",
        "bilateral_weakness",
        "saddle_numbness",
        "bladder_bowel_change",
        "headache_upright",
    ]
    assert set(contract) <= set(diary_field_names())


def test_lists_are_stored_as_tuples() -> None:
    entry = DiaryEntry(incision=["redness"], pain_medicines=["ibuprofen"])  # type: ignore[arg-type]
    assert entry.incision == ("redness",) and entry.pain_medicines == ("ibuprofen",)
