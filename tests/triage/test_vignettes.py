"""Diary vignettes through the shipped triage rules (issue 6: "a table of at least 40 diary vignettes").

Each row: the entry, the level it must get, and the rules that must explain it, in the order shown to the
patient (most urgent first, then file order; ``no_warning_sign`` first when nothing concerning is reported).
"""

from __future__ import annotations

from typing import Any

import pytest

from mildpath.domain.diary import DiaryEntry
from mildpath.domain.triage import TriageLevel, TriageRules, classify

E, S, R, X = TriageLevel.EMERGENCY, TriageLevel.SAME_DAY, TriageLevel.REVIEW, TriageLevel.EXPECTED
QUIET = "no_warning_sign"
EARLY = "early-soreness"


def v(name: str, entry: dict[str, Any], level: TriageLevel, *rule_ids: str) -> Any:
    return pytest.param(entry, level, rule_ids, id=name)


VIGNETTES = [
    # ------------------------------------------------------------ emergency: cauda equina signs
    v("saddle numbness on day 1", {"days_since_procedure": 1, "saddle_numbness": True}, E, "ces-saddle-numbness"),
    # issue 15 §2: the questions the review found missing
    v("painless retention on day 1", {"days_since_procedure": 1, "urine_trouble": True}, E, "ces-urine-trouble"),
    v("new sexual numbness", {"days_since_procedure": 3, "sexual_numbness_or_dysfunction": True}, E, "ces-sexual"),
    v(
        "chest pain or breathless",
        {"days_since_procedure": 2, "chest_pain_or_breathless": True},
        E,
        "chest-pain-or-breathless",
    ),
    v("a swollen painful calf", {"days_since_procedure": 9, "swollen_calf": True}, E, "swollen-calf"),
    v("wound bleeding on day 10", {"days_since_procedure": 10, "wound_bleeding": True}, S, "wound-bleeding"),
    v("retention answered no", {"days_since_procedure": 10, "urine_trouble": False}, X, QUIET),
    v(
        "new bladder or bowel change on day 3",
        {"days_since_procedure": 3, "bladder_bowel_change": True},
        E,
        "ces-bladder-bowel",
    ),
    v(
        "weakness in both legs on day 10",
        {"days_since_procedure": 10, "bilateral_weakness": True},
        E,
        "ces-weakness-both-legs",
    ),
    v(
        "all three cauda equina signs are all listed",
        {"saddle_numbness": True, "bladder_bowel_change": True, "bilateral_weakness": True},
        E,
        "ces-saddle-numbness",
        "ces-bladder-bowel",
        "ces-weakness-both-legs",
    ),
    v(
        "weakness in both legs without a day is still an emergency",
        {"bilateral_weakness": True},
        E,
        "ces-weakness-both-legs",
    ),
    # ------------------------------------------------------------ emergency: new or progressive deficit
    v(
        "new leg weakness on the procedure day",
        {"days_since_procedure": 0, "new_weakness": True},
        E,
        "new-leg-weakness",
    ),
    v(
        "new leg numbness on day 2",
        {"days_since_procedure": 2, "new_numbness": True, "pain_leg": 3},
        E,
        "new-leg-numbness",
    ),
    v(
        "new leg numbness late (day 60) is still an emergency",
        {"days_since_procedure": 60, "new_numbness": True},
        E,
        "new-leg-numbness",
    ),
    v(
        "new weakness with no pain at all",
        {"days_since_procedure": 1, "new_weakness": True, "pain_back": 0, "pain_leg": 0},
        E,
        "new-leg-weakness",
    ),
    v(
        "numbness and weakness together",
        {"days_since_procedure": 1, "new_weakness": True, "new_numbness": True},
        E,
        "new-leg-weakness",
        "new-leg-numbness",
    ),
    # ------------------------------------------------------------ the most urgent wins
    v(
        "saddle numbness outranks a fever",
        {"days_since_procedure": 4, "saddle_numbness": True, "temperature_c": 38.6},
        E,
        "ces-saddle-numbness",
        "fever-measured",
    ),
    v(
        "new weakness outranks drainage and a positional headache",
        {"days_since_procedure": 3, "new_weakness": True, "incision": ["drainage"], "headache_upright": True},
        E,
        "new-leg-weakness",
        "wound-drainage",
        "positional-headache",
    ),
    v(
        "weakness in both legs outranks pain worse than before",
        {"days_since_procedure": 20, "bilateral_weakness": True, "pain_leg": 9, "baseline_pain_leg": 6},
        E,
        "ces-weakness-both-legs",
        "pain-worse-than-before",
    ),
    v(
        "an emergency on day 2 does not list the reassuring soreness reason",
        {"days_since_procedure": 2, "bladder_bowel_change": True},
        E,
        "ces-bladder-bowel",
    ),
    v(
        "a fever outranks a long flare",
        {"days_since_procedure": 20, "temperature_c": 38.2, "flare_days": 10},
        S,
        "fever-measured",
        "flare-beyond-expected",
    ),
    v(
        "a positional headache outranks no improvement at 6 weeks",
        {"days_since_procedure": 45, "headache_upright": True, "pain_compared_with_before": "same"},
        S,
        "positional-headache",
        "no-improvement-by-six-weeks",
    ),
    v(
        "everything at once: emergency, with every reason above expected, most urgent first",
        {
            "days_since_procedure": 50,
            "new_numbness": True,
            "temperature_c": 39.0,
            "incision": ["redness"],
            "pain_back": 8,
            "baseline_pain_back": 6,
            "flare_days": 9,
        },
        E,
        "new-leg-numbness",
        "fever-measured",
        "wound-redness-or-swelling",
        "pain-worse-than-before",
        "flare-beyond-expected",
        "no-improvement-by-six-weeks",
    ),
    # ------------------------------------------------------------ same day
    v("fever at exactly 38.0 °C", {"days_since_procedure": 3, "temperature_c": 38.0}, S, "fever-measured"),
    v("37.9 °C is not a fever", {"days_since_procedure": 3, "temperature_c": 37.9}, X, QUIET, EARLY),
    v("39.5 °C on day 5", {"days_since_procedure": 5, "temperature_c": 39.5}, S, "fever-measured"),
    v(
        "feeling feverish without a thermometer",
        {"days_since_procedure": 2, "fever_or_chills": True},
        S,
        "fever-or-chills-reported",
    ),
    v(
        "chills and a measured fever are both listed",
        {"temperature_c": 38.1, "fever_or_chills": True},
        S,
        "fever-measured",
        "fever-or-chills-reported",
    ),
    v(
        "chills with a normal thermometer reading still count",
        {"temperature_c": 37.0, "fever_or_chills": True},
        S,
        "fever-or-chills-reported",
    ),
    v("drainage from the wound", {"days_since_procedure": 4, "incision": ["drainage"]}, S, "wound-drainage"),
    v("redness at the wound", {"days_since_procedure": 4, "incision": ["redness"]}, S, "wound-redness-or-swelling"),
    v("swelling at the wound", {"days_since_procedure": 9, "incision": ["swelling"]}, S, "wound-redness-or-swelling"),
    v(
        "redness, swelling and drainage give two reasons",
        {"incision": ["redness", "swelling", "drainage"]},
        S,
        "wound-drainage",
        "wound-redness-or-swelling",
    ),
    v(
        "headache worse when upright on day 2",
        {"days_since_procedure": 2, "headache_upright": True},
        S,
        "positional-headache",
    ),
    # ------------------------------------------------------------ review
    v(
        "pain worse than before on day 8",
        {"days_since_procedure": 8, "pain_back": 7, "baseline_pain_back": 6},
        R,
        "pain-worse-than-before",
    ),
    v(
        "the same pain rise on day 7 is still within the first week",
        {"days_since_procedure": 7, "pain_back": 7, "baseline_pain_back": 6},
        X,
        QUIET,
        EARLY,
    ),
    v(
        "pain equal to before on day 8 is not worse",
        {"days_since_procedure": 8, "pain_back": 6, "baseline_pain_back": 6},
        X,
        QUIET,
    ),
    v(
        "leg pain far worse on day 10",
        {"days_since_procedure": 10, "pain_leg": 9, "baseline_pain_leg": 5},
        R,
        "pain-worse-than-before",
    ),
    v(
        "the patient says worse than before on day 10",
        {"days_since_procedure": 10, "pain_compared_with_before": "worse"},
        R,
        "pain-worse-than-before",
    ),
    v("high pain with no baseline cannot be called worse", {"days_since_procedure": 10, "pain_back": 9}, X, QUIET),
    v("pain worse than before but the day is not reported", {"pain_back": 8, "baseline_pain_back": 5}, X, QUIET),
    v("a flare lasting 8 days", {"days_since_procedure": 20, "flare_days": 8}, R, "flare-beyond-expected"),
    v("a flare lasting 7 days is within the expected days", {"days_since_procedure": 20, "flare_days": 7}, X, QUIET),
    v(
        "no improvement at day 42 (1 point is not clear improvement)",
        {"days_since_procedure": 42, "pain_back": 6, "baseline_pain_back": 7},
        R,
        "no-improvement-by-six-weeks",
    ),
    v(
        "the same ratings on day 41 are before the 6-week visit",
        {"days_since_procedure": 41, "pain_back": 6, "baseline_pain_back": 7},
        X,
        QUIET,
    ),
    v(
        "a 2-point fall by day 42 is improvement",
        {"days_since_procedure": 42, "pain_back": 5, "baseline_pain_back": 7},
        X,
        QUIET,
    ),
    v(
        "improvement in leg pain alone counts as improvement",
        {"days_since_procedure": 42, "pain_back": 7, "baseline_pain_back": 7, "pain_leg": 3, "baseline_pain_leg": 7},
        X,
        QUIET,
    ),
    v(
        "with only leg pain reported, unchanged leg pain is no improvement",
        {"days_since_procedure": 43, "pain_leg": 6, "baseline_pain_leg": 6},
        R,
        "no-improvement-by-six-weeks",
    ),
    v(
        "the patient says the same at day 60",
        {"days_since_procedure": 60, "pain_compared_with_before": "same"},
        R,
        "no-improvement-by-six-weeks",
    ),
    v(
        "the patient says better at day 60",
        {"days_since_procedure": 60, "pain_compared_with_before": "better"},
        X,
        QUIET,
    ),
    v(
        "'better' is overruled by ratings that did not improve",
        {"days_since_procedure": 42, "pain_compared_with_before": "better", "pain_back": 7, "baseline_pain_back": 7},
        R,
        "no-improvement-by-six-weeks",
    ),
    v(
        "worse than before at day 50 gives both review reasons",
        {"days_since_procedure": 50, "pain_leg": 8, "baseline_pain_leg": 6},
        R,
        "pain-worse-than-before",
        "no-improvement-by-six-weeks",
    ),
    # ------------------------------------------------------------ expected
    v("nothing reported at all", {}, X, QUIET),
    v("the procedure day with nothing else", {"days_since_procedure": 0}, X, QUIET, EARLY),
    v(
        "soreness on day 2 with a fine wound",
        {"days_since_procedure": 2, "pain_back": 4, "pain_leg": 2, "incision": ["fine"], "temperature_c": 36.8},
        X,
        QUIET,
        EARLY,
    ),
    v("day 7 is still the first days", {"days_since_procedure": 7, "pain_back": 3}, X, QUIET, EARLY),
    v("day 8 with nothing concerning", {"days_since_procedure": 8, "pain_back": 3}, X, QUIET),
    v(
        "day 30 with low pain and every warning sign answered no",
        {
            "days_since_procedure": 30,
            "pain_back": 2,
            "pain_leg": 1,
            "incision": [],
            "temperature_c": 36.9,
            "new_numbness": False,
            "new_weakness": False,
            "bilateral_weakness": False,
            "saddle_numbness": False,
            "bladder_bowel_change": False,
            "headache_upright": False,
            "fever_or_chills": False,
        },
        X,
        QUIET,
    ),
    v(
        "severe pain (10) on day 3 without a warning sign",
        {"days_since_procedure": 3, "pain_back": 10},
        X,
        QUIET,
        EARLY,
    ),
    v(
        "free text, medicines and activity do not change the level",
        {
            "days_since_procedure": 3,
            "pain_medicines": ["paracetamol"],
            "activity": "walked 10 minutes",
            "notes": "feeling fine",
        },
        X,
        QUIET,
        EARLY,
    ),
]


