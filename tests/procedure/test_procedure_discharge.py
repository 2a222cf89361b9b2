"""Observation and same-day discharge: the §5.1 criteria, fever, the leg check and the overnight stay."""

from __future__ import annotations

import pytest

from mildpath.domain.errors import InvalidRecord, RuleViolation
from mildpath.domain.procedure import (
    DischargeKind,
    DischargeOutcome,
    DischargeReadiness,
    check_discharge_outcome,
    discharge_home,
    evaluate_discharge,
    keep_overnight,
    validate_observation,
)
from tests.procedure.factories import at, normal_legs, observation, ready_observations

READY = DischargeReadiness(escort_present=True, escort_name="Paul", written_instructions_given=True)


def evaluate(policies, observations, readiness=READY):
    return evaluate_discharge(observations, readiness, policy=policies.discharge)


def unmet(policies, observations, readiness=READY) -> dict[str, str]:
    return {c.id: c.reason for c in evaluate(policies, observations, readiness).unmet}


def test_a_recovered_patient_with_an_escort_and_instructions_meets_the_criteria(policies):
    evaluation = evaluate(policies, ready_observations())
    assert evaluation.met, evaluation.unmet
    outcome = discharge_home(evaluation, at(11), procedure_end=at(9, 15))
    assert outcome == DischargeOutcome(kind=DischargeKind.HOME, at=at(11))


def test_the_criteria_read_the_latest_value_whatever_the_order_of_entries(policies):
    entries = [
        observation(9, 30, aldrete=7, neuro=normal_legs()),
        observation(10, 0, aldrete=9),
        observation(10, 30, padss=10),
    ]
    assert evaluate(policies, entries).met
    assert evaluate(policies, list(reversed(entries))).met


@pytest.mark.parametrize(
    ("aldrete", "padss", "expected_unmet"),
    [
        pytest.param(None, None, {"aldrete", "padss"}, id="nothing-scored"),
        pytest.param(8, 10, {"aldrete", "padss"}, id="aldrete-8-holds-padss-back"),
        pytest.param(9, None, {"padss"}, id="padss-not-scored"),
        pytest.param(9, 8, {"padss"}, id="padss-8"),
        pytest.param(10, 9, set(), id="both-at-threshold-or-above"),
    ],
)
def test_aldrete_9_then_padss_9(policies, aldrete, padss, expected_unmet):
    entries = [observation(9, 30, aldrete=aldrete, neuro=normal_legs()), observation(10, 30, padss=padss)]
    assert set(unmet(policies, entries)) == expected_unmet


def test_padss_waits_for_phase_i_recovery(policies):
    entries = [observation(9, 30, aldrete=8, padss=10, neuro=normal_legs())]
    assert "after Phase I recovery" in unmet(policies, entries)["padss"]


@pytest.mark.parametrize(
    ("neuro", "fragment"),
    [
        pytest.param(None, "not recorded", id="no-neuro-check"),
        pytest.param(
            {"left": {"strength": "as_before", "sensation": "as_before"}, "right": {"strength": "as_before"}},
            "right leg sensation",
            id="one-aspect-unchecked",
        ),
        pytest.param(
            {
                "left": {"strength": "worse", "sensation": "as_before"},
                "right": {"strength": "as_before", "sensation": "as_before"},
            },
            "new weakness in the left leg",
            id="new-weakness-left",
        ),
        pytest.param(
            {
                "left": {"strength": "as_before", "sensation": "as_before"},
                "right": {"strength": "as_before", "sensation": "worse"},
            },
            "new numbness in the right leg",
            id="new-numbness-right",
        ),
    ],
)
def test_both_legs_must_be_checked_and_unchanged(policies, neuro, fragment):
    entries = [observation(9, 30, aldrete=9, padss=10, neuro=neuro)]
    reason = unmet(policies, entries)["legs"]
    assert fragment in reason


def test_new_leg_weakness_is_called_an_emergency(policies):
    legs = normal_legs() | {"left": {"strength": "worse", "sensation": "worse"}}
    reason = unmet(policies, [observation(9, 30, aldrete=9, padss=10, neuro=legs)])["legs"]
    assert "emergency" in reason and "epidural haematoma" in reason


@pytest.mark.parametrize(
    ("readiness", "missing"),
    [
        pytest.param(DischargeReadiness(written_instructions_given=True), "escort", id="no-escort"),
        pytest.param(DischargeReadiness(escort_present=True), "instructions", id="no-written-instructions"),
    ],
)
def test_an_escort_and_written_instructions_are_required(policies, readiness, missing):
    assert set(unmet(policies, ready_observations(), readiness)) == {missing}


@pytest.mark.parametrize(
    ("temperature", "blocked"),
    [
        pytest.param(37.9, False, id="37.9"),
        pytest.param(38.0, True, id="38.0-is-fever"),
        pytest.param(38.6, True, id="38.6"),
    ],
)
def test_a_fever_at_the_last_check_blocks_discharge(policies, temperature, blocked):
    entries = [*ready_observations(), observation(10, 45, vitals={"temperature_c": temperature})]
    assert ("fever" in unmet(policies, entries)) is blocked


def test_an_earlier_fever_that_settled_does_not_block(policies):
    entries = [observation(9, 0, vitals={"temperature_c": 38.2}), *ready_observations()]
    assert evaluate(policies, entries).met


def test_discharge_home_is_refused_while_a_criterion_is_unmet(policies):
    evaluation = evaluate(policies, ready_observations(), DischargeReadiness(written_instructions_given=True))
    with pytest.raises(RuleViolation) as caught:
        discharge_home(evaluation, at(11))
    assert caught.value.data["unmet"] == ["escort"]


def test_discharge_cannot_precede_the_end_of_the_procedure(policies):
    with pytest.raises(InvalidRecord, match="before the procedure ended"):
        discharge_home(evaluate(policies, ready_observations()), at(9), procedure_end=at(9, 15))


def test_an_overnight_stay_is_recorded_with_its_reason():
    outcome = keep_overnight("  nausea after sedation, PADSS 7  ", at(15), procedure_end=at(9, 15))
    assert outcome.kind is DischargeKind.OVERNIGHT and outcome.reason == "nausea after sedation, PADSS 7"


@pytest.mark.parametrize("reason", ["", "   "])
def test_an_overnight_stay_needs_a_reason(reason):
    with pytest.raises(InvalidRecord, match="needs a reason"):
        keep_overnight(reason, at(15))
    with pytest.raises(InvalidRecord, match="needs a reason"):
        check_discharge_outcome(DischargeOutcome(kind=DischargeKind.OVERNIGHT, at=at(15), reason=reason))


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        pytest.param({"pain": 11}, "pain", id="pain-above-10"),
        pytest.param({"aldrete": 12}, "aldrete", id="aldrete-above-10"),
        pytest.param({"padss": -1}, "padss", id="padss-negative"),
        pytest.param({"vitals": {"spo2": 101}}, "vitals.spo2", id="spo2-above-100"),
        pytest.param({"vitals": {"temperature_c": 100.4}}, "vitals.temperature_c", id="fahrenheit-typed-as-celsius"),
        pytest.param({"vitals": {"heart_rate": 0}}, "vitals.heart_rate", id="heart-rate-zero"),
    ],
)
def test_observation_values_out_of_range_are_refused(policies, fields, field):
    with pytest.raises(InvalidRecord) as caught:
        validate_observation(observation(9, 30, **fields), policies.discharge)
    assert caught.value.field == field


def test_a_plausible_observation_passes(policies):
    validate_observation(ready_observations()[0], policies.discharge)
