"""Views of mildpath's own PROM data, run on resources made by ``mildpath.fhir.questionnaires``: scored
Observations (``prom_score``) and QuestionnaireResponse answers (``questionnaire_response_answer``)."""

from __future__ import annotations

from typing import Any

import pytest

from mildpath.content.view_definitions import load_view_definition
from mildpath.domain.instruments import score
from mildpath.fhir.questionnaires import CODE_SYSTEM, ODI_SCORE, questionnaire_response, score_observations
from mildpath.population.views import evaluate

ANSWERS: dict[str, dict[str, Any]] = {
    "odi": {f"odi-{i}": 2 for i in range(1, 11)},
    "zcq": {f"zcq-{i}": 3 for i in range(1, 13)},
    "nprs": {"nprs-back": 7, "nprs-leg": 4},
    "walking": {"walking-minutes": 12.5},
}


def _resources() -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    for instrument, answers in ANSWERS.items():
        out.append(
            questionnaire_response(
                instrument, answers, subject="Patient/p1", authored="2024-02-01", resource_id=f"qr-{instrument}"
            )
        )
        result = score(instrument, answers)
        out += score_observations(
            result,
            subject="Patient/p1",
            effective="2024-02-01T10:00:00+01:00",
            derived_from=f"QuestionnaireResponse/qr-{instrument}",
            id_prefix=f"s-{instrument}",
        )
    blood_pressure = {
        "resourceType": "Observation",
        "id": "bp",
        "status": "final",
        "subject": {"reference": "Patient/p1"},
        "code": {"coding": [{"system": "http://loinc.org", "code": "8480-6"}]},
        "valueQuantity": {"value": 120, "unit": "mm[Hg]"},
    }
    return [*out, blood_pressure]


RESOURCES = _resources()
SCORES = {r["score"]: r for r in evaluate(load_view_definition("prom_score"), RESOURCES)}


def test_prom_score_constants_are_the_codes_mildpath_writes():
    constants = {
        c["name"]: next(v for k, v in c.items() if k.startswith("value"))
        for c in load_view_definition("prom_score")["constant"]
    }
    assert constants == {"instruments": CODE_SYSTEM, "loinc": ODI_SCORE["system"], "odi_score": ODI_SCORE["code"]}


def test_prom_score_gives_one_row_per_score_and_leaves_other_observations_out():
    assert sorted(SCORES) == ["nprs-back", "nprs-leg", "odi", "walking-tolerance", "zcq-function", "zcq-severity"]


@pytest.mark.parametrize(
    ("name", "instrument", "subscale", "unit"),
    [
        ("odi", "odi", None, "%"),
        ("zcq-severity", "zcq", "severity", "{score}"),
        ("zcq-function", "zcq", "function", "{score}"),
        ("nprs-back", "nprs", "back", None),
        ("nprs-leg", "nprs", "leg", None),
        ("walking-tolerance", "walking", None, "min"),
    ],
    ids=["odi", "zcq severity", "zcq function", "nprs back", "nprs leg", "walking"],
)
def test_prom_score_carries_the_domain_score_its_unit_and_its_response(name, instrument, subscale, unit):
    result = score(instrument, ANSWERS[instrument])
    expected = (
        result.value if subscale is None else next(s.value for s in result.subscales if s.instrument.endswith(subscale))
    )
    row = SCORES[name]
    assert row["value"] == pytest.approx(float(expected))
    assert row["unit"] == unit
    assert (row["patient_id"], row["questionnaire_response_id"]) == ("p1", f"qr-{instrument}")
    assert (row["status"], row["effective"]) == ("final", "2024-02-01T10:00:00+01:00")


def test_the_odi_row_keeps_its_loinc_code_and_band():
    odi = SCORES["odi"]
    assert (odi["score_system"], odi["score_code"]) == (ODI_SCORE["system"], ODI_SCORE["code"])
    assert odi["band"] == f"odi-band-{score('odi', ANSWERS['odi']).band}"
    assert SCORES["nprs-back"]["score_system"] == CODE_SYSTEM and SCORES["nprs-back"]["band"] is None


def test_questionnaire_answers_of_mildpath_responses_give_one_row_per_answered_item_at_any_depth():
    rows = evaluate(load_view_definition("questionnaire_response_answer"), RESOURCES)
    by_response: dict[str, dict[str, dict[str, Any]]] = {}
    for row in rows:
        by_response.setdefault(row["questionnaire_response_id"], {})[row["link_id"]] = row
    assert {k: set(v) for k, v in by_response.items()} == {f"qr-{i}": set(a) for i, a in ANSWERS.items()}
    zcq = by_response["qr-zcq"]["zcq-1"]  # nested in its subscale group
    assert (zcq["value_code"], zcq["questionnaire"].split("|")[0]) == (
        "3",
        "https://mildpath.org/fhir/Questionnaire/zcq",
    )
    assert by_response["qr-nprs"]["nprs-back"]["value_integer"] == 7
    assert by_response["qr-walking"]["walking-minutes"]["value_decimal"] == 12.5
    assert {r["patient_id"] for r in rows} == {"p1"}
