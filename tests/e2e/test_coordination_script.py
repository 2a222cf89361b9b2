"""Issue 18's "done when", as a script against a real server: a small synthetic Bulk export (``mildpath synth
population``) is screened (``mildpath population screen``) and its candidates imported with the export
(``mildpath referrals import FILE --export DIR``); then, with a coordinator's and a clinician's API tokens, one
referral is walked from the worklist to a completed procedure: names and contacts came along, the person already
in mildpath was recognised by MRN, a contact is logged, the evaluation is booked, the clinician decides with an
override reason, the procedure appointment schedules the referral and derives its tasks and questionnaire windows,
moving it a week moves every derived date, and done closes the referral. Each step left an audit row and the
override report counts the override."""

from __future__ import annotations

import csv
import json
import os
import sqlite3
import subprocess
import sys
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from tests.e2e.conftest import ROOT, _free_port, start_server

from mildpath.demo import CLINICIANS

pytestmark = pytest.mark.e2e
COORDINATOR = "cleo@demo.mildpath.org"
CRITERION = "conservative_care_failed"


def _cli(env: dict[str, str], *args: str) -> str:
    done = subprocess.run([sys.executable, "-m", "mildpath", *args], env=env, capture_output=True, text=True,
                          cwd=ROOT)
    assert done.returncode == 0, done.stderr
    return done.stdout


