"""Questionnaire services: scores come from answers, every change is audited, access is checked, progress is kept."""

from __future__ import annotations

from decimal import Decimal

import pytest
from pydantic import ValidationError
from sqlalchemy import select

from mildpath.domain.errors import Conflict, InvalidAnswer, InvalidInput, NotFound, PermissionDenied
from mildpath.services import proms as svc
from mildpath.services.clock import now, today
from mildpath.store.models import AuditEvent
from mildpath.store.proms import PromResponse
from tests.helpers import count
from tests.proms.conftest import ODI_32, ODI_3556, ZCQ_FOLLOW_UP, days_ago, patient_actor


def paper(instrument: str, answers: dict, timepoint: str | None = "3m", answered_on=None) -> svc.ResponseIn:  # type: ignore[no-untyped-def]
    return svc.ResponseIn(instrument=instrument, timepoint=timepoint, answers=answers, answered_on=answered_on)


def test_a_paper_odi_is_scored_from_its_answers_and_marked_with_who_entered_it(db, dr_alice, make_patient):
    pid = make_patient(100)
    view = svc.record_response(db, dr_alice.actor, pid, paper("odi", ODI_3556), today=today(), now=now())
    assert view.status == "completed"
    assert view.scores["value"] == 35.56 and view.scores["band"] == "moderate"
    assert view.scores["exact"] == "320/9" and view.scores["missing"] == [8]
    assert (view.entry_mode, view.entered_by, view.answered_on) == ("paper", dr_alice.user_id, today())
    assert view.entered_by_name == "Dr Alice Moreno"


def test_a_score_cannot_be_typed_in(make_patient):
    with pytest.raises(ValidationError):
        svc.ResponseIn.model_validate({"instrument": "odi", "answers": ODI_32, "scores": {"value": 0}})


def test_saving_a_step_recomputes_the_score_from_all_answers(db, make_patient):
    pid = make_patient(100)
    pat = patient_actor(pid)
    view = svc.start_response(db, pat, pid, "odi", "3m", today=today(), now=now())
    for step in range(10):
        view = svc.save_section(db, pat, pid, view.id, step, {f"odi-{step + 1}": 5}, now=now())
    assert view.scores["value"] == 100.0
    view = svc.save_section(db, pat, pid, view.id, 0, {"odi-1": 0}, now=now())
    assert view.scores["value"] == 90.0 and view.scores["band"] == "bed_bound"


@pytest.mark.parametrize(
    ("answers", "item"),
    [({"odi-3": 7}, "odi-3"), ({"odi-3": "two"}, "odi-3"), ({"odi-3": 2.5}, "odi-3"), ({"zcq-1": 1}, "zcq-1")],
    ids=["out-of-range", "not-a-number", "not-whole", "item-of-another-instrument"],
)
def test_an_invalid_answer_names_the_item_and_saves_nothing(db, make_patient, answers, item):
    pid = make_patient(100)
    pat = patient_actor(pid)
    view = svc.start_response(db, pat, pid, "odi", "3m", today=today(), now=now())
    svc.save_section(db, pat, pid, view.id, 0, {"odi-1": 2}, now=now())
    with pytest.raises(InvalidAnswer) as caught:
        svc.save_section(db, pat, pid, view.id, 2, answers, now=now())
    assert caught.value.item_id == item
    assert db.get(PromResponse, view.id).answers == {"odi-1": 2}


def test_progress_is_kept_after_each_step_and_the_form_resumes_where_it_stopped(db, make_patient):
    pid = make_patient(100)
    pat = patient_actor(pid)
    first = svc.start_response(db, pat, pid, "odi", "3m", today=today(), now=now())
    assert (first.resume_step, first.steps_total) == (0, 10)
    for step in range(4):
        svc.save_section(db, pat, pid, first.id, step, {f"odi-{step + 1}": 2}, now=now())
    db.expire_all()
    again = svc.start_response(db, pat, pid, "odi", "3m", today=today(), now=now())
    assert again.id == first.id and again.status == "in_progress"
    assert again.resume_step == 4
    assert again.answers == {"odi-1": 2, "odi-2": 2, "odi-3": 2, "odi-4": 2}


