"""The symptom reader (issue 15 §1): dangerous cases first; every match is the patient's own words."""

from __future__ import annotations

import pytest

from mildpath.content.symptoms import load_symptom_vocabulary
from mildpath.domain.symptoms import read_symptoms

VOCAB = load_symptom_vocabulary()


def read(text: str):  # type: ignore[no-untyped-def]
    return read_symptoms(text, VOCAB)


@pytest.mark.parametrize(
    ("text", "rule"),
    [
        ("I can't pee since this morning", "ces-retention"),
        ("I can't pee, no idea why", "ces-retention"),
        ("no fever and I can't pee", "ces-retention"),
        ("ya no puedo orinar", "ces-retention"),
        ("numbnes in my groin", "ces-saddle-numbness"),
        ("bladdr wont empty", "ces-retention"),
        ("I've never had chest pain like this", "chest-pain"),
        ("the numbness in my leg hasn't gone away", "new-leg-numbness"),
    ],
)
def test_dangerous_phrases_are_never_negated_away(text: str, rule: str) -> None:
    reading = read(text)
    assert reading.level == "emergency"
    assert rule in {m.rule for m in reading.matches}


@pytest.mark.parametrize(
    "text",
    [
        "no fever",
        "not numb anymore",
        "sin fiebre",
        "ya no tengo fiebre",
        "no longer numb",
        "ya se me pasó el hormigueo",
        "no trouble peeing",
        "the bleeding stopped yesterday",
    ],
)
def test_negated_or_resolved_signs_match_nothing(text: str) -> None:
    reading = read(text)
    assert reading.matches == ()
    assert reading.suppressed


def test_uncertainty_raises_at_least_review() -> None:
    assert read("maybe a little numb?").level == "review"
    assert read("creo que no tengo fiebre").level == "review"
    assert read("maybe I can't pee?").level == "emergency"


def test_matches_are_exact_substrings_with_offsets() -> None:
    text = "Todo bien PERO no puedo Orinár desde ayer"
    (match,) = read(text).matches
    assert match.text == text[match.start : match.end] == "no puedo Orinár"
    assert match.to_json() == {
        "text": "no puedo Orinár",
        "rule": "ces-retention",
        "level": "emergency",
        "source": "red-flags-ces",
    }


@pytest.mark.parametrize(
    ("text", "level"),
    [
        ("temp 101.5F", "same_day"),
        ("38,4", "same_day"),
        ("temperature 37.9", None),
        ("temp 100.3 F", None),
        ("it was 38.0 °C", "same_day"),
    ],
)
def test_temperatures_are_compared_with_the_fever_threshold(text: str, level: str | None) -> None:
    assert read(text).level == level


def test_the_fever_threshold_comes_from_the_rules() -> None:
    assert read_symptoms("temp 38.2", VOCAB, fever_c=38.5).level is None


def test_an_unknown_sign_word_is_review_unclassified() -> None:
    (match,) = read("feeling dizzy today").matches
    assert (match.rule, match.level, match.text) == ("unclassified_sign", "review", "dizzy")
    assert read("not dizzy").matches == ()


def test_benign_text_matches_nothing() -> None:
    assert read("I would like to know when I can drive. Walked 20 minutes.").matches == ()
