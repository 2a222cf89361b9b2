"""The pre-procedure checklist: each item's rule, the start gate and the clinician override."""

from __future__ import annotations

import dataclasses
from datetime import UTC, date, datetime

import pytest

from mildpath.domain.errors import RuleViolation
from mildpath.domain.procedure import (
    ChecklistItemId,
    ChecklistOverride,
    ItemStatus,
    PreProcedureChecklist,
    ProcedurePolicies,
    can_start,
    evaluate_checklist,
    months_before,
)
from tests.procedure.factories import PROCEDURE_DATE, checklist_data, make_checklist

TODAY = PROCEDURE_DATE
OVERRIDE_AT = datetime(2025, 3, 10, 8, 20, tzinfo=UTC)


def evaluate(
    policies: ProcedurePolicies,
    checklist: PreProcedureChecklist,
    procedure_date: date = PROCEDURE_DATE,
    today: date = TODAY,
):
    return evaluate_checklist(checklist, procedure_date, today, policy=policies.checklist)


def status_of(policies, checklist, item: ChecklistItemId, **kwargs) -> ItemStatus:
    return evaluate(policies, checklist, **kwargs).item(item).status


def test_a_complete_checklist_lets_the_procedure_start_without_override(policies):
    evaluation = evaluate(policies, make_checklist())
    assert evaluation.ready
    assert {i.status for i in evaluation.items} <= {ItemStatus.DONE, ItemStatus.NOT_APPLICABLE}
    decision = can_start(evaluation)
    assert decision.allowed and decision.overridden == () and decision.override is None


def test_an_empty_checklist_blocks_the_start_and_lists_every_required_item(policies):
    evaluation = evaluate(policies, PreProcedureChecklist())
    assert all(item.status is ItemStatus.OPEN and item.reasons for item in evaluation.items)
    with pytest.raises(RuleViolation) as caught:
        can_start(evaluation)
    assert sorted(caught.value.data["open_items"]) == sorted(str(i) for i in ChecklistItemId)


OPEN_ONE_ITEM = [
    pytest.param({"consent": {}}, ChecklistItemId.CONSENT_SIGNED, id="consent-unsigned"),
    pytest.param({"imaging": {"study_date": "2024-11-02"}}, ChecklistItemId.IMAGING_REVIEWED, id="imaging-unreviewed"),
    pytest.param({"anticoagulation": {}}, ChecklistItemId.ANTICOAGULATION_PLAN, id="blood-thinner-not-asked"),
    pytest.param({"allergies": {"contrast": "none_known"}}, ChecklistItemId.ALLERGIES_REVIEWED, id="allergies-partial"),
    pytest.param(
        {"instructions": {"fasting_given": True}},
        ChecklistItemId.FASTING_SEDATION_INSTRUCTIONS,
        id="sedation-instructions-missing",
    ),
    pytest.param({"escort": {"arranged": False}}, ChecklistItemId.ESCORT_ARRANGED, id="no-escort"),
    pytest.param({"infection": {"active_infection": True}}, ChecklistItemId.NO_ACTIVE_INFECTION, id="active-infection"),
]


@pytest.mark.parametrize(("overrides", "item"), OPEN_ONE_ITEM)
def test_each_open_required_item_blocks_the_start(policies, overrides, item):
    evaluation = evaluate(policies, make_checklist(**overrides))
    assert [i.item_id for i in evaluation.open_required] == [item]
    with pytest.raises(RuleViolation) as caught:
        can_start(evaluation)
    assert caught.value.data["open_items"] == [str(item)]
    assert evaluation.item(item).label in caught.value.message


def test_a_clinician_override_with_a_reason_lets_the_procedure_start_and_records_what_it_set_aside(policies):
    evaluation = evaluate(policies, make_checklist(escort={"arranged": False}))
    override = ChecklistOverride(by="Dr Moreau", reason="Escort arriving by taxi; confirmed by phone", at=OVERRIDE_AT)
    decision = can_start(evaluation, override)
    assert decision.allowed
    assert decision.overridden == (ChecklistItemId.ESCORT_ARRANGED,)
    assert decision.override == override


@pytest.mark.parametrize(
    ("by", "reason"),
    [pytest.param("Dr Moreau", "   ", id="blank-reason"), pytest.param("", "urgent slot", id="blank-name")],
)
def test_an_override_without_a_reason_or_a_name_does_not_unblock_the_start(policies, by, reason):
    evaluation = evaluate(policies, make_checklist(consent={}))
    with pytest.raises(RuleViolation, match="override needs the clinician's name and a reason"):
        can_start(evaluation, ChecklistOverride(by=by, reason=reason, at=OVERRIDE_AT))


def test_an_override_given_when_nothing_is_open_is_not_kept(policies):
    decision = can_start(evaluate(policies, make_checklist()), ChecklistOverride(by="Dr M", reason="x", at=OVERRIDE_AT))
    assert decision.override is None and decision.overridden == ()


