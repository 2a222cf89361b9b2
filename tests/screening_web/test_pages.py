"""Screening pages: the public self-check (stores nothing unless a signed-in patient saves it) and the clinician's
Candidacy tab with the explained result and its printable summary."""

from __future__ import annotations

import re

from sqlalchemy import select

from mildpath.store.models import AuditEvent
from mildpath.store.screenings import Screening
from tests.helpers import count, csrf_from, login, page_csrf

YES_NO = {
    "told_lss": "yes",
    "leg_symptoms_standing_walking": "yes",
    "relief_sitting_bending": "yes",
    "walk_tolerance": "5_to_15_minutes",
    "symptom_duration": "more_than_12_months",
    "treatments_tried": ["physical_therapy", "injections"],
    "treatment_not_enough": "yes",
    "bladder_bowel_change": "no",
}


HIDDEN = re.compile(r'<input type="hidden" name="([a-z_]+)" value="([^"]*)">')


def _self_check(client, answers: dict) -> object:
    token = csrf_from(client.get("/self-check").text)
    return client.post("/self-check", data={**answers, "csrf_token": token})


def test_the_home_page_offers_the_self_check_to_visitors(client):
    page = client.get("/")
    assert 'href="/self-check"' in page.text and "Check if mild may suit you" in page.text


def test_the_self_check_asks_plain_questions_including_red_flags(client):
    page = client.get("/self-check")
    assert page.status_code == 200
    assert "Could mild help my back and legs?" in page.text
    assert "trouble controlling or emptying your bladder" in page.text
    assert 'for="walk_tolerance-under_5_minutes"' in page.text
    assert "style=" not in page.text and "<script>" not in page.text


def test_an_anonymous_visitor_gets_guidance_and_nothing_is_stored(client, db):
    screenings, audits = count(db, Screening), count(db, AuditEvent)
    resp = _self_check(client, YES_NO)
    assert resp.status_code == 200
    assert "Ask a spine specialist about mild" in resp.text
    assert "Nothing you answered has been stored" in resp.text and "Save to my record" not in resp.text
    assert (count(db, Screening), count(db, AuditEvent)) == (screenings, audits)


def test_cauda_equina_signs_say_to_seek_emergency_care_now(client):
    resp = _self_check(client, {**YES_NO, "saddle_numbness": "yes"})
    assert "Seek emergency care now" in resp.text and 'role="alert"' in resp.text


def test_an_invalid_answer_re_shows_the_form_with_what_was_entered(client):
    resp = _self_check(client, {**YES_NO, "walk_tolerance": "forever"})
    assert resp.status_code == 422
    assert 'value="physical_therapy" checked' in resp.text and "How long can you stand or walk" in resp.text


def test_the_self_check_form_needs_its_csrf_token(client):
    client.get("/self-check")
    assert client.post("/self-check", data=YES_NO).status_code == 403


def test_a_signed_in_patient_saves_the_self_check_to_their_record(client, db, patient_pat, pat_id):
    login(client, patient_pat)
    result = _self_check(client, YES_NO)
    assert "Save to my record" in result.text
    form: dict[str, list[str]] = {}
    for name, value in HIDDEN.findall(result.text):
        form.setdefault(name, []).append(value)
    assert form["told_lss"] == ["yes"] and form["treatments_tried"] == ["physical_therapy", "injections"]
    saved = client.post("/self-check/save", data=form)
    assert saved.status_code == 303
    sid = int(saved.headers["location"].rsplit("/", 1)[-1])
    row = db.get(Screening, sid)
    assert row is not None and row.patient_id == pat_id and row.kind == "self_check"
    assert row.answers["treatments_tried"] == ["physical_therapy", "injections"]
    page = client.get(saved.headers["location"])
    assert "Saved to your record" in page.text and "Ask a spine specialist about mild" in page.text
    assert f"/me/self-checks/{sid}" in client.get("/me/self-checks").text


def test_saving_an_empty_self_check_is_refused(client, db, patient_pat):
    login(client, patient_pat)
    before = count(db, Screening)
    resp = client.post("/self-check/save", data={"csrf_token": page_csrf(client, "/self-check")})
    assert resp.status_code == 422 and count(db, Screening) == before


