"""Caregivers (issue 20): a patient shares chosen parts of their care; the caregiver does only that, for that
patient only; the clinician sees who entered what; revoking holds at once; everything is audited."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from mildpath.services import notify
from mildpath.services.clock import now
from mildpath.store.models import AuditEvent, OutboxMessage
from tests.helpers import csrf_from, login


def test_a_caregiver_fills_the_diary_and_the_clinician_sees_who(client, db, personas, dr_alice, pat_id):  # type: ignore[no-untyped-def]
    ana = personas["caregiver_ana"]
    resp = client.post(f"/api/v1/patients/{pat_id}/diary", json={"pain_back": 4, "notes": "he slept badly"},
                       headers=ana.auth)
    assert resp.status_code == 201, resp.text
    assert resp.json()["entered_by_caregiver"] == "Ana (daughter)"
    entry_id = resp.json()["id"]
    event = db.scalar(select(AuditEvent).where(AuditEvent.action == "recovery.diary_create",
                                               AuditEvent.record_id == str(entry_id)))
    assert (event.actor_user_id, event.actor_role, event.patient_id) == (ana.user_id, "caregiver", pat_id)
    diary = client.get(f"/api/v1/patients/{pat_id}/diary", headers=dr_alice.auth).json()["items"]
    mine = next(e for e in diary if e["id"] == entry_id)
    assert mine["entered_by_caregiver"] == "Ana (daughter)" and mine["entered_by"] == ana.user_id
    login(client, dr_alice)
    page = client.get(f"/patients/{pat_id}/diary/{entry_id}")
    assert "entered by Ana (daughter)" in page.text


def test_a_caregiver_sees_nothing_that_was_not_shared(client, personas, pat_id, patient_rosa):  # type: ignore[no-untyped-def]
    ana = personas["caregiver_ana"]
    assert client.get(f"/api/v1/patients/{pat_id}/recovery-plan", headers=ana.auth).status_code in (200, 404)
    for url in (f"/api/v1/patients/{pat_id}", f"/api/v1/patients/{pat_id}/responses",
                f"/api/v1/patients/{pat_id}/screenings", f"/api/v1/patients/{pat_id}/procedures"):
        assert client.get(url, headers=ana.auth).status_code in (403, 404), url
    rosa = patient_rosa.patient_id
    assert client.post(f"/api/v1/patients/{rosa}/diary", json={"pain_back": 2}, headers=ana.auth).status_code == 404
    assert client.get("/api/v1/patients", headers=ana.auth).json()["items"] == []


def test_a_revoked_caregiver_is_refused_at_once(client, personas, patient_pat, pat_id):  # type: ignore[no-untyped-def]
    ana = personas["caregiver_ana"]
    (grant,) = [c for c in client.get(f"/api/v1/patients/{pat_id}/caregivers", headers=patient_pat.auth).json()
                if c["revoked_at"] is None]
    assert grant["shared"] == ["read", "diary"]
    resp = client.post(f"/api/v1/patients/{pat_id}/caregivers/{grant['id']}/revoke", headers=patient_pat.auth)
    assert resp.status_code == 200 and resp.json()["revoked_at"]
    assert client.post(f"/api/v1/patients/{pat_id}/diary", json={"pain_back": 1}, headers=ana.auth).status_code == 404


def test_a_patient_invites_a_caregiver_who_accepts_and_signs_in(client, db, patient_pat, pat_id):  # type: ignore[no-untyped-def]
    from mildpath.services.access_links import render_links
    from tests.conftest import SECRET

    notify.deliver_pending(db, notify.LogSender(), limit=100_000, now=now() + timedelta(days=3650))
    body = {"name": "Luis", "relation": "son", "email": "luis@example.org",
            "shared": {"read": False, "diary": True}}
    resp = client.post(f"/api/v1/patients/{pat_id}/caregivers", json=body, headers=patient_pat.auth)
    assert resp.status_code == 201, resp.text
    assert db.get(OutboxMessage, resp.json()["invitation_message_id"]).recipient_address == "luis@example.org"
    sent: list[notify.Outgoing] = []

    class Memory:
        def send(self, message: notify.Outgoing) -> None:
            sent.append(message)

    notify.deliver_pending(db, Memory(), render=render_links(SECRET))
    (invitation,) = sent
    token = invitation.body.split("/access/")[1].split()[0]
    client.cookies.clear()
    page = client.get(f"/access/{token}")
    done = client.post(f"/access/{token}", data={"csrf_token": csrf_from(page.text)})
    assert done.status_code == 303 and done.headers["location"] == "/caregiving"
    home = client.get("/caregiving")
    assert home.status_code == 200 and f"/patients/{pat_id}/diary" in home.text
    assert client.get(f"/patients/{pat_id}/diary").status_code == 200
    assert client.get(f"/patients/{pat_id}/recovery").status_code == 404  # reading the plan was not shared
    assert client.get(f"/patients/{pat_id}").status_code == 403


def test_only_the_patient_or_their_clinic_manage_caregivers(client, patient_rosa, dr_bob_other_clinic, pat_id):  # type: ignore[no-untyped-def]
    body = {"name": "X", "relation": "friend", "email": "x@example.org"}
    assert client.post(f"/api/v1/patients/{pat_id}/caregivers", json=body,
                       headers=patient_rosa.auth).status_code == 404
    assert client.post(f"/api/v1/patients/{pat_id}/caregivers", json=body,
                       headers=dr_bob_other_clinic.auth).status_code == 404


def test_a_patient_manages_caregivers_on_a_page(client, patient_pat, pat_id):  # type: ignore[no-untyped-def]
    login(client, patient_pat)
    page = client.get(f"/patients/{pat_id}/caregivers")
    assert page.status_code == 200 and "Ana" in page.text
    bad = client.post(f"/patients/{pat_id}/caregivers", data={"csrf_token": csrf_from(page.text), "name": "Eva",
                                                              "relation": "sister", "channel": "email"})
    assert bad.status_code == 422  # an email invitation needs the email; nothing lost: the name stays
    assert 'value="Eva"' in bad.text


def test_two_caregivers_invited_by_phone_get_accounts_of_their_own(client, db, patient_pat, pat_id):  # type: ignore[no-untyped-def]
    from mildpath.store.caregivers import CaregiverGrant

    for name, phone in (("Eva", "+15550001001"), ("Tom", "+15550001002")):
        body = {"name": name, "relation": "friend", "phone": phone, "channel": "sms"}
        assert client.post(f"/api/v1/patients/{pat_id}/caregivers", json=body,
                           headers=patient_pat.auth).status_code == 201
    rows = db.scalars(select(CaregiverGrant).where(CaregiverGrant.name.in_(["Eva", "Tom"]))).all()
    assert len({r.user_id for r in rows}) == 2
