"""The patient's in-app messages on /me/inbox (issue 20): their own only, newest first, marked read."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from mildpath.services import notify
from mildpath.services.clock import now
from mildpath.store.messaging import add_consent, consent_in_force
from mildpath.store.models import AuditEvent, OutboxMessage
from tests.helpers import csrf_from, login


def _in_app(db, patient_id: int, subject: str) -> OutboxMessage:  # type: ignore[no-untyped-def]
    if consent_in_force(db, patient_id=patient_id, channel="in_app") is None:  # in-app needs consent too
        add_consent(db, patient_id=patient_id, channel="in_app", granted=True, how="form", user_id=None, at=now())
    message = notify.queue(db, kind="clinic_note", subject=subject, body=f"{subject}: open mildpath",
                           channel="in_app", patient_id=patient_id)
    db.flush()
    return message


def _delivered(db) -> None:  # type: ignore[no-untyped-def]
    notify.deliver_pending(db, notify.LogSender(), limit=100_000, now=now() + timedelta(days=3650))
    db.flush()


def test_a_patient_sees_their_own_in_app_messages_newest_first_and_nobody_elses(  # type: ignore[no-untyped-def]
    client, db, patient_pat, patient_rosa
):
    _in_app(db, patient_pat.patient_id, "First for Pat")
    _in_app(db, patient_rosa.patient_id, "Only for Rosa")
    _in_app(db, patient_pat.patient_id, "Second for Pat")
    _delivered(db)
    page = login(client, patient_pat).get("/me/inbox")
    assert page.status_code == 200
    assert page.text.index("Second for Pat") < page.text.index("First for Pat")
    assert "Only for Rosa" not in page.text
    assert db.scalar(select(AuditEvent).where(AuditEvent.action == "inbox.read",
                                              AuditEvent.patient_id == patient_pat.patient_id)) is not None


def test_a_patient_marks_a_message_read_but_cannot_touch_anyone_elses(  # type: ignore[no-untyped-def]
    client, db, patient_pat, patient_rosa
):
    mine = _in_app(db, patient_pat.patient_id, "For Pat")
    theirs = _in_app(db, patient_rosa.patient_id, "For Rosa")
    _delivered(db)
    page = login(client, patient_pat).get("/me/inbox")
    token = csrf_from(page.text)
    assert client.post(f"/me/inbox/{mine.id}/read", data={"csrf_token": token}).status_code == 303
    assert client.post(f"/me/inbox/{theirs.id}/read", data={"csrf_token": token}).status_code == 404
    db.refresh(mine)
    db.refresh(theirs)
    assert mine.read_at is not None and theirs.read_at is None
    assert "Mark as read" not in client.get("/me/inbox").text


def test_the_inbox_is_in_spanish_for_a_spanish_speaker(client, patient_pat):  # type: ignore[no-untyped-def]
    page = login(client, patient_pat).get("/me/inbox?lang=es")
    assert page.status_code == 200 and "No tiene mensajes." in page.text