IMAGING_WINDOW = [
    pytest.param(date(2025, 6, 15), date(2024, 6, 15), ItemStatus.DONE, id="exactly-12-months-counts"),
    pytest.param(date(2025, 6, 15), date(2024, 6, 14), ItemStatus.OPEN, id="one-day-older-is-open"),
    pytest.param(date(2025, 6, 15), date(2025, 6, 15), ItemStatus.DONE, id="same-day"),
    pytest.param(date(2025, 6, 15), date(2025, 6, 16), ItemStatus.OPEN, id="after-the-procedure"),
    pytest.param(date(2024, 2, 29), date(2023, 2, 28), ItemStatus.DONE, id="leap-day-falls-back-to-28-feb"),
    pytest.param(date(2024, 2, 29), date(2023, 2, 27), ItemStatus.OPEN, id="leap-day-one-day-older"),
    pytest.param(date(2025, 3, 31), date(2024, 3, 31), ItemStatus.DONE, id="month-end"),
]


@pytest.mark.parametrize(("procedure_date", "study_date", "expected"), IMAGING_WINDOW)
def test_imaging_must_be_within_12_months_of_the_procedure_date(policies, procedure_date, study_date, expected):
    checklist = make_checklist(imaging={"study_date": study_date.isoformat(), "reviewed": True})
    today = max(procedure_date, study_date)
    assert (
        status_of(policies, checklist, ChecklistItemId.IMAGING_REVIEWED, procedure_date=procedure_date, today=today)
        is expected
    )


def test_imaging_dated_after_today_is_a_typing_error(policies):
    checklist = make_checklist(imaging={"study_date": "2025-03-11", "reviewed": True})
    result = evaluate(policies, checklist, procedure_date=date(2025, 3, 20), today=date(2025, 3, 10))
    assert result.item(ChecklistItemId.IMAGING_REVIEWED).status is ItemStatus.OPEN
    assert "future" in result.item(ChecklistItemId.IMAGING_REVIEWED).reasons[0]


@pytest.mark.parametrize(
    ("day", "months", "expected"),
    [
        pytest.param(date(2025, 6, 15), 12, date(2024, 6, 15), id="a-year"),
        pytest.param(date(2025, 3, 31), 1, date(2025, 2, 28), id="31-march-minus-a-month"),
        pytest.param(date(2024, 2, 29), 12, date(2023, 2, 28), id="29-feb"),
        pytest.param(date(2025, 1, 15), 1, date(2024, 12, 15), id="across-new-year"),
    ],
)
def test_months_before_clamps_to_the_last_day_of_the_month(day, months, expected):
    assert months_before(day, months) == expected


@pytest.mark.parametrize(
    ("consent", "fragment"),
    [
        pytest.param({}, "not recorded", id="unsigned"),
        pytest.param({"signed_on": "2025-03-11"}, "future", id="signed-tomorrow"),
    ],
)
def test_consent_must_be_signed_on_or_before_today(policies, consent, fragment):
    result = evaluate(policies, make_checklist(consent=consent)).item(ChecklistItemId.CONSENT_SIGNED)
    assert result.status is ItemStatus.OPEN and fragment in result.reasons[0]


def anticoagulation(policies, **plan):
    checklist = make_checklist(anticoagulation=plan)
    return evaluate(policies, checklist).item(ChecklistItemId.ANTICOAGULATION_PLAN)


def med(drug: str, last_dose: str, **extra) -> dict:
    return {"drug": drug, "last_dose": last_dose, "prescriber_consulted": True, **extra}


CONFIRMED = {"patient_told_never_stop": True, "confirmed_by": "Dr Moreau", "takes_blood_thinner": True}


def test_no_blood_thinner_confirmed_by_a_clinician_is_not_applicable(policies):
    result = anticoagulation(policies, takes_blood_thinner=False, confirmed_by="Dr Moreau")
    assert result.status is ItemStatus.NOT_APPLICABLE and "Dr Moreau" in result.reasons[0]


def test_no_blood_thinner_still_needs_a_clinician_to_confirm(policies):
    assert anticoagulation(policies, takes_blood_thinner=False).status is ItemStatus.OPEN


