"""/api/v1 recovery: diary with triage, plan as JSON / iCalendar / FHIR CarePlan, the worklist and its flags."""

from __future__ import annotations

import pytest
from fhir.resources.R4B.careplan import CarePlan
from icalendar import Calendar

from mildpath.services.clock import today
from mildpath.store.models import AuditEvent
from mildpath.store.recovery import DiaryEntryRecord, TriageFlag
from tests.helpers import count
from tests.recovery_web.conftest import EMERGENCY, EXPECTED, REVIEW, SAME_DAY

PROBLEM = "application/problem+json"


def _post(client, persona, patient_id, body, **headers):  # type: ignore[no-untyped-def]
    return client.post(f"/api/v1/patients/{patient_id}/diary", json=body, headers={**persona.auth, **headers})


# ------------------------------------------------------------------------------------------ diary


def test_a_patient_posts_an_entry_and_gets_the_advice_at_once(client, patient_pat, pat_id):
    resp = _post(client, patient_pat, pat_id, EMERGENCY)
    assert resp.status_code == 201, resp.text
    body = resp.json()
    assert body["level"] == "emergency" and body["flag_status"] == "open"
    assert body["advice"].startswith("Call emergency services")
    assert body["reasons"][0]["rule_id"] == "ces-saddle-numbness" and body["reasons"][0]["sources"]
    assert body["answers"]["saddle_numbness"] is True
    assert body["days_since_procedure"] is not None  # from Pat's plan


def test_the_diary_lists_newest_first(client, patient_pat, pat_id):
    first = _post(client, patient_pat, pat_id, EXPECTED).json()["id"]
    second = _post(client, patient_pat, pat_id, REVIEW).json()["id"]
    items = client.get(f"/api/v1/patients/{pat_id}/diary?limit=5", headers=patient_pat.auth).json()["items"]
    assert [i["id"] for i in items[:2]] == [second, first]


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"pain_leg": 12}, "pain_leg"),
        ({"incision": ["fine", "drainage"]}, "incision"),
        ({"temperature_c": "hot"}, "temperature_c"),
        ({"bladder_change": True}, "bladder_change"),
        ({"days_since_procedure": -1}, "days_since_procedure"),
        ([1, 2], "body"),
    ],
    ids=["pain-12", "fine-and-drainage", "text-temperature", "unknown-field", "negative-day", "not-an-object"],
)
def test_bad_input_is_a_422_problem_naming_the_field_and_nothing_is_written(
    client, db, patient_pat, pat_id, body, field
):
    before = (count(db, DiaryEntryRecord), count(db, TriageFlag), count(db, AuditEvent, action="recovery.diary_create"))
    resp = _post(client, patient_pat, pat_id, body)
    assert resp.status_code == 422
    assert resp.headers["content-type"].startswith(PROBLEM)
    assert resp.json()["errors"][0]["field"] == field
    after = (count(db, DiaryEntryRecord), count(db, TriageFlag), count(db, AuditEvent, action="recovery.diary_create"))
    assert after == before


def test_malformed_json_is_a_400_problem(client, patient_pat, pat_id):
    resp = client.post(
        f"/api/v1/patients/{pat_id}/diary",
        content=b"{pain_back: 3",
        headers={**patient_pat.auth, "Content-Type": "application/json"},
    )
    assert resp.status_code == 400 and resp.headers["content-type"].startswith(PROBLEM)


def test_a_retry_with_the_same_idempotency_key_files_the_entry_once(client, db, patient_pat, pat_id):
    before = count(db, DiaryEntryRecord, patient_id=pat_id)
    first = _post(client, patient_pat, pat_id, SAME_DAY, **{"Idempotency-Key": "phone-retry-1"})
    again = _post(client, patient_pat, pat_id, SAME_DAY, **{"Idempotency-Key": "phone-retry-1"})
    assert first.status_code == again.status_code == 201
    assert again.headers.get("Idempotent-Replayed") == "true" and again.json()["id"] == first.json()["id"]
    assert count(db, DiaryEntryRecord, patient_id=pat_id) == before + 1


