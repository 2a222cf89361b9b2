"""The screening gaps (clinical safety issue, section 4) where a clinician reads the result: the API answer, the
result page and its printable summary show the cautions and the exclusions not assessed beside the headline,
and the evidence that did not count with why; a deceased patient's chart is not a candidate."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from tests.helpers import login
from tests.screening.charts import TODAY, typical


def bundle(resources: list[dict[str, Any]]) -> dict[str, Any]:
    return {"resourceType": "Bundle", "type": "collection", "entry": [{"resource": r} for r in resources]}


@pytest.fixture
def young_id(db, pat):
    """The demo patient, made 35 years old (below every trial's ages) for this test's transaction."""
    pat.birth_date = dt.date(1990, 5, 5)
    db.flush()
    return pat.id


def _post(client, persona, patient_id, resources):
    body = {"bundle": bundle(resources), "as_of": TODAY.isoformat()}
    return client.post(f"/api/v1/patients/{patient_id}/screenings", json=body, headers=persona.auth)


def test_the_api_answer_carries_cautions_not_assessed_and_uncounted_evidence(client, dr_alice, young_id):
    pat_id = young_id
    resp = _post(client, dr_alice, pat_id, typical("young", birth_date="1990-05-05", lf_days=550))
    assert resp.status_code == 201, resp.text
    body = resp.json()
    assert body["status"] == "needs_more_information"
    assert [c["id"] for c in body["cautions"]] == ["outside_studied_ages"]
    assert body["cautions"][0]["source"] == "trial-ages"
    assert "infection" in body["not_assessed"] and "vascular_claudication" in body["not_assessed"]
    lf = next(c for c in body["criteria"] if c["id"] == "ligamentum_flavum_thickness")
    [item] = lf["evidence"]
    assert item["counted"] is False and "too old" in item["why"]
    again = client.get(f"/api/v1/patients/{pat_id}/screenings/{body['id']}", headers=dr_alice.auth).json()
    assert again["cautions"] == body["cautions"] and again["not_assessed"] == body["not_assessed"]


def test_a_deceased_patients_chart_is_not_a_candidate_through_the_api(client, dr_alice, pat):
    pat_id = pat.id
    resp = _post(
        client,
        dr_alice,
        pat_id,
        typical("gone", birth_date=pat.birth_date.isoformat(), deceased={"deceasedBoolean": True}, ces_days=1),
    )
    assert resp.status_code == 201, resp.text
    assert (resp.json()["status"], resp.json()["reasons"]) == ("not_candidate", ["deceased"])


def test_the_result_page_and_its_print_show_the_headline_additions(client, dr_alice, young_id):
    pat_id = young_id
    resp = _post(client, dr_alice, pat_id, typical("young", birth_date="1990-05-05", lf_days=550))
    sid = resp.json()["id"]
    login(client, dr_alice)
    for url in (f"/patients/{pat_id}/candidacy/{sid}", f"/patients/{pat_id}/candidacy/{sid}/print"):
        page = client.get(url)
        assert page.status_code == 200, url
        text = page.text
        headline = text[text.index('id="result"') : text.index('id="criteria"')]
        assert 'data-caution="outside_studied_ages"' in headline and "Outside the ages studied" in headline
        assert 'id="not-assessed"' in headline and 'data-criterion="infection"' in headline
        assert "Found but not counted" in text and "too old to count" in text


def test_a_likely_candidate_page_lists_what_nobody_assessed(client, dr_alice, pat):
    pat_id = pat.id
    resp = _post(client, dr_alice, pat_id, typical("fine", birth_date=pat.birth_date.isoformat()))
    assert resp.json()["status"] == "likely_candidate"
    login(client, dr_alice)
    page = client.get(f"/patients/{pat_id}/candidacy/{resp.json()['id']}").text
    assert 'data-criterion="vascular_claudication"' in page
    assert 'id="cautions"' not in page
