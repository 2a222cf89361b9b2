"""A procedure appointment booked for a referral carries the referral along (issue 18, contracts §9): booking
schedules a decided referral, moving it records a "moved" event, done makes it done, cancelling leaves it scheduled
unless the coordinator asks to close it; another clinic's or patient's referral is refused. SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import timedelta

import pytest

from mildpath.domain.errors import Conflict, InvalidInput, NotFound
from mildpath.services import clock, referrals
from mildpath.services import scheduling as svc
from mildpath.services.access import Actor
from mildpath.services.patients import PatientIn, create_patient
from mildpath.store.models import AuditEvent
from tests.helpers import count


def _decided(db, personas, patient_id, now, decision="candidate"):  # type: ignore[no-untyped-def]
    cora, alice = personas["coord_cora"].actor, personas["dr_alice"].actor
    rid = referrals.create_manual(db, cora, referrals.ManualReferralIn(
        patient_id=patient_id, referrer_name="Dr. Referrer"), now=now).id
    referrals.log_contact(db, cora, rid, referrals.ContactIn(channel="phone", outcome="reached"), now=now)
    referrals.transition(db, cora, rid, referrals.TransitionIn(to="evaluation_booked"), now=now)
    referrals.decide(db, alice, rid, referrals.DecisionIn(decision=decision), now=now)
    return rid


def _book(db, actor, patient_id, start, now, rid, kind="procedure"):  # type: ignore[no-untyped-def]
    return svc.book(db, actor, patient_id, svc.AppointmentIn(kind=kind, start=start, referral_id=rid), now=now)


def _events(db, personas, rid):  # type: ignore[no-untyped-def]
    view = referrals.view_referral(db, personas["coord_cora"].actor, rid)
    return view.state, [(e.from_state, e.to_state, e.reason) for e in view.events]


def test_booking_a_procedure_for_a_decided_referral_schedules_it_and_moving_keeps_it_scheduled(
        db, personas, new_patient_id, in_two_weeks, now):
    cora = personas["coord_cora"].actor
    rid = _decided(db, personas, new_patient_id, now)
    appt = _book(db, cora, new_patient_id, in_two_weeks, now, rid)
    assert _events(db, personas, rid)[0] == "scheduled"
    svc.change(db, cora, appt.id, svc.AppointmentChange(action="move", start=appt.start_local + timedelta(days=7)),
               now=now)
    state, events = _events(db, personas, rid)
    assert state == "scheduled"
    assert events[-2:] == [("decided", "scheduled", "appointment"), ("scheduled", "scheduled", "moved")]
    assert count(db, AuditEvent, action="referral.transition", record_id=str(rid)) == len([e for e in events if e[0]])


def test_marking_the_procedure_done_makes_the_referral_done(db, personas, new_patient_id, in_two_weeks, now):
    cora = personas["coord_cora"].actor
    rid = _decided(db, personas, new_patient_id, now)
    appt = _book(db, cora, new_patient_id, in_two_weeks, now, rid)
    svc.change(db, cora, appt.id, svc.AppointmentChange(action="done"), now=now)
    assert _events(db, personas, rid)[1][-1] == ("scheduled", "done", "appointment")


def test_cancelling_leaves_the_referral_scheduled_unless_the_coordinator_closes_it(
        db, personas, new_patient_id, in_two_weeks, now):
    cora = personas["coord_cora"].actor
    rid = _decided(db, personas, new_patient_id, now)
    first = _book(db, cora, new_patient_id, in_two_weeks, now, rid)
    svc.change(db, cora, first.id, svc.AppointmentChange(action="cancel", reason="patient unwell"), now=now)
    assert _events(db, personas, rid)[0] == "scheduled"
    second = _book(db, cora, new_patient_id, in_two_weeks, now, rid)
    svc.change(db, cora, second.id, svc.AppointmentChange(action="cancel", reason="patient declined",
                                                          close_referral="declined"), now=now)
    state, events = _events(db, personas, rid)
    assert state == "closed" and events[-1] == ("scheduled", "closed", "declined")


def test_a_procedure_for_a_deferred_referral_is_a_conflict(db, personas, new_patient_id, in_two_weeks, now):
    rid = _decided(db, personas, new_patient_id, now, decision="deferred")
    with pytest.raises(Conflict, match="only with the decision candidate"):
        _book(db, personas["coord_cora"].actor, new_patient_id, in_two_weeks, now, rid)


def test_booking_the_evaluation_for_a_contacted_referral_marks_it_booked(db, personas, new_patient_id,
                                                                         in_two_weeks, now):
    cora = personas["coord_cora"].actor
    rid = referrals.create_manual(db, cora, referrals.ManualReferralIn(
        patient_id=new_patient_id, referrer_name="Dr. Referrer"), now=now).id
    referrals.log_contact(db, cora, rid, referrals.ContactIn(channel="phone", outcome="reached"), now=now)
    _book(db, cora, new_patient_id, in_two_weeks, now, rid, kind="evaluation")
    assert _events(db, personas, rid)[0] == "evaluation_booked"


def test_another_patients_referral_is_invalid_and_another_clinics_is_not_found(
        db, personas, dr_alice, new_patient_id, in_two_weeks, now):
    cora = personas["coord_cora"].actor
    rid = _decided(db, personas, new_patient_id, now)
    other = create_patient(db, Actor.system("tests"), PatientIn(
        mrn="SCHED-2", given_name="Ana", family_name="Ruiz", birth_date="1950-01-02", sex="female"),
        today=clock.today(), clinic_id=dr_alice.clinic_id)
    db.flush()
    with pytest.raises(InvalidInput) as err:
        _book(db, cora, other.id, in_two_weeks, now, rid)
    assert err.value.data["field"] == "referral_id"
    hal = personas["coord_hal_other_clinic"].actor
    hillside = create_patient(db, Actor.system("tests"), PatientIn(
        mrn="HILL-1", given_name="Lee", family_name="Park", birth_date="1949-03-04", sex="male"),
        today=clock.today(), clinic_id=hal.clinic_id)
    db.flush()
    with pytest.raises(NotFound):
        _book(db, hal, hillside.id, in_two_weeks, now, rid)


def test_moving_the_procedure_on_its_procedure_page_is_recorded_on_the_referral(
        db, personas, dr_alice, new_patient_id, in_two_weeks, now):
    from mildpath.services import procedures as procedures_svc

    rid = _decided(db, personas, new_patient_id, now)
    appt = _book(db, personas["coord_cora"].actor, new_patient_id, in_two_weeks, now, rid)
    procedures_svc.update_schedule(db, dr_alice.actor, new_patient_id, appt.procedure_id,
                                   procedures_svc.ScheduleUpdate(scheduled_date=appt.local_date + timedelta(days=7)),
                                   today=now.date(), now=now)
    assert _events(db, personas, rid)[1][-1] == ("scheduled", "scheduled", "moved")