def test_a_patient_cannot_post_for_another_patient(client, patient_pat, world, pat_id):
    other = next(i for i in world.demo_patient_ids if i != pat_id)
    assert _post(client, patient_pat, other, EXPECTED).status_code == 404
    assert client.get(f"/api/v1/patients/{other}/diary", headers=patient_pat.auth).status_code == 404


def test_a_clinician_records_an_entry_for_a_patient_of_the_clinic(client, dr_alice, pat_id):
    resp = _post(client, dr_alice, pat_id, SAME_DAY)
    assert resp.status_code == 201 and resp.json()["entered_by"] == dr_alice.user_id


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/api/v1/patients/{id}/diary"),
        ("POST", "/api/v1/patients/{id}/diary"),
        ("GET", "/api/v1/patients/{id}/recovery-plan"),
        ("PUT", "/api/v1/patients/{id}/recovery-plan"),
        ("GET", "/api/v1/patients/{id}/recovery-plan.ics"),
        ("GET", "/api/v1/patients/{id}/careplan"),
    ],
    ids=["diary-list", "diary-post", "plan", "plan-put", "ics", "careplan"],
)
def test_it_hides_other_clinics_patients(client, dr_bob_other_clinic, pat_id, method, path):
    body = {"procedure_date": today().isoformat()} if method == "PUT" else EXPECTED
    resp = client.request(method, path.format(id=pat_id), json=body, headers=dr_bob_other_clinic.auth)
    assert resp.status_code == 404
    assert "Quinn" not in resp.text


def test_without_credentials_the_api_answers_401(client, pat_id):
    assert client.get(f"/api/v1/patients/{pat_id}/diary").status_code == 401
    assert client.get("/api/v1/worklist").status_code == 401


# ------------------------------------------------------------------------------------------ plan


def test_the_plan_json_says_which_day_it_is(client, patient_pat, pat_id):
    resp = client.get(f"/api/v1/patients/{pat_id}/recovery-plan", headers=patient_pat.auth)
    assert resp.status_code == 200
    plan = resp.json()
    assert plan["day"] == 5 and plan["headline"] == "Today is day 5 after your procedure"  # demo: Pat is on day 5
    assert plan["milestones"][0]["id"] == "home-same-day" and plan["milestones"][0]["sources"]
    assert any(m["state"] == "now" for m in plan["milestones"])


def test_staff_set_the_plan_and_a_patient_may_not(client, dr_alice, patient_pat, world, pat_id):
    patient_id = world.demo_patient_ids[8]
    body = {"procedure_date": today().isoformat(), "no_lifting_weeks": 3, "physical_therapy": False}
    resp = client.put(f"/api/v1/patients/{patient_id}/recovery-plan", json=body, headers=dr_alice.auth)
    assert resp.status_code == 200 and resp.json()["day"] == 0 and resp.json()["no_lifting_weeks"] == 3
    bad = client.put(
        f"/api/v1/patients/{patient_id}/recovery-plan", json={**body, "no_lifting_weeks": 99}, headers=dr_alice.auth
    )
    assert bad.status_code == 422 and bad.json()["errors"][0]["field"] == "no_lifting_weeks"
    mine = client.put(f"/api/v1/patients/{pat_id}/recovery-plan", json=body, headers=patient_pat.auth)
    assert mine.status_code == 403


def test_a_patient_without_a_plan_gets_404(client, dr_alice, world):
    assert (
        client.get(f"/api/v1/patients/{world.demo_patient_ids[2]}/recovery-plan", headers=dr_alice.auth).status_code
        == 404
    )


