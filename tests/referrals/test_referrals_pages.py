"""The referral pages (issue 18): the worklist (urgent first, coverage in its own column, bulk actions, CSV) and
one referral's page with the clinician's decision form."""

from __future__ import annotations

import csv
import io

from tests.helpers import login, page_csrf
from tests.referrals.screens import export_zip, fhir_patient, screen_csv, screen_row


def _import(client, persona):
    rows = [screen_row("p-1", "likely_candidate", conservative_care_failed="not_met"),
            screen_row("p-2", "urgent_referral")]
    export = export_zip([fhir_patient("p-1", "Wen", "Hansen"), fhir_patient("p-2", "Ines", "Rossi")])
    r = client.post("/api/v1/referrals/imports", headers=persona.auth,
                    files={"file": ("s.csv", screen_csv(rows)), "export": ("e.zip", export)})
    assert r.status_code == 200, r.text
    listed = client.get("/api/v1/referrals?source=population_screen", headers=persona.auth).json()
    return {x["patient_name"]: x["id"] for x in listed}


def test_the_worklist_shows_urgent_referrals_first_with_coverage_beside_the_screening(client, personas):
    cora = personas["coord_cora"]
    _import(client, cora)
    page = login(client, cora).get("/referrals?source=population_screen").text
    assert page.index("Ines Rossi") < page.index("Wen Hansen")
    assert 'data-label="Coverage">unknown' in page and 'data-label="Screening"' in page


def test_bulk_mark_contacted_and_the_csv_export(client, personas):
    cora = personas["coord_cora"]
    ids = _import(client, cora)
    login(client, cora)
    token = page_csrf(client, "/referrals")
    r = client.post("/referrals/bulk", data={"csrf_token": token, "action": "contacted",
                                             "referral_id": [str(i) for i in ids.values()]})
    assert r.status_code == 303
    rows = list(csv.DictReader(io.StringIO(client.get("/referrals.csv?source=population_screen").text)))
    assert {row["state"] for row in rows} == {"contacted"}
    assert rows[0]["patient_name"] == "Ines Rossi" and rows[0]["urgency"] == "urgent"


def test_a_clinician_records_a_decision_with_an_override_on_the_referral_page(client, personas):
    cora, alice = personas["coord_cora"], personas["dr_alice"]
    rid = _import(client, cora)["Wen Hansen"]
    client.post(f"/api/v1/referrals/{rid}/contacts", headers=cora.auth, json={"channel": "phone", "outcome": "reached"})
    client.post(f"/api/v1/referrals/{rid}/transitions", headers=cora.auth, json={"to": "evaluation_booked"})
    login(client, alice)
    token = page_csrf(client, f"/referrals/{rid}")
    form = {"csrf_token": token, "decision": "candidate", "override": "conservative_care_failed"}
    refused = client.post(f"/referrals/{rid}/decision", data=form)
    assert refused.status_code == 422 and "reason" in refused.text
    form |= {"reason_code_conservative_care_failed": "contraindicated",
             "comment_conservative_care_failed": "cannot take NSAIDs"}
    assert client.post(f"/referrals/{rid}/decision", data=form).status_code == 303
    page = client.get(f"/referrals/{rid}").text
    assert "Override of conservative_care_failed: contraindicated" in page
    assert "conservative_care_failed" in client.get("/reports/overrides").text


def test_it_hides_other_clinics_referral_pages(client, personas):
    rid = _import(client, personas["coord_cora"])["Wen Hansen"]
    login(client, personas["coord_hal_other_clinic"])
    assert client.get(f"/referrals/{rid}").status_code == 404


def test_a_coordinator_records_coverage_on_the_referral_page_beside_the_clinical_status(client, personas):
    cora = personas["coord_cora"]
    rid = _import(client, cora)["Wen Hansen"]
    login(client, cora)
    token = page_csrf(client, f"/referrals/{rid}")
    form = {"csrf_token": token, "status": "commercial", "prior_auth_status": "approved",
            "prior_auth_requested": "2026-11-02", "prior_auth_approved": "2026-11-20", "policy_id": "PA-7781"}
    assert client.post(f"/referrals/{rid}/coverage", data=form).status_code == 303
    api = client.get(f"/api/v1/referrals/{rid}", headers=cora.auth).json()
    assert api["coverage"]["prior_auth"] == {"status": "approved",
                                             "dates": {"requested": "2026-11-02", "approved": "2026-11-20"}}
    assert api["coverage"]["policy_id"] == "PA-7781" and api["state"] == "new", "coverage never moves the state"
    page = client.get(f"/referrals/{rid}").text
    clinical, coverage = page.index('id="clinical"'), page.index('id="coverage"')
    assert page.index("PA-7781") > coverage > clinical
    bad = client.post(f"/referrals/{rid}/coverage", data={"csrf_token": token, "status": "medicare_ced"})
    assert bad.status_code == 422 and "NCT number" in bad.text


def test_the_coverage_form_is_the_coordinators_not_the_clinicians(client, personas):
    cora, alice = personas["coord_cora"], personas["dr_alice"]
    rid = _import(client, cora)["Wen Hansen"]
    assert f'action="/referrals/{rid}/coverage"' in login(client, cora).get(f"/referrals/{rid}").text
    assert "/coverage" not in login(client, alice).get(f"/referrals/{rid}").text
