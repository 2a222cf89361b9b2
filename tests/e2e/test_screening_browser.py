"""Browser: an anonymous visitor completes the self-check on a phone and sees guidance (nothing stored); a
clinician completes a candidacy assessment in a demo patient's chart and sees the explained result."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from tests.e2e.conftest import sign_in

from mildpath.demo import CLINICIANS

pytestmark = pytest.mark.e2e


def test_an_anonymous_visitor_completes_the_self_check_and_sees_guidance(phone, live_server):
    phone.goto(live_server + "/")
    phone.click("text=Check if mild may suit you")
    for label in (
        "told_lss-yes",
        "leg_symptoms_standing_walking-yes",
        "relief_sitting_bending-yes",
        "walk_tolerance-5_to_15_minutes",
        "symptom_duration-more_than_12_months",
        "treatments_tried-physical_therapy",
        "treatment_not_enough-yes",
        "bladder_bowel_change-no",
        "saddle_numbness-no",
        "both_legs_weak-no",
    ):
        phone.tap(f'label[for="{label}"]')
    assert phone.is_checked("#treatments_tried-physical_therapy")
    assert phone.evaluate("document.documentElement.scrollWidth") <= 400, "the self-check scrolls sideways"
    phone.tap("#self-check-submit")
    phone.wait_for_selector("#guidance")
    assert phone.locator("#guidance-title").inner_text() == "Ask a spine specialist about mild"
    assert "Nothing you answered has been stored" in phone.locator("#nothing-stored").inner_text()
    assert phone.locator("#save-to-record").count() == 0


def test_a_clinician_assesses_a_patient_and_sees_the_explained_result(page, live_server):
    sign_in(page, live_server, CLINICIANS[0][0], CLINICIANS[0][1])
    page.fill("#q", "Ellis")  # the demo patient whose screening still needs information
    page.wait_for_timeout(800)  # the HTMX search fires after a 300 ms pause in typing
    page.click("text=Ellis, Linda")
    page.click("text=Candidacy")
    assert "More information needed" in page.locator("#screenings").inner_text()
    page.click("#new-assessment")
    for label in (
        "lss_confirmed-yes",
        "neurogenic_claudication-yes",
        "conservative_care_failed-yes",
        "spondylolisthesis-no",
        "infection-no",
        "cauda_equina_signs-no",
    ):
        page.click(f'label[for="{label}"]')
    scan = (date.today() - timedelta(days=30)).isoformat()
    page.fill("#symptom_months", "18")
    page.fill("#lf_thickness_mm", "4.6")
    page.fill("#imaging_date", scan)
    page.select_option("#imaging_modality", "MRI")
    page.fill("#odi_score", "46")
    page.fill("#nprs", "7")
    page.click("#save-assessment")
    page.wait_for_selector("#result")
    assert page.locator("#result-status").inner_text() == "Likely candidate: refer for specialist evaluation"
    assert "refer for specialist evaluation" in page.locator("#result-summary").inner_text()
    lf = page.locator("#criterion-ligamentum_flavum_thickness")
    assert "Met" in lf.inner_text() and "4.6" in lf.inner_text() and scan in lf.inner_text()
    assert "MOTION eligibility" in lf.locator(".source").inner_text()
    assert page.locator("#criteria > li").count() >= 15
    page.click("#print-summary")
    assert "mild candidacy screening summary" in page.locator("h1").inner_text()
