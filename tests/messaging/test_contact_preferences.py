"""/me/messages (issue 20): a patient chooses their channels, language and own quiet hours; consent is logged
(how ``form``: the patient's own choice; ``link`` is the opt-out link's) and audited, and the outbox's re-check
honours it."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from mildpath.services import notify
from mildpath.services.clock import now
from mildpath.store.messaging import ChannelConsent, add_consent
from mildpath.store.models import AuditEvent, Patient
from tests.helpers import login, page_csrf


def _save(client, **fields):  # type: ignore[no-untyped-def]
    return client.post("/me/messages", data={"csrf_token": page_csrf(client, "/me/messages"), **fields})


def test_a_patient_withdraws_texts_on_their_page_and_a_queued_text_is_cancelled(  # type: ignore[no-untyped-def]
    client, db, patient_pat, tmp_path
):
    pid = patient_pat.patient_id
    db.get(Patient, pid).phone = "+1 555 010 7788"
    add_consent(db, patient_id=pid, channel="sms", granted=True, how="form", user_id=None, at=now())
    notify.deliver_pending(db, notify.LogSender(), limit=100_000, now=now() + timedelta(days=3650))
    text = notify.queue(db, kind="prom_reminder", subject="s", body="b", channel="sms",
                        recipient_address="+15550107788", patient_id=pid)
    db.flush()
    login(client, patient_pat)
    assert 'name="sms" checked' in client.get("/me/messages").text
    saved = _save(client, preferred_language="es", quiet_hours="20:00-09:00")
    assert saved.status_code == 303, saved.text
    latest = db.scalars(select(ChannelConsent).where(ChannelConsent.patient_id == pid)
                        .order_by(ChannelConsent.id.desc())).first()
    assert (latest.channel, latest.granted, latest.how) == ("sms", False, "form")
    db.refresh(db.get(Patient, pid))
    assert (db.get(Patient, pid).preferred_language, db.get(Patient, pid).quiet_hours) == ("es", "20:00-09:00")
    assert db.scalar(select(AuditEvent).where(AuditEvent.action == "contact_preferences.update",
                                              AuditEvent.patient_id == pid)) is not None
    notify.deliver_pending(db, {"sms": notify.SmsFileSink(tmp_path / "sms.ndjson", sender="mildpath")})
    assert text.status == "cancelled" and not (tmp_path / "sms.ndjson").exists()


def test_quiet_hours_that_are_not_a_window_are_refused_and_nothing_changes(client, db, patient_pat):  # type: ignore[no-untyped-def]
    login(client, patient_pat)
    refused = _save(client, preferred_language="en", quiet_hours="late")
    assert refused.status_code == 422 and "HH:MM-HH:MM" in refused.text
    assert db.get(Patient, patient_pat.patient_id).quiet_hours is None


def test_the_page_is_in_spanish(client, patient_pat):  # type: ignore[no-untyped-def]
    page = login(client, patient_pat).get("/me/messages?lang=es")
    assert page.status_code == 200 and "Cómo le contactamos" in page.text


def test_a_spanish_reader_gets_the_quiet_hours_error_in_spanish(client, patient_rosa):  # type: ignore[no-untyped-def]
    login(client, patient_rosa)  # Rosa reads Spanish (her stored preference)
    refused = _save(client, preferred_language="es", quiet_hours="tarde")
    assert refused.status_code == 422 and "escríbalas como HH:MM-HH:MM" in refused.text
