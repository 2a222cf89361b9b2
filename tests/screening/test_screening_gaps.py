"""The screening gaps of the clinical safety issue (section 4), on the single-patient engine from FHIR charts:
deceased first, the age caution, evidence that did not count, exclusions not assessed, the added exclusions, and
medications recognised by ingredient whatever the coding."""

from __future__ import annotations

from typing import Any

import pytest

from mildpath.content.criteria import load_criteria_set, load_value_sets
from mildpath.domain.screening import ScreeningResult, screen
from mildpath.fhir.read import facts_from_resources
from tests.screening.charts import RXNORM, TODAY, ago, medication, typical


def run(resources: list[dict[str, Any]]) -> ScreeningResult:
    return screen(load_criteria_set(), facts_from_resources(resources).facts, TODAY)


def test_the_typical_chart_is_a_likely_candidate() -> None:
    assert run(typical("p")).status.value == "likely_candidate"


# --------------------------------------------------------------------------------------------- deceased


@pytest.mark.parametrize(
    "deceased",
    [{"deceasedBoolean": True}, {"deceasedDateTime": "2025-01-02T10:00:00-05:00"}, {"deceasedDateTime": "2024"}],
    ids=["boolean", "date-time", "partial-date"],
)
def test_a_deceased_patient_is_not_a_candidate_even_with_a_red_flag(deceased: dict[str, Any]) -> None:
    result = run(typical("p", deceased=deceased, ces_days=3))
    assert result.status.value == "not_candidate"
    assert result.reasons == ("deceased",)
    assert result.to_json()["reasons"] == ["deceased"]


def test_a_red_flag_stays_urgent_when_the_patient_is_alive() -> None:
    for alive in ({}, {"deceasedBoolean": False}):
        assert run(typical("p", deceased=alive, ces_days=3)).status.value == "urgent_referral"


def test_a_death_dated_after_the_as_of_date_does_not_exist_yet() -> None:
    result = run(typical("p", deceased={"deceasedDateTime": ago(-10)}))
    assert result.status.value == "likely_candidate"


# --------------------------------------------------------------------------------------------- ages


def born_aged(years: int, days_past_birthday: int = 0) -> str:
    return TODAY.replace(year=TODAY.year - years).isoformat()


@pytest.mark.parametrize(
    ("birth_date", "caution"),
    [
        (TODAY.replace(year=TODAY.year - 49).isoformat(), True),  # 49 today: under every trial's minimum
        ("1975-07-01", True),  # 50 tomorrow: still 49 on the as-of date
        (TODAY.replace(year=TODAY.year - 50).isoformat(), False),  # 50 today: MOTION, MiDAS III
        ("1935-01-01", False),  # 90: above MOTION's 80, inside ENCORE (65+) and MiDAS III (50+)
    ],
    ids=["49", "49-on-the-eve", "50", "90"],
)
def test_an_age_outside_every_trial_range_gets_a_caution_and_keeps_its_status(birth_date: str, caution: bool) -> None:
    result = run(typical("p", birth_date=birth_date))
    assert result.status.value == "likely_candidate"
    data = result.to_json()
    if caution:
        assert [c["id"] for c in data["cautions"]] == ["outside_studied_ages"]
        item = data["cautions"][0]
        assert "outside the ages studied" in item["text"].lower() and item["source"] == "trial-ages"
        assert "49" in item["text"]
    else:
        assert data["cautions"] == []


def test_the_caution_does_not_hide_a_red_flag_or_change_any_status() -> None:
    young = run(typical("p", birth_date="1990-01-01", ces_days=2))
    assert young.status.value == "urgent_referral" and [c.id for c in young.cautions] == ["outside_studied_ages"]


def test_no_birth_date_gives_no_age_caution() -> None:
    chart = typical("p")
    del chart[0]["birthDate"]
    assert run(chart).cautions == ()


# --------------------------------------------------------------------------------------------- uncounted evidence


def test_an_old_mri_shows_as_evidence_that_did_not_count() -> None:
    result = run(typical("p", lf_days=550))  # about 18 months old; the window is 12 months
    finding = result.finding("ligamentum_flavum_thickness")
    assert finding.status.value == "unknown" and result.status.value == "needs_more_information"
    items = [e for c in result.to_json()["criteria"] if c["id"] == finding.id for e in c["evidence"]]
    assert items == [
        {
            "value": 3.4,
            "date": ago(550),
            "record": "Observation/p-lf",
            "counted": False,
            "why": items[0]["why"],
        }
    ]
    assert "too old" in items[0]["why"] and "12 months" in items[0]["why"]


