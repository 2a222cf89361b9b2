"""/api/v1 procedure day: the whole day through the API, refusals as problem+json naming the field with nothing
written, 404 for another clinic, a patient's read-only view, and FHIR R4 outputs."""

from __future__ import annotations

from fhir.resources.R4B.bundle import Bundle
from fhir.resources.R4B.procedure import Procedure as FhirProcedure

from mildpath.services import clock
from mildpath.store import procedures as store
from mildpath.store.models import AuditEvent
from tests.helpers import count
from tests.procedure_web.conftest import READINESS, complete_checklist, ready_observation, record_data

PROBLEM = "application/problem+json"


def _schedule(client, persona, patient_id):  # type: ignore[no-untyped-def]
    resp = client.post(
        f"/api/v1/patients/{patient_id}/procedures",
        json={"scheduled_date": clock.today().isoformat()},
        headers=persona.auth,
    )
    assert resp.status_code == 201, resp.text
    return resp.json()


def test_a_clinician_takes_a_procedure_from_schedule_to_discharge(client, db, dr_alice, fresh_patient_id):
    proc = _schedule(client, dr_alice, fresh_patient_id)
    base = f"/api/v1/patients/{fresh_patient_id}/procedures/{proc['id']}"
    assert proc["status"] == "scheduled" and not proc["ready_to_start"]
    blocked = client.post(base + "/start", headers=dr_alice.auth)
    assert blocked.status_code == 409 and blocked.headers["content-type"].startswith(PROBLEM)
    checked = client.put(base + "/checklist", json=complete_checklist(), headers=dr_alice.auth).json()
    assert checked["ready_to_start"] and all(i["status"] != "open" for i in checked["checklist_items"])
    assert client.post(base + "/start", headers=dr_alice.auth).json()["status"] == "in_progress"
    saved = client.put(base + "/record", json=record_data(), headers=dr_alice.auth)
    assert saved.status_code == 200, saved.text
    assert saved.json()["procedure"]["status"] == "completed" and saved.json()["warnings"] == []
    unmet = client.post(base + "/discharge", json={"readiness": READINESS}, headers=dr_alice.auth)
    assert unmet.status_code == 409 and "discharge criteria not met" in unmet.json()["detail"]
    obs = client.post(base + "/observations", json=ready_observation(), headers=dr_alice.auth)
    assert obs.status_code == 201 and obs.json()["discharge_criteria_met"] is False  # readiness not yet given
    done = client.post(base + "/discharge", json={"readiness": READINESS}, headers=dr_alice.auth)
    assert done.status_code == 200, done.text
    assert done.json()["discharge"]["kind"] == "home"
    fhir = client.get(f"/api/v1/procedures/{proc['id']}/fhir", headers=dr_alice.auth)
    assert fhir.headers["content-type"].startswith("application/fhir+json")
    resource = FhirProcedure.model_validate(fhir.json())
    assert resource.status == "completed" and resource.outcome.text.endswith("same day")


def test_an_override_through_the_api_is_audited(client, db, dr_alice, fresh_patient_id):
    proc = _schedule(client, dr_alice, fresh_patient_id)
    before = count(db, AuditEvent, action="procedure.start_override")
    resp = client.post(
        f"/api/v1/patients/{fresh_patient_id}/procedures/{proc['id']}/start",
        json={"override_reason": "Escort confirmed by phone"},
        headers=dr_alice.auth,
    )
    assert resp.status_code == 200 and resp.json()["override"]["reason"] == "Escort confirmed by phone"
    assert count(db, AuditEvent, action="procedure.start_override") == before + 1


def test_the_blocked_start_lists_the_open_items(client, dr_alice, fresh_patient_id):
    proc = _schedule(client, dr_alice, fresh_patient_id)
    resp = client.post(f"/api/v1/patients/{fresh_patient_id}/procedures/{proc['id']}/start", headers=dr_alice.auth)
    assert resp.status_code == 409
    assert "Consent signed" in resp.json()["detail"]


