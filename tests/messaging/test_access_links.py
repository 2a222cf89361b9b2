"""Access without a password (issue 20): magic links, invitations, password resets. Tokens are random (256
bits), stored only as digests, single use, and expire; asking for one never tells whether an address is known."""

from __future__ import annotations

import hashlib
import re
from datetime import date, timedelta

import pytest
from sqlalchemy import select

from mildpath.services import notify
from mildpath.services.access_links import render_links
from mildpath.services.clock import now
from mildpath.services.patients import PatientIn, create_patient
from mildpath.store.access_links import AccessLink
from mildpath.store.models import OutboxMessage, User
from tests.conftest import SECRET
from tests.helpers import csrf_from, login

LINK = re.compile(r"/access/([A-Za-z0-9_-]+)")


class Memory:
    def __init__(self) -> None:
        self.sent: list[notify.Outgoing] = []

    def send(self, message: notify.Outgoing) -> None:
        self.sent.append(message)


@pytest.fixture(autouse=True)
def empty_outbox(db):  # type: ignore[no-untyped-def]
    notify.deliver_pending(db, notify.LogSender(), limit=100_000, now=now() + timedelta(days=3650))


def _deliver(db) -> list[notify.Outgoing]:  # type: ignore[no-untyped-def]
    memory = Memory()
    notify.deliver_pending(db, memory, render=render_links(SECRET))
    return memory.sent


def _token_of(message: notify.Outgoing) -> str:
    match = LINK.search(message.body)
    assert match, message.body
    return match.group(1)


def _post_form(client, url: str, **fields):  # type: ignore[no-untyped-def]
    page = client.get(url)
    return client.post(url, data={"csrf_token": csrf_from(page.text), **fields})


def test_a_clinician_sends_a_sign_in_link_that_works_once(app, client, db, dr_alice, pat_id):  # type: ignore[no-untyped-def]
    resp = client.post("/api/v1/access-links", json={"patient_id": pat_id, "channel": "email",
                                                     "target": "/me/questionnaires"}, headers=dr_alice.auth)
    assert resp.status_code == 201, resp.text
    stored = db.get(OutboxMessage, resp.json()["message_id"])
    assert "{access_link}" in stored.body  # the outbox never holds the token
    (message,) = _deliver(db)
    token = _token_of(message)
    assert len(token) >= 43  # 256 bits, base64url
    link = db.scalar(select(AccessLink).where(AccessLink.outbox_id == stored.id))
    assert link.digest == hashlib.sha256(token.encode()).hexdigest() and token not in (link.nonce, link.digest)

    fresh = client
    fresh.cookies.clear()
    assert fresh.get(f"/access/{token}").status_code == 200
    assert fresh.get(f"/access/{token}").status_code == 200  # a preview does not use it up
    used = _post_form(fresh, f"/access/{token}")
    assert used.status_code == 303 and used.headers["location"] == "/me/questionnaires"
    opened = fresh.get("/me/questionnaires")
    assert opened.status_code == 303 and opened.headers["location"] == f"/patients/{pat_id}/questionnaires"
    assert fresh.get(opened.headers["location"]).status_code == 200
    fresh.cookies.clear()
    again = fresh.get(f"/access/{token}")
    assert again.status_code == 410 and "used already" in again.text and 'action="/access/request"' in again.text


def test_an_expired_link_says_so_and_offers_a_new_one(app, client, db, dr_alice, pat_id):  # type: ignore[no-untyped-def]
    client.post("/api/v1/access-links", json={"patient_id": pat_id, "channel": "email"}, headers=dr_alice.auth)
    token = _token_of(_deliver(db)[0])
    client.cookies.clear()
    app.state.clock = lambda: now() + timedelta(hours=73)
    try:
        resp = client.get(f"/access/{token}")
        assert resp.status_code == 410 and "too old" in resp.text
        assert _post_form(client, "/access/request", identifier="x@example.org").status_code == 200
        assert client.post(f"/access/{token}", data={"csrf_token": csrf_from(resp.text)}).status_code == 410
    finally:
        del app.state.clock


def test_a_made_up_link_is_refused(client):  # type: ignore[no-untyped-def]
    assert client.get("/access/" + "A" * 43).status_code == 404


