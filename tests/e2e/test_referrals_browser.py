"""Browser: a clinician walks the referral worklist (urgent first) to one referral, logs a contact attempt and
sees the state change; the worklist and the referral page fit a phone."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect
from tests.e2e.conftest import sign_in

from mildpath.demo import CLINICIANS

pytestmark = pytest.mark.e2e


def test_worklist_to_referral_and_a_contact_attempt(page, live_server):
    sign_in(page, live_server, CLINICIANS[0][0], CLINICIANS[0][1])
    page.click("nav >> text=Referrals")
    rows = page.locator("table.referrals tbody tr")
    assert rows.count() >= 2
    assert "urgent" in rows.first.locator("td[data-label=Urgency]").inner_text()
    rows.first.locator("td[data-label=Person] a").click()
    expect(page.locator("#clinical")).to_have_text("Clinical status")
    expect(page.locator("#coverage")).to_have_text("Coverage")
    page.select_option("#channel", "phone")
    page.select_option("#outcome", "no_answer")
    page.click("form[action$='/contacts'] button[type=submit]")
    expect(page.locator("[data-testid=state]")).to_have_text("contacted")
    assert "no answer" in page.locator("#contacts ~ ol").inner_text()


@pytest.mark.parametrize("path", ["/referrals", "/referrals/1"])
def test_the_referral_pages_fit_a_phone(phone, live_server, path):
    sign_in(phone, live_server, CLINICIANS[0][0], CLINICIANS[0][1])
    phone.goto(live_server + path)
    assert phone.locator("h1").count() == 1
    assert phone.evaluate("document.documentElement.scrollWidth") <= 400, "the page scrolls sideways on a phone"
