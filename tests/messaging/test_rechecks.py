"""Every reminder is re-checked just before it is sent (issue 20): a questionnaire completed meanwhile, a
procedure moved or cancelled, an opted-out patient, or the quiet hours in the clinic's time zone."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from mildpath.domain.messaging import QuietHours, check_sms_template, is_stop_reply, normalize_phone, retry_delay
from mildpath.services import notify
from mildpath.services import proms as proms_svc
from mildpath.services.clock import now, today
from mildpath.services.proms_schedule import reminder_hold
from mildpath.settings import Settings
from mildpath.store.messaging import add_consent
from mildpath.store.models import OutboxMessage, Patient
from mildpath.store.procedures import ProcedureRow, add_procedure
from mildpath.store.proms import PromReminder


class Memory:
    def __init__(self) -> None:
        self.sent: list[int] = []

    def send(self, message: OutboxMessage) -> None:
        self.sent.append(message.id)


@pytest.fixture
def reminded(db, pat_id):  # type: ignore[no-untyped-def]
    """Pat's 3-month questionnaires are open (procedure 100 days ago) and a reminder is queued."""
    for row in db.query(ProcedureRow).filter(ProcedureRow.patient_id == pat_id):
        row.status = "cancelled"
    add_procedure(db, patient_id=pat_id, scheduled_date=today() - timedelta(days=100), operator_user_id=None,
                  created_by=None, now=now())
    notify.deliver_pending(db, notify.LogSender(), limit=100_000, now=now() + timedelta(days=3650))
    proms_svc.queue_due_reminders(db, today(), now=now())
    reminder = db.query(PromReminder).filter(PromReminder.patient_id == pat_id).order_by(PromReminder.id.desc()).first()
    assert reminder is not None
    return db.get(OutboxMessage, reminder.outbox_id)


def test_a_due_reminder_is_sent(db, reminded):  # type: ignore[no-untyped-def]
    memory = Memory()
    notify.deliver_pending(db, memory, rechecks=[reminder_hold])
    assert reminded.id in memory.sent and reminded.status == "sent"


def test_a_reminder_for_a_moved_procedure_is_never_sent(db, reminded, pat_id):  # type: ignore[no-untyped-def]
    add_procedure(db, patient_id=pat_id, scheduled_date=today() - timedelta(days=20), operator_user_id=None,
                  created_by=None, now=now())
    memory = Memory()
    notify.deliver_pending(db, memory, rechecks=[reminder_hold])
    assert reminded.id not in memory.sent
    assert (reminded.status, reminded.last_error) == ("cancelled", "the procedure was moved")


def test_a_reminder_for_a_cancelled_procedure_is_never_sent(db, reminded, pat_id):  # type: ignore[no-untyped-def]
    from mildpath.store.recovery import RecoveryPlanRecord

    for row in db.query(ProcedureRow).filter(ProcedureRow.patient_id == pat_id):
        row.status = "cancelled"
    db.query(RecoveryPlanRecord).filter(RecoveryPlanRecord.patient_id == pat_id).delete()
    db.flush()
    notify.deliver_pending(db, Memory(), rechecks=[reminder_hold])
    assert (reminded.status, reminded.last_error) == ("cancelled", "the procedure was cancelled")


def test_a_reminder_waits_out_the_quiet_hours_in_the_clinics_time_zone(db, reminded):  # type: ignore[no-untyped-def]
    settings = Settings(database_url="sqlite://", secret_key="k" * 48, quiet_hours="21:00-08:00",
                        timezone="America/New_York")
    late = datetime(2026, 3, 2, 3, 30, tzinfo=UTC)  # 22:30 in New York
    counts = notify.deliver_pending(db, Memory(), now=late, rechecks=[quiet_hours_hold := notify.quiet_hours_hold(
        settings)])
    assert counts.waiting >= 1 and reminded.status == "pending"
    assert reminded.next_attempt_at == datetime(2026, 3, 2, 13, 0, tzinfo=UTC)  # 08:00 in New York
    memory = Memory()
    notify.deliver_pending(db, memory, now=datetime(2026, 3, 2, 13, 0, tzinfo=UTC), rechecks=[quiet_hours_hold])
    assert reminded.id in memory.sent


