"""The screening services: stored with the criteria-set version and audited, 404 for another clinic, the
anonymous self-check stores nothing, FHIR charts screened for an existing patient, the demo's screenings."""

from __future__ import annotations

import pytest
from fhir.resources.R4B.guidanceresponse import GuidanceResponse
from fhir.resources.R4B.riskassessment import RiskAssessment
from sqlalchemy import select

from mildpath.content.criteria import load_criteria_set
from mildpath.demo import STAGES
from mildpath.domain.errors import FhirInputError, InvalidAnswer, InvalidInput, NotFound, PermissionDenied
from mildpath.services import screening as svc
from mildpath.services.clock import today
from mildpath.store.models import AuditEvent
from mildpath.store.screenings import Screening
from tests.helpers import count
from tests.screening_web.conftest import (
    CHART_AS_OF,
    RED_FLAG_SELF_CHECK,
    SELF_CHECK,
    chart_for,
    last_audit,
    likely_assessment,
    no_imaging_assessment,
)

LABEL = load_criteria_set().label


def test_a_clinician_assessment_is_stored_with_its_criteria_set_version(db, dr_alice, pat_id):
    view = svc.screen_patient_from_form(
        db, dr_alice.actor, pat_id, "clinician_assessment", likely_assessment(), today=today()
    )
    row = db.get(Screening, view.id)
    assert row is not None and row.criteria_set == LABEL == view.criteria_set
    assert row.status == "likely_candidate" == row.result["status"]
    assert row.result["summary"] == "Likely candidate, refer for specialist evaluation."
    assert row.answers["lf_thickness_mm"] == 4.2 and row.answers["assessed_on"] == today().isoformat()
    assert row.created_by == dr_alice.user_id
    lf = next(c for c in row.result["criteria"] if c["id"] == "ligamentum_flavum_thickness")
    assert lf["evidence"][0]["record"] == "form:clinician.lf_thickness_mm" and lf["source"] and lf["clinician"]


def test_storing_a_screening_leaves_an_audit_row_without_health_data(db, dr_alice, pat_id):
    before = count(db, AuditEvent, action="screening.create")
    view = svc.screen_patient_from_form(
        db, dr_alice.actor, pat_id, "clinician_assessment", likely_assessment(), today=today()
    )
    assert count(db, AuditEvent, action="screening.create") == before + 1
    row = last_audit(db, "screening.create")
    assert row is not None and row.record_id == str(view.id) and row.patient_id == pat_id
    assert row.detail == {"kind": "clinician_assessment", "criteria_set": LABEL}
    assert "likely" not in str(row.detail)


def test_it_hides_other_clinics_patients(db, dr_bob_other_clinic, dr_alice, pat_id):
    view = svc.screen_patient_from_form(
        db, dr_alice.actor, pat_id, "clinician_assessment", likely_assessment(), today=today()
    )
    bob = dr_bob_other_clinic.actor
    with pytest.raises(NotFound):
        svc.screen_patient_from_form(db, bob, pat_id, "clinician_assessment", likely_assessment(), today=today())
    with pytest.raises(NotFound):
        svc.list_screenings(db, bob, pat_id)
    with pytest.raises(NotFound):
        svc.get_screening(db, bob, pat_id, view.id)


def test_a_screening_id_of_another_patient_is_not_found(db, dr_alice, pat_id, world):
    view = svc.screen_patient_from_form(
        db, dr_alice.actor, pat_id, "clinician_assessment", likely_assessment(), today=today()
    )
    other = next(i for i in world.demo_patient_ids if i != pat_id)
    with pytest.raises(NotFound):
        svc.get_screening(db, dr_alice.actor, other, view.id)


def test_a_patient_stores_only_their_own_self_check(db, patient_pat, patient_rosa, pat_id):
    view = svc.screen_patient_from_form(db, patient_pat.actor, pat_id, "self_check", SELF_CHECK, today=today())
    assert view.kind == "self_check" and view.created_by == patient_pat.user_id
    with pytest.raises(PermissionDenied):
        svc.screen_patient_from_form(
            db, patient_pat.actor, pat_id, "clinician_assessment", likely_assessment(), today=today()
        )
    with pytest.raises(NotFound):
        svc.screen_patient_from_form(
            db, patient_pat.actor, patient_rosa.patient_id, "self_check", SELF_CHECK, today=today()
        )


def test_the_anonymous_self_check_stores_nothing(db):
    screenings, audits = count(db, Screening), count(db, AuditEvent)
    outcome = svc.evaluate_self_check(SELF_CHECK, today=today())
    assert outcome.guidance.kind.value == "ask_spine_specialist"
    assert outcome.result.status.value == "needs_more_information"  # imaging and scores are the clinic's
    assert (count(db, Screening), count(db, AuditEvent)) == (screenings, audits)