def test_going_back_stores_the_earlier_step_as_the_place_to_resume(db, make_patient):
    pid = make_patient(100)
    pat = patient_actor(pid)
    view = svc.start_response(db, pat, pid, "nprs", "3m", today=today(), now=now())
    assert view.steps_total == 1
    view = svc.start_response(db, pat, pid, "zcq", "3m", today=today(), now=now())
    assert [s.item_ids for s in svc.steps_for("zcq", True)][0] == ("zcq-1", "zcq-2", "zcq-3", "zcq-4")
    view = svc.save_section(db, pat, pid, view.id, 2, {"zcq-8": 2}, now=now(), go_to=1)
    assert view.resume_step == 1


def test_a_patient_must_answer_enough_for_a_score_before_completing(db, make_patient):
    pid = make_patient(100)
    pat = patient_actor(pid)
    view = svc.start_response(db, pat, pid, "odi", "3m", today=today(), now=now())
    for step in range(8):
        svc.save_section(db, pat, pid, view.id, step, {f"odi-{step + 1}": 1}, now=now())
    with pytest.raises(InvalidAnswer) as caught:
        svc.complete_response(db, pat, pid, view.id, today=today(), now=now())
    assert caught.value.item_id == "odi-9"
    svc.save_section(db, pat, pid, view.id, 8, {"odi-9": 1}, now=now())
    done = svc.complete_response(db, pat, pid, view.id, today=today(), now=now())
    assert done.status == "completed" and done.scores["value"] == 20.0 and done.entry_mode == "patient"


def test_staff_may_file_a_paper_form_with_too_many_sections_missing_and_it_has_no_score(db, dr_alice, make_patient):
    pid = make_patient(100)
    answers = {k: v for k, v in ODI_32.items() if k not in ("odi-2", "odi-5")}
    view = svc.record_response(db, dr_alice.actor, pid, paper("odi", answers), today=today(), now=now())
    assert view.scores["value"] is None
    assert "2 sections unanswered" in view.scores["reason"]


def test_a_second_response_for_the_same_timepoint_is_a_conflict(db, dr_alice, make_patient):
    pid = make_patient(100)
    svc.record_response(db, dr_alice.actor, pid, paper("odi", ODI_32), today=today(), now=now())
    with pytest.raises(Conflict):
        svc.record_response(db, dr_alice.actor, pid, paper("odi", ODI_3556), today=today(), now=now())


def test_a_patient_cannot_open_a_timepoint_before_its_window(db, make_patient):
    pid = make_patient(5)
    with pytest.raises(Conflict, match="opens on"):
        svc.start_response(db, patient_actor(pid), pid, "odi", "6w", today=today(), now=now())


def test_a_baseline_answered_after_the_procedure_is_refused(db, dr_alice, make_patient):
    pid = make_patient(10)
    with pytest.raises(InvalidInput) as caught:
        svc.record_response(db, dr_alice.actor, pid, paper("odi", ODI_32, "baseline"), today=today(), now=now())
    assert caught.value.field == "answered_on"


def test_satisfaction_is_refused_before_the_procedure_naming_the_item(db, dr_alice, make_patient):
    pid = make_patient(-7)  # procedure in a week: the baseline window is open
    with pytest.raises(InvalidAnswer) as caught:
        svc.record_response(db, dr_alice.actor, pid, paper("zcq", ZCQ_FOLLOW_UP, "baseline"), today=today(), now=now())
    assert caught.value.item_id == "zcq-13"


def test_without_a_timepoint_the_answer_date_chooses_it(db, dr_alice, make_patient):
    pid = make_patient(100)
    view = svc.record_response(
        db,
        dr_alice.actor,
        pid,
        paper("nprs", {"nprs-back": 3, "nprs-leg": 2}, None, days_ago(8)),
        today=today(),
        now=now(),
    )
    assert view.timepoint == "3m" and view.after_treatment is True
    with pytest.raises(InvalidInput) as caught:
        svc.record_response(
            db,
            dr_alice.actor,
            pid,
            paper("walking", {"walking-minutes": 5}, None, days_ago(42)),
            today=today(),
            now=now(),
        )
    assert caught.value.field == "timepoint"