def test_the_plan_downloads_as_icalendar(client, patient_pat, pat_id):
    resp = client.get(f"/api/v1/patients/{pat_id}/recovery-plan.ics", headers=patient_pat.auth)
    assert resp.status_code == 200 and resp.headers["content-type"].startswith("text/calendar")
    events = Calendar.from_ical(resp.content).walk("VEVENT")
    assert any(str(e["SUMMARY"]) == "Home the same day" for e in events)
    assert "Quinn" not in resp.text  # the calendar names no one


def test_the_careplan_is_fhir_json_that_validates_as_r4b(client, dr_alice, pat_id):
    resp = client.get(f"/api/v1/patients/{pat_id}/careplan", headers=dr_alice.auth)
    assert resp.status_code == 200
    assert resp.headers["content-type"].startswith("application/fhir+json")
    resource = CarePlan.model_validate(resp.json())
    assert resource.subject.reference == f"Patient/{pat_id}" and resource.status == "active"
    assert len(resource.activity) >= 10


# ------------------------------------------------------------------------------------------ worklist and flags


def test_the_worklist_is_ordered_by_urgency_then_time(client, dr_alice, patient_pat, pat_id):
    made = _post(client, patient_pat, pat_id, EMERGENCY).json()["flag_id"]
    items = client.get("/api/v1/worklist", headers=dr_alice.auth).json()["items"]
    rank = {"emergency": 0, "same_day": 1, "review": 2}
    keys = [(rank[i["level"]], i["raised_at"]) for i in items]
    assert keys == sorted(keys)
    assert made in {i["id"] for i in items}


def test_the_worklist_is_staff_only(client, patient_pat):
    assert client.get("/api/v1/worklist", headers=patient_pat.auth).status_code == 403


def test_acknowledge_and_resolve_a_flag(client, dr_alice, patient_pat, pat_id):
    flag_id = _post(client, patient_pat, pat_id, SAME_DAY).json()["flag_id"]
    acked = client.post(f"/api/v1/flags/{flag_id}/acknowledge", headers=dr_alice.auth)
    assert acked.status_code == 200 and acked.json()["status"] == "acknowledged"
    assert client.post(f"/api/v1/flags/{flag_id}/acknowledge", headers=dr_alice.auth).status_code == 409
    no_note = client.post(f"/api/v1/flags/{flag_id}/resolve", json={"note": "  "}, headers=dr_alice.auth)
    assert no_note.status_code == 422 and no_note.json()["errors"][0]["field"] == "note"
    missing = client.post(f"/api/v1/flags/{flag_id}/resolve", json={}, headers=dr_alice.auth)
    assert missing.status_code == 422 and missing.json()["errors"][0]["field"] == "note"
    done = client.post(f"/api/v1/flags/{flag_id}/resolve", json={"note": "Called back."}, headers=dr_alice.auth)
    assert done.status_code == 200 and done.json()["status"] == "resolved"
    assert done.json()["resolution_note"] == "Called back."
    listed = client.get(f"/api/v1/patients/{pat_id}/diary", headers=patient_pat.auth).json()["items"]
    assert next(i for i in listed if i["flag_id"] == flag_id)["flag_status"] == "resolved"


def test_another_clinics_flag_is_not_found(client, dr_bob_other_clinic, patient_pat, pat_id):
    flag_id = _post(client, patient_pat, pat_id, SAME_DAY).json()["flag_id"]
    bob = dr_bob_other_clinic.auth
    assert client.post(f"/api/v1/flags/{flag_id}/acknowledge", headers=bob).status_code == 404
    assert client.post(f"/api/v1/flags/{flag_id}/resolve", json={"note": "x"}, headers=bob).status_code == 404
    assert flag_id not in {i["id"] for i in client.get("/api/v1/worklist", headers=bob).json()["items"]}


def test_a_huge_flag_id_is_a_clean_422(client, dr_alice):
    assert client.post("/api/v1/flags/99999999999999/acknowledge", headers=dr_alice.auth).status_code == 422