@pytest.fixture(scope="module")
def clinic(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    data = tmp_path_factory.mktemp("coordination")
    port = _free_port()
    env = {**os.environ, "MILDPATH_DATABASE_URL": f"sqlite:///{data / 'c.db'}", "MILDPATH_DATA_DIR": str(data),
           "MILDPATH_SECRET_KEY": "coordination-secret-key-long-enough-0123456789", "MILDPATH_PUBLIC_URL":
           f"http://127.0.0.1:{port}"}
    _cli(env, "demo")
    _cli(env, "user", "add", COORDINATOR, "--role", "coordinator", "--clinic", "1", "--name", "Cleo Coordinator",
         "--password", "coordinator-pw-123")
    tokens = {who: {"Authorization": "Bearer " + _cli(env, "token", "create", email).strip()}
              for who, email in (("coordinator", COORDINATOR), ("clinician", CLINICIANS[0][0]))}
    server, base, log = start_server(env, data, port=port)
    yield {"base": base, "env": env, "data": data, **tokens}
    server.terminate()
    try:
        server.wait(timeout=30)
    except subprocess.TimeoutExpired:
        server.kill()
    log.close()


def _candidates(export: Path, screen: Path) -> list[tuple[dict[str, str], dict[str, Any]]]:
    """The screen's rows that become referrals, each with its Patient resource from the export."""
    patients = {p["id"]: p for p in map(json.loads, (export / "Patient.000.ndjson").read_text().splitlines())}
    with screen.open() as f:
        rows = [r for r in csv.DictReader(f) if r["status"] in ("likely_candidate", "needs_more_information",
                                                               "urgent_referral")]
    return [(r, patients[r["patient_id"]]) for r in rows]


def _mrn(resource: dict[str, Any]) -> str:
    return str(next(i["value"] for i in resource["identifier"]
                    if any(c.get("code") == "MR" for c in i.get("type", {}).get("coding", []))))


def test_a_flagged_person_goes_from_the_screen_to_a_completed_procedure(clinic: dict[str, Any]) -> None:
    env, data = clinic["env"], clinic["data"]
    assert isinstance(env, dict) and isinstance(data, Path)
    coord, doc = clinic["coordinator"], clinic["clinician"]
    http = httpx.Client(base_url=str(clinic["base"]), timeout=60)
    export, screen = data / "export", data / "screen.csv"
    _cli(env, "synth", "population", "--patients", "40", "--seed", "3", "--out", str(export))
    _cli(env, "population", "screen", str(export), "--out", str(screen))
    candidates = _candidates(export, screen)
    assert len(candidates) >= 2, "the seed gives a few candidates"
    (_, person), (_, known) = candidates[0], candidates[1]

    # Someone the clinic already has (same MRN) is recognised, not duplicated.
    existing = http.post("/api/v1/patients", headers=doc, json={
        "mrn": _mrn(known), "given_name": known["name"][0]["given"][0],
        "family_name": known["name"][0]["family"], "birth_date": known["birthDate"],
        "sex": "unknown"})
    assert existing.status_code == 201, existing.text
    counts = json.loads(_cli(env, "referrals", "import", str(screen), "--export", str(export), "--json"))
    assert counts == {"created": len(candidates), "merged": 0, "skipped": 0}
    listed = http.get("/api/v1/referrals?source=population_screen", headers=coord).json()
    assert len(listed) == len(candidates)
    assert existing.json()["id"] in {r["patient_id"] for r in listed}
    name = f'{person["name"][0]["given"][0]} {person["name"][0]["family"]}'
    referral = next(r for r in listed if r["patient_name"] == name)
    rid, pid = referral["id"], referral["patient_id"]
    detail = http.get(f"/api/v1/referrals/{rid}", headers=coord).json()
    assert detail["phone"] == person["telecom"][0]["value"]

    # Contact, evaluation, decision with an override.
    assert http.post(f"/api/v1/referrals/{rid}/contacts", headers=coord,
                     json={"channel": "phone", "outcome": "reached"}).json()["state"] == "contacted"
    soon = (datetime.now(UTC) + timedelta(days=10)).date()
    evaluation = http.post(f"/api/v1/patients/{pid}/appointments", headers=coord, json={
        "kind": "evaluation", "start": f"{soon}T10:00:00", "referral_id": rid})
    assert evaluation.status_code == 201, evaluation.text
    assert http.get(f"/api/v1/referrals/{rid}", headers=coord).json()["state"] == "evaluation_booked"
    assert http.post(f"/api/v1/referrals/{rid}/decision", headers=coord,
                     json={"decision": "candidate"}).status_code == 403, "the decision is the clinician's"
    decided = http.post(f"/api/v1/referrals/{rid}/decision", headers=doc, json={
        "decision": "candidate", "reasons": ["walking tolerance under 5 minutes"],
        "overrides": [{"criterion": CRITERION, "reason_code": "patient_cannot_tolerate",
                       "comment": "physical therapy not possible"}]})
    assert decided.status_code == 200, decided.text

    # The procedure: scheduled, with its tasks and questionnaire windows; moved a week; done.
    day = soon + timedelta(days=14)
    booked = http.post(f"/api/v1/patients/{pid}/appointments", headers=coord, json={
        "kind": "procedure", "start": f"{day}T08:00:00", "duration_minutes": 60, "referral_id": rid})
    assert booked.status_code == 201, booked.text
    appt = booked.json()
    assert appt["tasks"] and {t["due_date"] for t in appt["tasks"]} == {day.isoformat()}
    assert http.get(f"/api/v1/referrals/{rid}", headers=coord).json()["state"] == "scheduled"
    before = http.get(f"/api/v1/patients/{pid}/schedule", headers=doc).json()
    assert before["procedure_date"] == day.isoformat() and before["timepoints"]
    week = timedelta(days=7)
    moved = http.patch(f"/api/v1/appointments/{appt['id']}", headers=coord,
                       json={"action": "move", "start": f"{day + week}T08:00:00"})
    assert moved.status_code == 200, moved.text
    assert {t["due_date"] for t in moved.json()["tasks"]} == {(day + week).isoformat()}
    after = http.get(f"/api/v1/patients/{pid}/schedule", headers=doc).json()
    assert after["procedure_date"] == (day + week).isoformat()
    shifted = {tp["id"]: (tp["opens"], tp["target"], tp["closes"]) for tp in after["timepoints"]}
    assert shifted == {tp["id"]: tuple((datetime.fromisoformat(tp[k]) + week).date().isoformat()
                                       for k in ("opens", "target", "closes")) for tp in before["timepoints"]}
    assert http.patch(f"/api/v1/appointments/{appt['id']}", headers=coord,
                      json={"action": "done"}).status_code == 200
    final = http.get(f"/api/v1/referrals/{rid}", headers=coord).json()
    assert final["state"] == "done"
    assert [(e["from_state"], e["to_state"], e["reason"]) for e in final["events"]][-6:] == [
        ("new", "contacted", "reached"), ("contacted", "evaluation_booked", "appointment"),
        ("evaluation_booked", "decided", ""), ("decided", "scheduled", "appointment"),
        ("scheduled", "scheduled", "moved"), ("scheduled", "done", "appointment")]

    # Every step was audited, and the override report counts the override.
    with sqlite3.connect(data / "c.db") as db:
        actions = {a for (a,) in db.execute("SELECT action FROM audit_events WHERE patient_id = ?", (pid,))}
    assert actions >= {"referral.contact", "referral.transition", "referral.decide", "appointment.book",
                       "appointment.move", "appointment.done", "procedure.schedule", "procedure.reschedule"}
    today = datetime.now(UTC).date()
    report = http.get(f"/api/v1/reports/overrides?from={today - timedelta(days=1)}&to={today + timedelta(days=1)}",
                      headers=coord).json()
    counted = next(c for c in report["criteria"] if c["criterion"] == CRITERION)
    assert counted["overridden"] == 1 and counted["reasons"] == {"patient_cannot_tolerate": 1}