def test_a_bad_record_is_a_422_naming_the_field_and_nothing_is_written(client, db, dr_alice, fresh_patient_id):
    proc = _schedule(client, dr_alice, fresh_patient_id)
    base = f"/api/v1/patients/{fresh_patient_id}/procedures/{proc['id']}"
    client.put(base + "/checklist", json=complete_checklist(), headers=dr_alice.auth)
    client.post(base + "/start", headers=dr_alice.auth)
    bad = client.put(
        base + "/record", json=record_data(levels=[{"level": "L9-L9", "side": "left"}]), headers=dr_alice.auth
    )
    assert bad.status_code == 422 and bad.headers["content-type"].startswith(PROBLEM)
    assert bad.json()["errors"][0]["field"] == "levels.0.level"
    assert store.get_procedure(db, procedure_id=proc["id"]).record is None


def test_a_naive_time_or_an_unknown_key_is_a_422_naming_the_field(client, dr_alice, fresh_patient_id):
    proc = _schedule(client, dr_alice, fresh_patient_id)
    base = f"/api/v1/patients/{fresh_patient_id}/procedures/{proc['id']}"
    naive = client.put(base + "/record", json=record_data(start="2025-01-01T08:00:00"), headers=dr_alice.auth)
    assert naive.status_code == 422 and any(e["field"] == "start" for e in naive.json()["errors"])
    typo = client.put(base + "/checklist", json={"consents": {}}, headers=dr_alice.auth)
    assert typo.status_code == 422 and typo.json()["errors"][0]["field"] == "consents"


def test_it_hides_other_clinics_patients(client, dr_bob_other_clinic, pat_id, db):
    proc_id = store.list_for_patient(db, patient_id=pat_id)[0].id
    for url in (
        f"/api/v1/patients/{pat_id}/procedures",
        f"/api/v1/patients/{pat_id}/procedures/{proc_id}",
        f"/api/v1/procedures/{proc_id}/fhir",
        f"/api/v1/procedures/{proc_id}/adverse-events/fhir",
    ):
        resp = client.get(url, headers=dr_bob_other_clinic.auth)
        assert resp.status_code == 404, url
        assert "Quinn" not in resp.text


def test_a_patient_reads_their_summary_and_instructions_but_writes_nothing(client, patient_pat, pat_id, db):
    listed = client.get(f"/api/v1/patients/{pat_id}/procedures", headers=patient_pat.auth)
    assert listed.status_code == 200 and listed.json()[0]["discharge_kind"] == "home"
    proc_id = listed.json()[0]["id"]
    base = f"/api/v1/patients/{pat_id}/procedures/{proc_id}"
    assert client.get(base + "/summary", headers=patient_pat.auth).status_code == 200
    pdf = client.get(base + "/discharge-instructions", headers=patient_pat.auth)
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")
    assert client.get(base, headers=patient_pat.auth).status_code == 403
    assert client.put(base + "/checklist", json={}, headers=patient_pat.auth).status_code == 403
    assert client.get(f"/api/v1/procedures/{proc_id}/fhir", headers=patient_pat.auth).status_code == 403


def test_adverse_events_come_out_as_a_fhir_bundle(client, admin_ada, db):
    from sqlalchemy import select

    row = db.scalars(select(store.AdverseEventRow).order_by(store.AdverseEventRow.id)).first()
    resp = client.get(f"/api/v1/procedures/{row.procedure_id}/adverse-events/fhir", headers=admin_ada.auth)
    assert resp.headers["content-type"].startswith("application/fhir+json")
    bundle = Bundle.model_validate(resp.json())
    assert bundle.entry[0].resource.suspectEntity[0].instance.reference == f"Procedure/{row.procedure_id}"
    one = client.get(f"/api/v1/adverse-events/{row.id}/fhir", headers=admin_ada.auth)
    assert one.status_code == 200 and one.json()["resourceType"] == "AdverseEvent"


def test_the_today_list_answers_staff(client, dr_alice, today_patient_id):
    rows = client.get("/api/v1/procedures/today", headers=dr_alice.auth).json()
    assert today_patient_id in {r["patient_id"] for r in rows}


def test_a_procedure_without_a_record_has_no_fhir_yet(client, dr_alice, fresh_patient_id):
    proc = _schedule(client, dr_alice, fresh_patient_id)
    resp = client.get(f"/api/v1/procedures/{proc['id']}/fhir", headers=dr_alice.auth)
    assert resp.status_code == 409
