"""/api/v1 questionnaires: instruments, responses (scored, idempotent), FHIR import/export, schedules."""

from __future__ import annotations

import json

from fhir.resources.R4B.bundle import Bundle
from fhir.resources.R4B.questionnaire import Questionnaire
from fhir.resources.R4B.questionnaireresponse import QuestionnaireResponse
from sqlalchemy import select

from mildpath.store.models import AuditEvent
from mildpath.store.proms import PromResponse
from tests.helpers import count
from tests.proms.conftest import ODI_32, ODI_3556


def post_odi(client, persona, patient_id, answers=ODI_3556, timepoint="3m", headers=None):  # type: ignore[no-untyped-def]
    body = {"instrument": "odi", "timepoint": timepoint, "answers": answers}
    return client.post(
        f"/api/v1/patients/{patient_id}/responses", json=body, headers={**persona.auth, **(headers or {})}
    )


def test_the_instruments_are_listed_with_their_items(client, dr_alice):
    resp = client.get("/api/v1/instruments", headers=dr_alice.auth)
    assert resp.status_code == 200
    by_id = {i["id"]: i for i in resp.json()}
    assert list(by_id) == ["odi", "zcq", "nprs", "walking"]
    assert len(by_id["odi"]["items"]) == 10 and by_id["odi"]["wording"] == "mildpath"
    assert [o["value"] for o in by_id["zcq"]["items"][6]["options"]] == [1, 3, 5]


def test_each_instrument_is_a_valid_fhir_questionnaire(client, dr_alice):
    for instrument in ("odi", "zcq", "nprs", "walking"):
        resp = client.get(f"/api/v1/instruments/{instrument}/questionnaire", headers=dr_alice.auth)
        assert resp.status_code == 200 and resp.headers["content-type"].startswith("application/fhir+json")
        Questionnaire.model_validate(resp.json())
    assert client.get("/api/v1/instruments/sf36/questionnaire", headers=dr_alice.auth).status_code == 404


def test_posting_complete_answers_stores_them_scored(client, db, dr_alice, make_patient):
    pid = make_patient(100)
    resp = post_odi(client, dr_alice, pid)
    assert resp.status_code == 201, resp.text
    body = resp.json()
    assert body["scores"]["value"] == 35.56 and body["scores"]["band"] == "moderate"
    assert body["entry_mode"] == "paper" and body["entered_by"] == dr_alice.user_id
    assert resp.headers["location"] == f"/api/v1/patients/{pid}/responses/{body['id']}"
    assert count(db, AuditEvent, action="proms.record", record_id=str(body["id"])) == 1


def test_an_invalid_answer_is_a_422_naming_the_item_and_nothing_is_written(client, db, dr_alice, make_patient):
    pid = make_patient(100)
    resp = post_odi(client, dr_alice, pid, answers={**ODI_32, "odi-4": 6})
    assert resp.status_code == 422
    assert resp.headers["content-type"].startswith("application/problem+json")
    assert resp.json()["errors"][0]["field"] == "odi-4"
    assert "odi-4" in resp.json()["detail"]
    assert count(db, PromResponse, patient_id=pid) == 0


def test_a_score_in_the_body_is_refused(client, dr_alice, make_patient):
    pid = make_patient(100)
    body = {"instrument": "odi", "timepoint": "3m", "answers": ODI_32, "scores": {"value": 1}}
    resp = client.post(f"/api/v1/patients/{pid}/responses", json=body, headers=dr_alice.auth)
    assert resp.status_code == 422


def test_a_retry_with_the_same_idempotency_key_replays_the_answer_without_a_duplicate(
    client, db, dr_alice, make_patient
):
    pid = make_patient(100)
    key = {"Idempotency-Key": "phone-retry-1"}
    first = post_odi(client, dr_alice, pid, headers=key)
    again = post_odi(client, dr_alice, pid, headers=key)
    assert first.status_code == again.status_code == 201
    assert again.json() == first.json()
    assert again.headers.get("idempotent-replayed") == "true"
    assert count(db, PromResponse, patient_id=pid) == 1
    without_key = post_odi(client, dr_alice, pid)
    assert without_key.status_code == 409


def test_a_patient_posts_their_own_answers_in_the_open_window(client, db, patient_rosa):
    rosa = patient_rosa.patient_id
    resp = client.post(
        f"/api/v1/patients/{rosa}/responses",
        json={"instrument": "nprs", "answers": {"nprs-back": 2, "nprs-leg": 1}},
        headers=patient_rosa.auth,
    )
    assert resp.status_code == 201, resp.text
    assert (resp.json()["timepoint"], resp.json()["entry_mode"]) == ("3m", "patient")


def test_a_patient_cannot_submit_for_another_patient(client, db, patient_pat, patient_rosa):
    rosa = patient_rosa.patient_id
    before = count(db, PromResponse, patient_id=rosa)
    resp = post_odi(client, patient_pat, rosa)
    assert resp.status_code == 404
    assert count(db, PromResponse, patient_id=rosa) == before


