"""Opting out (issue 20): every text and email to a patient or a caregiver ends with a one-click opt-out link
(``/optout/{token}``: it asks to confirm, then withdraws consent to that channel, logged with how ``link``); a
STOP from a caregiver's phone stops that caregiver's texts; in-app messages need consent on record like the
other channels."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from sqlalchemy import select

from mildpath.services import consent, notify
from mildpath.services import proms as proms_svc
from mildpath.services.access_links import render_links
from mildpath.services.clock import now, today
from mildpath.services.proms_schedule import CAREGIVER_REMINDER_KIND, reminder_hold
from mildpath.store.messaging import ChannelConsent, add_consent, consent_in_force
from mildpath.store.models import AuditEvent, OutboxMessage, Patient
from mildpath.store.procedures import ProcedureRow, add_procedure
from tests.conftest import SECRET
from tests.helpers import csrf_from, login, page_csrf
from tests.messaging.test_caregiver_reminders import accept_invitation

BASE = "https://clinic.example"
OPTOUT = re.compile(r"https://clinic\.example/optout/([A-Za-z0-9._-]+)$")
PAT_PHONE = "+15550107788"
LUIS = "+15550004444"


class Memory:
    def __init__(self) -> None:
        self.sent: list[notify.Outgoing] = []

    def send(self, message: notify.Outgoing) -> None:
        self.sent.append(message)


def _drain(db) -> None:  # type: ignore[no-untyped-def]
    notify.deliver_pending(db, notify.LogSender(), limit=100_000, now=now() + timedelta(days=3650))


def _deliver(db) -> list[notify.Outgoing]:  # type: ignore[no-untyped-def]
    memory = Memory()
    notify.deliver_pending(db, memory, rechecks=[reminder_hold], render=render_links(SECRET, BASE))
    db.flush()
    return memory.sent


@pytest.fixture
def texting_pat(db, pat_id):  # type: ignore[no-untyped-def]
    """Pat has a phone and agreed to texts; nothing else waits in the outbox."""
    db.get(Patient, pat_id).phone = "+1 555 010 7788"
    add_consent(db, patient_id=pat_id, channel="sms", granted=True, how="form", user_id=None, at=now())
    _drain(db)
    return pat_id


def _text_to_pat(db, pat_id: int, user_id: int) -> OutboxMessage:  # type: ignore[no-untyped-def]
    message = notify.queue(db, kind="prom_reminder", subject="s", body="mildpath: a questionnaire is waiting.",
                           channel="sms", recipient_address=PAT_PHONE, recipient_user_id=user_id, patient_id=pat_id)
    db.flush()
    return message


def _confirm(client, token: str):  # type: ignore[no-untyped-def]
    page = client.get(f"/optout/{token}")
    assert page.status_code == 200, page.text
    return client.post(f"/optout/{token}", data={"csrf_token": csrf_from(page.text)})


def test_a_text_to_a_patient_ends_with_an_opt_out_link_for_them_and_texts(db, texting_pat, patient_pat):  # type: ignore[no-untyped-def]
    _text_to_pat(db, texting_pat, patient_pat.user_id)
    (text,) = _deliver(db)
    assert text.body.startswith("mildpath: a questionnaire is waiting.\nStop texts: ")
    token = OPTOUT.search(text.body).group(1)  # type: ignore[union-attr]
    assert token == consent.optout_token(SECRET, channel="sms", patient_id=texting_pat)
    assert len(token.split(".")[1]) == 22  # 128 bits of HMAC


def test_an_email_to_a_patient_ends_with_an_opt_out_link_in_their_language(db, patient_rosa):  # type: ignore[no-untyped-def]
    _drain(db)
    notify.queue(db, kind="access_sign_in", subject="s", body="mildpath: su enlace.", channel="email",
                 recipient_address="rosa@example.org", recipient_user_id=patient_rosa.user_id,
                 patient_id=patient_rosa.patient_id)
    db.flush()
    (mail,) = _deliver(db)
    assert "\n\nPara no recibir más correos: https://clinic.example/optout/" in mail.body


def test_messages_to_staff_and_in_app_messages_carry_no_opt_out_link(db, dr_alice, pat_id):  # type: ignore[no-untyped-def]
    _drain(db)
    notify.queue(db, kind="diary_escalation", subject="s", body="A diary entry needs a look.", channel="email",
                 recipient_address="alice@example.org", recipient_user_id=dr_alice.user_id, patient_id=pat_id)
    add_consent(db, patient_id=pat_id, channel="in_app", granted=True, how="form", user_id=None, at=now())
    notify.queue(db, kind="clinic_note", subject="s", body="Open mildpath.", channel="in_app", patient_id=pat_id)
    db.flush()
    assert sorted(m.body for m in _deliver(db)) == ["A diary entry needs a look.", "Open mildpath."]


def test_opening_the_link_only_asks_and_confirming_withdraws_texts_and_cancels_queued_ones(  # type: ignore[no-untyped-def]
    client, db, texting_pat, patient_pat
):
    token = consent.optout_token(SECRET, channel="sms", patient_id=texting_pat)
    queued = _text_to_pat(db, texting_pat, patient_pat.user_id)
    for _ in range(2):  # a link preview, then the person: neither opts out
        page = client.get(f"/optout/{token}")
        assert page.status_code == 200 and "Yes, stop the text messages" in page.text
        assert page.headers["referrer-policy"] == "no-referrer"
    assert consent_in_force(db, patient_id=texting_pat, channel="sms").granted is True
    done = client.post(f"/optout/{token}", data={"csrf_token": csrf_from(page.text)})
    assert done.status_code == 200 and "You will get no more of these messages" in done.text
    latest = consent_in_force(db, patient_id=texting_pat, channel="sms")
    assert (latest.granted, latest.how, latest.recorded_by_user_id) == (False, "link", None)
    event = db.scalar(select(AuditEvent).where(AuditEvent.action == "consent.withdraw",
                                               AuditEvent.patient_id == texting_pat))
    assert event is not None and event.actor_role == "anonymous"
    assert _deliver(db) == []
    db.refresh(queued)
    assert (queued.status, queued.last_error) == ("cancelled", "the patient withdrew consent to sms")
    again = _confirm(client, token)  # confirmed twice: nothing more is recorded
    assert again.status_code == 200
    assert len(db.scalars(select(ChannelConsent).where(ChannelConsent.patient_id == texting_pat,
                                                       ChannelConsent.how == "link")).all()) == 1


def test_the_opt_out_link_needs_the_csrf_token_of_its_page(client, texting_pat):  # type: ignore[no-untyped-def]
    client.get("/login")
    token = consent.optout_token(SECRET, channel="sms", patient_id=texting_pat)
    assert client.post(f"/optout/{token}", data={}).status_code == 403
    assert consent_in_force_granted(client, texting_pat)


def consent_in_force_granted(client, patient_id: int) -> bool:  # type: ignore[no-untyped-def]
    from mildpath.store.messaging import consent_in_force as in_force

    session = client.app.state.session_factory()
    try:
        row = in_force(session, patient_id=patient_id, channel="sms")
        return row is not None and row.granted
    finally:
        session.close()


def test_a_made_up_or_altered_link_opts_nobody_out(client, db, texting_pat, patient_rosa):  # type: ignore[no-untyped-def]
    token = consent.optout_token(SECRET, channel="sms", patient_id=texting_pat)
    payload, mac = token.split(".")
    rosa = patient_rosa.patient_id
    for bad in (f"p{rosa}s.{mac}", f"{payload}.{'A' * 22}", f"{payload[:-1]}e.{mac}", "p1s", "x" * 40):
        assert client.get(f"/optout/{bad}").status_code == 404, bad
    assert consent_in_force(db, patient_id=texting_pat, channel="sms").granted is True


def test_opening_made_up_links_is_throttled(client):  # type: ignore[no-untyped-def]
    codes = [client.get(f"/optout/p{n}s.{'A' * 22}").status_code for n in range(1, 13)]
    assert codes[:10] == [404] * 10 and codes[-1] == 429


def test_the_opt_out_page_speaks_spanish_to_a_spanish_patient(client, patient_rosa):  # type: ignore[no-untyped-def]
    token = consent.optout_token(SECRET, channel="email", patient_id=patient_rosa.patient_id)
    page = client.get(f"/optout/{token}")
    assert page.status_code == 200 and "Sí, no enviarme más correos" in page.text and 'lang="es"' in page.text
    done = client.post(f"/optout/{token}", data={"csrf_token": csrf_from(page.text)})
    assert "No recibirá más mensajes de este tipo" in done.text


# ------------------------------------------------------------------------------------------------- caregivers


@pytest.fixture
def luis(client, db, patient_pat, pat_id):  # type: ignore[no-untyped-def]
    """Pat invites Luis by text to receive his reminders; Pat's 3-month questionnaires are open."""
    _drain(db)
    body = {"name": "Luis", "relation": "son", "phone": LUIS, "channel": "sms",
            "shared": {"read": False, "reminders": True}}
    resp = client.post(f"/api/v1/patients/{pat_id}/caregivers", json=body, headers=patient_pat.auth)
    assert resp.status_code == 201, resp.text
    db.flush()
    for row in db.query(ProcedureRow).filter(ProcedureRow.patient_id == pat_id):
        row.status = "cancelled"
    add_procedure(db, patient_id=pat_id, scheduled_date=today() - timedelta(days=100), operator_user_id=None,
                  created_by=None, now=now())
    db.flush()
    return resp.json()


