"""Enrolment from the EHR (issue 20, contracts §10): a ServiceRequest for CPT 0275T or an Appointment enrols the
patient (matched or created), makes the pathway and sends the invitation; the same resource again changes nothing;
bad resources get a 4xx naming what is wrong."""

from __future__ import annotations

import copy
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from mildpath.services import notify
from mildpath.services.clock import now, today
from mildpath.store.enrolments import Enrolment
from mildpath.store.models import OutboxMessage, Patient, User

SERVICE_REQUEST = {
    "resourceType": "ServiceRequest",
    "identifier": [{"system": "urn:oid:1.2.3.4.5", "value": "SR-1001"}],
    "status": "active",
    "intent": "order",
    "code": {"coding": [{"system": "http://www.ama-assn.org/go/cpt", "code": "0275T"}]},
    "subject": {"reference": "#p"},
    "contained": [{"resourceType": "Patient", "id": "p", "identifier": [{"system": "urn:mrn", "value": "EHR-77"}],
                   "name": [{"family": "Vidal", "given": ["Ines"]}], "birthDate": "1950-03-01", "gender": "female",
                   "telecom": [{"system": "phone", "value": "+15550001111"}],
                   "communication": [{"language": {"coding": [{"system": "urn:ietf:bcp:47", "code": "es"}]}}]}],
}


@pytest.fixture(autouse=True)
def empty_outbox(db):  # type: ignore[no-untyped-def]
    notify.deliver_pending(db, notify.LogSender(), limit=100_000, now=now() + timedelta(days=3650))


def _enrol(client, persona, resource, **params):  # type: ignore[no-untyped-def]
    return client.post("/api/v1/enrolments", json=resource, headers=persona.auth, params=params)


def test_a_service_request_creates_the_patient_the_referral_and_a_text_invitation(client, db, dr_alice):  # type: ignore[no-untyped-def]
    resp = _enrol(client, dr_alice, SERVICE_REQUEST, sms_consent="true")
    assert resp.status_code == 201, resp.text
    body = resp.json()
    assert body["pathway"] == "referral" and body["created"] is True
    patient = db.get(Patient, body["patient_id"])
    assert (patient.mrn, patient.given_name, patient.preferred_language, patient.clinic_id) == (
        "EHR-77", "Ines", "es", dr_alice.clinic_id)
    assert body["resource"]["subject"] == {"reference": f"Patient/{patient.id}", "type": "Patient"}
    assert "contained" not in body["resource"]
    message = db.get(OutboxMessage, body["invitation_message_id"])
    assert (message.channel, message.recipient_address, message.kind) == ("sms", "+15550001111", "access_invitation")
    account = db.scalar(select(User).where(User.patient_id == patient.id))
    assert account is not None and account.password_hash == ""


def test_the_same_request_again_changes_nothing(client, db, dr_alice):  # type: ignore[no-untyped-def]
    first = _enrol(client, dr_alice, SERVICE_REQUEST)
    outbox = db.scalar(select(func.count()).select_from(OutboxMessage))
    again = _enrol(client, dr_alice, SERVICE_REQUEST)
    assert again.status_code == 200 and again.json()["created"] is False
    assert again.json()["patient_id"] == first.json()["patient_id"]
    assert db.scalar(select(func.count()).select_from(Enrolment)) == 1
    assert db.scalar(select(func.count()).select_from(OutboxMessage)) == outbox
    assert db.scalar(select(func.count()).select_from(Patient).where(Patient.mrn == "EHR-77")) == 1


def test_an_appointment_for_a_known_patient_schedules_the_procedure(client, db, dr_alice, pat_id):  # type: ignore[no-untyped-def]
    from mildpath.store.procedures import ProcedureRow

    for row in db.query(ProcedureRow).filter(ProcedureRow.patient_id == pat_id):
        row.status = "cancelled"
    db.flush()
    mrn = db.get(Patient, pat_id).mrn
    day = (today() + timedelta(days=20)).isoformat()
    appointment = {"resourceType": "Appointment", "identifier": [{"value": "APT-9"}], "status": "booked",
                   "start": f"{day}T08:30:00Z", "participant": [{"actor": {"identifier": {"value": mrn}},
                                                                  "status": "accepted"}]}
    resp = _enrol(client, dr_alice, appointment)
    assert resp.status_code == 201, resp.text
    body = resp.json()
    assert body["patient_id"] == pat_id and body["pathway"] == "scheduled"
    procedure = db.get(ProcedureRow, body["procedure_id"])
    assert procedure.scheduled_date.isoformat() == day and procedure.status == "scheduled"
    assert body["invitation_message_id"] is None  # Pat has an account already


@pytest.mark.parametrize(
    "change, field",
    [
        (lambda r: r.update(resourceType="Observation"), "resourceType"),
        (lambda r: r["code"]["coding"][0].update(code="63030"), "code"),
        (lambda r: r.update(identifier=[]), "ServiceRequest.identifier"),
        (lambda r: r.update(status="revoked"), "status"),
        (lambda r: r.update(subject={"reference": "#nobody"}), "ServiceRequest.subject.reference"),
        (lambda r: r.update(subject={"identifier": {"value": "NOT-A-PATIENT"}}, contained=[]), "subject"),
        (lambda r: r["contained"][0].update(birthDate="yesterday"), "contained[#p].birthDate"),
    ],
)
def test_a_resource_that_cannot_enrol_is_refused_naming_what_is_wrong(client, db, dr_alice, change, field):  # type: ignore[no-untyped-def]
    resource = copy.deepcopy(SERVICE_REQUEST)
    change(resource)
    resp = _enrol(client, dr_alice, resource)
    assert resp.status_code == 422, resp.text
    assert resp.json()["errors"][0]["field"] == field
    assert db.scalar(select(func.count()).select_from(Enrolment)) == 0


def test_only_clinic_staff_enrol(client, patient_pat, admin_ada):  # type: ignore[no-untyped-def]
    assert _enrol(client, patient_pat, SERVICE_REQUEST).status_code == 403
    assert _enrol(client, admin_ada, SERVICE_REQUEST).status_code == 403  # an admin belongs to no clinic