def test_asking_for_a_link_answers_the_same_for_known_and_unknown_addresses(client, db, patient_pat):  # type: ignore[no-untyped-def]
    known = _post_form(client, "/access/request", identifier=patient_pat.email)
    unknown = _post_form(client, "/access/request", identifier="nobody-here@example.org")
    assert known.status_code == unknown.status_code == 200
    strip = re.compile(r'name="csrf_token" value="[^"]*"')
    assert strip.sub("", known.text) == strip.sub("", unknown.text)
    sent = _deliver(db)
    assert [m.recipient_address for m in sent] == [patient_pat.email]
    assert "{access_link}" not in sent[0].body


def test_staff_cannot_get_a_magic_link_by_asking(client, db, dr_alice):  # type: ignore[no-untyped-def]
    _post_form(client, "/access/request", identifier=dr_alice.email)
    assert _deliver(db) == []


def test_asking_for_links_is_throttled(client, patient_pat):  # type: ignore[no-untyped-def]
    codes = [_post_form(client, "/access/request", identifier="someone@example.org").status_code for _ in range(12)]
    assert codes[:10] == [200] * 10 and codes[-1] == 429


def test_an_invitation_makes_the_account_and_the_patient_sets_a_password(app, client, db, dr_alice):  # type: ignore[no-untyped-def]
    patient = create_patient(db, dr_alice.actor, PatientIn(mrn="INV-1", given_name="Ines", family_name="Vidal",
                                                           birth_date=date(1950, 3, 1), sex="female",
                                                           email="ines@example.org", preferred_language="es"),
                             today=date(2026, 12, 1))
    db.flush()
    resp = client.post("/api/v1/invitations", json={"patient_id": patient.id, "channel": "email"},
                       headers=dr_alice.auth)
    assert resp.status_code == 201, resp.text
    user = db.scalar(select(User).where(User.patient_id == patient.id))
    assert user.role == "patient" and user.password_hash == ""
    (message,) = _deliver(db)
    assert message.subject == "Su clínica le invita a mildpath"  # the patient's language
    token = _token_of(message)
    client.cookies.clear()
    page = client.get(f"/access/{token}")
    assert page.status_code == 200
    short = client.post(f"/access/{token}", data={"csrf_token": csrf_from(page.text), "password": "short"})
    assert short.status_code == 422  # and the link still works
    done = client.post(f"/access/{token}", data={"csrf_token": csrf_from(page.text), "password": "a-long-password-9"})
    assert done.status_code == 303 and done.headers["location"] == "/me"
    client.cookies.clear()
    login_page = client.get("/login")
    ok = client.post("/login", data={"email": "ines@example.org", "password": "a-long-password-9",
                                     "csrf_token": csrf_from(login_page.text), "next": "/"})
    assert ok.status_code == 303
    again = client.post("/api/v1/invitations", json={"patient_id": patient.id, "channel": "email"},
                        headers=dr_alice.auth)
    assert again.status_code == 409


def test_a_coordinator_invites_a_patient_of_her_clinic_only(client, db, dr_alice, dr_bob_other_clinic, personas):  # type: ignore[no-untyped-def]
    """Issue 20: "a clinician or coordinator invites a patient"; the coordinator's clinic is the limit."""
    coord_cora = personas["coord_cora"]
    assert coord_cora.clinic_id == dr_alice.clinic_id
    ours = create_patient(db, dr_alice.actor, PatientIn(mrn="INV-C1", given_name="Olga", family_name="Paz",
                                                        birth_date=date(1951, 2, 3), sex="female",
                                                        email="olga@example.org"), today=date(2026, 12, 1))
    theirs = create_patient(db, dr_bob_other_clinic.actor, PatientIn(mrn="INV-C2", given_name="Rui", family_name="Sa",
                                                                     birth_date=date(1949, 4, 5), sex="male",
                                                                     email="rui@example.org"), today=date(2026, 12, 1))
    db.flush()
    resp = client.post("/api/v1/invitations", json={"patient_id": ours.id, "channel": "email"}, headers=coord_cora.auth)
    assert resp.status_code == 201, resp.text
    assert db.scalar(select(User).where(User.patient_id == ours.id)).role == "patient"
    other = client.post("/api/v1/invitations", json={"patient_id": theirs.id, "channel": "email"},
                        headers=coord_cora.auth)
    assert other.status_code in (403, 404)
    assert db.scalar(select(User).where(User.patient_id == theirs.id)) is None


