"""The recovery services: access, triage on record, flags, content-free notifications, the worklist and audit."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import select

from mildpath.content.milestones import load_milestones
from mildpath.content.schedule import follow_up_plan
from mildpath.demo import load_demo
from mildpath.domain.errors import Conflict, InvalidInput, NotFound, PermissionDenied
from mildpath.services import recovery as svc
from mildpath.services.access import Actor
from mildpath.services.clock import today
from mildpath.store.models import AuditEvent, Patient, User
from mildpath.store.recovery import DiaryEntryRecord, RecoveryPlanRecord, TriageFlag
from tests.helpers import count
from tests.recovery_web.conftest import CLINICAL_WORDS, EMERGENCY, EXPECTED, REVIEW, SAME_DAY, last_audit, new_messages

NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


def _record(db, persona, patient_id, data, now=NOW):  # type: ignore[no-untyped-def]
    return svc.record_diary_entry(db, persona.actor, patient_id, data, now=now)


# ------------------------------------------------------------------------------------------ diary


@pytest.mark.parametrize(
    ("data", "level"),
    [(EMERGENCY, "emergency"), (SAME_DAY, "same_day"), (REVIEW, "review"), (EXPECTED, "expected")],
    ids=["emergency", "same_day", "review", "expected"],
)
def test_a_patients_entry_is_triaged_at_once_and_flagged_above_expected(db, patient_pat, pat_id, data, level):
    view = _record(db, patient_pat, pat_id, data)
    assert view.level == level
    assert view.advice and view.reasons
    row = db.get(DiaryEntryRecord, view.id)
    assert row is not None and row.level == level and row.entered_by == patient_pat.user_id
    assert row.rules_version
    if level == "expected":
        assert view.flag_id is None
    else:
        flag = db.get(TriageFlag, view.flag_id)
        assert flag is not None and flag.status == "open" and flag.level == level and flag.entry_id == view.id


def test_recording_an_entry_leaves_audit_rows_without_health_data(db, patient_pat, pat_id):
    view = _record(db, patient_pat, pat_id, EMERGENCY)
    created = last_audit(db, "recovery.diary_create")
    raised = last_audit(db, "recovery.flag_raise")
    assert created is not None and created.record_id == str(view.id) and created.patient_id == pat_id
    assert created.actor_user_id == patient_pat.user_id
    assert raised is not None and raised.record_id == str(view.flag_id)
    for event in (created, raised):
        assert "saddle" not in str(event.detail) and "emergency" not in str(event.detail)


@pytest.mark.parametrize("data", [EMERGENCY, SAME_DAY], ids=["emergency", "same_day"])
def test_an_urgent_entry_queues_a_content_free_notice_for_each_clinician(db, patient_pat, pat_id, outbox_ids, data):
    clinic_id = db.get(Patient, pat_id).clinic_id
    clinicians = db.scalars(
        select(User).where(User.role == "clinician", User.clinic_id == clinic_id, User.active.is_(True))
    ).all()
    assert len(clinicians) >= 2
    _record(db, patient_pat, pat_id, data)
    messages = new_messages(db, outbox_ids)
    assert sorted(m.recipient_user_id for m in messages) == sorted(u.id for u in clinicians)
    for message in messages:
        text = f"{message.subject}\n{message.body}".lower()
        assert "needs attention" in text
        assert not [w for w in CLINICAL_WORDS if w in text], text
        assert "quinn" not in text and "demo-0001" not in text


@pytest.mark.parametrize("data", [REVIEW, EXPECTED], ids=["review", "expected"])
def test_review_and_expected_entries_notify_nobody(db, patient_pat, pat_id, outbox_ids, data):
    _record(db, patient_pat, pat_id, data)
    assert new_messages(db, outbox_ids) == []


def test_days_since_procedure_comes_from_the_plan_when_not_given(db, patient_pat, pat_id):
    procedure = db.scalar(select(RecoveryPlanRecord.procedure_date).where(RecoveryPlanRecord.patient_id == pat_id))
    assert procedure is not None
    at = datetime.combine(procedure + timedelta(days=3), datetime.min.time().replace(hour=12)).astimezone()
    assert _record(db, patient_pat, pat_id, {"pain_back": 2}, now=at).days_since_procedure == 3
    assert (
        _record(db, patient_pat, pat_id, {"pain_back": 2, "days_since_procedure": 9}, now=at).days_since_procedure == 9
    )


def test_an_entry_before_the_procedure_has_no_day_number(db, dr_alice, world):
    patient_id = world.demo_patient_ids[7]  # scheduled in 7 days: no plan yet, so no day either
    assert _record(db, dr_alice, patient_id, {"pain_back": 5}).days_since_procedure is None


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"pain_back": 11}, "pain_back"),
        ({"incision": ["oozing"]}, "incision"),
        ({"temperature_c": 101.2}, "temperature_c"),
        ({"saddle_numbnes": True}, "saddle_numbnes"),
        ({"new_weakness": "maybe"}, "new_weakness"),
    ],
    ids=["pain-11", "unknown-incision", "fahrenheit", "misspelt-field", "not-a-boolean"],
)
def test_invalid_data_names_the_field_and_writes_nothing(db, patient_pat, pat_id, data, field):
    before = (count(db, DiaryEntryRecord), count(db, TriageFlag), count(db, AuditEvent))
    with pytest.raises(InvalidInput) as caught:
        _record(db, patient_pat, pat_id, data)
    assert caught.value.field == field
    assert (count(db, DiaryEntryRecord), count(db, TriageFlag), count(db, AuditEvent)) == before


def test_a_patient_cannot_post_for_another_patient(db, patient_pat, world, pat_id):
    other = next(i for i in world.demo_patient_ids if i != pat_id)
    with pytest.raises(NotFound):
        _record(db, patient_pat, other, EXPECTED)
    with pytest.raises(NotFound):
        svc.list_entries(db, patient_pat.actor, other)


def test_it_hides_other_clinics_patients(db, dr_bob_other_clinic, dr_alice, pat_id, other_clinic_patient_id):
    bob = dr_bob_other_clinic.actor
    for call in (
        lambda: svc.record_diary_entry(db, bob, pat_id, EXPECTED, now=NOW),
        lambda: svc.list_entries(db, bob, pat_id),
        lambda: svc.get_plan_view(db, bob, pat_id, today=today()),
        lambda: svc.export_careplan(db, bob, pat_id, today=today()),
        lambda: svc.set_plan(db, bob, pat_id, svc.PlanIn(procedure_date=today()), today=today()),
    ):
        with pytest.raises(NotFound):
            call()
    alices_flag = _record(db, dr_alice, pat_id, SAME_DAY).flag_id
    assert alices_flag is not None
    with pytest.raises(NotFound):
        svc.acknowledge_flag(db, bob, alices_flag, now=NOW)
    assert alices_flag not in {f.id for f in svc.worklist(db, bob)}


# ------------------------------------------------------------------------------------------ worklist


def test_the_worklist_orders_by_urgency_then_time(db, dr_alice, patient_pat, pat_id, world):
    rosa = world.demo_patient_ids[1]
    made = [
        _record(db, patient_pat, pat_id, REVIEW, now=NOW),
        _record(db, dr_alice, rosa, SAME_DAY, now=NOW + timedelta(minutes=1)),
        _record(db, patient_pat, pat_id, EMERGENCY, now=NOW + timedelta(minutes=2)),
        _record(db, dr_alice, rosa, EMERGENCY, now=NOW + timedelta(minutes=3)),
        _record(db, patient_pat, pat_id, EXPECTED, now=NOW + timedelta(minutes=4)),
    ]
    items = svc.worklist(db, dr_alice.actor)
    urgency = {"emergency": 3, "same_day": 2, "review": 1}
    keys = [(-urgency[f.level], f.raised_at, f.id) for f in items]
    assert keys == sorted(keys)
    mine = [f.entry_id for f in items if f.entry_id in {v.id for v in made}]
    assert mine == [made[2].id, made[3].id, made[1].id, made[0].id]  # the expected entry raised no flag
    assert {f.status for f in items} <= {"open", "acknowledged"}


def test_the_worklist_is_for_staff_only(db, patient_pat):
    with pytest.raises(PermissionDenied):
        svc.worklist(db, patient_pat.actor)


def test_acknowledge_then_resolve_with_a_note_each_leave_an_audit_row(db, dr_alice, patient_pat, pat_id):
    flag_id = _record(db, patient_pat, pat_id, SAME_DAY).flag_id
    acked = svc.acknowledge_flag(db, dr_alice.actor, flag_id, now=NOW + timedelta(minutes=5))
    assert acked.status == "acknowledged" and acked.acknowledged_by == "Dr Alice Moreno"
    assert last_audit(db, "recovery.flag_acknowledge").record_id == str(flag_id)
    with pytest.raises(Conflict):
        svc.acknowledge_flag(db, dr_alice.actor, flag_id, now=NOW)
    resolved = svc.resolve_flag(
        db, dr_alice.actor, flag_id, "  Called back; wound check booked today. ", now=NOW + timedelta(minutes=9)
    )
    assert resolved.status == "resolved" and resolved.resolution_note == "Called back; wound check booked today."
    event = last_audit(db, "recovery.flag_resolve")
    assert event.record_id == str(flag_id) and event.actor_user_id == dr_alice.user_id
    assert "wound" not in str(event.detail)
    assert flag_id not in {f.id for f in svc.worklist(db, dr_alice.actor)}
    with pytest.raises(Conflict):
        svc.resolve_flag(db, dr_alice.actor, flag_id, "again", now=NOW)


@pytest.mark.parametrize("note", ["", "   ", "x" * 2001], ids=["empty", "blank", "too-long"])
def test_resolving_needs_a_note(db, dr_alice, patient_pat, pat_id, note):
    flag_id = _record(db, patient_pat, pat_id, SAME_DAY).flag_id
    with pytest.raises(InvalidInput) as caught:
        svc.resolve_flag(db, dr_alice.actor, flag_id, note, now=NOW)
    assert caught.value.field == "note"
    assert db.get(TriageFlag, flag_id).status == "open"


def test_resolving_an_open_flag_acknowledges_it_on_the_way(db, dr_alice, patient_pat, pat_id):
    flag_id = _record(db, patient_pat, pat_id, REVIEW).flag_id
    view = svc.resolve_flag(db, dr_alice.actor, flag_id, "Reviewed by phone.", now=NOW)
    assert view.acknowledged_at == view.resolved_at == NOW


def test_a_patient_cannot_touch_flags(db, patient_pat, pat_id):
    flag_id = _record(db, patient_pat, pat_id, SAME_DAY).flag_id
    with pytest.raises(PermissionDenied):
        svc.acknowledge_flag(db, patient_pat.actor, flag_id, now=NOW)


def test_an_unknown_flag_is_not_found(db, dr_alice):
    with pytest.raises(NotFound):
        svc.resolve_flag(db, dr_alice.actor, 987654, "note", now=NOW)


# ------------------------------------------------------------------------------------------ plan


def test_setting_a_plan_is_staff_only_and_audited(db, dr_alice, patient_pat, world):
    patient_id = world.demo_patient_ids[7]
    data = svc.PlanIn(procedure_date=today() + timedelta(days=7), no_lifting_weeks=8, physical_therapy=True)
    with pytest.raises(PermissionDenied):
        svc.set_plan(db, patient_pat.actor, patient_pat.patient_id, data, today=today())
    view = svc.set_plan(db, dr_alice.actor, patient_id, data, today=today())
    assert view.day == -7 and view.headline == "Your procedure is in 7 days"
    assert view.no_lifting_weeks == 8 and any(m.id == "physical-therapy" for m in view.milestones)
    assert last_audit(db, "recovery.plan_create").record_id == str(view.plan_id)
    svc.set_plan(db, dr_alice.actor, patient_id, data.model_copy(update={"no_lifting_weeks": None}), today=today())
    assert last_audit(db, "recovery.plan_update").patient_id == patient_id
    assert count(db, RecoveryPlanRecord, patient_id=patient_id) == 1


@pytest.mark.parametrize("offset", [-3700, 400], ids=["decade-ago", "next-year"])
def test_a_far_off_procedure_date_is_refused(db, dr_alice, world, offset):
    data = svc.PlanIn(procedure_date=today() + timedelta(days=offset))
    with pytest.raises(InvalidInput) as caught:
        svc.set_plan(db, dr_alice.actor, world.demo_patient_ids[7], data, today=today())
    assert caught.value.field == "procedure_date"


def test_the_plan_view_says_which_day_today_is(db, patient_pat, pat_id):
    view = svc.get_plan_view(db, patient_pat.actor, pat_id, today=today())
    assert view is not None
    assert view.day == (today() - view.procedure_date).days
    assert view.headline == f"Today is day {view.day} after your procedure"
    assert [m.start for m in view.milestones] == sorted(m.start for m in view.milestones)
    assert {m.state for m in view.milestones} <= {"past", "now", "ahead"}
    assert last_audit(db, "recovery.plan_read").patient_id == pat_id


def test_a_patient_without_a_plan_has_no_plan_view(db, dr_alice, world):
    assert svc.get_plan_view(db, dr_alice.actor, world.demo_patient_ids[2], today=today()) is None
    with pytest.raises(NotFound):
        svc.export_plan_ics(db, dr_alice.actor, world.demo_patient_ids[2], now=NOW)


def test_follow_ups_join_the_questionnaire_schedule_without_duplicates():
    day = date(2025, 1, 31)
    follow_ups = svc.plan_follow_ups(day, load_milestones(), follow_up_plan())
    titles = [f.label for f in follow_ups]
    assert titles[:2] == ["Phone check from the clinic", "Wound and clinical check (1 to 2 weeks)"]
    three = next(f for f in follow_ups if f.label.startswith("3-month"))
    assert three.date == date(2025, 4, 30)  # calendar months, clamped to the month's end
    assert "from 31 March 2025 to 30 May 2025" in three.text  # the schedule's window (+/- 30 days)
    assert "follow-up-schedule" in three.sources
    assert len({f.date for f in follow_ups}) == len(follow_ups)
    assert all(f.date > day for f in follow_ups)  # baseline is before the procedure, not in the plan


# ------------------------------------------------------------------------------------------ demo


def test_the_demo_fills_every_level_and_a_second_load_changes_nothing(db, dr_alice):
    clinic_id = dr_alice.clinic_id
    rows = db.scalars(
        select(DiaryEntryRecord.level)
        .join(Patient, Patient.id == DiaryEntryRecord.patient_id)
        .where(Patient.clinic_id == clinic_id)
    ).all()
    levels = {level: rows.count(level) for level in ("emergency", "same_day", "review", "expected")}
    assert levels["emergency"] >= 1 and levels["same_day"] >= 2 and levels["review"] >= 2
    assert levels["expected"] > sum(v for k, v in levels.items() if k != "expected")
    statuses = {f.status for f in svc.worklist(db, Actor.system("tests"))}
    assert statuses == {"open", "acknowledged"}
    before = (count(db, DiaryEntryRecord), count(db, TriageFlag), count(db, RecoveryPlanRecord))
    load_demo(db, today=today())
    assert (count(db, DiaryEntryRecord), count(db, TriageFlag), count(db, RecoveryPlanRecord)) == before
