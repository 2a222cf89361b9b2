"""Appointments: booked by a coordinator, a procedure derives its tasks and questionnaire dates, and moving or
cancelling it carries everything derived along (issue 18). Runs on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import timedelta

import pytest

from mildpath.domain.errors import Conflict, NotFound, PermissionDenied
from mildpath.services import proms_schedule
from mildpath.services import scheduling as svc
from mildpath.store import proms as proms_store
from mildpath.store.models import AuditEvent, OutboxMessage


def _procedure(db, coordinator, patient_id, start, now):  # type: ignore[no-untyped-def]
    return svc.book(db, coordinator.actor, patient_id,
                    svc.AppointmentIn(kind="procedure", start=start, duration_minutes=60, place="Suite 2"), now=now)


def _schedule(db, dr_alice, patient_id, today):  # type: ignore[no-untyped-def]
    view = proms_schedule.patient_schedule(db, dr_alice.actor, patient_id, today=today)
    return view.procedure_date, {tp.id: (tp.opens, tp.target, tp.closes) for tp in view.timepoints}


def test_a_start_without_offset_is_clinic_time_and_is_stored_in_utc(db, personas, new_patient_id, in_two_weeks,
                                                                      now):
    appt = svc.book(db, personas["coord_cora"].actor, new_patient_id,
                    svc.AppointmentIn(kind="evaluation", start=in_two_weeks), now=now)
    assert appt.timezone == "America/Chicago"
    assert appt.start_local.strftime("%H:%M") == "09:30"
    assert appt.start.utcoffset() == timedelta(0)
    assert appt.start.hour in (14, 15)  # 09:30 in Chicago is 14:30 or 15:30 UTC (daylight saving or not)
    assert appt.tasks == []


def test_a_booked_procedure_creates_one_task_per_checklist_item_due_by_the_procedure_day(
        db, personas, dr_alice, new_patient_id, in_two_weeks, now):
    appt = _procedure(db, personas["coord_cora"], new_patient_id, in_two_weeks, now)
    day = appt.local_date
    assert appt.procedure_id is not None
    assert {t.item for t in appt.tasks} >= {"consent_signed", "escort_arranged", "anticoagulation_plan"}
    assert {t.due_date for t in appt.tasks} == {day}
    procedure_date, windows = _schedule(db, dr_alice, new_patient_id, now.date())
    assert procedure_date == day
    assert windows, "the questionnaire schedule counts from the booked procedure"


def test_moving_the_procedure_by_a_week_moves_every_derived_date(db, personas, dr_alice, new_patient_id,
                                                                  in_two_weeks, now):
    appt = _procedure(db, personas["coord_cora"], new_patient_id, in_two_weeks, now)
    before_date, before = _schedule(db, dr_alice, new_patient_id, now.date())
    message = OutboxMessage(kind=proms_schedule.REMINDER_KIND, subject="s", body="b", patient_id=new_patient_id)
    db.add(message)
    db.flush()
    proms_store.add_reminder(db, patient_id=new_patient_id, timepoint="baseline", procedure_date=before_date,
                             outbox_id=message.id, now=now)
    assert proms_schedule.reminder_hold(db, message, now) is None

    week = timedelta(days=7)
    moved = svc.change(db, personas["coord_cora"].actor, appt.id,
                       svc.AppointmentChange(action="move", start=appt.start_local + week), now=now)

    assert moved.start == appt.start + week and moved.start_local.strftime("%H:%M") == "09:30"
    assert [t.due_date for t in moved.tasks] == [t.due_date + week for t in appt.tasks]
    after_date, after = _schedule(db, dr_alice, new_patient_id, now.date())
    assert after_date == before_date + week
    assert after == {tp: tuple(d + week for d in dates) for tp, dates in before.items()}
    hold = proms_schedule.reminder_hold(db, message, now)
    assert hold is not None and "moved" in hold.cancel, "a reminder counted from the old date is never sent"


def test_cancelling_the_procedure_cancels_its_tasks_record_and_reminders(db, personas, dr_alice, new_patient_id,
                                                                         in_two_weeks, now):
    appt = _procedure(db, personas["coord_cora"], new_patient_id, in_two_weeks, now)
    message = OutboxMessage(kind=proms_schedule.REMINDER_KIND, subject="s", body="b", patient_id=new_patient_id)
    db.add(message)
    db.flush()
    proms_store.add_reminder(db, patient_id=new_patient_id, timepoint="baseline", procedure_date=appt.local_date,
                             outbox_id=message.id, now=now)
    with pytest.raises(Exception, match="reason"):
        svc.change(db, dr_alice.actor, appt.id, svc.AppointmentChange(action="cancel"), now=now)
    gone = svc.change(db, dr_alice.actor, appt.id, svc.AppointmentChange(action="cancel", reason="declined"),
                      now=now)
    assert gone.status == "cancelled"
    assert {t.status for t in gone.tasks} == {"cancelled"}
    assert proms_schedule.procedure_date_for(db, new_patient_id) is None
    hold = proms_schedule.reminder_hold(db, message, now)
    assert hold is not None and "cancelled" in hold.cancel
    with pytest.raises(Conflict):
        svc.change(db, dr_alice.actor, appt.id,
                   svc.AppointmentChange(action="move", start=appt.start_local + timedelta(days=1)), now=now)


def test_a_second_open_procedure_is_refused(db, personas, new_patient_id, in_two_weeks, now):
    _procedure(db, personas["coord_cora"], new_patient_id, in_two_weeks, now)
    with pytest.raises(Conflict):
        _procedure(db, personas["coord_cora"], new_patient_id, in_two_weeks, now)


def test_another_clinic_neither_sees_nor_changes_the_appointments(db, personas, new_patient_id, in_two_weeks, now):
    appt = _procedure(db, personas["coord_cora"], new_patient_id, in_two_weeks, now)
    for who in ("coord_hal_other_clinic", "dr_bob_other_clinic"):
        with pytest.raises(NotFound):
            svc.list_for_patient(db, personas[who].actor, new_patient_id)
        with pytest.raises(NotFound):
            svc.change(db, personas[who].actor, appt.id, svc.AppointmentChange(action="cancel", reason="x"),
                       now=now)


def test_a_patient_reads_their_appointments_but_books_nothing(db, personas, pat_id, in_two_weeks, now):
    svc.book(db, personas["coord_cora"].actor, pat_id,
             svc.AppointmentIn(kind="follow_up", start=in_two_weeks), now=now)
    pat = personas["patient_pat"].actor
    assert [a.kind for a in svc.list_for_patient(db, pat, pat_id)] == ["follow_up"]
    with pytest.raises(PermissionDenied):
        svc.book(db, pat, pat_id, svc.AppointmentIn(kind="evaluation", start=in_two_weeks), now=now)


def test_every_change_is_audited(db, personas, new_patient_id, in_two_weeks, now):
    appt = _procedure(db, personas["coord_cora"], new_patient_id, in_two_weeks, now)
    svc.change(db, personas["coord_cora"].actor, appt.id,
               svc.AppointmentChange(action="move", start=appt.start_local + timedelta(days=7)), now=now)
    svc.change(db, personas["coord_cora"].actor, appt.id, svc.AppointmentChange(action="done"), now=now)
    actions = [e.action for e in db.query(AuditEvent).filter(AuditEvent.patient_id == new_patient_id)]
    for action in ("appointment.book", "procedure.schedule", "appointment.move", "procedure.reschedule",
                   "appointment.done"):
        assert action in actions


def test_a_start_more_than_a_year_away_is_refused(db, personas, new_patient_id, now):
    with pytest.raises(Exception, match="start"):
        svc.book(db, personas["coord_cora"].actor, new_patient_id,
                 svc.AppointmentIn(kind="evaluation", start=(now + timedelta(days=400)).isoformat()), now=now)


def test_moving_or_cancelling_on_the_procedure_page_carries_the_appointment_along(db, personas, dr_alice,
                                                                                   new_patient_id, in_two_weeks,
                                                                                   now):
    from mildpath.services import procedures as procedures_svc

    appt = _procedure(db, personas["coord_cora"], new_patient_id, in_two_weeks, now)
    week = timedelta(days=7)
    procedures_svc.update_schedule(db, dr_alice.actor, new_patient_id, appt.procedure_id,
                                   procedures_svc.ScheduleUpdate(scheduled_date=appt.local_date + week),
                                   today=now.date(), now=now)
    [moved] = svc.list_for_patient(db, dr_alice.actor, new_patient_id)
    assert moved.local_date == appt.local_date + week and moved.start_local.strftime("%H:%M") == "09:30"
    assert {t.due_date for t in moved.tasks} == {appt.local_date + week}
    procedures_svc.cancel_procedure(db, dr_alice.actor, new_patient_id, appt.procedure_id, "declined",
                                    today=now.date(), now=now)
    [gone] = svc.list_for_patient(db, dr_alice.actor, new_patient_id)
    assert gone.status == "cancelled" and {t.status for t in gone.tasks} == {"cancelled"}