def _remind(db) -> None:  # type: ignore[no-untyped-def]
    proms_svc.queue_due_reminders(db, today(), now=now(), link_base=BASE, secret_key=SECRET)
    db.flush()


def _copy(db, pat_id):  # type: ignore[no-untyped-def]
    return db.scalars(select(OutboxMessage).where(OutboxMessage.kind == CAREGIVER_REMINDER_KIND,
                                                  OutboxMessage.patient_id == pat_id)
                      .order_by(OutboxMessage.id.desc())).first()


def test_the_invitation_to_a_caregiver_carries_their_own_opt_out_link(db, luis):  # type: ignore[no-untyped-def]
    (invitation,) = [m for m in _deliver(db) if m.recipient_address == LUIS]
    token = OPTOUT.search(invitation.body).group(1)  # type: ignore[union-attr]
    assert token == consent.optout_token(SECRET, channel="sms", caregiver_id=luis["id"])


def test_a_caregiver_stops_their_texts_with_the_link_and_gets_no_more_reminders(  # type: ignore[no-untyped-def]
    client, db, luis, pat_id
):
    accept_invitation(db, LUIS)
    _remind(db)
    (copy,) = [m for m in _deliver(db) if m.recipient_address == LUIS]
    token = OPTOUT.search(copy.body).group(1)  # type: ignore[union-attr]
    page = client.get(f"/optout/{token}")
    assert "ask the person you help" not in page.text  # asked first, told after
    done = client.post(f"/optout/{token}", data={"csrf_token": csrf_from(page.text)})
    assert done.status_code == 200 and "ask the person you help" in done.text
    row = db.scalars(select(ChannelConsent).where(ChannelConsent.caregiver_id == luis["id"])).one()
    assert (row.patient_id, row.channel, row.granted, row.how) == (pat_id, "sms", False, "link")
    assert consent_in_force(db, patient_id=pat_id, channel="sms") is None  # the patient's own: untouched
    later = notify.queue(db, kind=CAREGIVER_REMINDER_KIND, subject="s", body="mildpath: ...", channel="sms",
                         recipient_user_id=copy.recipient_user_id, recipient_address=LUIS, patient_id=pat_id)
    db.flush()
    assert [m for m in _deliver(db) if m.recipient_address == LUIS] == []
    assert (later.status, later.last_error) == ("cancelled", "the caregiver opted out of sms")


