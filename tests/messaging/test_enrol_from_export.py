"""Enrolment from the EHR's Bulk export (issue 20: a ServiceRequest "found in a Bulk export enrols the patient"):
every ServiceRequest for CPT 0275T in the export enrols its patient as POST /fhir/ServiceRequest would, once;
requests that cannot be used are listed with their file, line and why, and the others still enrol."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from sqlalchemy import func, select

from mildpath.services.access import Actor
from mildpath.services.clock import now, today
from mildpath.services.enrolments import enrol_from_export
from mildpath.store.enrolments import Enrolment
from mildpath.store.models import OutboxMessage, Patient
from tests.cli.test_core_commands import run

CPT = "http://www.ama-assn.org/go/cpt"


def _patient(pid: str, mrn: str, given: str) -> dict:
    return {"resourceType": "Patient", "id": pid, "name": [{"family": "Export", "given": [given]}],
            "identifier": [{"type": {"coding": [{"code": "MR"}]}, "system": "urn:mrn", "value": mrn}],
            "birthDate": "1948-05-02", "gender": "male",
            "telecom": [{"system": "email", "value": f"{pid}@example.org"}]}


def _request(rid: str, subject: str, code: str = "0275T", status: str = "active") -> dict:
    return {"resourceType": "ServiceRequest", "id": rid, "identifier": [{"system": "urn:ehr:orders", "value": rid}],
            "status": status, "intent": "order", "code": {"coding": [{"system": CPT, "code": code}]},
            "subject": {"reference": subject}}


def _export(folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    patients = [_patient("a1", "EXP-1", "Arturo"), _patient("b2", "EXP-2", "Bruno"), _patient("c3", "EXP-3", "Ciro")]
    (folder / "Patient.ndjson").write_text("\n".join(json.dumps(p) for p in patients) + "\n")
    requests = [
        _request("SR-1", "Patient/a1"),
        _request("SR-2", "urn:uuid:b2"),
        _request("SR-3", "Patient/zz9"),                      # not in the export
        _request("SR-4", "Patient/c3", status="revoked"),     # cancelled: does not enrol
        _request("SR-5", "Patient/c3", code="99213"),         # another procedure: not read at all
    ]
    (folder / "ServiceRequest.ndjson").write_text("\n".join(json.dumps(r) for r in requests) + "\n")
    return folder


def test_each_mild_request_in_an_export_enrols_its_patient_once_and_the_rest_say_why(db, dr_alice, tmp_path):  # type: ignore[no-untyped-def]
    export = _export(tmp_path / "export")
    before = db.scalar(select(func.count()).select_from(Patient))
    kwargs = {"clinic_id": dr_alice.clinic_id, "today": today(), "now": now(), "secret_key": "k" * 40,
              "public_url": "http://127.0.0.1:8000"}
    result = enrol_from_export(db, Actor.system("tests"), export, **kwargs)
    assert (result.enrolled, result.already) == (2, 0)
    assert {(s.file, s.line) for s in result.skipped} == {("ServiceRequest.ndjson", 3), ("ServiceRequest.ndjson", 4)}
    reasons = {s.line: s.reason for s in result.skipped}
    assert "Patient/zz9 is not in the export" in reasons[3] and "status" in reasons[4]
    made = db.scalars(select(Patient).where(Patient.mrn.in_(["EXP-1", "EXP-2", "EXP-3"]))).all()
    assert sorted((p.mrn, p.given_name, p.clinic_id) for p in made) == [
        ("EXP-1", "Arturo", dr_alice.clinic_id), ("EXP-2", "Bruno", dr_alice.clinic_id)]
    invitations = db.scalars(select(OutboxMessage).where(OutboxMessage.kind == "access_invitation")).all()
    assert {m.recipient_address for m in invitations} >= {"a1@example.org", "b2@example.org"}

    again = enrol_from_export(db, Actor.system("tests"), export, **kwargs)
    assert (again.enrolled, again.already) == (0, 2)
    assert db.scalar(select(func.count()).select_from(Patient)) == before + 2
    orders = select(func.count()).select_from(Enrolment).where(Enrolment.identifier_value.in_(["SR-1", "SR-2"]))
    assert db.scalar(orders) == 2


def test_the_operator_must_name_the_clinic_to_enrol_into(db, tmp_path):  # type: ignore[no-untyped-def]
    from mildpath.domain.errors import PermissionDenied

    export = _export(tmp_path / "export")
    with pytest.raises(PermissionDenied):
        enrol_from_export(db, Actor.system("tests"), export, clinic_id=None, today=today(), now=now(),
                          secret_key="k" * 40, public_url="http://127.0.0.1:8000")


def test_the_cli_enrols_from_an_export_and_prints_the_counts(tmp_path):  # type: ignore[no-untyped-def]
    env = {"MILDPATH_DATABASE_URL": f"sqlite:///{tmp_path / 'enrol.db'}", "MILDPATH_DATA_DIR": str(tmp_path),
           "MILDPATH_SECRET_KEY": "cli-secret-key-long-enough-0123456789abcdef"}
    assert run(env, "db", "upgrade").returncode == 0
    assert run(env, "clinic", "add", "Export Clinic", "--timezone", "America/Chicago").returncode == 0
    export = _export(tmp_path / "export")
    done = run(env, "enrol", "--export", str(export), "--json")
    assert done.returncode == 0, done.stderr
    out = json.loads(done.stdout)
    assert (out["enrolled"], out["already"], len(out["skipped"])) == (2, 0, 2)
    assert "ServiceRequest.ndjson:3: Patient/zz9 is not in the export" in done.stderr
    again = json.loads(run(env, "enrol", "--export", str(export), "--json").stdout)
    assert (again["enrolled"], again["already"]) == (0, 2)
    missing = run(env, "enrol", "--export", str(tmp_path / "nowhere"), "--json")
    assert missing.returncode == 2 and "must be a folder" in missing.stderr

