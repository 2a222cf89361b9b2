"""``POST /fhir/ServiceRequest`` (issue 20, contracts §10): the FHIR create interaction enrols the patient; the
stored resource answers with its ``Location`` and a ``subject`` that is the mildpath Patient, reads back with
``GET /fhir/ServiceRequest/{id}``, and the same identifier again changes nothing. Errors are OperationOutcome.

Resources are validated with the fhir.resources R4B models (an outside implementation of the R4 structures)."""

from __future__ import annotations

import copy

from fhir.resources.R4B.operationoutcome import OperationOutcome
from fhir.resources.R4B.servicerequest import ServiceRequest
from sqlalchemy import func, select

from mildpath.store.enrolments import Enrolment
from mildpath.store.models import OutboxMessage, Patient
from tests.messaging.test_enrolment import SERVICE_REQUEST

FHIR = "application/fhir+json"


def _create(client, persona, resource, **params):  # type: ignore[no-untyped-def]
    return client.post("/fhir/ServiceRequest", json=resource, headers={**persona.auth, "Content-Type": FHIR},
                       params=params)


def _outcome(resp, status):  # type: ignore[no-untyped-def]
    assert resp.status_code == status, resp.text[:300]
    assert resp.headers["content-type"].startswith(FHIR)
    OperationOutcome.model_validate(resp.json())
    return resp.json()


def test_a_created_service_request_answers_201_with_its_location_and_the_mildpath_patient(client, db, dr_alice):  # type: ignore[no-untyped-def]
    resp = _create(client, dr_alice, SERVICE_REQUEST)
    assert resp.status_code == 201, resp.text
    assert resp.headers["content-type"].startswith(FHIR)
    body = resp.json()
    ServiceRequest.model_validate(body)
    assert resp.headers["location"] == f"http://testserver/fhir/ServiceRequest/{body['id']}"
    patient = db.scalar(select(Patient).where(Patient.mrn == "EHR-77"))
    assert patient is not None and patient.clinic_id == dr_alice.clinic_id
    assert body["subject"] == {"reference": f"Patient/{patient.id}", "type": "Patient"}
    assert body["identifier"] == SERVICE_REQUEST["identifier"] and "contained" not in body

    read = client.get(resp.headers["location"].removeprefix("http://testserver"), headers=dr_alice.auth)
    assert read.status_code == 200 and read.json() == body
    assert read.headers["etag"] == resp.headers["etag"]
    found = client.get("/fhir/ServiceRequest", params={"patient": patient.id}, headers=dr_alice.auth).json()
    assert [e["resource"]["id"] for e in found["entry"]] == [body["id"]]


def test_the_same_identifier_again_answers_200_with_the_stored_resource_and_nothing_new(client, db, dr_alice):  # type: ignore[no-untyped-def]
    first = _create(client, dr_alice, SERVICE_REQUEST)
    outbox = db.scalar(select(func.count()).select_from(OutboxMessage))
    changed = copy.deepcopy(SERVICE_REQUEST)
    changed["note"] = [{"text": "sent twice by the EHR"}]
    again = _create(client, dr_alice, changed)
    assert again.status_code == 200, again.text
    assert again.json() == first.json() and again.headers["location"] == first.headers["location"]
    assert db.scalar(select(func.count()).select_from(Enrolment)) == 1
    assert db.scalar(select(func.count()).select_from(OutboxMessage)) == outbox


def test_an_enrolment_made_through_the_api_is_the_same_service_request(client, dr_alice):  # type: ignore[no-untyped-def]
    api = client.post("/api/v1/enrolments", json=SERVICE_REQUEST, headers=dr_alice.auth)
    assert api.status_code == 201, api.text
    again = _create(client, dr_alice, SERVICE_REQUEST)
    assert again.status_code == 200 and again.json() == api.json()["resource"]


def test_invalid_resources_get_an_operation_outcome_naming_what_is_wrong(client, dr_alice):  # type: ignore[no-untyped-def]
    wrong_code = copy.deepcopy(SERVICE_REQUEST)
    wrong_code["code"]["coding"][0]["code"] = "99999"
    assert "0275T" in str(_outcome(_create(client, dr_alice, wrong_code), 422))
    no_intent = {k: v for k, v in SERVICE_REQUEST.items() if k != "intent"}
    assert "intent" in str(_outcome(_create(client, dr_alice, no_intent), 422))
    appointment = {"resourceType": "Appointment", "identifier": [{"value": "A-1"}], "status": "booked"}
    assert "ServiceRequest" in str(_outcome(_create(client, dr_alice, appointment), 422))
    _outcome(client.post("/fhir/ServiceRequest", content=b"[not json", headers={**dr_alice.auth,
                                                                                  "Content-Type": FHIR}), 400)


def test_only_clinic_staff_create_and_other_clinics_do_not_see_the_request(  # type: ignore[no-untyped-def]
    client, dr_alice, dr_bob_other_clinic, patient_pat
):
    _outcome(client.post("/fhir/ServiceRequest", json=SERVICE_REQUEST), 401)
    _outcome(_create(client, patient_pat, SERVICE_REQUEST), 403)
    rid = _create(client, dr_alice, SERVICE_REQUEST).json()["id"]
    _outcome(client.get(f"/fhir/ServiceRequest/{rid}", headers=dr_bob_other_clinic.auth), 404)


def test_the_capability_statement_offers_create_for_service_request(client):  # type: ignore[no-untyped-def]
    types = {r["type"]: r for r in client.get("/fhir/metadata").json()["rest"][0]["resource"]}
    assert {"code": "create"} in types["ServiceRequest"]["interaction"]
    assert {"code": "create"} not in types["Patient"]["interaction"]