def test_a_caregiver_who_never_opened_the_invitation_gets_no_reminders(db, luis, pat_id):  # type: ignore[no-untyped-def]
    _deliver(db)  # the invitation goes out; Luis never opens it
    _remind(db)
    assert [m for m in _deliver(db) if m.recipient_address == LUIS] == []
    assert (_copy(db, pat_id).status, _copy(db, pat_id).last_error) == (
        "cancelled", "the caregiver has not accepted the invitation yet")


@pytest.fixture
def hook_secret(app):  # type: ignore[no-untyped-def]
    before = app.state.settings.sms_inbound_secret
    object.__setattr__(app.state.settings, "sms_inbound_secret", "inbound-secret-for-tests")
    yield "inbound-secret-for-tests"
    object.__setattr__(app.state.settings, "sms_inbound_secret", before)


def test_stop_from_a_caregivers_phone_stops_their_reminders_and_is_logged(  # type: ignore[no-untyped-def]
    client, db, luis, pat_id, hook_secret
):
    accept_invitation(db, LUIS)
    _remind(db)
    resp = client.post("/hooks/sms/inbound", json={"from": "+1 555 000 4444", "text": "STOP"},
                       headers={"Authorization": f"Bearer {hook_secret}"})
    assert resp.status_code == 200 and resp.json() == {"action": "opted_out"}
    row = db.scalars(select(ChannelConsent).where(ChannelConsent.caregiver_id == luis["id"])).one()
    assert (row.channel, row.granted, row.how) == ("sms", False, "sms_stop")
    assert db.scalar(select(AuditEvent).where(AuditEvent.action == "consent.caregiver_withdraw",
                                              AuditEvent.patient_id == pat_id)) is not None
    assert [m for m in _deliver(db) if m.recipient_address == LUIS] == []
    assert _copy(db, pat_id).last_error == "the caregiver opted out of sms"


