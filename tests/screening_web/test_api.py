"""/api/v1 screenings: shapes, FHIR output validated with fhir.resources R4B, the anonymous self-check, access."""

from __future__ import annotations

import pytest
from fhir.resources.R4B.guidanceresponse import GuidanceResponse
from fhir.resources.R4B.riskassessment import RiskAssessment

from mildpath.content.criteria import load_criteria_set
from mildpath.store.models import AuditEvent
from mildpath.store.screenings import Screening
from tests.helpers import count
from tests.screening_web.conftest import (
    CHART_AS_OF,
    RED_FLAG_SELF_CHECK,
    SELF_CHECK,
    chart_for,
    likely_assessment,
    no_imaging_assessment,
)

CRITERION_KEYS = {"id", "status", "role", "evidence", "source", "clinician", "patient"}


def _post(client, persona, patient_id, body, **headers):
    return client.post(f"/api/v1/patients/{patient_id}/screenings", json=body, headers={**persona.auth, **headers})


def test_a_clinician_assessment_answers_201_with_the_explained_result(client, dr_alice, pat_id):
    resp = _post(client, dr_alice, pat_id, {"kind": "clinician_assessment", "answers": likely_assessment()})
    assert resp.status_code == 201, resp.text
    body = resp.json()
    assert resp.headers["location"] == f"/api/v1/patients/{pat_id}/screenings/{body['id']}"
    assert body["status"] == "likely_candidate" and body["criteria_set"] == load_criteria_set().label
    assert body["summary"] == "Likely candidate, refer for specialist evaluation."
    assert {c["id"] for c in body["criteria"]} == {c.id for c in load_criteria_set().criteria}
    for criterion in body["criteria"]:
        assert set(criterion) == CRITERION_KEYS and criterion["status"] in ("met", "not_met", "unknown")
        for e in criterion["evidence"]:
            assert set(e) == {"value", "date", "record"}
    assert "approved" not in resp.text.lower()


def test_a_fhir_bundle_is_screened_as_a_fhir_import(client, dr_alice, pat):
    resp = _post(client, dr_alice, pat.id, {"bundle": chart_for(pat), "as_of": CHART_AS_OF.isoformat()})
    assert resp.status_code == 201, resp.text
    body = resp.json()
    assert (body["kind"], body["status"], body["as_of"]) == ("fhir_import", "likely_candidate", "2025-06-30")
    lss = next(c for c in body["criteria"] if c["id"] == "lumbar_spinal_stenosis")
    assert lss["evidence"][0]["record"].startswith("Condition/")


@pytest.mark.parametrize(
    "body",
    [
        {"kind": "clinician_assessment"},
        {"kind": "clinician_assessment", "answers": {}, "bundle": {"resourceType": "Bundle"}},
        {"kind": "approved", "answers": {}},
        {"kind": "fhir_import", "answers": {"lss_confirmed": True}},
        {"kind": "self_check", "answers": {"x" * 100: True}},
        {"kind": "clinician_assessment", "answers": {"lf_thickness_mm": "y" * 100}},
        {"kind": "clinician_assessment", "answers": likely_assessment(), "extra": 1},
    ],
    ids=["nothing", "both", "bad-kind", "answers-as-import", "long-key", "long-value", "extra-field"],
)
def test_a_malformed_body_is_a_422_problem(client, dr_alice, pat_id, body):
    resp = _post(client, dr_alice, pat_id, body)
    assert resp.status_code == 422
    assert resp.headers["content-type"].startswith("application/problem+json")


def test_a_bad_answer_names_its_field(client, dr_alice, pat_id):
    answers = {**likely_assessment(), "lf_thickness_mm": -2}
    resp = _post(client, dr_alice, pat_id, {"kind": "clinician_assessment", "answers": answers})
    assert resp.status_code == 422
    assert resp.json()["errors"][0]["field"] == "clinician.lf_thickness_mm"


def test_a_patient_posts_their_own_self_check_but_no_clinician_assessment(client, patient_pat, patient_rosa, pat_id):
    own = _post(client, patient_pat, pat_id, {"kind": "self_check", "answers": SELF_CHECK})
    assert own.status_code == 201 and own.json()["kind"] == "self_check"
    assert (
        _post(client, patient_pat, pat_id, {"kind": "clinician_assessment", "answers": likely_assessment()}).status_code
        == 403
    )
    assert (
        _post(client, patient_pat, patient_rosa.patient_id, {"kind": "self_check", "answers": SELF_CHECK}).status_code
        == 404
    )


def test_it_hides_other_clinics_patients(client, dr_alice, dr_bob_other_clinic, pat_id):
    sid = _post(client, dr_alice, pat_id, {"kind": "clinician_assessment", "answers": likely_assessment()}).json()["id"]
    bob = dr_bob_other_clinic.auth
    base = f"/api/v1/patients/{pat_id}/screenings"
    assert (
        _post(client, dr_bob_other_clinic, pat_id, {"kind": "clinician_assessment", "answers": {}}).status_code == 404
    )
    for url in (base, f"{base}/{sid}", f"{base}/{sid}/fhir"):
        resp = client.get(url, headers=bob)
        assert resp.status_code == 404 and "Quinn" not in resp.text