def test_a_phone_only_patient_is_invited_by_text_only_with_consent(client, db, dr_alice):  # type: ignore[no-untyped-def]
    patient = create_patient(db, dr_alice.actor, PatientIn(mrn="INV-2", given_name="Tomas", family_name="Ruiz",
                                                           birth_date=date(1948, 5, 2), sex="male",
                                                           phone="+15550001111"), today=date(2026, 12, 1))
    db.flush()
    assert client.post("/api/v1/invitations", json={"patient_id": patient.id, "channel": "email"},
                       headers=dr_alice.auth).status_code == 422
    resp = client.post("/api/v1/invitations", json={"patient_id": patient.id, "channel": "sms"}, headers=dr_alice.auth)
    assert resp.status_code == 201
    assert _deliver(db) == []  # no consent to texts on record: not sent
    assert db.get(OutboxMessage, resp.json()["message_id"]).status == "cancelled"


def test_a_password_reset_works_once_and_ends_every_session(app, client, db, dr_alice):  # type: ignore[no-untyped-def]
    login(client, dr_alice)
    assert client.get("/patients").status_code == 200
    _post_form(client, "/password/forgot", email=dr_alice.email)
    _post_form(client, "/password/forgot", email="unknown@example.org")
    (message,) = _deliver(db)
    token = _token_of(message)
    page = client.get(f"/access/{token}")
    assert client.post(f"/access/{token}", data={"csrf_token": csrf_from(page.text)}).status_code == 422
    done = client.post(f"/access/{token}", data={"csrf_token": csrf_from(page.text), "password": "new-password-123"})
    assert done.status_code == 303 and done.headers["location"] == "/login"
    assert client.get("/patients").status_code == 303  # the session open before the reset has ended
    assert client.get(f"/access/{token}").status_code == 410  # once
    login_page = client.get("/login")
    ok = client.post("/login", data={"email": dr_alice.email, "password": "new-password-123",
                                     "csrf_token": csrf_from(login_page.text), "next": "/"})
    assert ok.status_code == 303


def test_a_deactivated_account_cannot_use_its_link(client, db, dr_alice, pat_id):  # type: ignore[no-untyped-def]
    client.post("/api/v1/access-links", json={"patient_id": pat_id, "channel": "email"}, headers=dr_alice.auth)
    token = _token_of(_deliver(db)[0])
    db.scalar(select(User).where(User.patient_id == pat_id)).active = False
    db.flush()
    client.cookies.clear()
    assert client.get(f"/access/{token}").status_code == 404


def test_another_clinic_cannot_send_links_to_our_patients(client, dr_bob_other_clinic, pat_id):  # type: ignore[no-untyped-def]
    resp = client.post("/api/v1/access-links", json={"patient_id": pat_id, "channel": "email"},
                       headers=dr_bob_other_clinic.auth)
    assert resp.status_code == 404


def test_a_reminders_link_opens_the_questionnaires(client, db, pat_id):  # type: ignore[no-untyped-def]
    from mildpath.services import proms as proms_svc
    from mildpath.services.clock import today
    from mildpath.store.procedures import ProcedureRow, add_procedure

    for row in db.query(ProcedureRow).filter(ProcedureRow.patient_id == pat_id):
        row.status = "cancelled"
    add_procedure(db, patient_id=pat_id, scheduled_date=today() - timedelta(days=100), operator_user_id=None,
                  created_by=None, now=now())
    assert proms_svc.queue_due_reminders(db, today(), now=now(), link_base="https://clinic.example",
                                         secret_key=SECRET) >= 1
    sent = [m for m in _deliver(db) if m.kind == "prom_reminder"]
    assert sent and sent[0].body.count("https://clinic.example/access/") == 1
    token = _token_of(sent[0])
    client.cookies.clear()
    page = client.get(f"/access/{token}")
    done = client.post(f"/access/{token}", data={"csrf_token": csrf_from(page.text)})
    assert done.headers["location"] == "/me/questionnaires"


def test_at_most_five_links_per_account_in_fifteen_minutes(app, client, db, patient_pat):  # type: ignore[no-untyped-def]
    """Asked for from many addresses (no per-address block), an account still gets at most 5 links in 15 minutes."""
    from mildpath.services import access_links as svc
    from mildpath.services.auth import BlockPolicy

    links = svc.LinkSettings(SECRET, "http://testserver", BlockPolicy())
    at = now()
    for n in range(8):
        svc.request_link(db, patient_pat.email, address=f"192.0.2.{n}", now=at, links=links)
    assert len(_deliver(db)) == svc.ACCOUNT_LIMIT == 5
    svc.request_link(db, patient_pat.email, address="192.0.2.99", now=at + timedelta(minutes=16), links=links)
    assert len(_deliver(db)) == 1
