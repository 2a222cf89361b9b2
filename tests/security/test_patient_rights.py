"""Patient rights: an admin exports everything about one patient as a FHIR R4 Bundle, erases a patient (every
row in every table that references patients, found from the foreign keys) or anonymises one (identity gone,
clinical data kept); each confirmed with a reason and audited."""

from __future__ import annotations

import json

import pytest
from fhir.resources.R4B import get_fhir_model_class
from fhir.resources.R4B.bundle import Bundle
from sqlalchemy import Column, ForeignKey, Integer, String, Table, insert, select

from mildpath.services import patient_rights
from mildpath.store.base import Base
from mildpath.store.erasure import count_patient_rows, erasure_plan
from mildpath.store.models import AuditEvent, IdempotencyKey, Patient, User
from tests.helpers import count, csrf_from, login

REQUEST = {"reason": "patient_request", "reference": "REQ-2026/17"}


def _confirm(db, pid: int) -> dict[str, str]:
    return {**REQUEST, "confirm_mrn": db.get(Patient, pid).mrn}


def _validated(bundle: dict) -> Bundle:
    parsed = Bundle.model_validate(bundle)
    for entry in bundle["entry"]:
        resource = entry["resource"]
        get_fhir_model_class(resource["resourceType"]).model_validate(resource)
    return parsed


# ------------------------------------------------------------------------------------------ export


def test_the_export_is_a_valid_r4_collection_bundle_with_the_patient_first(client, admin_ada, pat_id):
    resp = client.post(f"/api/v1/patients/{pat_id}/export", json=REQUEST, headers=admin_ada.auth)
    assert resp.status_code == 200, resp.text
    assert resp.headers["content-type"].startswith("application/fhir+json")
    bundle = resp.json()
    parsed = _validated(bundle)
    assert parsed.type == "collection"
    patient = bundle["entry"][0]["resource"]
    assert patient["resourceType"] == "Patient" and patient["id"] == str(pat_id)
    assert patient["name"][0]["family"] == "Quinn" and patient["identifier"][0]["value"] == "DEMO-0001"


def test_the_export_gathers_what_every_subject_knows_about_the_patient(client, admin_ada, pat_id):
    bundle = client.post(f"/api/v1/patients/{pat_id}/export", json=REQUEST, headers=admin_ada.auth).json()
    types = {e["resource"]["resourceType"] for e in bundle["entry"]}
    # The demo gives Pat a recovery plan, a procedure and questionnaires (when those subjects are present).
    assert {"CarePlan", "Procedure", "QuestionnaireResponse", "Observation"} <= types, types
    for entry in bundle["entry"][1:]:
        resource = entry["resource"]
        refs = json.dumps({k: resource.get(k) for k in ("subject", "patient")})
        assert f"Patient/{pat_id}" in refs, f"{resource['resourceType']} is about someone else"


def test_every_registered_provider_answers_for_a_patient_with_nothing_recorded(db, other_clinic_patient_id):
    providers = patient_rights.fhir_providers()
    assert providers[0][0] == "patients" and {"recovery", "procedures", "proms"} <= {name for name, _ in providers}
    for subject, provider in providers:
        resources = provider(db, other_clinic_patient_id)
        assert isinstance(resources, list), subject
        assert len(resources) == (1 if subject == "patients" else 0), subject


def test_the_export_is_audited_with_its_reason_and_no_personal_data(client, db, admin_ada, pat_id):
    client.post(f"/api/v1/patients/{pat_id}/export", json=REQUEST, headers=admin_ada.auth)
    row = db.scalars(
        select(AuditEvent).where(AuditEvent.action == "patient.export").order_by(AuditEvent.id.desc())
    ).first()
    assert row.patient_id == pat_id and row.actor_user_id == admin_ada.user_id
    assert row.detail["reason"] == "patient_request" and row.detail["reference"] == "REQ-2026/17"
    assert "Quinn" not in json.dumps(row.detail)


@pytest.mark.parametrize("who", ["dr_alice", "patient_pat"], ids=["clinician", "the patient"])
def test_only_an_admin_may_use_the_patient_rights_api(client, personas, pat_id, db, who):
    for action, body in (("export", REQUEST), ("erase", _confirm(db, pat_id)), ("anonymise", _confirm(db, pat_id))):
        resp = client.post(f"/api/v1/patients/{pat_id}/{action}", json=body, headers=personas[who].auth)
        assert resp.status_code == 403, action
    assert count(db, Patient, id=pat_id) == 1


