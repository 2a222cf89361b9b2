"""The foundation's promises: health, login, roles, 404 for what is not yours, problem+json, audit rows."""

from __future__ import annotations

from tests.helpers import count, csrf_from, login, page_csrf

from mildpath.store.models import AuditEvent, Patient


def test_healthz_answers_200_with_the_database_reachable(client):
    resp = client.get("/healthz")
    assert resp.status_code == 200
    assert resp.json()["status"] == "ok"


def test_api_without_credentials_answers_401_problem_json(client):
    resp = client.get("/api/v1/patients")
    assert resp.status_code == 401
    assert resp.headers["content-type"].startswith("application/problem+json")
    assert resp.json()["status"] == 401


def test_a_clinician_lists_only_their_clinics_patients(client, dr_alice, dr_bob_other_clinic, other_clinic_patient_id):
    alice = client.get("/api/v1/patients?limit=500", headers=dr_alice.auth).json()
    bob = client.get("/api/v1/patients?limit=500", headers=dr_bob_other_clinic.auth).json()
    assert alice["total"] >= 30
    assert other_clinic_patient_id not in {p["id"] for p in alice["items"]}
    assert {p["id"] for p in bob["items"]} == {other_clinic_patient_id}


def test_it_hides_other_clinics_patients(client, dr_bob_other_clinic, pat_id):
    resp = client.get(f"/api/v1/patients/{pat_id}", headers=dr_bob_other_clinic.auth)
    assert resp.status_code == 404
    assert "Quinn" not in resp.text


def test_a_patient_sees_only_their_own_record(client, patient_pat, pat_id, world):
    other = next(i for i in world.demo_patient_ids if i != pat_id)
    assert client.get(f"/api/v1/patients/{pat_id}", headers=patient_pat.auth).status_code == 200
    assert client.get(f"/api/v1/patients/{other}", headers=patient_pat.auth).status_code == 404
    listed = client.get("/api/v1/patients", headers=patient_pat.auth).json()
    assert [p["id"] for p in listed["items"]] == [pat_id]


def test_an_unknown_id_and_another_clinics_id_answer_alike(client, dr_alice, other_clinic_patient_id):
    unknown = client.get("/api/v1/patients/999999", headers=dr_alice.auth)
    foreign = client.get(f"/api/v1/patients/{other_clinic_patient_id}", headers=dr_alice.auth)
    assert unknown.status_code == foreign.status_code == 404
    assert unknown.json()["detail"] == foreign.json()["detail"]


def test_malformed_json_gets_a_clear_4xx_problem(client, dr_alice):
    resp = client.post(
        "/api/v1/patients", content=b"{not json", headers={**dr_alice.auth, "Content-Type": "application/json"}
    )
    assert resp.status_code == 400
    assert resp.headers["content-type"].startswith("application/problem+json")


def test_wrong_types_and_impossible_dates_get_422_naming_the_field(client, dr_alice):
    bad = {"mrn": "X1", "given_name": "A", "family_name": "B", "birth_date": "1950-02-30", "sex": "female"}
    resp = client.post("/api/v1/patients", json=bad, headers=dr_alice.auth)
    assert resp.status_code == 422
    assert any(e["field"] == "birth_date" for e in resp.json()["errors"])
    resp = client.post("/api/v1/patients", json={**bad, "birth_date": 12, "extra": 1}, headers=dr_alice.auth)
    assert resp.status_code == 422


def test_a_huge_id_is_a_clean_422_not_a_500(client, dr_alice):
    assert client.get("/api/v1/patients/99999999999999999999", headers=dr_alice.auth).status_code == 422


def test_creating_a_patient_writes_the_patient_and_its_audit_row_together(client, db, dr_alice):
    before = count(db, AuditEvent, action="patient.create")
    body = {"mrn": "NEW-1", "given_name": "Nora", "family_name": "Lind", "birth_date": "1948-05-06", "sex": "female"}
    resp = client.post("/api/v1/patients", json=body, headers=dr_alice.auth)
    assert resp.status_code == 201, resp.text
    assert count(db, Patient, mrn="NEW-1") == 1
    assert count(db, AuditEvent, action="patient.create") == before + 1
    again = client.post("/api/v1/patients", json=body, headers=dr_alice.auth)
    assert again.status_code == 409