def test_past_screenings_are_listed_newest_first_and_read_one_by_one(client, dr_alice, pat_id):
    first = _post(client, dr_alice, pat_id, {"kind": "clinician_assessment", "answers": no_imaging_assessment()}).json()
    second = _post(client, dr_alice, pat_id, {"kind": "clinician_assessment", "answers": likely_assessment()}).json()
    listed = client.get(f"/api/v1/patients/{pat_id}/screenings", headers=dr_alice.auth).json()["items"]
    assert [s["id"] for s in listed[:2]] == [second["id"], first["id"]]
    only = client.get(f"/api/v1/patients/{pat_id}/screenings?kind=self_check&limit=5", headers=dr_alice.auth).json()[
        "items"
    ]
    assert only and {s["kind"] for s in only} == {"self_check"}
    one = client.get(f"/api/v1/patients/{pat_id}/screenings/{first['id']}", headers=dr_alice.auth).json()
    assert one["status"] == "needs_more_information" and one["missing"]
    assert client.get(f"/api/v1/patients/{pat_id}/screenings/999999", headers=dr_alice.auth).status_code == 404


@pytest.mark.parametrize(
    ("kind", "query", "model"),
    [
        ("clinician_assessment", "", RiskAssessment),
        ("clinician_assessment", "?resource=GuidanceResponse", GuidanceResponse),
        ("self_check", "", GuidanceResponse),
    ],
    ids=["assessment", "assessment-as-guidance", "self-check"],
)
def test_a_screening_is_served_as_valid_fhir(client, dr_alice, pat_id, kind, query, model):
    answers = likely_assessment() if kind == "clinician_assessment" else SELF_CHECK
    sid = _post(client, dr_alice, pat_id, {"kind": kind, "answers": answers}).json()["id"]
    resp = client.get(f"/api/v1/patients/{pat_id}/screenings/{sid}/fhir{query}", headers=dr_alice.auth)
    assert resp.status_code == 200
    assert resp.headers["content-type"].startswith("application/fhir+json")
    resource = model.model_validate(resp.json())
    assert resource.subject.reference == f"Patient/{pat_id}"


def test_a_retry_with_the_same_idempotency_key_stores_one_screening(client, db, dr_alice, pat_id):
    before = count(db, Screening, patient_id=pat_id)
    body = {"kind": "clinician_assessment", "answers": likely_assessment()}
    first = _post(client, dr_alice, pat_id, body, **{"Idempotency-Key": "scr-1"})
    again = _post(client, dr_alice, pat_id, body, **{"Idempotency-Key": "scr-1"})
    assert first.json()["id"] == again.json()["id"] and again.headers.get("idempotent-replayed") == "true"
    assert count(db, Screening, patient_id=pat_id) == before + 1


def test_a_stored_screening_leaves_its_audit_row(client, db, dr_alice, pat_id):
    before = count(db, AuditEvent, action="screening.create", patient_id=pat_id)
    _post(client, dr_alice, pat_id, {"kind": "clinician_assessment", "answers": likely_assessment()})
    assert count(db, AuditEvent, action="screening.create", patient_id=pat_id) == before + 1


def test_anyone_evaluates_a_self_check_and_nothing_is_stored(client, db):
    screenings, audits = count(db, Screening), count(db, AuditEvent)
    resp = client.post("/api/v1/self-check", json={"answers": SELF_CHECK})
    assert resp.status_code == 200, resp.text
    body = resp.json()
    assert body["stored"] is False and body["guidance"]["kind"] == "ask_spine_specialist"
    assert body["guidance"]["title"] == "Ask a spine specialist about mild" and body["guidance"]["source"]
    assert {c["id"] for c in body["criteria"]} >= {"cauda_equina_red_flags", "lumbar_spinal_stenosis"}
    assert (count(db, Screening), count(db, AuditEvent)) == (screenings, audits)


def test_the_self_check_says_to_seek_care_now_for_cauda_equina_signs(client):
    body = client.post("/api/v1/self-check", json={"answers": RED_FLAG_SELF_CHECK}).json()
    assert body["status"] == "urgent_referral" and body["guidance"]["kind"] == "seek_care_now"
    assert "emergency" in body["guidance"]["text"].lower()


def test_a_self_check_with_a_blood_thinner_carries_the_never_stop_it_note(client):
    body = client.post("/api/v1/self-check", json={"answers": {**SELF_CHECK, "blood_thinner": True}}).json()
    assert [n["title"] for n in body["guidance"]["notes"]] == ["About your blood thinner"]
    assert "Never stop" in body["guidance"]["notes"][0]["text"]


@pytest.mark.parametrize(
    "body",
    [{"answers": {"walk_tolerance": "forever"}}, {"answers": {}, "as_of": "2999-01-01"}, {"answers": []}],
    ids=["bad-choice", "future", "not-an-object"],
)
def test_a_bad_self_check_is_a_422(client, body):
    assert client.post("/api/v1/self-check", json=body).status_code == 422
