"""The rules as data: the shipped file cites its sources, thresholds are configurable, bad files fail loudly,
and the condition language keeps unknown apart from false."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest
import yaml

from mildpath.content.sources import ContentError, bibliography
from mildpath.content.triage import TRIAGE_FILE, load_triage_rules
from mildpath.domain.diary import DiaryEntry
from mildpath.domain.errors import InvalidInput
from mildpath.domain.triage import TriageLevel, TriageRules, classify, parse_condition


def shipped_data() -> dict[str, Any]:
    return yaml.safe_load(TRIAGE_FILE.read_text(encoding="utf-8"))


def write(tmp_path: Path, data: dict[str, Any]) -> Path:
    path = tmp_path / "site-triage.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    return path


def test_the_shipped_rules_load_once(rules: TriageRules) -> None:
    assert load_triage_rules() is rules


def test_every_rule_threshold_and_advice_cites_a_known_source(rules: TriageRules) -> None:
    known = set(bibliography())
    for rule in rules.rules:
        assert rule.sources and set(rule.sources) <= known, rule.id
    for name, sources in rules.threshold_sources.items():
        assert sources and set(sources) <= known, name
    for advice in rules.advice.values():
        assert advice.sources and set(advice.sources) <= known


def test_every_level_has_advice_and_a_rule(rules: TriageRules) -> None:
    assert set(rules.advice) == set(TriageLevel)
    assert {rule.level for rule in rules.rules} == set(TriageLevel)


def test_fever_is_38_point_0_celsius_as_the_contract_says(rules: TriageRules) -> None:
    assert rules.thresholds["fever_c"] == 38.0


@pytest.mark.parametrize(
    ("rule_id", "level"),
    [
        ("ces-saddle-numbness", "emergency"),
        ("ces-bladder-bowel", "emergency"),
        ("ces-weakness-both-legs", "emergency"),
        ("new-leg-weakness", "emergency"),
        ("new-leg-numbness", "emergency"),
        ("fever-measured", "same_day"),
        ("wound-drainage", "same_day"),
        ("positional-headache", "same_day"),
    ],
)
def test_red_flags_have_the_level_of_the_reference(rules: TriageRules, rule_id: str, level: str) -> None:
    assert rules.rule(rule_id).level.value == level


def test_a_threshold_can_be_changed_for_a_site(rules: TriageRules) -> None:
    site = rules.with_thresholds({"fever_c": 38.3})
    assert classify(DiaryEntry(temperature_c=38.0), site).level is TriageLevel.EXPECTED
    assert classify(DiaryEntry(temperature_c=38.3), site).level is TriageLevel.SAME_DAY
    assert "38.3 °C or more" in classify(DiaryEntry(), site).advice
    assert rules.thresholds["fever_c"] == 38.0  # the shipped rules are untouched


def test_an_unknown_threshold_override_is_refused(rules: TriageRules) -> None:
    with pytest.raises(InvalidInput, match="fever_f"):
        rules.with_thresholds({"fever_f": 100.4})


def test_a_site_file_changes_the_first_week(tmp_path: Path) -> None:
    data = shipped_data()
    data["thresholds"]["first_week_days"]["value"] = 14
    site = load_triage_rules(write(tmp_path, data))
    entry = DiaryEntry(days_since_procedure=10, pain_back=8, baseline_pain_back=5)
    assert classify(entry, site).level is TriageLevel.EXPECTED
    assert classify(entry, load_triage_rules()).level is TriageLevel.REVIEW


def test_a_site_may_send_silent_entries_to_review(tmp_path: Path) -> None:
    data = shipped_data()
    data["no_warning_sign"]["level"] = "review"
    assert classify(DiaryEntry(), load_triage_rules(write(tmp_path, data))).level is TriageLevel.REVIEW


def _break(path: list[Any], value: Any) -> dict[str, Any]:
    data = copy.deepcopy(shipped_data())
    target: Any = data
    for key in path[:-1]:
        target = target[key]
    target[path[-1]] = value
    return data


BROKEN = [
    ("unknown source id", ["rules", 0, "sources"], ["no-such-source"], "no-such-source"),
    ("no source", ["rules", 0, "sources"], [], "cites no source"),
    ("unknown operator", ["rules", 0, "when"], {"is": "saddle_numbness"}, "unknown operator"),
    ("unknown field", ["rules", 0, "when"], {"answered_yes": "saddle_numbnes"}, "saddle_numbnes"),
    ("number compared with text", ["rules", 5, "when"], {"compare": ["temperature_c", ">=", "hot"]}, "number"),
    ("unknown threshold", ["rules", 5, "when"], {"compare": ["temperature_c", ">=", "$fever_f"]}, "fever_f"),
    ("unknown level", ["rules", 0, "level"], "urgent", "not a level"),
    ("unknown placeholder", ["rules", 0, "reason"], "You said {saddle}.", "{saddle}"),
    ("missing advice", ["advice", "review"], None, "advice"),
    ("threshold not a number", ["thresholds", "fever_c", "value"], "38", "fever_c"),
]


@pytest.mark.parametrize(("path", "value", "words"), [b[1:] for b in BROKEN], ids=[b[0] for b in BROKEN])
def test_a_broken_rules_file_fails_loudly(tmp_path: Path, path: list[Any], value: Any, words: str) -> None:
    data = _break(path, value)
    if value is None:
        del data[path[0]][path[1]]
    with pytest.raises(ContentError, match="site-triage.yaml") as caught:
        load_triage_rules(write(tmp_path, data))
    assert words in str(caught.value)


def test_a_duplicate_rule_id_is_refused(tmp_path: Path) -> None:
    data = shipped_data()
    data["rules"].append(copy.deepcopy(data["rules"][0]))
    with pytest.raises(ContentError, match="twice"):
        load_triage_rules(write(tmp_path, data))


# ------------------------------------------------------------------------- the condition language

THRESHOLDS = {"fever_c": 38.0, "by": 2}
YES, NO, BLANK = DiaryEntry(new_weakness=True), DiaryEntry(new_weakness=False), DiaryEntry()
W = {"answered_yes": "new_weakness"}
N = {"answered_yes": "new_numbness"}

KLEENE = [
    ("yes is true", W, YES, True),
    ("no is false", W, NO, False),
    ("not reported is unknown, never false", W, BLANK, None),
    ("not of unknown stays unknown", {"not": W}, BLANK, None),
    ("any with one true is true", {"any": [W, N]}, YES, True),
    ("any with false and unknown is unknown", {"any": [W, N]}, NO, None),
    ("all with one false is false", {"all": [W, N]}, NO, False),
    ("all with true and unknown is unknown", {"all": [W, N]}, YES, None),
    ("all_reported ignores the unknown operand", {"all_reported": [W, N]}, YES, True),
    ("all_reported of nothing known is unknown", {"all_reported": [W, N]}, BLANK, None),
    (
        "compare against a threshold",
        {"compare": ["temperature_c", ">=", "$fever_c"]},
        DiaryEntry(temperature_c=38.0),
        True,
    ),
    ("rise needs both values", {"rise": ["pain_back", "baseline_pain_back", "$by"]}, DiaryEntry(pain_back=9), None),
    (
        "rise by the threshold",
        {"rise": ["pain_back", "baseline_pain_back", "$by"]},
        DiaryEntry(pain_back=9, baseline_pain_back=7),
        True,
    ),
    (
        "fall short of the threshold",
        {"fall": ["pain_leg", "baseline_pain_leg", "$by"]},
        DiaryEntry(pain_leg=6, baseline_pain_leg=7),
        False,
    ),
    (
        "includes on an empty incision list is false",
        {"includes": ["incision", ["drainage"]]},
        DiaryEntry(incision=()),
        False,
    ),
    (
        "one_of a choice",
        {"one_of": ["pain_compared_with_before", ["same", "worse"]]},
        DiaryEntry(pain_compared_with_before="same"),
        True,
    ),
]


@pytest.mark.parametrize(("data", "entry", "expected"), [k[1:] for k in KLEENE], ids=[k[0] for k in KLEENE])
def test_conditions_use_three_valued_logic(data: dict[str, Any], entry: DiaryEntry, expected: bool | None) -> None:
    assert parse_condition(data).evaluate(entry, THRESHOLDS) is expected


def test_a_condition_describes_itself() -> None:
    condition = parse_condition({"all": [W, {"compare": ["temperature_c", ">=", "$fever_c"]}]})
    assert condition.describe() == "(new_weakness is yes and temperature_c >= $fever_c)"


@pytest.mark.parametrize(
    "data",
    [
        {"answered_yes": "pain_back"},
        {"compare": ["pain_compared_with_before", ">=", "worse"]},
        {"includes": ["pain_back", ["x"]]},
        {"any": []},
        {"answered_yes": "new_weakness", "not": {}},
        "new_weakness",
    ],
    ids=["yes on a number", "order on a choice", "includes on a number", "empty any", "two operators", "bare text"],
)
def test_an_ill_typed_condition_is_refused(data: Any) -> None:
    with pytest.raises(InvalidInput):
        parse_condition(data)
