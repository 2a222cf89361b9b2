"""Screening results as FHIR R4 (RiskAssessment, GuidanceResponse) and as CDS Hooks 2.0 cards.

FHIR shapes are validated with fhir.resources' R4B models, the closest proxy of R4 (contracts §5).
"""

from __future__ import annotations

from typing import Any

import pytest
from fhir.resources.R4B.bundle import Bundle
from fhir.resources.R4B.codesystem import CodeSystem
from fhir.resources.R4B.guidanceresponse import GuidanceResponse
from fhir.resources.R4B.riskassessment import RiskAssessment

from mildpath.domain.errors import InvalidInput
from mildpath.domain.screening import ScreeningResult, screen
from mildpath.fhir.cds_hooks import PREFETCH, MissingPrefetch, cards_for, discovery, facts_from_prefetch, patient_view
from mildpath.fhir.read import facts_from_fhir
from mildpath.fhir.write import guidance_response, risk_assessment, screening_status_code_system
from tests.screening.vignettes import PATIENT_ID, TODAY, Vignette, to_bundle

BY_STATUS = {
    "likely_candidate": Vignette("typical", "likely_candidate"),
    "needs_more_information": Vignette("no imaging", "needs_more_information", lf=None),
    "not_candidate": Vignette("no stenosis", "not_candidate", lss=None),
    "urgent_referral": Vignette("cauda equina", "urgent_referral", ces_days=3),
}


@pytest.fixture(scope="module", params=list(BY_STATUS), ids=list(BY_STATUS))
def result(request: pytest.FixtureRequest, criteria_set) -> ScreeningResult:
    return screen(criteria_set, facts_from_fhir(to_bundle(BY_STATUS[request.param])), TODAY)


def test_the_test_charts_themselves_are_valid_fhir() -> None:
    for vignette in (*BY_STATUS.values(), Vignette("patient refs", "x", refs="patient", care="pt-order", tz=True)):
        Bundle.model_validate(to_bundle(vignette))


def test_a_result_is_a_valid_risk_assessment(result: ScreeningResult) -> None:
    res = risk_assessment(result, subject=f"Patient/{PATIENT_ID}", resource_id="ra-1")
    RiskAssessment.model_validate(res)
    assert res["prediction"][0]["outcome"]["coding"][0]["code"] == result.status.value
    assert res["method"]["coding"][0]["code"] == "mild-default@1.0.0"
    assert "approved" not in str(res).lower()
    if result.status.value == "needs_more_information":
        assert res["mitigation"].startswith("Collect: ")
    if result.status.value == "likely_candidate":
        assert {"reference": "Condition/condition-2"} in res["basis"]


def test_a_result_is_a_valid_guidance_response(result: ScreeningResult) -> None:
    res = guidance_response(result, subject=f"Patient/{PATIENT_ID}", request_id="req-1")
    GuidanceResponse.model_validate(res)
    needs = result.status.value == "needs_more_information"
    assert res["status"] == ("data-required" if needs else "success")
    if needs:
        assert res["dataRequirement"] == [
            {
                "type": "Observation",
                "codeFilter": [
                    {"path": "code", "valueSet": "https://mildpath.org/fhir/ValueSet/ligamentum-flavum-thickness"}
                ],
            }
        ]


def test_an_anonymous_result_still_validates(criteria_set) -> None:
    result = screen(criteria_set, facts_from_fhir(to_bundle(BY_STATUS["likely_candidate"])), TODAY)
    RiskAssessment.model_validate(risk_assessment(result))
    GuidanceResponse.model_validate(guidance_response(result))


def test_the_status_code_system_is_valid_and_complete() -> None:
    cs = screening_status_code_system()
    CodeSystem.model_validate(cs)
    assert [c["code"] for c in cs["concept"]] == [
        "likely_candidate",
        "not_candidate",
        "needs_more_information",
        "urgent_referral",
    ]


# --------------------------------------------------------------------------------------------- CDS Hooks