def test_it_hides_other_clinics_patients(client, dr_bob_other_clinic, pat_id):
    for url in (
        f"/api/v1/patients/{pat_id}/responses",
        f"/api/v1/patients/{pat_id}/schedule",
    ):
        assert client.get(url, headers=dr_bob_other_clinic.auth).status_code == 404
    assert post_odi(client, dr_bob_other_clinic, pat_id).status_code == 404


def test_the_patients_responses_are_listed_and_read_one_by_one(client, patient_pat, pat_id):
    listed = client.get(f"/api/v1/patients/{pat_id}/responses", headers=patient_pat.auth)
    assert listed.status_code == 200
    items = listed.json()["items"]
    assert {i["instrument"] for i in items} == {"odi", "zcq", "nprs", "walking"}
    assert {i["timepoint"] for i in items} == {"baseline"}
    one = client.get(f"/api/v1/patients/{pat_id}/responses/{items[0]['id']}", headers=patient_pat.auth)
    assert one.status_code == 200 and one.json()["id"] == items[0]["id"]


def test_a_response_exports_as_fhir_and_its_scores_as_observations(client, patient_pat, pat_id):
    items = client.get(f"/api/v1/patients/{pat_id}/responses?instrument=odi", headers=patient_pat.auth).json()["items"]
    rid = items[0]["id"]
    qr = client.get(f"/api/v1/patients/{pat_id}/responses/{rid}/fhir", headers=patient_pat.auth)
    assert qr.headers["content-type"].startswith("application/fhir+json")
    QuestionnaireResponse.model_validate(qr.json())
    assert qr.json()["subject"] == {"reference": f"Patient/{pat_id}"}
    obs = client.get(f"/api/v1/patients/{pat_id}/responses/{rid}/observations", headers=patient_pat.auth).json()
    Bundle.model_validate(obs)
    (entry,) = obs["entry"]
    assert entry["resource"]["code"]["coding"][0]["code"] == "97909-6"
    assert entry["resource"]["valueQuantity"]["value"] == items[0]["scores"]["value"]


def test_a_fhir_questionnaire_response_is_imported_and_rescored(client, db, dr_alice, make_patient):
    pid = make_patient(100)
    resource = {
        "resourceType": "QuestionnaireResponse",
        "questionnaire": "https://mildpath.org/fhir/Questionnaire/odi|2.1a",
        "status": "completed",
        "subject": {"reference": f"Patient/{pid}"},
        "item": [{"linkId": k, "answer": [{"valueInteger": v}]} for k, v in ODI_3556.items()],
    }
    resp = client.post(
        f"/api/v1/patients/{pid}/questionnaire-responses",
        content=json.dumps(resource),
        headers={**dr_alice.auth, "Content-Type": "application/fhir+json"},
    )
    assert resp.status_code == 201, resp.text
    assert resp.json()["entry_mode"] == "import" and resp.json()["scores"]["value"] == 35.56


def test_a_fhir_import_with_a_bad_answer_names_the_link_id(client, db, dr_alice, make_patient):
    pid = make_patient(100)
    resource = {
        "resourceType": "QuestionnaireResponse",
        "questionnaire": "https://mildpath.org/fhir/Questionnaire/odi|2.1a",
        "status": "completed",
        "item": [{"linkId": "odi-2", "answer": [{"valueInteger": 9}]}],
    }
    resp = client.post(f"/api/v1/patients/{pid}/questionnaire-responses", json=resource, headers=dr_alice.auth)
    assert resp.status_code == 422 and resp.json()["errors"][0]["field"] == "odi-2"
    broken = client.post(f"/api/v1/patients/{pid}/questionnaire-responses", content=b"{not json", headers=dr_alice.auth)
    assert broken.status_code in (400, 422)
    assert count(db, PromResponse, patient_id=pid) == 0


def test_the_schedule_says_which_timepoints_are_due_or_overdue(client, patient_rosa):
    rosa = patient_rosa.patient_id
    resp = client.get(f"/api/v1/patients/{rosa}/schedule", headers=patient_rosa.auth)
    assert resp.status_code == 200
    body = resp.json()
    by_id = {tp["id"]: tp for tp in body["timepoints"]}
    assert by_id["baseline"]["status"] == "completed"
    assert by_id["3m"]["status"] == "overdue"
    zcq = next(i for i in by_id["3m"]["instruments"] if i["instrument"] == "zcq")
    assert zcq["status"] == "in_progress"


def test_the_follow_up_list_is_for_staff(client, dr_alice, patient_pat, patient_rosa):
    resp = client.get("/api/v1/follow-up", headers=dr_alice.auth)
    assert resp.status_code == 200
    assert any(r["patient_id"] == patient_rosa.patient_id and r["status"] == "overdue" for r in resp.json())
    assert client.get("/api/v1/follow-up", headers=patient_pat.auth).status_code == 403


def test_no_credentials_is_401(client, pat_id):
    assert client.get(f"/api/v1/patients/{pat_id}/responses").status_code == 401


def test_reading_a_response_leaves_an_audit_row(client, db, patient_pat, pat_id):
    rid = db.scalar(select(PromResponse.id).where(PromResponse.patient_id == pat_id))
    client.get(f"/api/v1/patients/{pat_id}/responses/{rid}", headers=patient_pat.auth)
    assert count(db, AuditEvent, action="proms.read", record_id=str(rid)) >= 1
