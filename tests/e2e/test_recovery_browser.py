"""Browser: a patient fills the symptom diary on a phone and sees the advice at once; a clinician works a flag on
the worklist (acknowledge, then resolve with a note); the recovery plan shows which day it is."""

from __future__ import annotations

import pytest
from tests.e2e.conftest import sign_in

from mildpath.demo import CLINICIANS, PATIENT_LOGINS

pytestmark = pytest.mark.e2e


def test_a_patient_fills_the_diary_on_a_phone_and_sees_the_advice(phone, live_server):
    email, password, _ = PATIENT_LOGINS[0]
    sign_in(phone, live_server, email, password)
    phone.goto(live_server + "/me/diary")
    target = phone.locator('label[for="pain_back-4"]').bounding_box()
    assert target is not None and target["height"] >= 44 and target["width"] >= 44  # a finger-sized tap target
    phone.tap('label[for="pain_back-4"]')
    phone.tap('label[for="pain_leg-3"]')
    phone.tap('label[for="new_weakness-no"]')
    phone.tap('label[for="saddle_numbness-yes"]')
    phone.tap('label[for="incision-fine"]')
    assert phone.is_checked("#saddle_numbness-yes")
    assert phone.evaluate("document.documentElement.scrollWidth") <= 400, "the diary scrolls sideways on a phone"
    phone.tap("#diary-submit")
    phone.wait_for_selector("#advice")
    advice = phone.locator("#advice")
    assert advice.get_attribute("data-level") == "emergency"
    assert "Call emergency services" in advice.inner_text()
    assert "saddle area" in phone.locator("#reasons").inner_text()


def test_a_clinician_acknowledges_then_resolves_a_flag_on_the_worklist(page, live_server):
    sign_in(page, live_server, CLINICIANS[0][0], CLINICIANS[0][1])
    page.goto(live_server + "/worklist")
    card = page.locator("li.flag.status-open").first
    flag_id = card.get_attribute("data-flag")
    assert card.locator(".badge").inner_text() in ("Emergency", "Same day", "Review")
    card.locator("button", has_text="Acknowledge").click()
    page.wait_for_selector(f"#flag-{flag_id}.status-acknowledged")  # swapped in place by HTMX
    page.fill(f"#note-{flag_id}", "Called the patient back; seen in clinic today.")
    page.locator(f"#flag-{flag_id} button", has_text="Resolve").click()
    page.wait_for_selector(f"#flag-{flag_id}.status-resolved")
    assert "seen in clinic today" in page.locator(f"#flag-{flag_id}").inner_text()
    page.reload()
    assert page.locator(f"#flag-{flag_id}").count() == 0


def test_the_recovery_plan_says_which_day_it_is(page, live_server):
    email, password, _ = PATIENT_LOGINS[0]
    sign_in(page, live_server, email, password)
    page.click("text=My recovery")
    assert "day 5" in page.locator("#today-line").inner_text()  # the demo's Pat is five days after the procedure
    assert page.locator("#milestones li").count() >= 10
    assert page.locator('a[href$="/recovery.ics"]').count() == 1