def test_discovery_lists_one_patient_view_service_with_prefetch() -> None:
    (service,) = discovery()["services"]
    assert service["hook"] == "patient-view" and service["id"] == "mild-candidacy"
    assert {"title", "description", "prefetch"} <= set(service)
    assert all("{{context.patientId}}" in q for q in service["prefetch"].values())


@pytest.mark.parametrize(
    ("status", "indicator"),
    [("likely_candidate", "info"), ("needs_more_information", "info"), ("urgent_referral", "critical")],
)
def test_cards_follow_the_cds_hooks_card_shape(status: str, indicator: str, criteria_set) -> None:
    result = screen(criteria_set, facts_from_fhir(to_bundle(BY_STATUS[status])), TODAY)
    (card,) = cards_for(result, patient_id=PATIENT_ID)["cards"]
    assert card["indicator"] == indicator
    assert 0 < len(card["summary"]) < 140 and card["source"]["label"]
    assert card == cards_for(result, patient_id=PATIENT_ID)["cards"][0], "the same result keeps the same card id"
    if status == "likely_candidate":
        assert card["summary"] == "Possible mild candidate: refer for specialist evaluation"
    if status == "needs_more_information":
        assert "Ligamentum flavum thickness" in card["detail"]


def test_a_patient_without_stenosis_gets_no_card(criteria_set) -> None:
    result = screen(criteria_set, facts_from_fhir(to_bundle(BY_STATUS["not_candidate"])), TODAY)
    assert cards_for(result) == {"cards": []}


def request_for(vignette: Vignette) -> dict[str, Any]:
    """A patient-view request whose prefetch holds searchset Bundles, as a CDS client sends them."""
    resources = [e["resource"] for e in to_bundle(vignette)["entry"]]

    def search(*types: str) -> dict[str, Any]:
        return {
            "resourceType": "Bundle",
            "type": "searchset",
            "entry": [{"resource": r} for r in resources if r["resourceType"] in types],
        }

    prefetch = {
        "patient": next(r for r in resources if r["resourceType"] == "Patient"),
        "conditions": search("Condition"),
        "procedures": search("Procedure"),
        "serviceRequests": search("ServiceRequest"),
        "medicationRequests": search("MedicationRequest"),
        "medicationStatements": None,
        "observations": search("Observation"),
    }
    return {
        "hook": "patient-view",
        "hookInstance": "d1577c69-dfbe-44ad-ba6d-3e05e953b2ea",
        "context": {"userId": "Practitioner/1", "patientId": PATIENT_ID},
        "prefetch": prefetch,
    }


def test_patient_view_screens_the_prefetched_chart(criteria_set) -> None:
    request = request_for(Vignette("typical", "likely_candidate", refs="patient"))
    (card,) = patient_view(request, criteria_set, TODAY)["cards"]
    assert card["summary"].startswith("Possible mild candidate")


def test_unsatisfied_prefetch_keys_are_named_for_the_caller_to_fetch_or_answer_412(criteria_set) -> None:
    request = request_for(Vignette("typical", "likely_candidate", refs="patient"))
    del request["prefetch"]["conditions"]
    request["prefetch"]["observations"] = {"resourceType": "OperationOutcome", "issue": []}
    with pytest.raises(MissingPrefetch) as err:
        patient_view(request, criteria_set, TODAY)
    assert err.value.keys == ["conditions", "observations"]


def test_null_prefetch_values_mean_no_data() -> None:
    facts, unsatisfied = facts_from_prefetch(dict.fromkeys(PREFETCH))
    assert unsatisfied == [] and facts.diagnoses == ()


def test_patient_view_refuses_other_hooks_and_missing_patient(criteria_set) -> None:
    with pytest.raises(InvalidInput, match="patient-view"):
        patient_view({"hook": "order-sign", "context": {"patientId": "p"}}, criteria_set, TODAY)
    with pytest.raises(InvalidInput, match="patientId"):
        patient_view({"hook": "patient-view", "context": {}}, criteria_set, TODAY)