@pytest.mark.parametrize(
    ("answers", "guidance"),
    [
        (RED_FLAG_SELF_CHECK, "seek_care_now"),
        ({**SELF_CHECK, "fever": True}, "see_doctor_soon"),
        ({**SELF_CHECK, "told_lss": False}, "ask_about_stenosis"),
        ({**SELF_CHECK, "symptom_duration": "less_than_3_months"}, "talk_to_doctor"),
        (SELF_CHECK, "ask_spine_specialist"),
    ],
    ids=["cauda-equina-signs", "fever", "no-stenosis", "too-recent", "typical"],
)
def test_the_self_check_guidance_follows_the_answers(answers, guidance):
    assert svc.evaluate_self_check(answers, today=today()).guidance.kind.value == guidance


@pytest.mark.parametrize(
    ("answers", "field"),
    [
        ({**likely_assessment(), "lf_thickness_mm": -1}, "clinician.lf_thickness_mm"),
        ({**likely_assessment(), "imaging_date": None}, "clinician.imaging_date"),
        ({**likely_assessment(), "nprs": 11}, "clinician.nprs"),
        ({**likely_assessment(), "odi_date": "2999-01-01"}, "clinician.odi_date"),
        ({**likely_assessment(), "made_up": True}, "clinician.made_up"),
    ],
    ids=["negative-thickness", "thickness-without-date", "pain-out-of-range", "score-after-assessment", "unknown"],
)
def test_a_bad_answer_is_refused_naming_the_field_and_nothing_is_stored(db, dr_alice, pat_id, answers, field):
    before = count(db, Screening)
    with pytest.raises(InvalidAnswer) as caught:
        svc.screen_patient_from_form(db, dr_alice.actor, pat_id, "clinician_assessment", answers, today=today())
    assert caught.value.field == field
    assert count(db, Screening) == before


def test_a_screening_dated_in_the_future_or_empty_is_refused(db, dr_alice, pat_id):
    from datetime import timedelta

    with pytest.raises(InvalidInput) as caught:
        svc.screen_patient_from_form(
            db,
            dr_alice.actor,
            pat_id,
            "clinician_assessment",
            likely_assessment(),
            today=today(),
            as_of=today() + timedelta(days=1),
        )
    assert caught.value.field == "as_of"
    with pytest.raises(InvalidInput) as caught:
        svc.screen_patient_from_form(db, dr_alice.actor, pat_id, "self_check", {}, today=today())
    assert caught.value.field == "answers"


def test_missing_imaging_asks_for_exactly_that(db, dr_alice, pat_id):
    view = svc.screen_patient_from_form(
        db, dr_alice.actor, pat_id, "clinician_assessment", no_imaging_assessment(), today=today()
    )
    assert view.status == "needs_more_information"
    assert len(view.result["missing"]) == 1 and "Ligamentum flavum thickness" in view.result["missing"][0]


def test_a_fhir_chart_is_screened_for_an_existing_patient_ignoring_unknown_codes(db, dr_alice, pat):
    bundle = chart_for(pat)
    bundle["entry"].append(
        {"resource": {"resourceType": "Condition", "code": {"coding": [{"system": "urn:x", "code": "zz"}]}}}
    )
    bundle["entry"].append({"resource": {"resourceType": "Basic", "id": "b1"}})
    view = svc.screen_from_fhir(db, dr_alice.actor, pat.id, bundle, today=today(), as_of=CHART_AS_OF)
    assert view.kind == "fhir_import" and view.status == "likely_candidate" and view.as_of == CHART_AS_OF
    records = {f["record"] for f in view.answers["facts"]}
    assert "Condition/condition-2" in records
    assert view.answers["skipped"]


@pytest.mark.parametrize(
    ("bundle", "error"),
    [
        (
            {"resourceType": "Bundle", "entry": [{"resource": {"resourceType": "Patient", "birthDate": "1901-01-01"}}]},
            InvalidInput,
        ),
        (
            {
                "resourceType": "Bundle",
                "entry": [{"resource": {"resourceType": "Patient", "id": i}} for i in ("a", "b")],
            },
            FhirInputError,
        ),
        ({"entry": []}, InvalidInput),
    ],
    ids=["another-birth-date", "two-patients", "not-a-resource"],
)
def test_a_chart_that_is_not_this_patients_or_not_fhir_is_refused(db, dr_alice, pat_id, bundle, error):
    before = count(db, Screening)
    with pytest.raises(error):
        svc.screen_from_fhir(db, dr_alice.actor, pat_id, bundle, today=today())
    assert count(db, Screening) == before


