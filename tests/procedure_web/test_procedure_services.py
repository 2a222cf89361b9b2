"""Procedure-day services: the start is blocked by open checklist items unless a clinician overrides with a reason
(audited), records are validated before anything is saved, access is checked, every change is audited."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from mildpath.domain.errors import Conflict, InvalidInput, InvalidRecord, NotFound, PermissionDenied, RuleViolation
from mildpath.services import clock
from mildpath.services import procedure_exports as exports
from mildpath.services import procedures as svc
from mildpath.services import recovery as recovery_svc
from mildpath.store import procedures as store
from mildpath.store.models import AuditEvent
from tests.helpers import count
from tests.procedure_web.conftest import READINESS, complete_checklist, ready_observation, record_data


def _started(db, actor, view, checklist=None):  # type: ignore[no-untyped-def]
    svc.update_checklist(
        db, actor, view.patient_id, view.id, checklist or complete_checklist(), today=clock.today(), now=clock.now()
    )
    return svc.start_procedure(db, actor, view.patient_id, view.id, now=clock.now())


def _completed(db, actor, view):  # type: ignore[no-untyped-def]
    _started(db, actor, view)
    return svc.save_record(db, actor, view.patient_id, view.id, record_data(), now=clock.now())[0]


def test_starting_with_open_required_items_is_refused_naming_them(db, dr_alice, scheduled):
    with pytest.raises(RuleViolation) as caught:
        svc.start_procedure(db, dr_alice.actor, scheduled.patient_id, scheduled.id, now=clock.now())
    assert {"consent_signed", "escort_arranged", "anticoagulation_plan"} <= set(caught.value.data["open_items"])
    assert store.get_procedure(db, procedure_id=scheduled.id).status == "scheduled"


def test_an_override_starts_the_procedure_audited_with_the_reason_kept_on_the_record(db, dr_alice, scheduled):
    before = count(db, AuditEvent, action="procedure.start_override")
    reason = "Consent form signed on paper, being scanned"
    view = svc.start_procedure(
        db, dr_alice.actor, scheduled.patient_id, scheduled.id, now=clock.now(), override_reason=reason
    )
    assert view.status == "in_progress"
    assert view.override is not None and view.override.reason == reason and view.override.by == "Dr Alice Moreno"
    assert "consent_signed" in view.overridden_items
    assert count(db, AuditEvent, action="procedure.start_override") == before + 1
    row = db.scalars(
        select(AuditEvent).where(AuditEvent.action == "procedure.start_override").order_by(AuditEvent.id.desc())
    ).first()
    assert row.detail["reason_recorded"] is True and reason not in str(row.detail)
    assert row.actor_user_id == dr_alice.user_id
    assert "consent_signed" in row.detail["overridden_items"] and row.patient_id == scheduled.patient_id


@pytest.mark.parametrize("reason", ["", "   "], ids=["empty", "blank"])
def test_an_override_without_a_reason_is_refused(db, dr_alice, scheduled, reason):
    with pytest.raises(RuleViolation):
        svc.start_procedure(
            db, dr_alice.actor, scheduled.patient_id, scheduled.id, now=clock.now(), override_reason=reason
        )


def test_only_a_clinician_may_override(db, admin_ada, scheduled):
    with pytest.raises(PermissionDenied):
        svc.start_procedure(
            db, admin_ada.actor, scheduled.patient_id, scheduled.id, now=clock.now(), override_reason="urgent"
        )


def test_a_complete_checklist_starts_without_an_override(db, dr_alice, scheduled):
    view = _started(db, dr_alice.actor, scheduled)
    assert view.status == "in_progress" and view.override is None and view.started_at is not None


def test_a_procedure_starts_only_on_its_day(db, dr_alice, fresh_patient_id):
    tomorrow = clock.today() + timedelta(days=1)
    view = svc.schedule_procedure(
        db,
        dr_alice.actor,
        fresh_patient_id,
        svc.ProcedureSchedule(scheduled_date=tomorrow),
        today=clock.today(),
        now=clock.now(),
    )
    svc.update_checklist(
        db,
        dr_alice.actor,
        fresh_patient_id,
        view.id,
        complete_checklist(tomorrow),
        today=clock.today(),
        now=clock.now(),
    )
    with pytest.raises(Conflict):
        svc.start_procedure(db, dr_alice.actor, fresh_patient_id, view.id, now=clock.now())


def test_a_second_open_procedure_is_a_conflict(db, dr_alice, scheduled):
    with pytest.raises(Conflict):
        svc.schedule_procedure(
            db,
            dr_alice.actor,
            scheduled.patient_id,
            svc.ProcedureSchedule(scheduled_date=clock.today()),
            today=clock.today(),
            now=clock.now(),
        )


def test_an_operator_from_another_clinic_is_refused(db, dr_alice, dr_bob_other_clinic, fresh_patient_id):
    data = svc.ProcedureSchedule(scheduled_date=clock.today(), operator_user_id=dr_bob_other_clinic.user_id)
    with pytest.raises(InvalidInput) as caught:
        svc.schedule_procedure(db, dr_alice.actor, fresh_patient_id, data, today=clock.today(), now=clock.now())
    assert caught.value.field == "operator_user_id"


def test_checklist_answers_of_the_wrong_shape_name_the_field_and_save_nothing(db, dr_alice, scheduled):
    bad = complete_checklist() | {"consent": {"signed_on": "not-a-date"}}
    with pytest.raises(InvalidRecord) as caught:
        svc.update_checklist(
            db, dr_alice.actor, scheduled.patient_id, scheduled.id, bad, today=clock.today(), now=clock.now()
        )
    assert caught.value.field == "consent.signed_on"
    assert store.get_procedure(db, procedure_id=scheduled.id).checklist == {}


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"levels": [{"level": "L6-S2", "side": "left"}]}, "levels.0.level"),
        ({"levels": [{"level": "L4-L5", "side": "middle"}]}, "levels.0.side"),
        ({"tissue_removed": ["disc"]}, "tissue_removed.0"),
        ({"notes": "x" * 5000}, "notes"),
    ],
    ids=["unknown-level", "unknown-side", "disc-is-refused", "oversized-text"],
)
def test_record_errors_name_the_field_and_save_nothing(db, dr_alice, scheduled, overrides, field):
    _started(db, dr_alice.actor, scheduled)
    with pytest.raises(InvalidInput) as caught:
        svc.save_record(
            db, dr_alice.actor, scheduled.patient_id, scheduled.id, record_data(**overrides), now=clock.now()
        )
    fields = [e["field"] for e in caught.value.data.get("errors") or []] or [caught.value.field]
    assert field in fields
    row = store.get_procedure(db, procedure_id=scheduled.id)
    assert row.record is None and row.status == "in_progress"


def test_an_end_before_the_start_is_refused(db, dr_alice, scheduled):
    _started(db, dr_alice.actor, scheduled)
    data = record_data()
    data["start"], data["end"] = data["end"], data["start"]
    with pytest.raises(InvalidRecord) as caught:
        svc.save_record(db, dr_alice.actor, scheduled.patient_id, scheduled.id, data, now=clock.now())
    assert caught.value.field in ("end", "start")


def test_plausibility_warnings_come_back_and_the_record_is_saved(db, dr_alice, scheduled):
    _started(db, dr_alice.actor, scheduled)
    levels = [{"level": lv, "side": "bilateral"} for lv in ("L1-L2", "L2-L3", "L3-L4", "L4-L5")]
    view, warnings = svc.save_record(
        db, dr_alice.actor, scheduled.patient_id, scheduled.id, record_data(levels=levels), now=clock.now()
    )
    assert [w.field for w in warnings] == ["levels"]
    assert view.status == "completed" and view.duration_minutes is not None


def test_completing_the_record_sets_the_recovery_plan_date(db, dr_alice, scheduled):
    _completed(db, dr_alice.actor, scheduled)
    assert recovery_svc.procedure_date_for(db, scheduled.patient_id) == clock.today()
    assert svc.procedure_date_for(db, scheduled.patient_id, completed_only=True) == clock.today()


def test_discharge_is_refused_until_the_criteria_are_met(db, dr_alice, scheduled):
    view = _completed(db, dr_alice.actor, scheduled)
    with pytest.raises(RuleViolation) as caught:
        svc.discharge(db, dr_alice.actor, view.patient_id, view.id, READINESS, now=clock.now())
    assert "aldrete" in caught.value.data["unmet"]
    assert store.get_procedure(db, procedure_id=view.id).readiness is None
    svc.add_observation(db, dr_alice.actor, view.patient_id, view.id, ready_observation(), now=clock.now())
    done = svc.discharge(db, dr_alice.actor, view.patient_id, view.id, READINESS, now=clock.now())
    assert done.discharge is not None and done.discharge.kind.value == "home"
    with pytest.raises(Conflict):
        svc.add_observation(db, dr_alice.actor, view.patient_id, view.id, ready_observation(), now=clock.now())


def test_a_fever_blocks_the_discharge(db, dr_alice, scheduled):
    view = _completed(db, dr_alice.actor, scheduled)
    febrile = ready_observation() | {"vitals": {"temperature_c": 38.2}}
    svc.add_observation(db, dr_alice.actor, view.patient_id, view.id, febrile, now=clock.now())
    with pytest.raises(RuleViolation) as caught:
        svc.discharge(db, dr_alice.actor, view.patient_id, view.id, READINESS, now=clock.now())
    assert "fever" in caught.value.data["unmet"]


def test_an_out_of_range_observation_names_the_field(db, dr_alice, scheduled):
    view = _completed(db, dr_alice.actor, scheduled)
    with pytest.raises(InvalidRecord) as caught:
        svc.add_observation(
            db, dr_alice.actor, view.patient_id, view.id, ready_observation() | {"pain": 11}, now=clock.now()
        )
    assert caught.value.field == "pain"


def test_keeping_a_patient_overnight_needs_a_reason(db, dr_alice, scheduled):
    view = _completed(db, dr_alice.actor, scheduled)
    with pytest.raises(InvalidRecord):
        svc.keep_overnight(db, dr_alice.actor, view.patient_id, view.id, "  ", now=clock.now())
    kept = svc.keep_overnight(db, dr_alice.actor, view.patient_id, view.id, "Nausea after sedation", now=clock.now())
    assert kept.discharge is not None and kept.discharge.reason == "Nausea after sedation"
    assert store.get_procedure(db, procedure_id=view.id).overnight_reason == "Nausea after sedation"


def test_adverse_events_and_reinterventions_are_validated_against_the_procedure_date(db, dr_alice, scheduled):
    view = _completed(db, dr_alice.actor, scheduled)
    early = {
        "type": "epidural_hematoma",
        "onset": (clock.today() - timedelta(days=1)).isoformat(),
        "severity": "severe",
        "serious": True,
    }
    with pytest.raises(InvalidRecord) as caught:
        svc.record_adverse_event(
            db, dr_alice.actor, view.patient_id, view.id, early, today=clock.today(), now=clock.now()
        )
    assert caught.value.field == "onset"
    saved = svc.record_adverse_event(
        db,
        dr_alice.actor,
        view.patient_id,
        view.id,
        early | {"onset": clock.today().isoformat()},
        today=clock.today(),
        now=clock.now(),
    )
    assert saved.event.serious and saved.label == "Epidural hematoma"
    with pytest.raises(InvalidRecord):  # a reintervention is after the procedure day, never on it
        svc.record_reintervention(
            db,
            dr_alice.actor,
            view.patient_id,
            view.id,
            {"type": "laminectomy", "performed_on": clock.today().isoformat()},
            today=clock.today(),
            now=clock.now(),
        )


def test_it_hides_other_clinics_patients(db, dr_bob_other_clinic, pat_id):
    pats = store.list_for_patient(db, patient_id=pat_id)
    assert pats, "the demo gives Pat a procedure"
    with pytest.raises(NotFound):
        svc.get_procedure(db, dr_bob_other_clinic.actor, pat_id, pats[0].id, today=clock.today())
    with pytest.raises(NotFound):
        exports.procedure_fhir(db, dr_bob_other_clinic.actor, pats[0].id)
    with pytest.raises(NotFound):
        svc.schedule_procedure(
            db,
            dr_bob_other_clinic.actor,
            pat_id,
            svc.ProcedureSchedule(scheduled_date=clock.today()),
            today=clock.today(),
            now=clock.now(),
        )


def test_a_procedure_id_under_another_patient_is_not_found(db, dr_alice, pat_id, fresh_patient_id):
    pats = store.list_for_patient(db, patient_id=pat_id)
    with pytest.raises(NotFound):
        svc.get_procedure(db, dr_alice.actor, fresh_patient_id, pats[0].id, today=clock.today())


def test_a_patient_reads_their_own_summary_and_nothing_more(db, patient_pat, pat_id, world):
    summaries = svc.list_summaries(db, patient_pat.actor, pat_id)
    assert summaries and summaries[0].status == "completed" and summaries[0].discharge_kind == "home"
    proc_id = summaries[0].id
    assert svc.get_summary(db, patient_pat.actor, pat_id, proc_id).levels
    assert exports.discharge_instructions(db, patient_pat.actor, pat_id, proc_id, fmt="html").startswith(b"<!doctype")
    with pytest.raises(PermissionDenied):
        svc.get_procedure(db, patient_pat.actor, pat_id, proc_id, today=clock.today())
    with pytest.raises(PermissionDenied):
        svc.record_adverse_event(db, patient_pat.actor, pat_id, proc_id, {}, today=clock.today(), now=clock.now())
    other = world.demo_patient_ids[1]
    with pytest.raises(NotFound):
        svc.list_summaries(db, patient_pat.actor, other)


@pytest.mark.parametrize(
    "action",
    [
        "procedure.schedule",
        "procedure.checklist_update",
        "procedure.start",
        "procedure.record_save",
        "procedure.observation_add",
        "procedure.discharge",
    ],
)
def test_every_step_of_the_day_leaves_its_audit_row(db, dr_alice, fresh_patient_id, action):
    before = count(db, AuditEvent, action=action, patient_id=fresh_patient_id)
    view = svc.schedule_procedure(
        db,
        dr_alice.actor,
        fresh_patient_id,
        svc.ProcedureSchedule(scheduled_date=clock.today()),
        today=clock.today(),
        now=clock.now(),
    )
    _completed(db, dr_alice.actor, view)
    svc.add_observation(db, dr_alice.actor, view.patient_id, view.id, ready_observation(), now=clock.now())
    svc.discharge(db, dr_alice.actor, view.patient_id, view.id, READINESS, now=clock.now())
    assert count(db, AuditEvent, action=action, patient_id=fresh_patient_id) == before + 1


def test_the_today_list_shows_the_demo_procedure_of_today(db, dr_alice, dr_bob_other_clinic, today_patient_id):
    rows = svc.todays_list(db, dr_alice.actor, today=clock.today())
    row = next(r for r in rows if r.patient_id == today_patient_id)
    assert row.status == "scheduled" and row.open_required == 1  # the escort home is still to arrange
    assert svc.todays_list(db, dr_bob_other_clinic.actor, today=clock.today()) == []
