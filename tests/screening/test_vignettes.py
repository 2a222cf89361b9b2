"""Issue 3's table of clinical vignettes, each screened through the FHIR path and the form path.

Both paths must give the expected status and the same status for every criterion (conventions §10: one suite,
every path).
"""

from __future__ import annotations

from typing import Any

import pytest

from mildpath.domain.screening import screen
from mildpath.fhir.read import facts_from_fhir
from tests.screening.vignettes import TODAY, Vignette, to_bundle, to_forms

LIKELY = "likely_candidate"
NOT = "not_candidate"
MORE = "needs_more_information"
URGENT = "urgent_referral"
NOTHING: dict[str, Any] = {"lss": None, "nc": None, "care": None, "lf": None, "odi": None, "nprs": None}

VIGNETTES = [
    # typical candidates -------------------------------------------------------------------------------------
    Vignette(
        "typical: M48.062, physical therapy, LF 3.4 mm, ODI 44, NPRS 7",
        LIKELY,
        {"lumbar_spinal_stenosis": "met", "conservative_care_failed": "met", "ligamentum_flavum_thickness": "met"},
    ),
    Vignette("typical with Patient/ references in a collection Bundle", LIKELY, refs="patient"),
    Vignette("SNOMED 18347007 with neurogenic claudication from the assessment", LIKELY, lss="18347007"),
    Vignette(
        "pre-2017 M48.06 with claudication from the assessment",
        LIKELY,
        {"symptom_duration": "met"},
        lss="M48.06",
        lss_days=3200,
    ),
    Vignette("physical therapy evaluation coded CPT 97161", LIKELY, care="pt-cpt"),
    Vignette("lumbar interlaminar ESI CPT 62323", LIKELY, care="esi-62323"),
    Vignette("transforaminal ESI CPT 64483", LIKELY, care="esi-64483"),
    Vignette("physical therapy order (ServiceRequest)", LIKELY, care="pt-order"),
    Vignette(
        "physical therapy before the diagnosis but linked to it",
        LIKELY,
        {"conservative_care_failed": "met"},
        care="pt-reason",
    ),
    Vignette("dates written with a time zone", LIKELY, tz=True),
    Vignette("LF exactly 2.5 mm meets the threshold", LIKELY, {"ligamentum_flavum_thickness": "met"}, lf=2.5),
    Vignette(
        "ODI exactly 31 and NPRS exactly 5", LIKELY, {"disability_odi": "met", "pain_nprs": "met"}, odi=31, nprs=5
    ),
    Vignette(
        "grade I spondylolisthesis without instability is allowed",
        LIKELY,
        {"spondylolisthesis_or_instability": "not_met"},
        spondy=1,
    ),
    Vignette(
        "prior lumbar surgery at another level",
        LIKELY,
        {"prior_surgery_at_target_level": "not_met"},
        prior_surgery="not-at-level",
    ),
    Vignette("apixaban that can be held", LIKELY, {"bleeding_risk": "not_met"}, anticoag="1364430", hold=True),
    Vignette(
        "stenosis reported by the patient, confirmed in the assessment", LIKELY, lss="self", care=None, care_failed=True
    ),
    # the gate ------------------------------------------------------------------------------------------------
    Vignette(
        "nothing recorded",
        NOT,
        {"lumbar_spinal_stenosis": "not_met", "ligamentum_flavum_thickness": "unknown"},
        **NOTHING,
    ),
    Vignette(
        "chronic low back pain alone does not open the gate",
        NOT,
        {"lumbar_spinal_stenosis": "not_met"},
        **(NOTHING | {"lss": "back-pain"}),
    ),
    Vignette(
        "resolved stenosis closes the gate", NOT, {"lumbar_spinal_stenosis": "not_met"}, lss="resolved", care=None
    ),
    Vignette(
        "stenosis entered in error is ignored", NOT, {"lumbar_spinal_stenosis": "not_met"}, lss="error", care=None
    ),
    # inclusions not met --------------------------------------------------------------------------------------
    Vignette("symptoms for two months", NOT, {"symptom_duration": "not_met"}, lss_days=60, care="recent"),
    Vignette(
        "no neurogenic claudication on assessment", NOT, {"neurogenic_claudication": "not_met"}, lss="M48.061", nc=False
    ),
    Vignette("conservative care not tried", NOT, {"conservative_care_failed": "not_met"}, care=None, care_failed=False),
    Vignette("LF 2.0 mm is below the threshold", NOT, {"ligamentum_flavum_thickness": "not_met"}, lf=2.0),
    Vignette("ODI 25 is below 31", NOT, {"disability_odi": "not_met"}, odi=25),
    Vignette("NPRS 3 is below 5", NOT, {"pain_nprs": "not_met"}, nprs=3),
    # exclusions met -------------------------------------------------------------------------------------------
    Vignette("grade II spondylolisthesis", NOT, {"spondylolisthesis_or_instability": "met"}, spondy=2),
    Vignette("spinal instability", NOT, {"spondylolisthesis_or_instability": "met"}, instability=True),
    Vignette(
        "prior surgery at the target level", NOT, {"prior_surgery_at_target_level": "met"}, prior_surgery="at-level"
    ),
    Vignette("dominant foraminal stenosis", NOT, {"dominant_foraminal_or_disc": "met"}, foraminal=True),
    Vignette(
        "severe neurological deficit from another cause",
        NOT,
        {"severe_neurological_deficit": "met"},
        neuro_deficit=True,
    ),
    Vignette(
        "cauda equina syndrome 200 days ago is history: severe deficit",
        NOT,
        {"severe_neurological_deficit": "met", "cauda_equina_red_flags": "not_met"},
        ces_days=200,
    ),
    Vignette("local or systemic infection", NOT, {"infection": "met"}, infection=True),
    Vignette("bleeding disorder", NOT, {"bleeding_risk": "met"}, bleeding_disorder=True),
    Vignette("warfarin that cannot be held", NOT, {"bleeding_risk": "met"}, anticoag="11289", hold=False),
    Vignette(
        "clopidogrel 75 mg tablet (Synthea code) that cannot be held",
        NOT,
        {"bleeding_risk": "met"},
        anticoag="309362",
        hold=False,
    ),
    # unknowns ---------------------------------------------------------------------------------------------------
    Vignette("no imaging", MORE, {"ligamentum_flavum_thickness": "unknown"}, lf=None),
    Vignette("imaging 18 months old", MORE, {"ligamentum_flavum_thickness": "unknown"}, lf_days=540),
    Vignette("no ODI", MORE, {"disability_odi": "unknown"}, odi=None),
    Vignette("no pain rating", MORE, {"pain_nprs": "unknown"}, nprs=None),
    Vignette("no conservative care on record", MORE, {"conservative_care_failed": "unknown"}, care=None),
    Vignette("physical therapy only three weeks ago", MORE, {"conservative_care_failed": "unknown"}, care="recent"),
    Vignette(
        "pre-2017 M48.06 alone leaves claudication unknown",
        MORE,
        {"neurogenic_claudication": "unknown"},
        lss="M48.06",
        lss_days=3200,
        nc=None,
    ),
    Vignette(
        "M48.061 alone leaves claudication unknown",
        MORE,
        {"neurogenic_claudication": "unknown"},
        lss="M48.061",
        nc=None,
    ),
    Vignette(
        "spondylolisthesis without its grade", MORE, {"spondylolisthesis_or_instability": "unknown"}, spondy="coded"
    ),
    Vignette(
        "prior lumbar laminectomy, level unknown",
        MORE,
        {"prior_surgery_at_target_level": "unknown"},
        prior_surgery="coded",
    ),
    Vignette("rivaroxaban, hold not yet agreed", MORE, {"bleeding_risk": "unknown"}, anticoag="1114195"),
    # red flags ---------------------------------------------------------------------------------------------------
    Vignette("cauda equina syndrome diagnosed 10 days ago", URGENT, {"cauda_equina_red_flags": "met"}, ces_days=10),
    Vignette("new bladder or bowel change reported", URGENT, {"cauda_equina_red_flags": "met"}, ces_signs=True),
    Vignette(
        "red flag without any stenosis still urgent",
        URGENT,
        {"lumbar_spinal_stenosis": "not_met"},
        **(NOTHING | {"ces_signs": True}),
    ),
    Vignette("fever is another spinal red flag", URGENT, {"other_spinal_red_flags": "met"}, other_red_flag=True),
    Vignette("red flag outranks every exclusion", URGENT, ces_days=5, infection=True, lf=1.5, odi=10),
    # conflicting data ----------------------------------------------------------------------------------------------
    Vignette(
        "older ODI 45, newer ODI 25: the latest counts",
        NOT,
        {"disability_odi": "not_met"},
        odi=25,
        odi_history=((45, 200),),
    ),
    Vignette(
        "old LF 4.0 mm outside the window, recent 2.1 mm",
        NOT,
        {"ligamentum_flavum_thickness": "not_met"},
        lf=2.1,
        lf_history=((4.0, 400),),
    ),
    Vignette(
        "two recent LF measurements: the thicker side counts",
        LIKELY,
        {"ligamentum_flavum_thickness": "met"},
        lf=2.2,
        lf_history=((2.9, 100),),
    ),
    Vignette(
        "chart says stenosis, the clinician says no",
        NOT,
        {"lumbar_spinal_stenosis": "not_met"},
        clinician_says_no_lss=True,
    ),
    Vignette(
        "chart onset two years ago, the clinician says two months",
        NOT,
        {"symptom_duration": "not_met"},
        duration_says_months=2,
    ),
    Vignette("M48.061 but the clinician finds claudication", LIKELY, {"neurogenic_claudication": "met"}, lss="M48.061"),
    Vignette(
        "anticoagulant on the chart but the assessment says none can be held: excluded",
        NOT,
        {"bleeding_risk": "met"},
        anticoag="1599538",
        hold=False,
    ),
]


def test_the_table_holds_at_least_forty_distinct_vignettes() -> None:
    names = [v.name for v in VIGNETTES]
    assert len(names) == len(set(names)) >= 40


@pytest.mark.parametrize("vignette", VIGNETTES, ids=[v.name for v in VIGNETTES])
def test_fhir_and_form_paths_agree_with_the_expected_result(vignette: Vignette, criteria_set) -> None:
    by_fhir = screen(criteria_set, facts_from_fhir(to_bundle(vignette)), TODAY)
    by_form = screen(criteria_set, to_forms(vignette), TODAY)
    assert by_fhir.status.value == vignette.expect, by_fhir.to_json()
    assert by_form.status.value == vignette.expect, by_form.to_json()
    assert by_fhir.statuses() == by_form.statuses()
    for criterion, expected in vignette.criteria.items():
        assert by_fhir.finding(criterion).status.value == expected