def test_physical_therapy_begun_four_weeks_ago_shows_as_too_recent() -> None:
    result = run(typical("p", care_days=28))
    finding = result.finding("conservative_care_failed")
    assert finding.status.value == "unknown"
    [item] = [e.to_json() for e in finding.uncounted]
    assert item["record"] == "Procedure/p-pt" and item["date"] == ago(28) and item["counted"] is False
    assert "too recent" in item["why"] and "3 months" in item["why"]


def test_counted_evidence_has_no_counted_key() -> None:
    result = run(typical("p"))
    for criterion in result.to_json()["criteria"]:
        for item in criterion["evidence"]:
            assert set(item) == {"value", "date", "record"}


# --------------------------------------------------------------------------------------------- not assessed


def test_a_likely_candidate_lists_every_exclusion_nobody_assessed() -> None:
    result = run(typical("p"))
    rules = load_criteria_set()
    exclusions = [c.id for c in rules.criteria if c.role.value == "exclusion"]
    assert result.status.value == "likely_candidate"
    assert list(result.not_assessed) == exclusions  # the chart says nothing either way about any of them
    assert result.to_json()["not_assessed"] == exclusions


def test_an_exclusion_answered_no_is_assessed() -> None:
    result = run(typical("p", assessment={"infection": False, "prior_lumbar_surgery": False}))
    assert result.status.value == "likely_candidate"
    assert "infection" not in result.not_assessed
    assert "prior_surgery_at_target_level" not in result.not_assessed
    assert "dominant_foraminal_or_disc" in result.not_assessed


def test_not_assessed_is_empty_when_not_a_candidate_or_urgent() -> None:
    assert run(typical("p", ces_days=1)).not_assessed == ()
    assert run(typical("p", deceased={"deceasedBoolean": True})).not_assessed == ()


# --------------------------------------------------------------------------------------------- added exclusions


def esi(pid: str, days: int) -> dict[str, Any]:
    return {
        "resourceType": "Procedure",
        "id": f"{pid}-esi",
        "status": "completed",
        "subject": {"reference": f"Patient/{pid}"},
        "code": {"coding": [{"system": "http://www.ama-assn.org/go/cpt", "code": "62323"}]},
        "performedDateTime": ago(days),
    }


def test_an_epidural_injection_in_the_last_eight_weeks_excludes() -> None:
    result = run(typical("p", extra=(esi("p", 20),)))
    assert result.finding("recent_epidural_injection").status.value == "met"
    assert result.status.value == "not_candidate"


def test_an_epidural_injection_older_than_eight_weeks_does_not_exclude() -> None:
    result = run(typical("p", extra=(esi("p", 57),)))
    assert result.finding("recent_epidural_injection").status.value == "not_met"
    assert result.status.value == "likely_candidate"


def test_opioids_above_90_mme_a_day_exclude_and_90_does_not() -> None:
    assert run(typical("p", assessment={"opioid_mme_per_day": 120})).status.value == "not_candidate"
    at_limit = run(typical("p", assessment={"opioid_mme_per_day": 90}))
    assert at_limit.finding("high_opioid_dose").status.value == "not_met"
    assert at_limit.status.value == "likely_candidate"


def test_vascular_claudication_is_asked_not_guessed() -> None:
    unasked = run(typical("p"))
    assert "vascular_claudication" in unasked.not_assessed
    found = run(typical("p", assessment={"vascular_claudication": True}))
    assert found.finding("vascular_claudication").status.value == "met" and found.status.value == "not_candidate"
    ruled_out = run(typical("p", assessment={"vascular_claudication": False}))
    assert ruled_out.status.value == "likely_candidate" and "vascular_claudication" not in ruled_out.not_assessed


# --------------------------------------------------------------------------------------------- medications

