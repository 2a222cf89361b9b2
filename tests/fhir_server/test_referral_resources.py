"""The coordination work's resources are served like the rest (issue 19: "and those the coordination work adds"):
a referral is a Task for the patient, the specialist's decision a ClinicalImpression; both read and searched by
patient, within the clinic's access, and exportable by ``_type``."""

from __future__ import annotations

from datetime import date

from mildpath.fhir import bulk
from mildpath.services import clock
from mildpath.services import referrals as svc

FHIR = {"Accept": "application/fhir+json"}


def _referral_with_decision(db, dr_alice, patient_id: int) -> int:  # type: ignore[no-untyped-def]
    rid, _ = svc.add_source(db, dr_alice.actor, kind="manual", key=f"test-fhir-{patient_id}", dated=date.today(),
                            now=clock.now(), patient_id=patient_id, result="likely_candidate",
                            referrer_name="Dr Test")
    for to in ("contacted", "evaluation_booked"):
        svc.transition(db, dr_alice.actor, rid, svc.TransitionIn(to=to), now=clock.now())
    svc.decide(db, dr_alice.actor, rid, svc.DecisionIn(decision="candidate", reasons=["disabling claudication"]),
               now=clock.now())
    db.flush()
    return rid


def test_a_referral_is_a_task_and_its_decision_a_clinical_impression_at_fhir(
    client, db, dr_alice, dr_bob_other_clinic, world
):
    pid = world.demo_patient_ids[3]
    _referral_with_decision(db, dr_alice, pid)
    tasks = client.get(f"/fhir/Task?patient=Patient/{pid}", headers={**dr_alice.auth, **FHIR})
    assert tasks.status_code == 200 and tasks.headers["content-type"].startswith("application/fhir+json")
    entries = [e["resource"] for e in tasks.json().get("entry", [])]
    assert entries and all(t["resourceType"] == "Task" and t["for"]["reference"] == f"Patient/{pid}" for t in entries)
    impressions = client.get(f"/fhir/ClinicalImpression?patient={pid}", headers={**dr_alice.auth, **FHIR}).json()
    assert [e["resource"]["resourceType"] for e in impressions.get("entry", [])][:1] == ["ClinicalImpression"]
    one = entries[0]
    read = client.get(f"/fhir/Task/{one['id']}", headers={**dr_alice.auth, **FHIR})
    assert read.status_code == 200 and read.json()["id"] == one["id"]
    other = client.get(f"/fhir/Task/{one['id']}", headers={**dr_bob_other_clinic.auth, **FHIR})
    assert other.status_code == 404 and other.json()["resourceType"] == "OperationOutcome"


def test_the_capability_statement_lists_them_and_bulk_export_takes_them_as_types():
    from mildpath.fhir.server import SEARCH

    assert {"Task", "ClinicalImpression", "Appointment", "ServiceRequest", "RelatedPerson"} <= set(SEARCH)
    kickoff = bulk.parse_kickoff([("_type", "Task,ClinicalImpression,Appointment")], lenient=False)
    assert kickoff.types == ("Task", "ClinicalImpression", "Appointment")
