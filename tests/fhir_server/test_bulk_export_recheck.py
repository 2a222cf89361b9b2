"""The bulk worker checks again, when a job runs, that its requester may still export (issue 19): an account
deactivated, or moved to another clinic, after the kick-off exports nothing; the job fails and its status answer
is an OperationOutcome saying why (never patient data)."""

from __future__ import annotations

from pathlib import Path

from fhir.resources.R4B.operationoutcome import OperationOutcome

from mildpath.services import bulk_export
from mildpath.store import bulk_exports as store
from mildpath.store.models import User

ASYNC = {"Prefer": "respond-async", "Accept": "application/fhir+json"}


def _kick(client, persona, path):  # type: ignore[no-untyped-def]
    resp = client.get(path, headers={**persona.auth, **ASYNC})
    assert resp.status_code == 202, resp.text[:300]
    return resp.headers["content-location"].replace("http://testserver", "")


def _failed_without_files(db, settings, status_url):  # type: ignore[no-untyped-def]
    job = store.get(db, job_id=status_url.rsplit("/", 1)[-1])
    db.refresh(job)
    assert job.status == "failed" and job.output == []
    assert not (Path(settings.data_dir) / "bulk" / job.id).exists()
    return job


def test_an_account_deactivated_after_the_kickoff_exports_nothing(client, db, dr_alice, settings, session_factory):
    status_url = _kick(client, dr_alice, "/fhir/Patient/$export")
    db.get(User, dr_alice.user_id).active = False
    db.commit()
    assert bulk_export.run_due(settings, session_factory) == 1
    job = _failed_without_files(db, settings, status_url)
    assert "no longer active" in job.error
    db.get(User, dr_alice.user_id).active = True  # back again, she reads why her job failed
    db.commit()
    resp = client.get(status_url, headers=dr_alice.auth)
    assert resp.status_code == 500 and resp.headers["content-type"].startswith("application/fhir+json")
    outcome = OperationOutcome.model_validate(resp.json())
    assert "no longer active" in (outcome.issue[0].diagnostics or "")


def test_a_clinician_moved_to_another_clinic_no_longer_exports_the_old_clinics_group(
    client, db, dr_alice, dr_bob_other_clinic, settings, session_factory
):
    status_url = _kick(client, dr_alice, f"/fhir/Group/{dr_alice.clinic_id}/$export")
    db.get(User, dr_alice.user_id).clinic_id = dr_bob_other_clinic.clinic_id
    db.commit()
    bulk_export.run_due(settings, session_factory)
    assert "may no longer export" in _failed_without_files(db, settings, status_url).error
    resp = client.get(status_url, headers=dr_alice.auth)
    assert resp.status_code == 500
    OperationOutcome.model_validate(resp.json())


def test_a_requester_who_still_may_export_gets_the_files(client, db, dr_alice, settings, session_factory):
    status_url = _kick(client, dr_alice, f"/fhir/Group/{dr_alice.clinic_id}/$export")
    bulk_export.run_due(settings, session_factory)
    assert client.get(status_url, headers=dr_alice.auth).json()["output"]