def test_the_table_has_at_least_forty_vignettes() -> None:
    assert len(VIGNETTES) >= 40


@pytest.mark.parametrize(("entry", "level", "rule_ids"), VIGNETTES)
def test_vignette_gets_its_level_and_reasons(
    rules: TriageRules, entry: dict[str, Any], level: TriageLevel, rule_ids: tuple[str, ...]
) -> None:
    result = classify(DiaryEntry.from_mapping(entry), rules)
    assert result.level is level
    assert result.rule_ids == rule_ids
    assert len(result.reasons) == len(rule_ids)
    assert result.advice == classify(DiaryEntry.from_mapping(entry), rules).advice


def test_every_rule_is_exercised_by_a_vignette(rules: TriageRules) -> None:
    exercised = {rule_id for param in VIGNETTES for rule_id in param.values[2]}
    assert {rule.id for rule in rules.rules} <= exercised


@pytest.mark.parametrize("level", list(TriageLevel), ids=lambda lv: lv.value)
def test_every_level_is_reached_by_a_vignette(level: TriageLevel) -> None:
    assert any(param.values[1] is level for param in VIGNETTES)


@pytest.mark.parametrize(
    ("level", "words"),
    [
        (E, "Call emergency services or go to the emergency department now"),
        (S, "Call the clinic today"),
        (R, "your care team should look at how your recovery is going"),
        (X, "Keep following your recovery plan"),
    ],
    ids=["emergency", "same_day", "review", "expected"],
)
def test_each_level_gives_its_own_advice(rules: TriageRules, level: TriageLevel, words: str) -> None:
    entries = {
        E: {"saddle_numbness": True},
        S: {"temperature_c": 38.0},
        R: {"days_since_procedure": 9, "pain_compared_with_before": "worse"},
        X: {},
    }
    assert words in classify(DiaryEntry.from_mapping(entries[level]), rules).advice


def test_the_fever_reason_shows_the_reading_and_the_threshold(rules: TriageRules) -> None:
    result = classify(DiaryEntry(temperature_c=38.4), rules)
    assert result.reasons == (
        "Your temperature of 38.4 °C is a fever (38.0 °C or more). After a procedure a fever can be a sign of "
        "infection.",
    )


def test_reasons_and_advice_cite_sources_from_the_rules(rules: TriageRules) -> None:
    result = classify(DiaryEntry(new_weakness=True, temperature_c=38.5), rules)
    assert result.sources[:2] == ("post-procedure-triage", "peri-procedural")
    assert "red-flags-ces" in result.sources


def test_the_result_lists_the_fields_not_reported(rules: TriageRules) -> None:
    result = classify(DiaryEntry(days_since_procedure=3, pain_back=2), rules)
    assert "temperature_c" in result.not_reported
    assert "pain_back" not in result.not_reported
