"""SDC: the Questionnaires' ``calculatedExpression``s, evaluated by an independent FHIRPath engine (fhirpathpy),
give the scores mildpath's scoring gives, and their ``observationExtract`` items carry the codes of mildpath's
score Observations (issue 19, "SDC and Questionnaires").

Worked examples (the clinical reference's and the edges of the missing-item rules) and a few hundred random
responses per instrument, some items left out."""

from __future__ import annotations

import random
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import pytest
from fhir.resources.R4B.questionnaire import Questionnaire
from fhirpathpy import evaluate
from fhirpathpy.models import models

from mildpath.domain.instruments import INSTRUMENTS, score
from mildpath.fhir.questionnaires import (
    CALCULATED_EXPRESSION,
    OBSERVATION_EXTRACT,
    questionnaire,
    questionnaire_response,
    read_questionnaire_response,
    score_link_id,
    score_observations,
)

WHEN = datetime(2025, 6, 10, 9, 30, tzinfo=UTC)
R4 = models["r4"]
WORKED: dict[str, list[dict[str, Any]]] = {
    "odi": [
        {f"odi-{n}": v for n, v in enumerate([3, 3, 2, 1, 2, 1, 1, 1, 1, 1], start=1)},  # 32.00
        {f"odi-{n}": v for n, v in enumerate([3, 3, 2, 1, 2, 1, 1, None, 1, 2], start=1)},  # 35.56 (16 of 45)
        {f"odi-{n}": v for n, v in enumerate([5] * 10, start=1)},  # 100
        {f"odi-{n}": v for n, v in enumerate([3, 3, 2, None, 2, 1, 1, None, 1, 2], start=1)},  # two missing: none
        {},
    ],
    "zcq": [
        {f"zcq-{n}": v for n, v in enumerate([2, 3, 3, 2, 2, 1, 3, 2, 2, 1, None, 1], start=1)},  # 2.29, 1.50
        {f"zcq-{n}": v for n, v in enumerate([2, 3, 3, 2, 2, 1, 3, 2, 2, 1, 1, 1, 1, 2, 2, 1, 2, 2], start=1)},
        {"zcq-1": 5, "zcq-2": 5, "zcq-3": 4, "zcq-4": 4, "zcq-8": 3},  # severity 3 missing, function 4: none
    ],
    "nprs": [{"nprs-back": 6, "nprs-leg": 8}, {"nprs-back": 0}],
    "walking": [{"walking-minutes": 12.5}, {"walking-minutes": 45}, {"walking-minutes": 30}, {}],
}


def _calculated(instrument_id: str) -> dict[str, dict[str, Any]]:
    """linkId -> item, for the items with a calculatedExpression."""
    out = {}
    for item in questionnaire(instrument_id)["item"]:
        if any(e["url"] == CALCULATED_EXPRESSION for e in item.get("extension", [])):
            out[item["linkId"]] = item
    return out


def _expression(item: dict[str, Any]) -> str:
    ext = next(e for e in item["extension"] if e["url"] == CALCULATED_EXPRESSION)
    assert ext["valueExpression"]["language"] == "text/fhirpath"
    return str(ext["valueExpression"]["expression"])


def _sdc_scores(instrument_id: str, response: dict[str, Any]) -> dict[str, Decimal | None]:
    out: dict[str, Decimal | None] = {}
    for link_id, item in _calculated(instrument_id).items():
        found = evaluate(response, _expression(item), {"resource": response}, R4)
        assert len(found) <= 1, (link_id, found)
        out[link_id] = Decimal(str(found[0])).quantize(Decimal("0.01")) if found else None
    return out


def _mildpath_scores(instrument_id: str, answers: dict[str, Any]) -> dict[str, Decimal | None]:
    result = score(instrument_id, answers, after_treatment=None)
    parts = result.subscales if instrument_id == "zcq" else [result]
    return {score_link_id(p.instrument.replace(".", "-") if instrument_id == "zcq" else
                          {"odi": "odi", "walking": "walking-tolerance"}[instrument_id]): p.value for p in parts}


def _random_answers(instrument_id: str, rng: random.Random) -> dict[str, Any]:
    answers: dict[str, Any] = {}
    for item in INSTRUMENTS[instrument_id].items:
        if rng.random() < 0.12:
            continue  # left out
        if item.kind == "decimal":
            answers[item.id] = rng.choice([0, 7.25, 12.5, 29.99, 30, 31, 60, round(rng.uniform(0, 40), 2)])
        else:
            answers[item.id] = rng.choice(item.allowed)
    return answers


CASES = [(i, a) for i, examples in WORKED.items() for a in examples if i != "nprs"] + [
    (i, _random_answers(i, random.Random(f"{i}-{n}"))) for i in ("odi", "zcq", "walking") for n in range(50)
]


@pytest.mark.parametrize(("instrument_id", "answers"), CASES)
def test_the_calculated_expressions_give_mildpaths_scores(instrument_id: str, answers: dict[str, Any]) -> None:
    response = questionnaire_response(instrument_id, answers, subject="Patient/1", authored=WHEN)
    assert _sdc_scores(instrument_id, response) == _mildpath_scores(instrument_id, answers)


def test_the_worked_examples_give_the_references_figures() -> None:
    odi = [questionnaire_response("odi", a, subject="Patient/1", authored=WHEN) for a in WORKED["odi"]]
    assert [_sdc_scores("odi", r)["odi-score"] for r in odi] == [
        Decimal("32.00"), Decimal("35.56"), Decimal("100.00"), None, None]
    zcq = _sdc_scores("zcq", questionnaire_response("zcq", WORKED["zcq"][0], subject="Patient/1", authored=WHEN))
    assert zcq == {"zcq-severity-score": Decimal("2.29"), "zcq-function-score": Decimal("1.50"),
                   "zcq-satisfaction-score": None}
    walking = [questionnaire_response("walking", a, subject="Patient/1", authored=WHEN) for a in WORKED["walking"]]
    assert [_sdc_scores("walking", r)["walking-tolerance-score"] for r in walking] == [
        Decimal("12.50"), Decimal("30.00"), Decimal("30.00"), None]


@pytest.mark.parametrize("instrument_id", list(INSTRUMENTS))
def test_observation_extract_items_carry_the_codes_of_mildpaths_score_observations(instrument_id: str) -> None:
    resource = questionnaire(instrument_id)
    Questionnaire.model_validate(resource)
    extracted = []
    for item in resource["item"]:
        for child in [item, *item.get("item", [])]:
            if {"url": OBSERVATION_EXTRACT, "valueBoolean": True} in child.get("extension", []):
                extracted.append(sorted((c["system"], c["code"]) for c in child["code"]))
    full = next(a for a in WORKED[instrument_id] if score(instrument_id, a).answered) if instrument_id != "zcq" \
        else WORKED["zcq"][1]
    observations = score_observations(score(instrument_id, full, after_treatment=True), subject="Patient/1",
                                      effective=WHEN)
    assert sorted(extracted) == sorted(sorted((c["system"], c["code"]) for c in o["code"]["coding"])
                                       for o in observations)


def test_a_response_from_an_sdc_filler_with_its_calculated_score_reads_back_and_scores_alike() -> None:
    answers = WORKED["odi"][1]
    response = questionnaire_response("odi", answers, subject="Patient/1", authored=WHEN)
    response["item"].append({"linkId": "odi-score", "answer": [{"valueDecimal": 35.56}]})
    assert read_questionnaire_response(response).score().value == score("odi", answers).value
