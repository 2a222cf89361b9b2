"""Reminders: one per patient and open timepoint, no clinical details, delivered by `mildpath reminders send`."""

from __future__ import annotations

import json
import re
from datetime import timedelta

import pytest
from sqlalchemy import select
from typer.testing import CliRunner

from mildpath.services import proms as svc
from mildpath.services.access import Actor
from mildpath.services.auth import add_user
from mildpath.services.clock import now, today
from mildpath.services.notify import DeliveryCounts, deliver_pending
from mildpath.store.models import AuditEvent, OutboxMessage
from mildpath.store.proms import PromReminder
from tests.conftest import SECRET

# Words that would tell a reader of the message something about the patient's health or care.
CLINICAL = re.compile(
    r"\b(odi|oswestry|zcq|zurich|nprs|pain|back|leg|legs|walk\w*|spine|spinal|stenosis|mild|procedure|surgery|"
    r"operation|symptom\w*|score\w*|disability|claudication|overdue|months?|weeks?|baseline)\b",
    re.IGNORECASE,
)


class MemorySender:
    """The Sender protocol, in memory: what would have gone out."""

    def __init__(self) -> None:
        self.sent: list[OutboxMessage] = []

    def send(self, message: OutboxMessage) -> None:
        self.sent.append(message)


def reminders_for(db, patient_id):  # type: ignore[no-untyped-def]
    return db.scalars(select(PromReminder).where(PromReminder.patient_id == patient_id)).all()


def test_a_patient_with_an_open_timepoint_gets_one_reminder(db, patient_rosa):
    queued = svc.queue_due_reminders(db, today(), now=now())
    assert queued >= 1
    (reminder,) = reminders_for(db, patient_rosa.patient_id)
    assert reminder.timepoint == "3m"
    message = db.get(OutboxMessage, reminder.outbox_id)
    assert message.recipient_user_id == patient_rosa.user_id and message.recipient_address == patient_rosa.email
    assert message.kind == svc.REMINDER_KIND and message.status == "pending"
    event = db.scalar(
        select(AuditEvent).where(AuditEvent.action == "proms.remind", AuditEvent.record_id == str(reminder.id))
    )
    assert event is not None and event.actor_role == "system" and event.detail == {"timepoint": "3m"}


def test_reminding_again_queues_nothing_new(db, patient_rosa):
    svc.queue_due_reminders(db, today(), now=now())
    outbox = db.scalar(select(OutboxMessage.id).order_by(OutboxMessage.id.desc()))
    assert svc.queue_due_reminders(db, today(), now=now()) == 0
    assert svc.queue_due_reminders(db, today() + timedelta(days=3), now=now()) == 0
    assert db.scalar(select(OutboxMessage.id).order_by(OutboxMessage.id.desc())) == outbox
    assert len(reminders_for(db, patient_rosa.patient_id)) == 1


def test_a_reminder_carries_no_clinical_details(db):
    svc.queue_due_reminders(db, today(), now=now())
    messages = db.scalars(select(OutboxMessage).where(OutboxMessage.kind == svc.REMINDER_KIND)).all()
    assert messages
    for message in messages:
        text = f"{message.subject}\n{message.body}"
        assert not CLINICAL.search(text), CLINICAL.search(text)
        assert "mildpath" in text


def test_patients_without_a_portal_account_are_not_reminded_but_stay_on_the_follow_up_list(db, dr_alice, make_patient):
    pid = make_patient(100)
    svc.queue_due_reminders(db, today(), now=now())
    assert reminders_for(db, pid) == []
    assert any(
        r.patient_id == pid and r.status == "overdue" for r in svc.clinic_follow_up(db, dr_alice.actor, today=today())
    )


def test_a_patient_who_answered_everything_is_not_reminded(db, dr_alice, make_patient):
    pid = make_patient(100)
    add_user(
        db,
        Actor.system("tests"),
        email="done@example.org",
        password="a-long-password-1",
        role="patient",
        display_name="Done",
        patient_id=pid,
    )
    for instrument, answers in [
        ("odi", {f"odi-{n}": 1 for n in range(1, 11)}),
        ("zcq", {f"zcq-{n}": 1 for n in range(1, 19)}),
        ("nprs", {"nprs-back": 1, "nprs-leg": 1}),
        ("walking", {"walking-minutes": 30}),
    ]:
        data = svc.ResponseIn(instrument=instrument, timepoint="3m", answers=answers)
        svc.record_response(db, dr_alice.actor, pid, data, today=today(), now=now())
    svc.queue_due_reminders(db, today(), now=now())
    assert reminders_for(db, pid) == []


def test_queued_reminders_are_delivered_once(db):
    svc.queue_due_reminders(db, today(), now=now())
    sender = MemorySender()
    counts = deliver_pending(db, sender)
    assert counts.failed == 0 and counts.sent >= 1
    assert any(m.kind == svc.REMINDER_KIND for m in sender.sent)
    assert deliver_pending(db, MemorySender()) == DeliveryCounts()


@pytest.fixture
def fresh_database(tmp_path, monkeypatch):  # type: ignore[no-untyped-def]
    """A database of its own (the CLI commits), with one patient whose 3-month questionnaires are open."""
    from mildpath.services.patients import PatientIn, create_patient
    from mildpath.settings import Settings
    from mildpath.store.db import make_engine, make_session_factory, transaction
    from mildpath.store.migrate import upgrade
    from mildpath.store.models import Clinic
    from mildpath.store.procedures import add_procedure

    url = f"sqlite:///{tmp_path / 'cli.db'}"
    for key, value in {
        "MILDPATH_DATABASE_URL": url,
        "MILDPATH_SECRET_KEY": SECRET,
        "MILDPATH_DATA_DIR": str(tmp_path),
        "MILDPATH_QUIET_HOURS": "",  # whatever the hour the test runs at (tests/messaging covers quiet hours)
    }.items():
        monkeypatch.setenv(key, value)
    monkeypatch.delenv("MILDPATH_SMTP_HOST", raising=False)
    settings = Settings()
    engine = make_engine(settings)
    upgrade(settings, engine)
    system = Actor.system("tests")
    with transaction(make_session_factory(engine)) as s:
        clinic = Clinic(name="CLI clinic")
        s.add(clinic)
        s.flush()
        patient = create_patient(
            s,
            system,
            PatientIn(mrn="C-1", given_name="Cora", family_name="Line", birth_date="1948-02-03", sex="female"),
            today=today(),
            clinic_id=clinic.id,
        )
        add_user(
            s,
            system,
            email="cora@example.org",
            password="a-long-password-1",
            role="patient",
            display_name="Cora",
            patient_id=patient.id,
        )
        add_procedure(
            s,
            patient_id=patient.id,
            scheduled_date=today() - timedelta(days=100),
            operator_user_id=None,
            created_by=None,
            now=now(),
        )
    yield engine
    engine.dispose()


def test_the_reminders_command_queues_and_delivers_once_per_window(fresh_database):
    from mildpath.cli import app

    first = CliRunner().invoke(app, ["reminders", "send", "--json"])
    assert first.exit_code == 0, first.output
    quiet = {"retrying": 0, "cancelled": 0, "waiting": 0}
    assert json.loads(first.stdout) == {"queued": 1, "sent": 1, "failed": 0, **quiet}
    again = CliRunner().invoke(app, ["reminders", "send", "--json"])
    assert json.loads(again.stdout) == {"queued": 0, "sent": 0, "failed": 0, **quiet}
