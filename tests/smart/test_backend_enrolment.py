"""Enrolment by the EHR as a registered SMART backend client (issue 20: "Callers authenticate as staff or as a
registered backend client"), and by the clinic's coordinators.

A client bound to a clinic, registered with create on ``ServiceRequest`` (``system/ServiceRequest.c``, or v1
``.write``) and holding a token with that scope, enrols through ``POST /fhir/ServiceRequest`` and
``POST /api/v1/enrolments``; every row of the audit trail it causes names the client. A token without the create
scope, a client of every clinic (no clinic to enrol into) and a token of one type for another type are refused;
the token still opens nothing else outside ``/fhir``. Real keys and signed JWTs (tests/smart/conftest.py)."""

from __future__ import annotations

import copy
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from mildpath.domain.errors import InvalidInput
from mildpath.services.access import Actor
from mildpath.services.clock import today
from mildpath.services.smart import register_client
from mildpath.store.enrolments import Enrolment
from mildpath.store.models import AuditEvent, OutboxMessage, Patient
from tests.messaging.test_enrolment import SERVICE_REQUEST
from tests.smart.conftest import assertion, register, token_form

FHIR = "application/fhir+json"
ENROLLING = ["system/*.read", "system/ServiceRequest.c", "system/Appointment.c"]


def _token(client, signer, client_id, scope):  # type: ignore[no-untyped-def]
    resp = client.post("/auth/token", data=token_form(assertion(signer, client_id), scope))
    assert resp.status_code == 200, resp.text
    assert set(resp.json()["scope"].split()) == set(scope.split())
    return {"Authorization": f"Bearer {resp.json()['access_token']}"}


@pytest.fixture
def ehr(client, db, rsa_signer, dr_alice):  # type: ignore[no-untyped-def]
    """A token of the demo clinic's EHR that may create ServiceRequests and Appointments: (headers, client id)."""
    client_id = register(db, rsa_signer, scopes=ENROLLING, clinic_id=dr_alice.clinic_id, name="Demo EHR")
    return _token(client, rsa_signer, client_id, " ".join(ENROLLING)), client_id


def _create(client, headers, resource):  # type: ignore[no-untyped-def]
    return client.post("/fhir/ServiceRequest", json=resource, headers={**headers, "Content-Type": FHIR})


def test_the_ehr_enrols_a_patient_with_the_fhir_create_and_every_audit_row_names_it(client, db, ehr, dr_alice):  # type: ignore[no-untyped-def]
    headers, client_id = ehr
    first_event = db.scalar(select(func.max(AuditEvent.id))) or 0
    resp = _create(client, headers, SERVICE_REQUEST)
    assert resp.status_code == 201, resp.text
    patient = db.scalar(select(Patient).where(Patient.mrn == "EHR-77"))
    assert patient is not None and patient.clinic_id == dr_alice.clinic_id
    assert resp.json()["subject"]["reference"] == f"Patient/{patient.id}"
    assert resp.headers["location"].endswith(f"/fhir/ServiceRequest/{resp.json()['id']}")
    assert db.scalar(select(OutboxMessage).where(OutboxMessage.kind == "access_invitation")
                     .order_by(OutboxMessage.id.desc())) is not None
    events = db.scalars(select(AuditEvent).where(AuditEvent.id > first_event).order_by(AuditEvent.id)).all()
    actions = [e.action for e in events]
    assert {"patient.create", "user.invite", "enrolment.create"} <= set(actions), actions
    for event in events:
        assert event.actor_role == "backend" and event.detail["client_id"] == client_id, event.action

    again = _create(client, headers, SERVICE_REQUEST)
    assert again.status_code == 200 and again.json() == resp.json()
    read = client.get(f"/fhir/ServiceRequest/{resp.json()['id']}", headers=headers)
    assert read.status_code == 200 and read.json() == resp.json()