@pytest.mark.parametrize(
    "body",
    [{}, {"reason": "because"}, {**REQUEST, "reference": "Mrs Quinn asked"}, {**REQUEST, "extra": 1}],
    ids=["no reason", "unknown reason", "a name in the reference", "unknown field"],
)
def test_an_export_without_a_proper_reason_is_refused(client, admin_ada, pat_id, body):
    resp = client.post(f"/api/v1/patients/{pat_id}/export", json=body, headers=admin_ada.auth)
    assert resp.status_code == 422


# ------------------------------------------------------------------------------------------ erase


def test_erasing_deletes_every_row_about_the_patient_and_keeps_the_audit_trail(client, db, admin_ada, pat_id):
    before = count_patient_rows(db, patient_id=pat_id)
    assert before["patients"] == 1 and before.get("diary_entries", 0) > 0 and before["users"] == 1
    audit_before = count(db, AuditEvent, patient_id=pat_id)
    resp = client.post(f"/api/v1/patients/{pat_id}/erase", json=_confirm(db, pat_id), headers=admin_ada.auth)
    assert resp.status_code == 200, resp.text
    assert resp.json()["rows"]["patients"] == 1
    db.expire_all()
    assert count_patient_rows(db, patient_id=pat_id) == {}
    assert count(db, AuditEvent, patient_id=pat_id) == audit_before + 1
    row = db.scalars(select(AuditEvent).where(AuditEvent.action == "patient.erase")).one()
    assert row.detail["reason"] == "patient_request" and row.detail["rows"]["patients"] == 1


def test_after_erasure_the_patient_and_their_login_are_gone(client, db, admin_ada, patient_pat, pat_id):
    client.post(f"/api/v1/patients/{pat_id}/erase", json=_confirm(db, pat_id), headers=admin_ada.auth)
    assert client.get(f"/api/v1/patients/{pat_id}", headers=admin_ada.auth).status_code == 404
    assert client.get("/api/v1/me", headers=patient_pat.auth).status_code == 401
    assert count(db, User, email=patient_pat.email) == 0


def test_erasure_leaves_other_patients_alone(client, db, admin_ada, pat_id, patient_rosa):
    rosa = count_patient_rows(db, patient_id=patient_rosa.patient_id)
    total = count(db, Patient)
    client.post(f"/api/v1/patients/{pat_id}/erase", json=_confirm(db, pat_id), headers=admin_ada.auth)
    assert count_patient_rows(db, patient_id=patient_rosa.patient_id) == rosa
    assert count(db, Patient) == total - 1


def test_a_wrong_mrn_confirmation_erases_nothing(client, db, admin_ada, pat_id):
    before = count_patient_rows(db, patient_id=pat_id)
    resp = client.post(
        f"/api/v1/patients/{pat_id}/erase", json={**REQUEST, "confirm_mrn": "DEMO-0002"}, headers=admin_ada.auth
    )
    assert resp.status_code == 422 and resp.json()["errors"][0]["field"] == "confirm_mrn"
    assert count_patient_rows(db, patient_id=pat_id) == before


def test_erasure_also_removes_stored_idempotent_answers_that_repeat_the_patient(client, db, admin_ada, dr_alice):
    body = {
        "mrn": "ER-1",
        "given_name": "Erin",
        "family_name": "Rasmussen",
        "birth_date": "1950-01-02",
        "sex": "female",
    }
    created = client.post("/api/v1/patients", json=body, headers={**dr_alice.auth, "Idempotency-Key": "er-1"})
    pid = created.json()["id"]
    assert count(db, IdempotencyKey, key="er-1") == 1
    client.post(f"/api/v1/patients/{pid}/erase", json={**REQUEST, "confirm_mrn": "ER-1"}, headers=admin_ada.auth)
    assert count(db, IdempotencyKey, key="er-1") == 0


def test_a_table_added_later_is_erased_without_any_change_to_the_erasure_code(client, db, admin_ada, pat_id):
    notes = Table(
        "zz_subject_notes",
        Base.metadata,
        Column("id", Integer, primary_key=True),
        Column("patient_id", ForeignKey("patients.id")),
        Column("text", String(100)),
    )
    try:
        notes.create(db.connection())
        db.execute(insert(notes).values(patient_id=pat_id, text="a note"))
        assert "zz_subject_notes" in {t.name for t in erasure_plan().tables}
        client.post(f"/api/v1/patients/{pat_id}/erase", json=_confirm(db, pat_id), headers=admin_ada.auth)
        assert db.execute(select(notes)).all() == []
    finally:
        Base.metadata.remove(notes)