def test_reading_a_patient_leaves_an_audit_row_naming_who_and_what(client, db, dr_alice, pat_id):
    before = count(db, AuditEvent, action="patient.read", patient_id=pat_id)
    client.get(f"/api/v1/patients/{pat_id}", headers=dr_alice.auth)
    assert count(db, AuditEvent, action="patient.read", patient_id=pat_id) == before + 1
    from sqlalchemy import select

    row = db.scalars(
        select(AuditEvent).where(AuditEvent.action == "patient.read").order_by(AuditEvent.id.desc())
    ).first()
    assert row.actor_user_id == dr_alice.user_id and row.record_type == "Patient" and row.address


def test_the_audit_trail_refuses_updates_and_deletes(db):
    import pytest
    from sqlalchemy import text
    from sqlalchemy.exc import DBAPIError

    with pytest.raises(DBAPIError), db.begin_nested():
        db.execute(text("UPDATE audit_events SET action = 'x'"))
    with pytest.raises(DBAPIError), db.begin_nested():
        db.execute(text("DELETE FROM audit_events"))


def test_login_page_form_logs_a_clinician_in_and_lists_patients(client, dr_alice):
    login(client, dr_alice)
    page = client.get("/patients")
    assert page.status_code == 200
    assert "Quinn, Pat" in page.text


def test_a_wrong_password_is_refused_without_saying_which_part(client, dr_alice):
    page = client.get("/login")
    resp = client.post(
        "/login", data={"email": dr_alice.email, "password": "wrong-password-123", "csrf_token": csrf_from(page.text)}
    )
    assert resp.status_code == 401
    assert "Email or password is not right" in resp.text


def test_a_form_without_csrf_token_is_refused(client, dr_alice):
    resp = client.post("/login", data={"email": dr_alice.email, "password": dr_alice.password})
    assert resp.status_code == 403


def test_logout_ends_the_session_on_the_server(client, dr_alice):
    login(client, dr_alice)
    cookie = client.cookies.get("mp_session")
    token = page_csrf(client, "/patients")
    assert client.post("/logout", data={"csrf_token": token}).status_code == 303
    client.cookies.set("mp_session", cookie)
    assert client.get("/patients").status_code == 303  # back to login: the old cookie is dead


def test_a_patient_cannot_open_another_patients_chart(client, patient_pat, world, pat_id):
    login(client, patient_pat)
    other = next(i for i in world.demo_patient_ids if i != pat_id)
    assert client.get(f"/patients/{pat_id}").status_code == 200
    assert client.get(f"/patients/{other}").status_code == 404


def test_every_page_carries_the_security_headers(client):
    resp = client.get("/login")
    csp = resp.headers["content-security-policy"]
    assert "script-src 'self'" in csp and "unsafe-inline" not in csp.split("script-src")[1].split(";")[0]
    assert "frame-ancestors 'none'" in csp
    assert resp.headers["x-content-type-options"] == "nosniff"


def test_an_oversized_body_answers_413(client, dr_alice, settings):
    big = b"x" * (settings.max_body_bytes + 1)
    resp = client.post("/api/v1/patients", content=big, headers={**dr_alice.auth, "Content-Type": "application/json"})
    assert resp.status_code == 413


def test_an_admin_reads_the_audit_trail_by_patient_in_the_api_and_on_the_page(client, dr_alice, admin_ada, pat_id):
    client.get(f"/api/v1/patients/{pat_id}", headers=dr_alice.auth)
    got = client.get("/api/v1/audit", params={"patient_id": pat_id, "action": "patient.read"}, headers=admin_ada.auth)
    assert got.status_code == 200
    rows = got.json()
    assert rows and {r["action"] for r in rows} == {"patient.read"} and {r["patient_id"] for r in rows} == {pat_id}
    assert rows[0]["actor_user_id"] == dr_alice.user_id and "detail" not in rows[0]
    assert client.get("/api/v1/audit", headers=dr_alice.auth).status_code == 403
    from tests.helpers import login

    page = login(client, admin_ada).get("/admin/audit", params={"patient_id": pat_id})
    assert page.status_code == 200 and "patient.read" in page.text