def test_alerts_to_staff_are_never_held_by_quiet_hours(db, pat_id, dr_alice):  # type: ignore[no-untyped-def]
    settings = Settings(database_url="sqlite://", secret_key="k" * 48, quiet_hours="00:00-23:59")
    notify.deliver_pending(db, notify.LogSender(), limit=100_000, now=now() + timedelta(days=3650))
    alert = notify.queue(db, kind="triage_escalation", subject="s", body="b", recipient_address="x@example.org",
                         recipient_user_id=dr_alice.user_id, patient_id=pat_id)
    db.flush()
    memory = Memory()
    notify.deliver_pending(db, memory, rechecks=[notify.quiet_hours_hold(settings)])
    assert alert.id in memory.sent


def test_quiet_hours_and_stop_words_and_phones() -> None:
    window = QuietHours.parse("21:00-08:00")
    assert window is not None
    assert window.contains(datetime(2026, 1, 1, 23, 0).time()) and window.contains(datetime(2026, 1, 1, 7, 59).time())
    assert not window.contains(datetime(2026, 1, 1, 8, 0).time())
    assert QuietHours.parse("") is None
    with pytest.raises(ValueError):
        QuietHours.parse("9pm-8am")
    assert is_stop_reply("Stop") and is_stop_reply("BÁJA") and not is_stop_reply("please don't stop")
    assert normalize_phone("+1 (555) 010-7788") == "+15550107788" and normalize_phone("555.010") == "555010"
    assert [retry_delay(n) for n in (1, 2, 3)] == [timedelta(minutes=1), timedelta(minutes=2), timedelta(minutes=4)]
    assert retry_delay(20) == timedelta(hours=1)


@pytest.mark.parametrize(
    "template",
    ['{"to": {to}, "text": "{text}"}', '{"text": "{text}"}', 'to={to}&text={text}'],
)
def test_a_gateway_template_that_would_not_give_json_is_refused_at_start(template) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(ValueError):
        check_sms_template(template)
    with pytest.raises(ValueError):
        Settings(database_url="sqlite://", secret_key="k" * 48, sms_body_template=template)


def test_a_patients_own_quiet_hours_delay_a_text_when_the_clinic_has_none(db, pat_id, tmp_path):  # type: ignore[no-untyped-def]
    settings = Settings(database_url="sqlite://", secret_key="k" * 48, quiet_hours="", timezone="America/New_York")
    notify.deliver_pending(db, notify.LogSender(), limit=100_000, now=now() + timedelta(days=3650))
    patient = db.get(Patient, pat_id)
    patient.phone, patient.quiet_hours = "+1 555 010 7788", "12:00-18:00"
    add_consent(db, patient_id=pat_id, channel="sms", granted=True, how="form", user_id=None, at=now())
    text = notify.queue(db, kind="prom_reminder", subject="s", body="mildpath: a questionnaire is ready",
                        channel="sms", recipient_address=patient.phone, patient_id=pat_id)
    db.flush()
    sink = notify.SmsFileSink(tmp_path / "sms.ndjson", sender="mildpath")
    afternoon = datetime(2026, 3, 2, 19, 0, tzinfo=UTC)  # 14:00 in New York: inside the patient's window
    counts = notify.deliver_pending(db, {"sms": sink}, now=afternoon, rechecks=[notify.quiet_hours_hold(settings)])
    assert counts.waiting == 1 and text.status == "pending" and not (tmp_path / "sms.ndjson").exists()
    assert text.next_attempt_at == datetime(2026, 3, 2, 23, 0, tzinfo=UTC)  # 18:00 in New York
    notify.deliver_pending(db, {"sms": sink}, now=text.next_attempt_at, rechecks=[notify.quiet_hours_hold(settings)])
    assert text.status == "sent" and "a questionnaire is ready" in (tmp_path / "sms.ndjson").read_text()


def test_a_withdrawn_channel_gets_no_text_even_if_one_was_queued(db, pat_id, tmp_path):  # type: ignore[no-untyped-def]
    notify.deliver_pending(db, notify.LogSender(), limit=100_000, now=now() + timedelta(days=3650))
    add_consent(db, patient_id=pat_id, channel="sms", granted=True, how="form", user_id=None, at=now())
    text = notify.queue(db, kind="prom_reminder", subject="s", body="b", channel="sms",
                        recipient_address="+15550107788", patient_id=pat_id)
    db.flush()
    add_consent(db, patient_id=pat_id, channel="sms", granted=False, how="link", user_id=None, at=now())
    notify.deliver_pending(db, {"sms": notify.SmsFileSink(tmp_path / "sms.ndjson", sender="mildpath")})
    assert (text.status, text.last_error) == ("cancelled", "the patient withdrew consent to sms")
    assert not (tmp_path / "sms.ndjson").exists()
