"""A Group per clinic's open referral list (issue 19): ``Group/referrals-<clinic id>`` lists the patients with an
open referral in that clinic, beside the clinic's Group; staff of that clinic read it, others do not see it."""

from __future__ import annotations

from fhir.resources.R4B.group import Group

from mildpath.services import clock
from mildpath.services.referrals import ManualReferralIn, create_manual


def _refer(db, persona, patient_id):  # type: ignore[no-untyped-def]
    create_manual(db, persona.actor, ManualReferralIn(patient_id=patient_id, referrer_name="Dr Referrer"),
                  now=clock.now())
    db.commit()


def _members(group):  # type: ignore[no-untyped-def]
    return {m["entity"]["reference"] for m in group.get("member", [])}


def test_the_referral_group_lists_the_patients_with_an_open_referral(client, db, dr_alice, pat_id):
    _refer(db, dr_alice, pat_id)
    resp = client.get(f"/fhir/Group/referrals-{dr_alice.clinic_id}", headers=dr_alice.auth)
    assert resp.status_code == 200, resp.text[:300]
    group = resp.json()
    Group.model_validate(group)
    assert f"Patient/{pat_id}" in _members(group) and group["quantity"] == len(_members(group))
    assert "open referrals" in group["name"]
    clinic = client.get(f"/fhir/Group/{dr_alice.clinic_id}", headers=dr_alice.auth).json()
    assert _members(group) <= _members(clinic)
    listed = {e["resource"]["id"] for e in client.get("/fhir/Group", headers=dr_alice.auth).json()["entry"]}
    assert {str(dr_alice.clinic_id), f"referrals-{dr_alice.clinic_id}"} <= listed


def test_another_clinics_referral_group_is_not_found(client, dr_alice, dr_bob_other_clinic):
    resp = client.get(f"/fhir/Group/referrals-{dr_bob_other_clinic.clinic_id}", headers=dr_alice.auth)
    assert resp.status_code == 404


def test_the_referral_group_exports_only_its_members(client, db, dr_alice, pat_id, settings, session_factory):
    import json

    from mildpath.services import bulk_export

    _refer(db, dr_alice, pat_id)
    asked = {**dr_alice.auth, "Prefer": "respond-async", "Accept": "application/fhir+json"}
    resp = client.get(f"/fhir/Group/referrals-{dr_alice.clinic_id}/$export", headers=asked)
    assert resp.status_code == 202, resp.text[:300]
    status_url = resp.headers["content-location"].replace("http://testserver", "")
    assert bulk_export.run_due(settings, session_factory) >= 1
    manifest = client.get(status_url, headers=dr_alice.auth).json()
    patients = next(o for o in manifest["output"] if o["type"] == "Patient")
    lines = client.get(patients["url"].replace("http://testserver", ""), headers=dr_alice.auth).text.splitlines()
    group = client.get(f"/fhir/Group/referrals-{dr_alice.clinic_id}", headers=dr_alice.auth).json()
    assert {f"Patient/{json.loads(line)['id']}" for line in lines} == _members(group)


def test_another_clinics_referral_group_cannot_be_exported(client, dr_alice, dr_bob_other_clinic):
    asked = {**dr_alice.auth, "Prefer": "respond-async", "Accept": "application/fhir+json"}
    resp = client.get(f"/fhir/Group/referrals-{dr_bob_other_clinic.clinic_id}/$export", headers=asked)
    assert resp.status_code == 404