# Every anticoagulant and antiplatelet of clinical reference §4.4, with the product wording a chart writes.
DRUGS = [
    ("aspirin", "Aspirin 81 MG Oral Tablet"),
    ("cilostazol", "cilostazol 100 MG Oral Tablet"),
    ("warfarin", "Warfarin Sodium 5 MG Oral Tablet"),
    ("acenocoumarol", "acenocoumarol 4 MG Oral Tablet"),
    ("heparin", "heparin sodium, porcine 5000 UNT/ML Injectable Solution"),
    ("enoxaparin", "enoxaparin sodium 40 MG in 0.4 ML Prefilled Syringe"),
    ("dalteparin", "dalteparin sodium 5000 UNT in 0.2 ML Prefilled Syringe"),
    ("clopidogrel", "clopidogrel 75 MG Oral Tablet"),
    ("prasugrel", "prasugrel 10 MG Oral Tablet"),
    ("ticagrelor", "ticagrelor 90 MG Oral Tablet"),
    ("apixaban", "apixaban 5 MG Oral Tablet"),
    ("rivaroxaban", "rivaroxaban 20 MG Oral Tablet"),
    ("edoxaban", "edoxaban 60 MG Oral Tablet"),
    ("dabigatran", "dabigatran etexilate 150 MG Oral Capsule"),
    ("fondaparinux", "fondaparinux sodium 2.5 MG in 0.5 ML Prefilled Syringe"),
]
# A code that is no RxNorm concept in our value set: the display alone must carry the recognition.
PRODUCT_CODE = "product-code-not-in-any-value-set"


def ingredient_codes() -> dict[str, str]:
    """Ingredient name -> its RxCUI in the value set (only where the value set holds one)."""
    vs = load_value_sets()["anticoagulants-antiplatelets"]
    return {e.display: e.code for e in vs.entries if e.system == RXNORM}


def bleeding(resources: list[dict[str, Any]]) -> str:
    return run(resources).finding("bleeding_risk").status.value


@pytest.mark.parametrize(("ingredient", "display"), DRUGS, ids=[d for d, _ in DRUGS])
def test_each_drug_is_recognised_by_a_product_coding_whose_display_names_it(ingredient: str, display: str) -> None:
    concept = {"coding": [{"system": RXNORM, "code": PRODUCT_CODE, "display": display}]}
    assert bleeding(typical("p", extra=(medication("p", "p-m", concept),))) == "unknown"


@pytest.mark.parametrize(("ingredient", "display"), DRUGS, ids=[d for d, _ in DRUGS])
def test_each_drug_is_recognised_by_the_text_alone_in_any_case_and_accent(ingredient: str, display: str) -> None:
    shouted = display.upper().replace("A", "Á", 1)
    for text in (display, shouted):
        concept = {"text": text}
        chart = typical("p", extra=(medication("p", "p-m", concept, rtype="MedicationStatement"),))
        assert bleeding(chart) == "unknown", text


@pytest.mark.parametrize(("ingredient", "display"), DRUGS, ids=[d for d, _ in DRUGS])
def test_each_drug_with_an_ingredient_code_is_recognised_by_the_code_alone(ingredient: str, display: str) -> None:
    code = ingredient_codes().get(ingredient)
    if code is None:
        # The clinical reference gives no RxCUI for it and none is invented: the name recognises it.
        assert ingredient in {e.code for e in load_value_sets()["anticoagulants-antiplatelets"].entries}
        return
    concept = {"coding": [{"system": RXNORM, "code": code}]}
    assert bleeding(typical("p", extra=(medication("p", "p-m", concept),))) == "unknown"


def test_only_warfarin_is_a_confirmed_code() -> None:
    vs = load_value_sets()["anticoagulants-antiplatelets"]
    confirmed = {e.code for e in vs.entries if e.system == RXNORM and e.confirmed}
    assert confirmed == {"11289"}


@pytest.mark.parametrize(
    "display",
    ["lisinopril 10 MG Oral Tablet", "Naproxen sodium 220 MG Oral Tablet", "Heparinoid cream"],
    ids=["lisinopril", "naproxen", "word-inside-another"],
)
def test_other_medications_are_not_taken_for_blood_thinners(display: str) -> None:
    concept = {"coding": [{"system": RXNORM, "code": PRODUCT_CODE, "display": display}], "text": display}
    assert bleeding(typical("p", extra=(medication("p", "p-m", concept),))) == "not_met"


def test_a_blood_thinner_that_ended_does_not_count() -> None:
    concept = {"text": "apixaban 5 MG Oral Tablet"}
    res = medication("p", "p-m", concept)
    res["status"] = "stopped"
    assert bleeding(typical("p", extra=(res,))) == "not_met"
