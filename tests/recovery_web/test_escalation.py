"""Issue 15: a flag not acknowledged in the clinic's time is escalated once (overdue on the worklist, the on-call
contact told through the outbox, audited); the clock is injected. The diary pages show the emergency number."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from mildpath.services import recovery as svc
from mildpath.store.models import AuditEvent, Clinic, Patient
from mildpath.store.recovery import TriageFlag
from tests.helpers import login
from tests.recovery_web.conftest import CLINICAL_WORDS, new_messages


def _flag(client, db, persona, patient_id, body):  # type: ignore[no-untyped-def]
    resp = client.post(f"/api/v1/patients/{patient_id}/diary", json=body, headers=persona.auth)
    assert resp.status_code == 201, resp.text
    return db.get(TriageFlag, resp.json()["flag_id"])


def _only_this_test_flags(db) -> None:  # type: ignore[no-untyped-def]
    """The demo's own open flags (dated at fixed times of today) would escalate too at the test's made-up clock
    times, whatever hour the test runs at: acknowledge them first."""
    for other in db.scalars(select(TriageFlag).where(TriageFlag.status == "open")):
        other.status = "acknowledged"
    db.flush()


def _clinic(db, patient_id):  # type: ignore[no-untyped-def]
    return db.get(Clinic, db.get(Patient, patient_id).clinic_id)


def test_an_emergency_escalates_after_30_minutes_once(client, db, patient_pat, dr_alice, pat_id, outbox_ids):
    _only_this_test_flags(db)
    clinic = _clinic(db, pat_id)
    clinic.oncall_email = "oncall@example.org"
    db.flush()
    flag = _flag(client, db, patient_pat, pat_id, {"notes": "I can't pee since this morning"})
    raised = flag.created_at
    svc.escalate_overdue(db, now=raised + timedelta(minutes=29))
    assert flag.escalated_at is None
    svc.escalate_overdue(db, now=raised + timedelta(minutes=31))
    assert flag.escalated_at == raised + timedelta(minutes=31)
    oncall = [m for m in new_messages(db, outbox_ids) if m.kind == svc.ESCALATE_KIND]
    assert [m.recipient_address for m in oncall] == ["oncall@example.org"]
    assert not any(word in (oncall[0].subject + oncall[0].body).lower() for word in CLINICAL_WORDS)
    audit = db.scalars(select(AuditEvent).where(AuditEvent.action == "recovery.flag_escalate")).all()
    assert any(a.record_id == str(flag.id) or a.record_id == flag.id for a in audit)
    svc.escalate_overdue(db, now=raised + timedelta(hours=2))  # once only
    assert len([m for m in new_messages(db, outbox_ids) if m.kind == svc.ESCALATE_KIND]) == 1
    items = client.get("/api/v1/worklist", headers=dr_alice.auth).json()["items"]
    login(client, dr_alice)
    assert "Overdue: on-call told" in client.get("/worklist").text
    assert any(i["id"] == flag.id for i in items)


def test_same_day_waits_the_clinic_time_and_an_acknowledged_flag_never_escalates(client, db, patient_pat, pat_id):
    clinic = _clinic(db, pat_id)
    clinic.escalate_same_day_minutes = 60
    db.flush()
    flag = _flag(client, db, patient_pat, pat_id, {"notes": "tengo fiebre"})
    svc.escalate_overdue(db, now=flag.created_at + timedelta(minutes=59))
    assert flag.escalated_at is None
    svc.escalate_overdue(db, now=flag.created_at + timedelta(minutes=61))
    assert flag.escalated_at is not None
    seen = _flag(client, db, patient_pat, pat_id, {"notes": "chest pain"})
    seen.status = "acknowledged"
    db.flush()
    svc.escalate_overdue(db, now=seen.created_at + timedelta(days=1))
    assert seen.escalated_at is None


def test_the_diary_pages_say_it_is_not_watched_and_give_the_emergency_number(client, db, patient_pat, pat_id):
    login(client, patient_pat)
    assert "call 911 now" in client.get(f"/patients/{pat_id}/diary").text
    _clinic(db, pat_id).emergency_number = "112"
    db.flush()
    page = client.get(f"/patients/{pat_id}/diary").text
    assert "around the clock" in page and "call 112 now" in page
