"""/api/v1/referrals (contracts §9) with a coordinator's and a clinician's tokens: import with the export, contact,
evaluation booked, a decision with an override, the override report; the errors as problem+json."""

from __future__ import annotations

from datetime import timedelta

import pytest

from mildpath.services.clock import today
from tests.referrals.screens import export_zip, fhir_patient, screen_csv, screen_row


@pytest.fixture
def tokens(personas):
    return personas["coord_cora"].auth, personas["dr_alice"].auth


def _import(client, auth, rows, export=None):
    files = {"file": ("screen.csv", screen_csv(rows), "text/csv")}
    if export is not None:
        files["export"] = ("export.zip", export, "application/zip")
    return client.post("/api/v1/referrals/imports", headers=auth, files=files)


def _one(client, auth, **criteria):
    r = _import(client, auth, [screen_row("api-1", "likely_candidate", **criteria)],
                export_zip([fhir_patient("api-1", "Ada", "Quinn", phone="555-2222")]))
    assert r.status_code == 200, r.text
    return client.get("/api/v1/referrals?source=population_screen", headers=auth).json()[0]


def test_a_coordinator_and_a_clinician_carry_an_imported_referral_to_a_decision(client, tokens):
    coord, doctor = tokens
    first = _import(client, coord, [screen_row("api-1", "likely_candidate", conservative_care_failed="not_met")],
                    export_zip([fhir_patient("api-1", "Ada", "Quinn", phone="555-2222")]))
    assert first.json() == {"created": 1, "merged": 0, "skipped": 0}
    (listed,) = client.get("/api/v1/referrals?state=new&source=population_screen", headers=coord).json()
    assert {"id", "patient_id", "state", "sources", "screening_status", "coverage", "urgency"} <= listed.keys()
    assert listed["coverage"]["status"] == "unknown" and listed["patient_name"] == "Ada Quinn"
    rid = listed["id"]
    contact = client.post(f"/api/v1/referrals/{rid}/contacts", headers=coord,
                          json={"channel": "phone", "outcome": "reached"})
    assert contact.status_code == 201 and contact.json()["state"] == "contacted"
    booked = client.post(f"/api/v1/referrals/{rid}/transitions", headers=coord, json={"to": "evaluation_booked"})
    assert booked.json()["state"] == "evaluation_booked"
    decision = {"decision": "candidate", "reasons": ["disabling claudication"], "overrides": [
        {"criterion": "conservative_care_failed", "reason_code": "contraindicated", "comment": "no NSAIDs"}]}
    decided = client.post(f"/api/v1/referrals/{rid}/decision", headers=doctor, json=decision)
    assert decided.status_code == 200, decided.text
    assert decided.json()["decision"] == "candidate"
    span = {"from": (today() - timedelta(days=1)).isoformat(), "to": today().isoformat()}
    report = client.get("/api/v1/reports/overrides", headers=coord, params=span).json()
    row = next(c for c in report["criteria"] if c["criterion"] == "conservative_care_failed")
    assert row["overridden"] == 1 and row["reasons"] == {"contraindicated": 1}


def test_an_override_without_a_reason_is_422_naming_the_field(client, tokens):
    coord, doctor = tokens
    rid = _one(client, coord, conservative_care_failed="not_met")["id"]
    client.post(f"/api/v1/referrals/{rid}/contacts", headers=coord, json={"channel": "phone", "outcome": "reached"})
    client.post(f"/api/v1/referrals/{rid}/transitions", headers=coord, json={"to": "evaluation_booked"})
    r = client.post(f"/api/v1/referrals/{rid}/decision", headers=doctor, json={
        "decision": "candidate", "overrides": [{"criterion": "conservative_care_failed", "comment": "x"}]})
    assert r.status_code == 422 and r.headers["content-type"].startswith("application/problem+json")
    assert "overrides[0].reason_code" in r.text


def test_a_refused_transition_is_a_409_problem_naming_both_states(client, tokens):
    coord, _ = tokens
    rid = _one(client, coord)["id"]
    r = client.post(f"/api/v1/referrals/{rid}/transitions", headers=coord, json={"to": "done"})
    assert r.status_code == 409 and r.headers["content-type"].startswith("application/problem+json")
    assert "new" in r.json()["detail"] and "done" in r.json()["detail"]


def test_the_decision_route_is_for_clinicians_only(client, tokens):
    coord, _ = tokens
    rid = _one(client, coord)["id"]
    assert client.post(f"/api/v1/referrals/{rid}/decision", headers=coord,
                       json={"decision": "deferred"}).status_code == 403


def test_it_hides_other_clinics_referrals(client, tokens, personas):
    coord, _ = tokens
    rid = _one(client, coord)["id"]
    hal = personas["coord_hal_other_clinic"].auth
    assert client.get(f"/api/v1/referrals/{rid}", headers=hal).status_code == 404
    assert rid not in {r["id"] for r in client.get("/api/v1/referrals", headers=hal).json()}


def test_medicare_coverage_needs_its_study_and_stays_beside_the_clinical_status(client, tokens):
    coord, _ = tokens
    referral = _one(client, coord)
    rid = referral["id"]
    bad = client.put(f"/api/v1/referrals/{rid}/coverage", headers=coord, json={"status": "medicare_ced"})
    assert bad.status_code == 422
    ok = client.put(f"/api/v1/referrals/{rid}/coverage", headers=coord, json={
        "status": "medicare_ced", "study_nct": "NCT03072927", "enrolment": "pending"}).json()
    assert ok["coverage"]["study"]["nct"] == "NCT03072927" and ok["coverage"]["reviewed"] == "2016-12-07"
    assert (ok["state"], ok["screening_status"]) == (referral["state"], referral["screening_status"])