# -------------------------------------------------------------------------------------------------- in-app


def test_an_in_app_message_goes_out_only_with_consent_on_record(client, db, patient_pat):  # type: ignore[no-untyped-def]
    pid = patient_pat.patient_id
    _drain(db)
    before = notify.queue(db, kind="clinic_note", subject="Before", body="b", channel="in_app", patient_id=pid)
    db.flush()
    _deliver(db)
    assert (before.status, before.last_error) == ("cancelled", "no consent on record for in_app")
    login(client, patient_pat)
    assert 'name="in_app"' in client.get("/me/messages").text
    saved = client.post("/me/messages", data={"csrf_token": page_csrf(client, "/me/messages"), "in_app": "on",
                                              "preferred_language": "en"})
    assert saved.status_code == 303, saved.text
    latest = consent_in_force(db, patient_id=pid, channel="in_app")
    assert (latest.granted, latest.how) == (True, "form")
    after = notify.queue(db, kind="clinic_note", subject="After", body="b", channel="in_app", patient_id=pid)
    db.flush()
    _deliver(db)
    assert after.status == "sent"
    assert "After" in client.get("/me/inbox").text


# -------------------------------------------------------------------------------------------- caregiver wording


def test_a_caregiver_sees_whom_they_are_helping_on_the_pages_they_act_on(client, personas, pat_id):  # type: ignore[no-untyped-def]
    login(client, personas["caregiver_ana"])  # Ana may read Pat's plan and fill his diary
    name = client.app.state.session_factory().get(Patient, pat_id).given_name
    for url in (f"/patients/{pat_id}/diary", f"/patients/{pat_id}/recovery"):
        page = client.get(url)
        assert page.status_code == 200, url
        assert f"You are helping {name}." in page.text, url
    spanish = client.get(f"/patients/{pat_id}/diary?lang=es")
    assert f"Está ayudando a {name}." in spanish.text
    assert "You are helping" not in client.get("/caregiving").text


def test_the_patient_and_staff_see_no_caregiver_banner(client, patient_pat, dr_alice, pat_id):  # type: ignore[no-untyped-def]
    login(client, dr_alice)
    assert "You are helping" not in client.get(f"/patients/{pat_id}/diary").text


def test_a_caregiver_answering_a_questionnaire_sees_for_whom_on_every_step(client, db, personas, pat_id):  # type: ignore[no-untyped-def]
    from mildpath.store.caregivers import CaregiverGrant

    ana = personas["caregiver_ana"]
    db.scalars(select(CaregiverGrant).where(CaregiverGrant.user_id == ana.user_id,
                                            CaregiverGrant.patient_id == pat_id)).one().can_questionnaires = True
    for row in db.query(ProcedureRow).filter(ProcedureRow.patient_id == pat_id):
        row.status = "cancelled"
    add_procedure(db, patient_id=pat_id, scheduled_date=today() - timedelta(days=100), operator_user_id=None,
                  created_by=None, now=now())
    db.flush()
    name = db.get(Patient, pat_id).given_name
    login(client, ana)
    page = client.get(f"/patients/{pat_id}/questionnaires")
    assert page.status_code == 200 and f"You are helping {name}." in page.text
    started = client.post(f"/patients/{pat_id}/questionnaires/start",
                          data={"csrf_token": csrf_from(page.text), "instrument": "nprs", "timepoint": "3m"})
    assert started.status_code == 303, started.text[:300]
    step = client.get(started.headers["location"])
    assert step.status_code == 200 and f"You are helping {name}." in step.text
    location = started.headers["location"]
    spanish = client.get(location + ("&" if "?" in location else "?") + "lang=es")
    assert f"Está ayudando a {name}." in spanish.text