def test_only_staff_import_a_fhir_chart(db, patient_pat, pat):
    with pytest.raises(PermissionDenied):
        svc.screen_from_fhir(db, patient_pat.actor, pat.id, chart_for(pat), today=today(), as_of=CHART_AS_OF)


@pytest.mark.parametrize("kind", ["clinician_assessment", "self_check"])
def test_a_stored_screening_is_valid_fhir(db, dr_alice, pat_id, kind):
    answers = likely_assessment() if kind == "clinician_assessment" else SELF_CHECK
    view = svc.screen_patient_from_form(db, dr_alice.actor, pat_id, kind, answers, today=today())
    resource = svc.screening_fhir(db, dr_alice.actor, pat_id, view.id)
    model = GuidanceResponse if kind == "self_check" else RiskAssessment
    model.model_validate(resource)
    assert resource["subject"] == {"reference": f"Patient/{pat_id}"}
    assert "approved" not in str(resource).lower()


def test_an_old_result_is_re_expressed_after_the_criteria_set_changes(db, dr_alice, pat_id):
    view = svc.screen_patient_from_form(
        db, dr_alice.actor, pat_id, "clinician_assessment", no_imaging_assessment(), today=today()
    )
    stored = {**view.result, "criteria_set": "mild-default@0.9.0"}
    result = svc.result_from_json(stored, load_criteria_set())
    assert result.criteria_set == "mild-default@0.9.0" and result.status.value == "needs_more_information"
    lf = result.finding("ligamentum_flavum_thickness")
    assert lf.criterion.clinician == view.result["criteria"][4]["clinician"]
    from mildpath.fhir.write import guidance_response

    GuidanceResponse.model_validate(guidance_response(result, subject=f"Patient/{pat_id}"))


def test_the_latest_status_prefers_the_clinics_screening_over_a_later_self_check(db, dr_alice, patient_pat, pat_id):
    svc.screen_patient_from_form(
        db, dr_alice.actor, pat_id, "clinician_assessment", no_imaging_assessment(), today=today()
    )
    svc.screen_patient_from_form(db, patient_pat.actor, pat_id, "self_check", RED_FLAG_SELF_CHECK, today=today())
    latest = svc.latest_statuses(db, [pat_id])[pat_id]
    assert (latest.kind, latest.status) == ("clinician_assessment", "needs_more_information")


def test_the_assessment_is_pre_filled_from_the_latest_questionnaires(db, dr_alice, pat_id):
    scores = svc.prefill_scores(db, dr_alice.actor, pat_id)
    assert 0 <= scores["odi_score"] <= 100 and 0 <= scores["nprs"] <= 10
    assert scores["odi_date"] <= today()


EXPECTED_BY_STAGE = {
    "recovery": "likely_candidate",
    "follow_up": "likely_candidate",
    "scheduled": "likely_candidate",
    "procedure_today": "likely_candidate",
    "screened": "likely_candidate",
    "needs_information": "needs_more_information",
    "not_candidate": "not_candidate",
    "urgent": "urgent_referral",
    "self_check": "needs_more_information",
}


def test_the_demo_screenings_match_each_patients_stage(db, world):
    latest = svc.latest_statuses(db, world.demo_patient_ids)
    for patient_id, (stage, _) in zip(world.demo_patient_ids, STAGES, strict=True):
        assert latest[patient_id].status == EXPECTED_BY_STAGE[stage], (patient_id, stage)
        assert (latest[patient_id].kind == "self_check") == (stage == "self_check")


def test_loading_the_demo_again_adds_no_screening(db):
    from mildpath.demo import load_demo

    before = db.scalar(select(Screening.id).order_by(Screening.id.desc()).limit(1))
    load_demo(db, today=today())
    assert db.scalar(select(Screening.id).order_by(Screening.id.desc()).limit(1)) == before


SITE_SET = """\
extends: default
name: hillside-mild
version: "2025.1"
thresholds:
  lf_min_mm: {value: 4.5, source: midas3, note: "a stricter site threshold"}
"""


def test_a_sites_own_criteria_set_is_used_and_stored_by_its_version(db, dr_alice, pat_id, tmp_path):
    (tmp_path / "criteria").mkdir()
    (tmp_path / "criteria" / "default.yaml").write_text(SITE_SET, encoding="utf-8")
    view = svc.screen_patient_from_form(
        db,
        dr_alice.actor,
        pat_id,
        "clinician_assessment",
        likely_assessment(),
        today=today(),
        content_dir=str(tmp_path),
    )
    assert view.criteria_set == "hillside-mild@2025.1"
    assert view.status == "not_candidate"  # 4.2 mm is under the site's 4.5 mm
    assert "4.5 mm" in next(c for c in view.result["criteria"] if c["id"] == "ligamentum_flavum_thickness")["clinician"]