@pytest.mark.parametrize(
    ("medication", "expected"),
    [
        pytest.param(med("clopidogrel", "2025-03-03"), ItemStatus.DONE, id="clopidogrel-held-7-days"),
        pytest.param(med("clopidogrel", "2025-03-04"), ItemStatus.OPEN, id="clopidogrel-held-6-days"),
        pytest.param(
            med("Clopidogrel", "2025-03-04", deviation_reason="cardiology: stent, accepted risk"),
            ItemStatus.DONE,
            id="short-hold-with-clinician-reason",
        ),
        pytest.param(med("prasugrel", "2025-03-02"), ItemStatus.OPEN, id="prasugrel-8-days-under-the-10-day-end"),
        pytest.param(med("prasugrel", "2025-02-28"), ItemStatus.DONE, id="prasugrel-10-days"),
        pytest.param(med("apixaban", "2025-03-07"), ItemStatus.DONE, id="apixaban-3-days"),
        pytest.param(med("aspirin", "2025-03-01"), ItemStatus.OPEN, id="plain-aspirin-is-not-guessed"),
        pytest.param(med("mystery-drug", "2025-02-01"), ItemStatus.OPEN, id="unknown-drug"),
        pytest.param({"drug": "warfarin", "prescriber_consulted": True}, ItemStatus.OPEN, id="last-dose-missing"),
        pytest.param(
            med("warfarin", "2025-03-01", prescriber_consulted=False), ItemStatus.OPEN, id="prescriber-not-consulted"
        ),
    ],
)
def test_blood_thinner_hold_intervals_come_from_the_data(policies, medication, expected):
    result = anticoagulation(policies, medications=[medication], **CONFIRMED)
    assert result.status is expected, result.reasons


def test_hold_interval_messages_say_the_values_are_unverified(policies):
    result = anticoagulation(policies, medications=[med("clopidogrel", "2025-03-04")], **CONFIRMED)
    assert any("UNVERIFIED" in r and "only 6 days" in r for r in result.reasons)


def test_the_patient_must_be_told_never_to_stop_a_blood_thinner_alone(policies):
    plan = {**CONFIRMED, "patient_told_never_stop": False}
    result = anticoagulation(policies, medications=[med("clopidogrel", "2025-03-01")], **plan)
    assert result.status is ItemStatus.OPEN
    assert any(policies.checklist.never_stop_rule in r for r in result.reasons)


def test_a_blood_thinner_plan_needs_a_clinician_and_a_listed_drug(policies):
    result = anticoagulation(policies, takes_blood_thinner=True, patient_told_never_stop=True)
    assert result.status is ItemStatus.OPEN
    assert any("none is listed" in r for r in result.reasons)
    assert any("clinician must confirm" in r for r in result.reasons)


def test_an_allergy_is_recorded_not_blocking(policies):
    allergies = {"contrast": "allergic", "latex": "none_known", "local_anaesthetic": "none_known", "details": "hives"}
    result = evaluate(policies, make_checklist(allergies=allergies)).item(ChecklistItemId.ALLERGIES_REVIEWED)
    assert result.status is ItemStatus.DONE and "contrast (hives)" in result.reasons[0]


def test_active_infection_keeps_the_item_open_as_a_contraindication(policies):
    result = evaluate(policies, make_checklist(infection={"active_infection": True})).item(
        ChecklistItemId.NO_ACTIVE_INFECTION
    )
    assert result.status is ItemStatus.OPEN and "contraindication" in result.reasons[0]


def optional_escort(policies: ProcedurePolicies):
    items = tuple(
        dataclasses.replace(s, required=False) if s.id is ChecklistItemId.ESCORT_ARRANGED else s
        for s in policies.checklist.items
    )
    return dataclasses.replace(policies.checklist, items=items)


def test_a_site_may_make_an_item_optional_and_then_mark_it_not_applicable_with_a_reason(policies):
    policy = optional_escort(policies)
    checklist = make_checklist(escort={"arranged": False}, not_applicable={"escort_arranged": "admitted overnight"})
    result = evaluate_checklist(checklist, PROCEDURE_DATE, TODAY, policy=policy)
    assert result.item(ChecklistItemId.ESCORT_ARRANGED).status is ItemStatus.NOT_APPLICABLE
    assert can_start(result).allowed


def test_an_open_optional_item_does_not_block_the_start(policies):
    result = evaluate_checklist(make_checklist(escort={}), PROCEDURE_DATE, TODAY, policy=optional_escort(policies))
    assert result.item(ChecklistItemId.ESCORT_ARRANGED).status is ItemStatus.OPEN
    assert can_start(result).allowed


@pytest.mark.parametrize(
    "reason", [pytest.param("admitted overnight", id="with-reason"), pytest.param(" ", id="blank")]
)
def test_a_required_item_cannot_be_marked_not_applicable(policies, reason):
    checklist = make_checklist(escort={"arranged": False}, not_applicable={"escort_arranged": reason})
    result = evaluate(policies, checklist).item(ChecklistItemId.ESCORT_ARRANGED)
    assert result.status is ItemStatus.OPEN
    assert any("cannot be marked not applicable" in r for r in result.reasons)


def test_the_checklist_round_trips_through_json():
    checklist = make_checklist(not_applicable={"escort_arranged": "x"})
    assert PreProcedureChecklist.model_validate_json(checklist.model_dump_json()) == checklist
    assert checklist_data()["consent"] == checklist.model_dump(mode="json")["consent"]