# ------------------------------------------------------------------------------------------ anonymise


def test_anonymising_replaces_identity_and_keeps_the_clinical_record(client, db, admin_ada, patient_pat, pat_id):
    diary_before = count_patient_rows(db, patient_id=pat_id).get("diary_entries", 0)
    resp = client.post(f"/api/v1/patients/{pat_id}/anonymise", json=_confirm(db, pat_id), headers=admin_ada.auth)
    assert resp.status_code == 200, resp.text
    db.expire_all()
    patient = db.get(Patient, pat_id)
    assert (patient.given_name, patient.family_name, patient.mrn) == (
        "Anonymised",
        f"Patient {pat_id}",
        f"ANON-{pat_id}",
    )
    assert patient.phone == patient.email == patient.address == ""
    assert (patient.birth_date.month, patient.birth_date.day) == (1, 1) and patient.anonymised_at is not None
    assert count_patient_rows(db, patient_id=pat_id).get("diary_entries", 0) == diary_before > 0
    assert client.get("/api/v1/me", headers=patient_pat.auth).status_code == 401
    exported = client.post(f"/api/v1/patients/{pat_id}/export", json=REQUEST, headers=admin_ada.auth).json()
    assert "Quinn" not in json.dumps(exported)
    assert count(db, AuditEvent, action="patient.anonymise", patient_id=pat_id) == 1


def test_anonymising_twice_is_a_conflict(client, db, admin_ada, pat_id):
    body = _confirm(db, pat_id)
    assert client.post(f"/api/v1/patients/{pat_id}/anonymise", json=body, headers=admin_ada.auth).status_code == 200
    again = {**body, "confirm_mrn": f"ANON-{pat_id}"}
    assert client.post(f"/api/v1/patients/{pat_id}/anonymise", json=again, headers=admin_ada.auth).status_code == 409


@pytest.mark.parametrize(
    ("born", "today", "expected"),
    [("1950-07-14", "2026-05-01", "1950-01-01"), ("1930-03-02", "2026-05-01", "1936-01-01")],
    ids=["keeps the year", "groups ages of 90 and over"],
)
def test_the_anonymised_birth_date_keeps_the_year_only(born, today, expected):
    from datetime import date

    assert (
        patient_rights.anonymised_birth_date(date.fromisoformat(born), date.fromisoformat(today)).isoformat()
        == expected
    )


# ------------------------------------------------------------------------------------------ pages


def test_the_admin_page_exports_a_download_and_erases_with_confirmation(client, db, admin_ada, pat_id):
    login(client, admin_ada)
    chart = client.get(f"/patients/{pat_id}")
    assert f"/admin/patients/{pat_id}/rights" in chart.text
    page = client.get(f"/admin/patients/{pat_id}/rights")
    assert page.status_code == 200 and "DEMO-0001" in page.text
    token = csrf_from(page.text)
    download = client.post(f"/admin/patients/{pat_id}/export", data={"csrf_token": token, **REQUEST})
    assert download.status_code == 200 and "attachment" in download.headers["content-disposition"]
    _validated(download.json())
    wrong = client.post(f"/admin/patients/{pat_id}/erase", data={"csrf_token": token, **REQUEST, "confirm_mrn": "nope"})
    assert wrong.status_code == 422 and "does not match" in wrong.text and 'value="REQ-2026/17"' in wrong.text
    done = client.post(f"/admin/patients/{pat_id}/erase", data={"csrf_token": token, **_confirm(db, pat_id)})
    assert done.status_code == 303 and done.headers["location"] == f"/admin/patient-rights?erased={pat_id}"
    assert client.get(done.headers["location"]).status_code == 200
    assert count(db, Patient, id=pat_id) == 0


def test_the_admin_page_anonymises(client, db, admin_ada, pat_id):
    login(client, admin_ada)
    token = csrf_from(client.get(f"/admin/patients/{pat_id}/rights").text)
    resp = client.post(f"/admin/patients/{pat_id}/anonymise", data={"csrf_token": token, **_confirm(db, pat_id)})
    assert resp.status_code == 303
    assert "was anonymised" in client.get(resp.headers["location"]).text


def test_a_clinician_cannot_open_the_data_rights_page(client, dr_alice, pat_id):
    login(client, dr_alice)
    assert client.get(f"/admin/patients/{pat_id}/rights").status_code == 403
    assert f"/admin/patients/{pat_id}/rights" not in client.get(f"/patients/{pat_id}").text
