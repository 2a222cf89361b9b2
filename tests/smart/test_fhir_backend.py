"""A backend access token on ``/fhir``: read and search limited by its scopes, a clinic-bound client sees its
clinic, a system-wide client every clinic, each access audited as the client. And the Python ``fhirclient``
(SMART on FHIR's client library) finds the token endpoint in the CapabilityStatement, gets a token with a signed
JWT and reads the API, as its users use it."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator

import pytest
import uvicorn
from fhir.resources.R4B.capabilitystatement import CapabilityStatement
from sqlalchemy import select

from mildpath.services.access import Actor
from mildpath.services.smart import may_export
from mildpath.store.models import AuditEvent, Patient
from tests.smart.conftest import assertion, register, token_form


def _token(client, signer, client_id, scope="system/*.read"):  # type: ignore[no-untyped-def]
    resp = client.post("/auth/token", data=token_form(assertion(signer, client_id), scope))
    assert resp.status_code == 200, resp.text
    return {"Authorization": f"Bearer {resp.json()['access_token']}"}


def test_a_system_wide_client_searches_every_clinic_and_is_audited_as_itself(
    client, db, backend_token, rsa_client, pat_id, other_clinic_patient_id
):
    ids = {e["resource"]["id"] for e in client.get("/fhir/Patient", params={"_count": 500},
                                                     headers=backend_token).json()["entry"]}
    assert {str(pat_id), str(other_clinic_patient_id)} <= ids
    newest = select(AuditEvent).where(AuditEvent.action == "fhir.search").order_by(AuditEvent.id.desc())
    event = db.scalars(newest).first()
    assert event.actor_role == "backend" and event.detail["client_id"] == rsa_client


def test_a_clinic_bound_client_sees_only_its_clinic(client, db, rsa_signer, pat_id, other_clinic_patient_id):
    clinic_id = db.get(Patient, pat_id).clinic_id
    headers = _token(client, rsa_signer, register(db, rsa_signer, clinic_id=clinic_id))
    assert client.get(f"/fhir/Patient/{pat_id}", headers=headers).status_code == 200
    assert client.get(f"/fhir/Patient/{other_clinic_patient_id}", headers=headers).status_code == 404


def test_a_per_type_scope_reads_that_type_and_gets_403_for_the_others(client, db, rsa_signer, pat_id):
    client_id = register(db, rsa_signer, scopes=["system/Patient.rs"])
    headers = _token(client, rsa_signer, client_id, "system/Patient.rs")
    assert client.get(f"/fhir/Patient/{pat_id}", headers=headers).status_code == 200
    refused = client.get("/fhir/Observation", params={"patient": pat_id}, headers=headers)
    assert refused.status_code == 403 and refused.json()["resourceType"] == "OperationOutcome"


def test_a_backend_token_opens_nothing_outside_fhir(client, backend_token):
    assert client.get("/api/v1/patients", headers=backend_token).status_code == 401


def test_may_export_wants_every_type_for_a_backend_client():
    assert may_export(Actor.backend("c", None, ("system/*.read",)), "system")
    assert may_export(Actor.backend("c", 1, ("system/*.rs",)), "group")
    assert not may_export(Actor.backend("c", None, ("system/Patient.read",)), "patient")
    assert not may_export(Actor.backend("c", None, ("system/*.read",)), "everything")


def test_the_capability_statement_announces_smart_and_the_token_endpoint(client):
    body = client.get("/fhir/metadata").json()
    CapabilityStatement.model_validate(body)
    security = body["rest"][0]["security"]
    assert security["service"][0]["coding"][0]["code"] == "SMART-on-FHIR"
    (uris,) = security["extension"]
    assert uris["extension"] == [{"url": "token", "valueUri": "http://testserver/auth/token"}]


@pytest.fixture
def live(app) -> Iterator[str]:  # type: ignore[no-untyped-def]
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    app.state.settings = app.state.settings.model_copy(update={"public_url": f"http://127.0.0.1:{port}"})
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 60  # generous: a loaded 2-core box
    while not server.started:
        assert time.monotonic() < deadline, "the server did not start"
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(timeout=60)


def test_fhirclient_gets_a_backend_token_and_reads_the_api(live, db, rsa_signer, pat_id):
    from fhirclient import client as smart_client
    from fhirclient.models.observation import Observation
    from fhirclient.models.patient import Patient as FhirPatient

    client_id = register(db, rsa_signer)
    fhir = smart_client.FHIRClient(
        settings={
            "app_id": client_id,
            "api_base": f"{live}/fhir",
            "jwt_token": assertion(rsa_signer, client_id, aud=f"{live}/auth/token"),
            "scope": "system/*.read",
        }
    )
    fhir.wants_patient = False  # a backend service: no launch context
    fhir.prepare()
    fhir.authorize()
    assert fhir.ready
    patient = FhirPatient.read(str(pat_id), fhir.server)
    assert patient.id == str(pat_id)
    (first, *_) = Observation.where(struct={"patient": str(pat_id)}).perform_iter(fhir.server)
    assert first.entry and all(e.resource.subject.reference == f"Patient/{pat_id}" for e in first.entry)


def test_a_client_disabled_after_its_export_kickoff_exports_nothing(
    client, db, backend_token, rsa_client, settings, session_factory
):
    from mildpath.services import bulk_export, smart
    from mildpath.store import bulk_exports

    resp = client.get("/fhir/$export", headers={**backend_token, "Prefer": "respond-async",
                                                "Accept": "application/fhir+json"})
    assert resp.status_code == 202, resp.text[:300]
    job_id = resp.headers["content-location"].rsplit("/", 1)[-1]
    smart.disable_client(db, Actor.system(), rsa_client)
    db.commit()
    assert bulk_export.run_due(settings, session_factory) == 1
    job = bulk_exports.get(db, job_id=job_id)
    db.refresh(job)
    assert job.status == "failed" and job.output == [] and "disabled" in job.error
