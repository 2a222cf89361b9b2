"""The self-check and the clinician assessment as typed forms, and the plain-language guidance of the self-check."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from mildpath.content.criteria import load_forms
from mildpath.domain.errors import InvalidAnswer
from mildpath.domain.screening import screen
from mildpath.domain.selfcheck import ClinicianAssessment, GuidanceKind, SelfCheck, self_check_guidance

TODAY = dt.date(2025, 6, 30)
TYPICAL: dict[str, Any] = {
    "answered_on": TODAY,
    "told_lss": True,
    "leg_symptoms_standing_walking": True,
    "relief_sitting_bending": True,
    "walk_tolerance": "5_to_15_minutes",
    "symptom_duration": "more_than_12_months",
    "treatments_tried": ["physical_therapy", "pain_medicine"],
    "treatment_not_enough": True,
}

GUIDANCE = [
    ("typical answers: ask a spine specialist", {}, GuidanceKind.ASK_SPINE_SPECIALIST),
    ("saddle numbness: seek care now", {"saddle_numbness": True}, GuidanceKind.SEEK_CARE_NOW),
    ("weakness in both legs: seek care now", {"both_legs_weak": True}, GuidanceKind.SEEK_CARE_NOW),
    ("fever: see a doctor soon", {"fever": True}, GuidanceKind.SEE_DOCTOR_SOON),
    ("never told of stenosis: ask about it", {"told_lss": False}, GuidanceKind.ASK_ABOUT_STENOSIS),
    ("nothing answered: ask about stenosis", "empty", GuidanceKind.ASK_ABOUT_STENOSIS),
    (
        "two months of symptoms: talk to a doctor",
        {"symptom_duration": "less_than_3_months"},
        GuidanceKind.TALK_TO_DOCTOR,
    ),
    ("no relief when sitting: talk to a doctor", {"relief_sitting_bending": False}, GuidanceKind.TALK_TO_DOCTOR),
]


@pytest.mark.parametrize(("label", "change", "kind"), GUIDANCE, ids=[g[0] for g in GUIDANCE])
def test_self_check_guidance_never_decides_only_points_the_way(
    label: str, change: dict | str, kind: GuidanceKind, criteria_set
) -> None:
    data = {"answered_on": TODAY} if change == "empty" else TYPICAL | change  # type: ignore[operator]
    check = SelfCheck.from_mapping(data)
    result = screen(criteria_set, check.to_facts(), TODAY)
    guidance = self_check_guidance(result, check)
    assert guidance.kind is kind
    text = load_forms().guidance[kind.value].text
    assert "approved" not in text.lower() and "candidate" not in text.lower()


def test_a_self_check_alone_cannot_make_a_likely_candidate(criteria_set) -> None:
    result = screen(criteria_set, SelfCheck.from_mapping(TYPICAL).to_facts(), TODAY)
    assert result.status.value == "needs_more_information"
    assert {"ligamentum_flavum_thickness", "disability_odi", "pain_nprs"} == {
        f.criterion.id for f in result.findings if f.status.value == "unknown"
    }


def test_unmet_criteria_are_explained_in_the_patients_words(criteria_set) -> None:
    check = SelfCheck.from_mapping(TYPICAL | {"symptom_duration": "less_than_3_months"})
    guidance = self_check_guidance(screen(criteria_set, check.to_facts(), TODAY), check)
    assert guidance.unmet == ("Your symptoms have lasted at least 3 months.",)


def test_a_blood_thinner_adds_the_never_stop_it_note(criteria_set) -> None:
    check = SelfCheck.from_mapping(TYPICAL | {"blood_thinner": True})
    guidance = self_check_guidance(screen(criteria_set, check.to_facts(), TODAY), check)
    assert guidance.notes == ("blood_thinner",)
    assert "Never stop" in load_forms().notes["blood_thinner"].text


def test_self_check_answers_become_dated_form_facts() -> None:
    facts = SelfCheck.from_mapping(TYPICAL).to_facts()
    by_field = {a.field: a for a in facts.answers}
    assert by_field["self_check.symptom_months"].value == 12
    assert by_field["self_check.walk_minutes"].value == 5
    assert by_field["self_check.walk_minutes"].record == "form:self_check.walk_minutes"
    assert by_field["self_check.treatments_tried"].value == "physical_therapy,pain_medicine"
    assert all(a.date == TODAY for a in facts.answers)
    assert "self_check.fever" not in by_field, "an unanswered question is not a fact"


def test_the_assessment_dates_thickness_by_the_scan_and_scores_by_their_own_date() -> None:
    a = ClinicianAssessment.from_mapping(
        {
            "assessed_on": TODAY,
            "lf_thickness_mm": 3.0,
            "imaging_date": "2025-02-01",
            "odi_score": 40,
            "nprs": 6,
            "nprs_date": "2025-06-01",
            "infection": False,
        }
    )
    dates = {x.field: x.date for x in a.to_facts().answers}
    assert dates == {
        "clinician.lf_thickness_mm": dt.date(2025, 2, 1),
        "clinician.odi_score": TODAY,
        "clinician.nprs": dt.date(2025, 6, 1),
        "clinician.infection": TODAY,
    }


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"lf_thickness_mm": 3.0}, "clinician.imaging_date"),
        ({"nprs": 11}, "clinician.nprs"),
        ({"odi_score": -1}, "clinician.odi_score"),
        ({"spondylolisthesis_grade": 5}, "clinician.spondylolisthesis_grade"),
        ({"shoe_size": 44}, "clinician.shoe_size"),
    ],
    ids=["thickness without its scan date", "pain 11", "negative ODI", "grade 5", "unknown field"],
)
def test_invalid_assessment_answers_name_their_field(data: dict[str, Any], field: str) -> None:
    with pytest.raises(InvalidAnswer) as err:
        ClinicianAssessment.from_mapping({"assessed_on": TODAY} | data)
    assert err.value.field == field
