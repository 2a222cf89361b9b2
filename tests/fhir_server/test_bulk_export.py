"""FHIR Bulk Data 2.0 ``$export`` (issue 19; contracts §11): kick-off, polling, manifest, NDJSON downloads,
cancel, access, parameters, expiry; the files validate as R4, their references resolve, and ``mildpath
population screen`` reads them as it reads any export.

The worker's round (``services.bulk_export.run_due``) is run here by the test, as ``mildpath serve``'s thread
runs it; tests/fhir_server/test_bulk_client.py drives a real server."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

import pytest
from fhir.resources.R4B import get_fhir_model_class
from fhir.resources.R4B.operationoutcome import OperationOutcome

from mildpath.services import bulk_export, clock
from mildpath.store import bulk_exports as store

FHIR = "application/fhir+json"
ASYNC = {"Prefer": "respond-async", "Accept": FHIR}


def _kick(client, persona, path="/fhir/$export", params=None, headers=None):  # type: ignore[no-untyped-def]
    resp = client.get(path, params=params, headers={**persona.auth, **ASYNC, **(headers or {})})
    assert resp.status_code == 202, resp.text[:300]
    return resp.headers["content-location"].replace("http://testserver", "")


def _manifest(client, persona, status_url, settings, session_factory):  # type: ignore[no-untyped-def]
    waiting = client.get(status_url, headers=persona.auth)
    assert waiting.status_code == 202
    assert waiting.headers["x-progress"] == "queued" and int(waiting.headers["retry-after"]) > 0
    assert bulk_export.run_due(settings, session_factory) >= 1
    done = client.get(status_url, headers=persona.auth)
    assert done.status_code == 200, done.text[:300]
    return done.json()


def _download(client, persona, manifest) -> dict[str, list[dict]]:  # type: ignore[no-untyped-def]
    files = {}
    for item in manifest["output"]:
        resp = client.get(item["url"].replace("http://testserver", ""), headers=persona.auth)
        assert resp.status_code == 200 and resp.headers["content-type"].startswith("application/fhir+ndjson")
        lines = [json.loads(line) for line in resp.text.splitlines()]
        assert len(lines) == item["count"] and {r["resourceType"] for r in lines} == {item["type"]}
        files[item["type"]] = lines
    return files


def _outcome(resp, status):  # type: ignore[no-untyped-def]
    assert resp.status_code == status, resp.text[:300]
    assert resp.headers["content-type"].startswith(FHIR)
    return OperationOutcome.model_validate(resp.json())


def _references(value) -> set[str]:  # type: ignore[no-untyped-def]
    if isinstance(value, dict):
        here = {value["reference"]} if isinstance(value.get("reference"), str) else set()
        return here.union(*(_references(v) for v in value.values()))
    if isinstance(value, list):
        return set().union(*(_references(v) for v in value))
    return set()


def test_an_admin_exports_the_system_and_every_resource_is_valid_r4_with_resolving_references(
    client, admin_ada, settings, session_factory
):
    status_url = _kick(client, admin_ada)
    manifest = _manifest(client, admin_ada, status_url, settings, session_factory)
    assert manifest["requiresAccessToken"] is True and manifest["error"] == []
    assert manifest["request"] == "http://testserver/fhir/$export" and manifest["transactionTime"].endswith("Z")
    files = _download(client, admin_ada, manifest)
    assert {"Patient", "QuestionnaireResponse", "Observation", "Practitioner"} <= set(files)
    exported = {f"{r['resourceType']}/{r['id']}" for rs in files.values() for r in rs}
    for resources in files.values():
        for resource in resources:
            get_fhir_model_class(resource["resourceType"]).model_validate(resource)
            contained = {f"#{c['id']}" for c in resource.get("contained", [])}
            assert _references(resource) <= exported | contained, resource["resourceType"]


def test_the_export_holds_what_mildpath_export_fhir_writes(client, admin_ada, settings, session_factory, db):
    from mildpath.services.access import Actor
    from mildpath.services.outcomes_export import bulk_fhir_resources

    manifest = _manifest(client, admin_ada, _kick(client, admin_ada), settings, session_factory)
    files = _download(client, admin_ada, manifest)
    direct: dict[str, list[dict]] = {}
    for resource in bulk_fhir_resources(db, Actor.system("tests")):
        direct.setdefault(resource["resourceType"], []).append(resource)
    assert files == direct


def test_the_population_screen_reads_the_download_as_it_screens_each_patient(
    client, dr_alice, settings, session_factory, tmp_path
):
    import csv
    from collections import defaultdict

    from mildpath.content.criteria import load_criteria_set
    from mildpath.domain.screening import screen
    from mildpath.fhir.read import facts_from_resources
    from mildpath.population.engine import run

    status_url = _kick(client, dr_alice, f"/fhir/Group/{dr_alice.clinic_id}/$export")
    files = _download(client, dr_alice, _manifest(client, dr_alice, status_url, settings, session_factory))
    for rtype, resources in files.items():
        (tmp_path / f"{rtype}.ndjson").write_text("".join(json.dumps(r) + "\n" for r in resources))
    criteria, today = load_criteria_set(), clock.today()
    run(tmp_path, criteria, today, out=tmp_path / "screen.csv")
    rows = {r["patient_id"]: r for r in csv.DictReader((tmp_path / "screen.csv").open(encoding="utf-8"))}
    by_patient: dict[str, list[dict]] = defaultdict(list)
    for resources in files.values():
        for r in resources:
            ref = r["id"] if r["resourceType"] == "Patient" else (r.get("subject") or {}).get("reference", "")
            if ref:
                by_patient[ref.removeprefix("Patient/")].append(r)
    assert set(rows) == {p["id"] for p in files["Patient"]}
    for pid, row in rows.items():
        expected = screen(criteria, facts_from_resources(by_patient[pid]).facts, today)
        assert row["status"] == expected.status.value, pid


def test_a_clinician_exports_only_her_clinics_group_and_not_the_system(
    client, dr_alice, dr_bob_other_clinic, settings, session_factory, other_clinic_patient_id
):
    _outcome(client.get("/fhir/$export", headers={**dr_alice.auth, **ASYNC}), 403)
    _outcome(client.get(f"/fhir/Group/{dr_bob_other_clinic.clinic_id}/$export", headers={**dr_alice.auth, **ASYNC}),
             404)
    status_url = _kick(client, dr_alice, "/fhir/Patient/$export")
    files = _download(client, dr_alice, _manifest(client, dr_alice, status_url, settings, session_factory))
    assert str(other_clinic_patient_id) not in {p["id"] for p in files["Patient"]}
    group = client.get(f"/fhir/Group/{dr_alice.clinic_id}", headers=dr_alice.auth).json()
    assert {m["entity"]["reference"] for m in group["member"]} == {f"Patient/{p['id']}" for p in files["Patient"]}


def test_only_the_requester_may_poll_download_or_cancel(client, dr_alice, coord_cora, admin_ada, settings,
                                                        session_factory):
    status_url = _kick(client, dr_alice, "/fhir/Patient/$export")
    manifest = _manifest(client, dr_alice, status_url, settings, session_factory)
    for other in (coord_cora, admin_ada):
        _outcome(client.get(status_url, headers=other.auth), 404)
        _outcome(client.get(manifest["output"][0]["url"].replace("http://testserver", ""), headers=other.auth), 404)
        _outcome(client.delete(status_url, headers=other.auth), 404)
    _outcome(client.get(status_url), 401)


def test_a_coordinator_exports_her_clinics_group(client, coord_cora, dr_alice, settings, session_factory):
    status_url = _kick(client, coord_cora, f"/fhir/Group/{coord_cora.clinic_id}/$export")
    files = _download(client, coord_cora, _manifest(client, coord_cora, status_url, settings, session_factory))
    assert files["Patient"]


def test_cancel_deletes_the_files_and_the_job(client, admin_ada, settings, session_factory):
    status_url = _kick(client, admin_ada)
    manifest = _manifest(client, admin_ada, status_url, settings, session_factory)
    job_id = status_url.rsplit("/", 1)[-1]
    folder = Path(settings.data_dir) / "bulk" / job_id
    assert any(folder.iterdir())
    assert client.delete(status_url, headers=admin_ada.auth).status_code == 202
    assert not folder.exists()
    _outcome(client.get(status_url, headers=admin_ada.auth), 404)
    _outcome(client.get(manifest["output"][0]["url"].replace("http://testserver", ""), headers=admin_ada.auth), 404)


def test_a_job_cancelled_while_queued_is_never_run(client, admin_ada, settings, session_factory, db):
    status_url = _kick(client, admin_ada)
    assert client.delete(status_url, headers=admin_ada.auth).status_code == 202
    bulk_export.run_due(settings, session_factory)
    job = store.get(db, job_id=status_url.rsplit("/", 1)[-1])
    assert job is not None and job.status == "cancelled"
    assert not (Path(settings.data_dir) / "bulk" / job.id).exists()


def test_type_narrows_the_files(client, admin_ada, settings, session_factory):
    status_url = _kick(client, admin_ada, params={"_type": "Patient,Procedure"})
    manifest = _manifest(client, admin_ada, status_url, settings, session_factory)
    assert {o["type"] for o in manifest["output"]} <= {"Patient", "Procedure"}
    assert "Patient" in {o["type"] for o in manifest["output"]}


@pytest.mark.parametrize(
    "params",
    [{"_elements": "id"}, {"_typeFilter": "Observation?nonsense=1"}, {"_typeFilter": "Spaceship?code=1"},
     {"_typeFilter": "Observation"}, {"_typeFilter": "Observation?_count=1"}, {"_type": "Spaceship"},
     {"_since": "yesterday"},
     {"_since": "2025-01-01T00:00:00"}, {"_outputFormat": "text/csv"}],
)
def test_unsupported_or_bad_parameters_are_refused(client, admin_ada, params):
    _outcome(client.get("/fhir/$export", params=params, headers={**admin_ada.auth, **ASYNC}), 400)


def test_unsupported_parameters_are_ignored_when_lenient(client, admin_ada):
    lenient = {**admin_ada.auth, "Prefer": "respond-async, handling=lenient", "Accept": FHIR}
    resp = client.get("/fhir/$export", params={"_elements": "id"}, headers=lenient)
    assert resp.status_code == 202


def test_type_filter_narrows_its_type_and_leaves_the_others_whole(client, admin_ada, settings, session_factory):
    odi = "http://loinc.org|97909-6"
    status_url = _kick(client, admin_ada, params=[("_type", "Patient,Observation"),
                                                  ("_typeFilter", f"Observation?code={odi}")])
    files = _download(client, admin_ada, _manifest(client, admin_ada, status_url, settings, session_factory))
    assert files["Observation"] and all(o["code"]["coding"][0]["code"] == "97909-6" for o in files["Observation"])
    everything = _kick(client, admin_ada, params={"_type": "Patient,Observation"})
    whole = _download(client, admin_ada, _manifest(client, admin_ada, everything, settings, session_factory))
    assert files["Patient"] == whole["Patient"]
    assert len(files["Observation"]) == sum(
        any(c["code"] == "97909-6" for c in o["code"]["coding"]) for o in whole["Observation"])


def test_a_kickoff_needs_prefer_respond_async_and_fhir_json(client, admin_ada):
    _outcome(client.get("/fhir/$export", headers={**admin_ada.auth, "Accept": FHIR}), 400)
    _outcome(client.get("/fhir/$export", headers={**admin_ada.auth, **ASYNC, "Accept": "text/html"}), 400)


def test_since_leaves_out_what_did_not_change_and_keeps_what_carries_no_last_updated(
    client, admin_ada, settings, session_factory
):
    later = _kick(client, admin_ada, params={"_since": "2999-01-01T00:00:00Z"})
    assert [o["type"] for o in _manifest(client, admin_ada, later, settings, session_factory)["output"]] == [
        "Practitioner"]  # every other resource carries meta.lastUpdated, before 2999; a Practitioner none
    earlier = _kick(client, admin_ada, params={"_since": "2000-01-01T00:00:00+01:00", "_type": "Patient"})
    files = _download(client, admin_ada, _manifest(client, admin_ada, earlier, settings, session_factory))
    assert files["Patient"] and all(p["meta"]["lastUpdated"] > "2000" for p in files["Patient"])


def test_expired_files_are_deleted_and_the_job_is_gone(client, admin_ada, settings, session_factory, db):
    status_url = _kick(client, admin_ada)
    _manifest(client, admin_ada, status_url, settings, session_factory)
    job = store.get(db, job_id=status_url.rsplit("/", 1)[-1])
    assert job is not None and job.expires_at is not None
    assert job.expires_at - job.finished_at == timedelta(hours=settings.bulk_export_expiry_hours)  # type: ignore[operator]
    job.expires_at = clock.now() - timedelta(seconds=1)
    db.commit()
    bulk_export.run_due(settings, session_factory)
    assert not (Path(settings.data_dir) / "bulk" / job.id).exists()
    _outcome(client.get(status_url, headers=admin_ada.auth), 404)


def test_a_job_whose_worker_died_runs_again_from_an_empty_folder(client, admin_ada, settings, session_factory, db):
    status_url = _kick(client, admin_ada, params={"_type": "Patient"})
    job_id = status_url.rsplit("/", 1)[-1]
    assert store.claim(db, job_id=job_id, attempts=0, now=clock.now() - timedelta(hours=2))  # a worker that died
    db.commit()
    half = Path(settings.data_dir) / "bulk" / job_id
    half.mkdir(parents=True)
    (half / ".Patient.ndjson.part").write_text('{"resourceType": "Patient", "id": "half"}\n')
    assert client.get(status_url, headers=admin_ada.auth).headers["x-progress"] == "running"
    bulk_export.run_due(settings, session_factory)
    manifest = client.get(status_url, headers=admin_ada.auth).json()
    assert sorted(p.name for p in half.iterdir()) == ["Patient.ndjson"]
    assert manifest["output"][0]["count"] == len(_download(client, admin_ada, manifest)["Patient"])


def test_the_capability_statement_lists_the_export_operations_and_groups(client):
    statement = client.get("/fhir/metadata").json()
    assert statement["instantiates"] == ["http://hl7.org/fhir/uv/bulkdata/CapabilityStatement/bulk-data"]
    rest = statement["rest"][0]
    assert [o["name"] for o in rest["operation"]] == ["export"]
    types = {r["type"]: r for r in rest["resource"]}
    assert types["Group"]["operation"][0]["name"] == types["Patient"]["operation"][0]["name"] == "export"
    assert "_typeFilter" in rest["documentation"] and "_since" in rest["documentation"]


@pytest.fixture
def coord_cora(personas):  # type: ignore[no-untyped-def]
    return personas["coord_cora"]
