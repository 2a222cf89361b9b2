"""Referrals (issue 18, contracts §9): import, one referral per person, transitions, contacts, the decision with
its overrides, the override report and coverage, on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import date, timedelta

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from sqlalchemy import select

from mildpath.domain.errors import Conflict, InvalidInput, NotFound, PermissionDenied
from mildpath.services import referrals as svc
from mildpath.services.clock import now, today
from mildpath.services.referral_import import import_screen
from mildpath.store.models import AuditEvent, Patient
from tests.helpers import count
from tests.referrals.screens import export_folder, export_zip, fhir_patient, screen_csv, screen_row


def _import(db, actor, rows, **kw):
    return import_screen(db, actor, name="screen.csv", data=screen_csv(rows), now=now(), today=today(), **kw)


@pytest.fixture
def cora(personas):
    return personas["coord_cora"].actor


@pytest.fixture
def alice(personas):
    return personas["dr_alice"].actor


def _imported(db, actor):
    """The referrals from population screens (the demo clinic has referrals of its own, from its screenings)."""
    return svc.list_referrals(db, actor, source="population_screen")


def _pat_mrn(db, pat_id):
    return db.get(Patient, pat_id).mrn


def test_import_creates_referrals_with_names_and_contacts_from_the_export(db, cora, tmp_path):
    rows = [screen_row("f-1", "likely_candidate"), screen_row("f-2", "not_candidate"),
            screen_row("f-3", "urgent_referral")]
    export = export_folder(tmp_path / "bulk", [fhir_patient("f-1", "Wen", "Hansen", mrn="H-1", phone="555-1111"),
                                               fhir_patient("f-3", "Ines", "Rossi")])
    result = _import(db, cora, rows, export=export)
    assert result.model_dump() == {"created": 2, "merged": 0, "skipped": 0}
    listed = _imported(db, cora)
    assert [(r.patient_name, r.urgency) for r in listed] == [("Ines Rossi", "urgent"), ("Wen Hansen", "routine")]
    assert listed[1].phone == "555-1111" and listed[1].screening_status == "likely_candidate"
    assert listed[1].sources[0].kind == "population_screen"


def test_importing_the_same_screen_twice_creates_nothing(db, cora, tmp_path):
    rows = [screen_row("f-1", "likely_candidate"), screen_row("f-2", "needs_more_information")]
    export = export_folder(tmp_path / "bulk", [fhir_patient("f-1", "Wen", "Hansen")])
    _import(db, cora, rows, export=export)
    patients = count(db, Patient)
    again = _import(db, cora, rows, export=export)
    assert again.model_dump() == {"created": 0, "merged": 0, "skipped": 2}
    assert count(db, Patient) == patients


def test_a_later_screen_of_the_same_person_merges_into_the_open_referral(db, cora):
    _import(db, cora, [screen_row("f-1", "needs_more_information")])
    later = _import(db, cora, [screen_row("f-1", "urgent_referral")])
    assert later.model_dump() == {"created": 0, "merged": 1, "skipped": 0}
    (referral,) = _imported(db, cora)
    assert [s.result for s in referral.sources] == ["needs_more_information", "urgent_referral"]
    assert referral.urgency == "urgent"


def test_an_export_patient_with_a_known_mrn_is_the_existing_patient(db, cora, pat_id, tmp_path):
    mrn = _pat_mrn(db, pat_id)
    export = export_folder(tmp_path / "bulk", [fhir_patient("f-9", "Someone", "Else", mrn=mrn)])
    patients = count(db, Patient)
    _import(db, cora, [screen_row("f-9", "likely_candidate")], export=export)
    assert count(db, Patient) == patients
    (referral,) = _imported(db, cora)
    assert referral.patient_id == pat_id


def test_a_screen_imported_without_its_export_is_linked_when_the_export_comes(db, cora):
    _import(db, cora, [screen_row("f-1", "likely_candidate")])
    (alone,) = _imported(db, cora)
    assert alone.patient_id is None and alone.subject_ref == "f-1"
    export = export_zip([fhir_patient("f-1", "Wen", "Hansen")])
    _import(db, cora, [screen_row("f-1", "likely_candidate")], export=export)
    (linked,) = _imported(db, cora)
    assert linked.id == alone.id and linked.patient_name == "Wen Hansen"


def test_a_parquet_screen_imports_like_its_csv(db, cora, tmp_path):
    rows = [screen_row("f-1", "likely_candidate")]
    path = tmp_path / "screen.parquet"
    pq.write_table(pa.Table.from_pylist(rows), path)
    result = import_screen(db, cora, name="screen.parquet", data=path.read_bytes(), now=now(), today=today())
    assert result.created == 1


def test_a_file_that_is_not_a_screen_is_refused_naming_the_file(db, cora):
    with pytest.raises(InvalidInput, match="not a population screen"):
        import_screen(db, cora, name="notes.csv", data=b"a,b\n1,2\n", now=now(), today=today())


def _referral(db, cora, status="likely_candidate", **criteria):
    _import(db, cora, [screen_row("f-1", status, **criteria)])
    return _imported(db, cora)[0].id


def test_a_transition_contracts_do_not_allow_is_a_conflict_naming_both_states(db, cora):
    rid = _referral(db, cora)
    with pytest.raises(Conflict, match="from new to scheduled"):
        svc.transition(db, cora, rid, svc.TransitionIn(to="scheduled"), now=now())


def test_closing_needs_a_reason_and_is_recorded_with_who_and_why(db, cora):
    rid = _referral(db, cora)
    with pytest.raises(InvalidInput):
        svc.transition(db, cora, rid, svc.TransitionIn(to="closed"), now=now())
    closed = svc.transition(db, cora, rid, svc.TransitionIn(to="closed", reason="moved"), now=now())
    assert closed.state == "closed"
    assert (closed.events[-1].from_state, closed.events[-1].to_state, closed.events[-1].reason) == (
        "new", "closed", "moved")
    assert closed.events[-1].actor_user_id == cora.user_id


def test_a_contact_attempt_is_logged_and_marks_the_referral_contacted(db, cora):
    rid = _referral(db, cora)
    after = svc.log_contact(db, cora, rid, svc.ContactIn(channel="phone", outcome="no_answer"), now=now())
    again = svc.log_contact(db, cora, rid, svc.ContactIn(channel="sms", outcome="reached"), now=now())
    assert after.state == again.state == "contacted"
    assert [c.outcome for c in again.contacts] == ["no_answer", "reached"]
    assert count(db, AuditEvent, action="referral.contact", record_id=str(rid)) == 2


def _booked(db, cora, **criteria):
    rid = _referral(db, cora, **criteria)
    svc.log_contact(db, cora, rid, svc.ContactIn(channel="phone", outcome="reached"), now=now())
    svc.transition(db, cora, rid, svc.TransitionIn(to="evaluation_booked"), now=now())
    return rid


def test_a_coordinator_makes_no_clinical_decision(db, cora):
    rid = _booked(db, cora)
    with pytest.raises(PermissionDenied):
        svc.decide(db, cora, rid, svc.DecisionIn(decision="candidate"), now=now())


def test_deciding_candidate_against_a_criterion_needs_its_override_reason(db, cora, alice):
    rid = _booked(db, cora, conservative_care_failed="not_met")
    with pytest.raises(InvalidInput) as err:
        svc.decide(db, alice, rid, svc.DecisionIn(decision="candidate"), now=now())
    assert err.value.data["field"] == "overrides"
    bare = svc.DecisionIn(decision="candidate", overrides=[svc.OverrideIn(criterion="conservative_care_failed")])
    with pytest.raises(InvalidInput) as err:
        svc.decide(db, alice, rid, bare, now=now())
    assert err.value.data["field"] == "overrides[0].reason_code"


def test_a_decision_with_an_override_is_stored_and_counted_by_the_report(db, cora, alice):
    rid = _booked(db, cora, conservative_care_failed="not_met")
    decision = svc.DecisionIn(decision="candidate", reasons=["walking tolerance under 5 minutes"], overrides=[
        svc.OverrideIn(criterion="conservative_care_failed", reason_code="patient_cannot_tolerate",
                       comment="NSAIDs contraindicated; PT not possible")])
    decided = svc.decide(db, alice, rid, decision, now=now())
    assert (decided.state, decided.decision) == ("decided", "candidate")
    assert decided.decisions[0].overrides[0].reason_code == "patient_cannot_tolerate"
    report = svc.overrides_report(db, cora, start=today() - timedelta(days=1), end=today() + timedelta(days=1))
    row = next(r for r in report.criteria if r.criterion == "conservative_care_failed")
    assert (row.overridden, row.total, row.reasons) == (1, 1, {"patient_cannot_tolerate": 1})
    assert svc.transition(db, cora, rid, svc.TransitionIn(to="scheduled"), now=now()).state == "scheduled"


def test_a_deferred_decision_cannot_be_scheduled(db, cora, alice):
    rid = _booked(db, cora)
    svc.decide(db, alice, rid, svc.DecisionIn(decision="deferred"), now=now())
    with pytest.raises(Conflict, match="only with the decision candidate"):
        svc.transition(db, cora, rid, svc.TransitionIn(to="scheduled"), now=now())
    assert svc.transition(db, cora, rid, svc.TransitionIn(to="new"), now=now()).state == "new"


def test_another_clinics_coordinator_sees_no_referral_of_this_clinic(db, cora, personas):
    rid = _referral(db, cora)
    hal = personas["coord_hal_other_clinic"].actor
    assert rid not in {r.id for r in svc.list_referrals(db, hal)}
    with pytest.raises(NotFound):
        svc.view_referral(db, hal, rid)


def test_coverage_is_unknown_with_its_source_until_someone_records_it(db, cora):
    rid = _referral(db, cora)
    coverage = svc.view_referral(db, cora, rid).coverage
    assert coverage.status == "unknown" and "§3.4" in coverage.source


def test_a_patient_self_check_with_consent_opens_a_referral(db, patient_pat, pat_id):
    rid, outcome = svc.add_source(db, patient_pat.actor, kind="self_check", key="self_check:test-1",
                                  dated=date(2026, 12, 1), now=now(), patient_id=pat_id, result="likely_candidate")
    assert outcome == "created"
    assert db.scalar(select(AuditEvent.action).where(AuditEvent.record_type == "Referral",
                                                     AuditEvent.record_id == str(rid))) == "referral.create"


def test_a_clinician_screening_that_calls_for_a_specialist_becomes_a_referral_source(db, alice, pat_id):
    from mildpath.services.screening import screen_patient_from_form
    from tests.screening_web.conftest import likely_assessment

    view = screen_patient_from_form(db, alice, pat_id, "clinician_assessment", likely_assessment(), today=today())
    assert view.status == "likely_candidate"
    (referral,) = [r for r in svc.list_referrals(db, alice) if r.patient_id == pat_id and r.state == "new"]
    assert referral.sources[-1].kind == "clinician_screening"
    assert referral.screening_status == "likely_candidate"


def test_the_decision_is_a_valid_task_and_clinical_impression_in_the_patient_export(db, cora, alice, pat_id,
                                                                                     admin_ada):
    from fhir.resources.R4B.bundle import Bundle

    from mildpath.services.patient_rights import RightsRequest, export_patient

    rid, _ = svc.add_source(db, alice, kind="clinician_screening", key="test:fhir", dated=today(), now=now(),
                            patient_id=pat_id, result="needs_more_information",
                            criteria={"conservative_care_failed": "not_met", "lumbar_spinal_stenosis": "met"})
    svc.log_contact(db, cora, rid, svc.ContactIn(channel="phone", outcome="reached"), now=now())
    svc.transition(db, cora, rid, svc.TransitionIn(to="evaluation_booked"), now=now())
    svc.decide(db, alice, rid, svc.DecisionIn(decision="candidate", overrides=[svc.OverrideIn(
        criterion="conservative_care_failed", reason_code="contraindicated", comment="no NSAIDs")]), now=now())
    bundle = export_patient(db, admin_ada.actor, pat_id, RightsRequest(reason="patient_request"), now=now())
    Bundle.model_validate(bundle)
    resources = [e["resource"] for e in bundle["entry"]]
    ids = {f"{r['resourceType']}/{r['id']}" for r in resources}
    task = next(r for r in resources if r["resourceType"] == "Task" and r["id"] == f"referral-{rid}")
    assert task["businessStatus"]["text"] == "decided" and "Coverage" in task["note"][0]["text"]
    (output,) = task["output"]
    assert output["valueReference"]["reference"] in ids
    impression = next(r for r in resources if f"ClinicalImpression/{r['id']}" == output["valueReference"]["reference"])
    assert impression["finding"][0]["itemCodeableConcept"]["text"] == "conservative_care_failed"
    assert impression["subject"]["reference"] in ids


def test_anonymising_a_patient_drops_the_referrals_identifiers_and_notes(db, cora, admin_ada, pat_id, tmp_path):
    from mildpath.services.patient_rights import ConfirmedRightsRequest, anonymise_patient
    from mildpath.store.referrals import PatientIdentifier

    mrn = _pat_mrn(db, pat_id)
    _import(db, cora, [screen_row("f-9", "likely_candidate")],
            export=export_folder(tmp_path / "bulk", [fhir_patient("f-9", "Pat", "Demo", mrn=mrn)]))
    (referral,) = _imported(db, cora)
    svc.log_contact(db, cora, referral.id, svc.ContactIn(channel="phone", outcome="reached", note="his wife answered"),
                    now=now())
    anonymise_patient(db, admin_ada.actor, pat_id, ConfirmedRightsRequest(reason="research_registry",
                                                                          confirm_mrn=mrn), now=now())
    after = svc.view_referral(db, cora, referral.id)
    assert after.subject_ref == "" and after.contacts[0].note == "" and after.contacts[0].outcome == "reached"
    assert count(db, PatientIdentifier, patient_id=pat_id) == 0
