"""A real FHIR client library (fhirpy), used as its users use it, against the server on loopback (uvicorn in a
thread): search with paging, read, and a missing resource as the client's own error."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator

import pytest
import uvicorn
from fhirpy import SyncFHIRClient
from fhirpy.base.exceptions import ResourceNotFound


@pytest.fixture
def server_url(app) -> Iterator[str]:  # type: ignore[no-untyped-def]
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 60  # generous: a loaded 2-core box
    while not server.started:
        assert time.monotonic() < deadline, "the server did not start"
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}/fhir"
    server.should_exit = True
    thread.join(timeout=60)


def test_fhirpy_reads_and_searches_with_paging(server_url, dr_alice, pat_id):
    client = SyncFHIRClient(server_url, authorization=dr_alice.auth["Authorization"])
    patient = client.reference("Patient", str(pat_id)).to_resource()
    assert patient["resourceType"] == "Patient" and patient["id"] == str(pat_id)
    search = client.resources("Observation").search(patient=str(pat_id))
    total = search.count()
    assert total > 2
    every = search.limit(2).fetch_all()  # follows the Bundle's next links, two at a time
    assert len(every) == total == len({o["id"] for o in every})
    assert {o["subject"]["reference"] for o in every} == {f"Patient/{pat_id}"}
    with pytest.raises(ResourceNotFound):
        client.reference("Patient", "999999").to_resource()


def test_fhirpy_sees_only_what_the_policy_allows(server_url, dr_bob_other_clinic, pat_id):
    client = SyncFHIRClient(server_url, authorization=dr_bob_other_clinic.auth["Authorization"])
    assert str(pat_id) not in {p["id"] for p in client.resources("Patient").fetch_all()}
    with pytest.raises(ResourceNotFound):
        client.reference("Patient", str(pat_id)).to_resource()
