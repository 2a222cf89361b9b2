"""FHIR R4 boundary: Questionnaires, QuestionnaireResponses (export and import) and score Observations, all valid
under fhir.resources' R4B models (contracts §5)."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path

import pytest
import yaml
from fhir.resources.R4B.codesystem import CodeSystem
from fhir.resources.R4B.observation import Observation
from fhir.resources.R4B.questionnaire import Questionnaire
from fhir.resources.R4B.questionnaireresponse import QuestionnaireResponse

from mildpath.content.instruments import instrument_form, load_site_wording
from mildpath.domain.errors import InvalidAnswer, InvalidInput
from mildpath.domain.instruments import INSTRUMENTS, score, score_nprs, score_odi, score_walking, score_zcq
from mildpath.fhir.questionnaires import (
    code_systems,
    questionnaire,
    questionnaire_response,
    questionnaires,
    read_questionnaire_response,
    score_observations,
)

ANSWERS = {
    "odi": {f"odi-{n}": v for n, v in enumerate([3, 3, 2, 1, 2, 1, 1, None, 1, 2], start=1)},
    "zcq": {f"zcq-{n}": v for n, v in enumerate([2, 3, 3, 2, 2, 1, 3, 2, 2, 1, 1, 1, 1, 2, 2, 1, 2, 2], start=1)},
    "nprs": {"nprs-back": 6, "nprs-leg": 8},
    "walking": {"walking-minutes": 12.5},
}
WHEN = datetime(2025, 6, 10, 9, 30, tzinfo=UTC)


def flat(items: list[dict]) -> list[dict]:
    out = []
    for item in items:
        out.append(item)
        out.extend(flat(item.get("item", [])))
    return out


@pytest.mark.parametrize("instrument_id", list(INSTRUMENTS))
def test_each_instrument_is_a_valid_r4_questionnaire(instrument_id: str) -> None:
    resource = questionnaire(instrument_id)
    Questionnaire.model_validate(resource)
    link_ids = {i["linkId"] for i in flat(resource["item"]) if i["type"] != "group" and not i.get("readOnly")}
    assert link_ids == {item.id for item in INSTRUMENTS[instrument_id].items}  # the rest are calculated scores


def test_the_odi_questionnaire_carries_loinc_97908_8_and_a_licence_note() -> None:
    resource = questionnaire("odi")
    assert resource["code"][0] == {
        "system": "http://loinc.org",
        "code": "97908-8",
        "display": "Oswestry Disability Index",
    }
    assert "not included" in resource["copyright"]
    assert [o["valueCoding"]["code"] for o in resource["item"][0]["answerOption"]] == ["0", "1", "2", "3", "4", "5"]


def test_nprs_items_carry_loinc_72514_3_and_their_region() -> None:
    items = questionnaire("nprs")["item"]
    assert [[c["code"] for c in item["code"]] for item in items] == [["72514-3", "nprs-back"], ["72514-3", "nprs-leg"]]


def test_a_sites_licensed_wording_reaches_the_questionnaire(tmp_path: Path) -> None:
    data = {
        "instrument": "odi",
        "version": "2.1a",
        "licence": "Licensed to Test Clinic",
        "items": {
            f"odi-{n}": {"text": f"Licensed {n}", "options": {v: f"L{v}" for v in range(6)}} for n in range(1, 11)
        },
    }
    path = tmp_path / "odi.yaml"
    path.write_text(yaml.safe_dump(data), encoding="utf-8")
    resource = questionnaire("odi", instrument_form("odi", load_site_wording(path)))
    Questionnaire.model_validate(resource)
    assert resource["copyright"] == "Licensed to Test Clinic"
    assert resource["item"][2]["text"] == "Licensed 3"


def test_code_systems_and_the_full_set_validate() -> None:
    for resource in code_systems():
        CodeSystem.model_validate(resource)
    assert len(questionnaires()) == 4


@pytest.mark.parametrize("instrument_id", list(INSTRUMENTS))
def test_answers_survive_a_questionnaire_response_round_trip(instrument_id: str) -> None:
    answers = ANSWERS[instrument_id]
    resource = questionnaire_response(
        instrument_id,
        answers,
        subject="Patient/1",
        authored=WHEN,
        author="Practitioner/7",
        source="Patient/1",
        resource_id="qr-1",
    )
    QuestionnaireResponse.model_validate(resource)
    back = read_questionnaire_response(resource)
    assert back.instrument == instrument_id
    assert back.answers == {
        k: (Decimal(str(v)) if instrument_id == "walking" else v) for k, v in answers.items() if v is not None
    }
    assert (back.subject, back.author, back.source) == ("Patient/1", "Practitioner/7", "Patient/1")
    assert back.score() == score(instrument_id, answers)


def test_a_response_without_a_known_questionnaire_is_recognised_by_its_link_ids() -> None:
    resource = questionnaire_response("odi", ANSWERS["odi"], subject="Patient/1", authored=date(2025, 6, 10))
    del resource["questionnaire"]
    assert read_questionnaire_response(resource).instrument == "odi"


def test_a_naive_authored_time_is_refused() -> None:
    with pytest.raises(InvalidInput):
        questionnaire_response("nprs", ANSWERS["nprs"], subject="Patient/1", authored=datetime(2025, 6, 10, 9))


def odi_response(items: list[dict]) -> dict:
    return {
        "resourceType": "QuestionnaireResponse",
        "questionnaire": "https://mildpath.org/fhir/Questionnaire/odi|2.1a",
        "status": "completed",
        "item": items,
    }


@pytest.mark.parametrize(
    ("items", "link_id"),
    [
        ([{"linkId": "odi-3", "answer": [{"valueCoding": {"code": "6"}}]}], "odi-3"),
        ([{"linkId": "odi-3", "answer": [{"valueInteger": -1}]}], "odi-3"),
        ([{"linkId": "odi-4", "answer": [{"valueString": "bad"}]}], "odi-4"),
        ([{"linkId": "odi-5", "answer": [{"valueInteger": 1}, {"valueInteger": 2}]}], "odi-5"),
        ([{"linkId": "odi-12", "answer": [{"valueInteger": 1}]}], "odi-12"),
        ([{"linkId": "odi-2", "answer": [{"valueCoding": {"code": "two"}}]}], "odi-2"),
    ],
    ids=["out-of-range", "negative", "wrong-type", "two-answers", "unknown-link-id", "non-numeric-code"],
)
def test_import_errors_name_the_link_id(items: list[dict], link_id: str) -> None:
    with pytest.raises(InvalidAnswer) as caught:
        read_questionnaire_response(odi_response(items))
    assert caught.value.item_id == link_id
    assert link_id in caught.value.message


def test_import_collects_every_problem() -> None:
    items = [
        {"linkId": "odi-1", "answer": [{"valueInteger": 9}]},
        {"linkId": "odi-2", "answer": [{"valueInteger": 2}]},
        {"linkId": "odi-7", "answer": [{"valueInteger": 7}]},
    ]
    with pytest.raises(InvalidAnswer) as caught:
        read_questionnaire_response(odi_response(items))
    assert [link for link, _ in caught.value.data["problems"]] == ["odi-1", "odi-7"]


def test_import_refuses_what_is_not_a_questionnaire_response() -> None:
    with pytest.raises(InvalidAnswer):
        read_questionnaire_response({"resourceType": "Observation"})


@pytest.mark.parametrize(
    ("result", "codes"),
    [
        (score_odi(list(ANSWERS["odi"].values())), [["97909-6"]]),
        (
            score_zcq([2, 3, 3, 2, 2, 1, 3], [2, 2, 1, 1, 1], [1, 2, 2, 1, 2, 2]),
            [["zcq-severity"], ["zcq-function"], ["zcq-satisfaction"]],
        ),
        (score_nprs(6, 8), [["72514-3", "nprs-back"], ["72514-3", "nprs-leg"]]),
        (score_walking(45), [["walking-tolerance"]]),
    ],
    ids=["odi", "zcq", "nprs", "walking"],
)
def test_scores_become_valid_observations(result, codes: list[list[str]]) -> None:
    observations = score_observations(
        result, subject="Patient/1", effective=WHEN, derived_from="QuestionnaireResponse/qr-1", id_prefix="obs-1"
    )
    for obs in observations:
        Observation.model_validate(obs)
        assert obs["derivedFrom"] == [{"reference": "QuestionnaireResponse/qr-1"}]
    assert [[c["code"] for c in obs["code"]["coding"]] for obs in observations] == codes


def test_the_odi_observation_reports_two_decimals_in_percent_with_its_band() -> None:
    (obs,) = score_observations(score_odi(list(ANSWERS["odi"].values())), subject="Patient/1", effective=WHEN)
    assert obs["valueQuantity"] == {"value": 35.56, "unit": "%", "system": "http://unitsofmeasure.org", "code": "%"}
    assert obs["interpretation"][0]["coding"][0]["code"] == "odi-band-moderate"


def test_a_missing_score_gives_no_observation() -> None:
    missing = score_odi([1, None, None, 1, 1, 1, 1, 1, 1, 1])
    assert score_observations(missing, subject="Patient/1", effective=WHEN) == []
    assert (
        score_observations(score_zcq([3] * 7, [2] * 5), subject="Patient/1", effective=WHEN)[-1]["code"]["coding"][0][
            "code"
        ]
        == "zcq-function"
    )