def test_every_change_leaves_an_audit_row_without_answers_or_scores(db, dr_alice, make_patient):
    pid = make_patient(100)
    view = svc.record_response(db, dr_alice.actor, pid, paper("odi", ODI_3556), today=today(), now=now())
    event = db.scalar(
        select(AuditEvent).where(AuditEvent.action == "proms.record", AuditEvent.record_id == str(view.id))
    )
    assert event is not None and event.patient_id == pid and event.actor_user_id == dr_alice.user_id
    assert event.detail == {"instrument": "odi", "timepoint": "3m", "mode": "paper"}
    pat = patient_actor(pid)
    started = svc.start_response(db, pat, pid, "nprs", "3m", today=today(), now=now())
    svc.save_section(db, pat, pid, started.id, 0, {"nprs-back": 4, "nprs-leg": 6}, now=now())
    svc.complete_response(db, pat, pid, started.id, today=today(), now=now())
    actions = db.scalars(select(AuditEvent.action).where(AuditEvent.record_id == str(started.id))).all()
    assert {"proms.start", "proms.save", "proms.complete"} <= set(actions)
    for detail in db.scalars(select(AuditEvent.detail).where(AuditEvent.patient_id == pid)).all():
        assert not {"answers", "scores", "value"} & set(detail)


def test_it_hides_other_clinics_patients(db, dr_bob_other_clinic, pat_id):
    bob = dr_bob_other_clinic.actor
    with pytest.raises(NotFound):
        svc.list_responses(db, bob, pat_id)
    with pytest.raises(NotFound):
        svc.record_response(db, bob, pat_id, paper("odi", ODI_32), today=today(), now=now())
    assert all(row.patient_id != pat_id for row in svc.clinic_follow_up(db, bob, today=today()))


def test_a_patient_cannot_submit_for_another_patient(db, patient_pat, patient_rosa):
    rosa = patient_rosa.patient_id
    before = count(db, PromResponse, patient_id=rosa)
    with pytest.raises(NotFound):
        svc.record_response(db, patient_pat.actor, rosa, paper("odi", ODI_32), today=today(), now=now())
    with pytest.raises(NotFound):
        svc.start_response(db, patient_pat.actor, rosa, "odi", "3m", today=today(), now=now())
    assert count(db, PromResponse, patient_id=rosa) == before


def test_another_patients_response_id_is_not_found_under_ones_own_record(db, patient_pat, patient_rosa, pat_id):
    rosa_response = db.scalar(select(PromResponse.id).where(PromResponse.patient_id == patient_rosa.patient_id))
    with pytest.raises(NotFound):
        svc.get_response(db, patient_pat.actor, pat_id, rosa_response)


@pytest.mark.parametrize(
    ("days", "expected"),
    [
        (-30, {"baseline": "due", "6w": "upcoming", "24m": "upcoming"}),
        (5, {"baseline": "missed", "6w": "upcoming"}),
        (35, {"6w": "due", "3m": "upcoming"}),
        (50, {"6w": "overdue"}),
        (100, {"6w": "missed", "3m": "overdue", "6m": "upcoming"}),
    ],
    ids=["a-month-before", "day-5", "day-35", "day-50", "day-100"],
)
def test_the_schedule_status_follows_the_windows(db, dr_alice, make_patient, days, expected):
    pid = make_patient(days)
    schedule = svc.patient_schedule(db, dr_alice.actor, pid, today=today())
    statuses = {tp.id: tp.status for tp in schedule.timepoints}
    assert {k: statuses[k] for k in expected} == expected


def test_a_timepoint_is_completed_once_every_questionnaire_is(db, dr_alice, make_patient):
    pid = make_patient(100)
    for instrument, answers in [
        ("odi", ODI_32),
        ("zcq", ZCQ_FOLLOW_UP),
        ("nprs", {"nprs-back": 2, "nprs-leg": 3}),
    ]:
        svc.record_response(db, dr_alice.actor, pid, paper(instrument, answers), today=today(), now=now())
    tp = next(t for t in svc.patient_schedule(db, dr_alice.actor, pid, today=today()).timepoints if t.id == "3m")
    assert (tp.status, tp.done) == ("overdue", 3)
    svc.record_response(db, dr_alice.actor, pid, paper("walking", {"walking-minutes": 40}), today=today(), now=now())
    tp = next(t for t in svc.patient_schedule(db, dr_alice.actor, pid, today=today()).timepoints if t.id == "3m")
    assert tp.status == "completed"


def test_without_a_procedure_date_there_is_no_schedule_yet(db, dr_alice, make_patient):
    pid = make_patient(None)
    assert svc.patient_schedule(db, dr_alice.actor, pid, today=today()).timepoints == ()
    with pytest.raises(Conflict):
        svc.start_response(db, patient_actor(pid), pid, "odi", "baseline", today=today(), now=now())


