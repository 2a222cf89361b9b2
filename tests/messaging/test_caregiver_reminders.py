"""Caregiver reminders (issue 20): a caregiver the patient shares reminders with gets a copy of each questionnaire
reminder on their own channel (the one they were invited on), with no name and no clinical detail; the copy is
re-checked like the patient's (a cancelled procedure stops it) and stops once the patient no longer shares."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from sqlalchemy import select

from mildpath.services import notify
from mildpath.services import proms as proms_svc
from mildpath.services.access_links import render_links, use_link
from mildpath.services.clock import now, today
from mildpath.services.proms_schedule import CAREGIVER_REMINDER_KIND, reminder_hold
from mildpath.store.models import OutboxMessage
from mildpath.store.procedures import ProcedureRow, add_procedure
from mildpath.store.recovery import RecoveryPlanRecord
from tests.conftest import SECRET

LUIS = "+15550004444"


def accept_invitation(db, address: str) -> None:  # type: ignore[no-untyped-def]
    """Deliver what waits (the caregiver's invitation among it) and open the invitation sent to ``address``."""
    memory = Memory()
    notify.deliver_pending(db, memory, limit=100_000, now=now() + timedelta(days=3650), render=render_links(SECRET))
    (invitation,) = [m for m in memory.sent if m.recipient_address == address]
    use_link(db, re.search(r"/access/([A-Za-z0-9_-]+)", invitation.body).group(1), now=now())  # type: ignore[union-attr]
    db.flush()


class Memory:
    def __init__(self) -> None:
        self.sent: list[notify.Outgoing] = []

    def send(self, message: notify.Outgoing) -> None:
        self.sent.append(message)


@pytest.fixture
def luis(client, db, patient_pat, pat_id):  # type: ignore[no-untyped-def]
    """Pat invites Luis by text to receive his reminders; Pat's 3-month questionnaires are open."""
    notify.deliver_pending(db, notify.LogSender(), limit=100_000, now=now() + timedelta(days=3650))
    body = {"name": "Luis", "relation": "son", "phone": LUIS, "channel": "sms",
            "shared": {"read": False, "reminders": True}}
    resp = client.post(f"/api/v1/patients/{pat_id}/caregivers", json=body, headers=patient_pat.auth)
    assert resp.status_code == 201, resp.text
    accept_invitation(db, LUIS)  # reminders go to a caregiver once they accepted
    for row in db.query(ProcedureRow).filter(ProcedureRow.patient_id == pat_id):
        row.status = "cancelled"
    add_procedure(db, patient_id=pat_id, scheduled_date=today() - timedelta(days=100), operator_user_id=None,
                  created_by=None, now=now())
    proms_svc.queue_due_reminders(db, today(), now=now(), link_base="https://clinic.example", secret_key=SECRET)
    return resp.json()


def _copy(db, pat_id):  # type: ignore[no-untyped-def]
    return db.scalar(select(OutboxMessage).where(OutboxMessage.kind == CAREGIVER_REMINDER_KIND,
                                                 OutboxMessage.patient_id == pat_id))


def test_the_caregiver_gets_a_copy_of_the_reminder_by_text_with_a_sign_in_link(db, luis, pat_id):  # type: ignore[no-untyped-def]
    memory = Memory()
    notify.deliver_pending(db, memory, rechecks=[reminder_hold], render=render_links(SECRET))
    (text,) = [m for m in memory.sent if m.recipient_address == LUIS]
    assert text.body.startswith("mildpath: someone you help has a questionnaire waiting. https://clinic.example/access/")
    assert "Pat" not in text.body
    assert _copy(db, pat_id).status == "sent"


def test_no_copy_once_the_patient_stops_sharing(client, db, luis, patient_pat, pat_id):  # type: ignore[no-untyped-def]
    resp = client.post(f"/api/v1/patients/{pat_id}/caregivers/{luis['id']}/revoke", headers=patient_pat.auth)
    assert resp.status_code == 200
    memory = Memory()
    notify.deliver_pending(db, memory, rechecks=[reminder_hold], render=render_links(SECRET))
    assert not [m for m in memory.sent if m.recipient_address == LUIS]
    copy = _copy(db, pat_id)
    assert (copy.status, copy.last_error) == ("cancelled", "the patient no longer shares reminders with this caregiver")


def test_a_copy_for_a_cancelled_procedure_is_never_sent(db, luis, pat_id):  # type: ignore[no-untyped-def]
    for row in db.query(ProcedureRow).filter(ProcedureRow.patient_id == pat_id):
        row.status = "cancelled"
    db.query(RecoveryPlanRecord).filter(RecoveryPlanRecord.patient_id == pat_id).delete()
    db.flush()
    notify.deliver_pending(db, Memory(), rechecks=[reminder_hold], render=render_links(SECRET))
    copy = _copy(db, pat_id)
    assert (copy.status, copy.last_error) == ("cancelled", "the procedure was cancelled")


def test_the_reminder_job_queues_one_copy_per_reminder(db, luis, pat_id):  # type: ignore[no-untyped-def]
    proms_svc.queue_due_reminders(db, today(), now=now(), link_base="https://clinic.example", secret_key=SECRET)
    copies = db.scalars(select(OutboxMessage).where(OutboxMessage.kind == CAREGIVER_REMINDER_KIND)).all()
    assert len(copies) == 1 and copies[0].recipient_address == LUIS and copies[0].channel == "sms"