def test_the_ehr_enrols_through_the_api_with_an_appointment_into_a_scheduled_procedure(client, db, ehr):  # type: ignore[no-untyped-def]
    headers, _ = ehr
    appointment = {"resourceType": "Appointment", "identifier": [{"value": "APT-EHR-1"}], "status": "booked",
                   "start": f"{today() + timedelta(days=20)}T08:30:00Z",
                   "contained": copy.deepcopy(SERVICE_REQUEST["contained"]),
                   "participant": [{"actor": {"reference": "#p"}, "status": "accepted"}]}
    resp = client.post("/api/v1/enrolments", json=appointment, headers=headers)
    assert resp.status_code == 201, resp.text
    assert resp.json()["pathway"] == "scheduled" and resp.json()["procedure_id"] is not None


def test_a_read_only_token_cannot_enrol(client, db, rsa_signer, dr_alice):  # type: ignore[no-untyped-def]
    client_id = register(db, rsa_signer, scopes=ENROLLING, clinic_id=dr_alice.clinic_id)
    headers = _token(client, rsa_signer, client_id, "system/*.read")  # registered for more, asked for less
    refused = _create(client, headers, SERVICE_REQUEST)
    assert refused.status_code == 403 and refused.json()["resourceType"] == "OperationOutcome"
    assert "system/ServiceRequest.c" in refused.text
    assert client.post("/api/v1/enrolments", json=SERVICE_REQUEST, headers=headers).status_code == 403
    assert db.scalar(select(func.count()).select_from(Enrolment)) == 0
    assert db.scalar(select(Patient).where(Patient.mrn == "EHR-77")) is None


def test_a_create_scope_for_one_type_does_not_create_the_other(client, db, rsa_signer, dr_alice):  # type: ignore[no-untyped-def]
    client_id = register(db, rsa_signer, scopes=["system/Appointment.c"], clinic_id=dr_alice.clinic_id)
    headers = _token(client, rsa_signer, client_id, "system/Appointment.c")
    assert _create(client, headers, SERVICE_REQUEST).status_code == 403
    assert db.scalar(select(func.count()).select_from(Enrolment)) == 0


def test_a_client_of_every_clinic_has_no_clinic_to_enrol_into(client, db, rsa_signer):  # type: ignore[no-untyped-def]
    client_id = register(db, rsa_signer, scopes=ENROLLING)
    headers = _token(client, rsa_signer, client_id, "system/ServiceRequest.c")
    refused = _create(client, headers, SERVICE_REQUEST)
    assert refused.status_code == 403 and "one clinic" in refused.text
    assert db.scalar(select(func.count()).select_from(Enrolment)) == 0


def test_an_enrolling_token_opens_nothing_else_outside_fhir(client, ehr, pat_id):  # type: ignore[no-untyped-def]
    headers, _ = ehr
    assert client.get("/api/v1/patients", headers=headers).status_code == 401
    assert client.get(f"/api/v1/patients/{pat_id}", headers=headers).status_code == 401


def test_a_coordinator_enrols_into_their_clinic(client, db, personas):  # type: ignore[no-untyped-def]
    cora = personas["coord_cora"]
    resp = client.post("/api/v1/enrolments", json=SERVICE_REQUEST, headers=cora.auth)
    assert resp.status_code == 201, resp.text
    assert db.get(Patient, resp.json()["patient_id"]).clinic_id == cora.clinic_id


@pytest.mark.parametrize("scope", ["system/Patient.c", "system/*.c", "system/ServiceRequest.cud",
                                   "system/ServiceRequest.d", "system/Observation.write"])
def test_registration_refuses_create_beyond_the_enrolling_types(db, scope):  # type: ignore[no-untyped-def]
    with pytest.raises(InvalidInput, match="read-only"):
        register_client(db, Actor.system(), "Too much", scopes=[scope], jwks_url="https://ehr.example.org/k")


def test_the_smart_configuration_offers_the_enrolling_scopes(client):  # type: ignore[no-untyped-def]
    offered = client.get("/.well-known/smart-configuration").json()["scopes_supported"]
    assert {"system/ServiceRequest.c", "system/Appointment.c", "system/*.read"} <= set(offered)