def test_the_follow_up_list_puts_overdue_patients_first(db, dr_alice, make_patient):
    overdue, due = make_patient(100, given="Overdue"), make_patient(-10, given="Due")
    rows = svc.clinic_follow_up(db, dr_alice.actor, today=today())
    mine = [(r.patient_id, r.timepoint, r.status) for r in rows if r.patient_id in (overdue, due)]
    assert mine == [(overdue, "3m", "overdue"), (due, "baseline", "due")]
    statuses = [r.status for r in rows]
    assert statuses == sorted(statuses, key=lambda s: 0 if s == "overdue" else 1)


def test_the_patients_trend_is_recomputed_from_the_answers(db, dr_alice, make_patient):
    pid = make_patient(100)
    svc.record_response(
        db, dr_alice.actor, pid, paper("odi", ODI_32, "baseline", days_ago(110)), today=today(), now=now()
    )
    view = svc.record_response(db, dr_alice.actor, pid, paper("odi", ODI_3556), today=today(), now=now())
    db.get(PromResponse, view.id).scores = {"value": 0.0}  # a stored figure that disagrees with the answers
    trend = svc.patient_trend(db, dr_alice.actor, pid, "odi")
    assert [(p.timepoint, p.values["value"]) for p in trend.points] == [("baseline", 32.0), ("3m", 35.56)]


def test_fhir_export_and_import_round_trip_to_the_same_scores(db, dr_alice, make_patient):
    from fhir.resources.R4B.observation import Observation
    from fhir.resources.R4B.questionnaireresponse import QuestionnaireResponse

    source, target = make_patient(100), make_patient(100)
    view = svc.record_response(db, dr_alice.actor, source, paper("zcq", ZCQ_FOLLOW_UP), today=today(), now=now())
    resource = svc.export_fhir_response(db, dr_alice.actor, source, view.id)
    QuestionnaireResponse.model_validate(resource)
    for obs in svc.export_observations(db, dr_alice.actor, source, view.id):
        Observation.model_validate(obs)
    resource["subject"] = {"reference": f"Patient/{target}"}
    imported = svc.import_fhir_response(db, dr_alice.actor, target, resource, today=today(), now=now())
    assert imported.entry_mode == "import" and imported.timepoint == "3m"
    assert imported.scores["subscales"] == view.scores["subscales"]


def test_an_imported_response_for_another_subject_is_refused(db, dr_alice, make_patient):
    source, other = make_patient(100), make_patient(100)
    view = svc.record_response(db, dr_alice.actor, source, paper("odi", ODI_32), today=today(), now=now())
    resource = svc.export_fhir_response(db, dr_alice.actor, source, view.id)
    with pytest.raises(InvalidInput) as caught:
        svc.import_fhir_response(db, dr_alice.actor, other, resource, today=today(), now=now())
    assert caught.value.field == "subject"


def test_the_registry_gets_every_completed_scored_response_of_the_clinic(
    db, dr_alice, dr_bob_other_clinic, make_patient
):
    pid = make_patient(100)
    svc.record_response(db, dr_alice.actor, pid, paper("odi", ODI_3556), today=today(), now=now())
    rows = svc.registry_responses(db, dr_alice.actor, svc.RegistryQuery(instruments=("odi",)))
    mine = [r for r in rows if r.patient_id == pid]
    assert len(mine) == 1 and mine[0].scores["value"] == 35.56 and mine[0].timepoint == "3m"
    assert {r.instrument for r in rows} == {"odi"}
    assert all(r.clinic_id == dr_alice.clinic_id for r in rows)
    assert not svc.registry_responses(db, dr_bob_other_clinic.actor)
    with pytest.raises(PermissionDenied):
        svc.registry_responses(db, patient_actor(pid))


def test_walking_minutes_are_kept_as_given_and_scored_capped_at_30(db, dr_alice, make_patient):
    pid = make_patient(100)
    view = svc.record_response(
        db, dr_alice.actor, pid, paper("walking", {"walking-minutes": "42.5"}), today=today(), now=now()
    )
    assert view.answers == {"walking-minutes": 42.5}
    assert Decimal(str(view.scores["value"])) == Decimal("30")