def test_the_chart_has_a_candidacy_tab_for_staff_only(client, dr_alice, patient_pat, pat_id):
    login(client, dr_alice)
    assert f'href="/patients/{pat_id}/candidacy"' in client.get(f"/patients/{pat_id}").text
    client.cookies.clear()
    login(client, patient_pat)
    assert "/candidacy" not in client.get(f"/patients/{pat_id}").text
    assert client.get(f"/patients/{pat_id}/candidacy").status_code == 403


def test_the_patient_list_shows_the_latest_screening_status(client, dr_alice):
    login(client, dr_alice)
    page = client.get("/patients?q=Quinn")
    assert '<th scope="col">Candidacy</th>' in page.text
    assert 'class="badge status-likely_candidate"' in page.text


def test_the_candidacy_tab_lists_past_screenings(client, dr_alice, pat_id):
    login(client, dr_alice)
    page = client.get(f"/patients/{pat_id}/candidacy")
    assert page.status_code == 200
    assert "Clinician assessment" in page.text and "Patient self-check" in page.text
    assert "mild-default@" in page.text


def test_the_new_assessment_is_pre_filled_from_the_questionnaires(client, dr_alice, pat_id):
    login(client, dr_alice)
    page = client.get(f"/patients/{pat_id}/candidacy/new")
    assert page.status_code == 200 and 'id="prefilled-note"' in page.text
    assert re.search(r'id="odi_score" name="odi_score" type="text" inputmode="decimal" value="[0-9.]+"', page.text)


def _assessment(client, pat_id, **values):
    token = page_csrf(client, f"/patients/{pat_id}/candidacy/new")
    data = {
        "lss_confirmed": "yes",
        "neurogenic_claudication": "yes",
        "symptom_months": "14",
        "conservative_care_failed": "yes",
        "odi_score": "44",
        "nprs": "7",
        "spondylolisthesis": "no",
        "infection": "no",
        "csrf_token": token,
    }
    return client.post(f"/patients/{pat_id}/candidacy", data={**data, **values})


def test_a_clinician_saves_an_assessment_and_sees_the_explained_result(client, db, dr_alice, pat_id):
    login(client, dr_alice)
    resp = _assessment(client, pat_id, lf_thickness_mm="4.1", imaging_date="2020-01-01")
    assert resp.status_code == 303
    page = client.get(resp.headers["location"])
    assert page.status_code == 200
    assert 'class="badge status-needs_more_information"' in page.text  # the MRI is too old
    assert 'id="criterion-ligamentum_flavum_thickness"' in page.text
    assert "What is missing" in page.text and "Ligamentum flavum thickness (mm)" in page.text
    assert "Clinician assessment: Oswestry Disability Index" in page.text  # evidence, worded
    assert "MOTION eligibility (NCT03610737)" in page.text  # the source, cited
    assert "approved" not in page.text.lower()


def test_an_invalid_assessment_keeps_what_was_entered(client, db, dr_alice, pat_id):
    login(client, dr_alice)
    before = count(db, Screening, patient_id=pat_id)
    resp = _assessment(client, pat_id, lf_thickness_mm="4.1")  # no imaging date
    assert resp.status_code == 422
    assert "Date of that MRI or CT" in resp.text and 'value="4.1"' in resp.text
    assert count(db, Screening, patient_id=pat_id) == before


def test_the_printable_summary_has_no_navigation(client, db, dr_alice, pat_id):
    login(client, dr_alice)
    sid = db.scalar(
        select(Screening.id).where(Screening.patient_id == pat_id, Screening.kind == "clinician_assessment")
    )
    page = client.get(f"/patients/{pat_id}/candidacy/{sid}/print")
    assert page.status_code == 200
    assert "mild candidacy screening summary" in page.text and "DEMO-0001" in page.text
    assert '<nav aria-label="Main">' not in page.text and "/static/screening.css" in page.text
    assert "Likely candidate" in page.text


def test_it_hides_other_clinics_patients(client, db, dr_bob_other_clinic, pat_id):
    login(client, dr_bob_other_clinic)
    sid = db.scalar(select(Screening.id).where(Screening.patient_id == pat_id))
    for url in (
        f"/patients/{pat_id}/candidacy",
        f"/patients/{pat_id}/candidacy/new",
        f"/patients/{pat_id}/candidacy/{sid}",
        f"/patients/{pat_id}/candidacy/{sid}/print",
    ):
        resp = client.get(url)
        assert resp.status_code == 404 and "Quinn" not in resp.text
