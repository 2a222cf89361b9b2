"""Browser: a clinician opens the outcomes dashboard, narrows it with a filter (HTMX swaps the results in place)
and reads a chart's tooltip; the dashboard fits a phone."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect
from tests.e2e.conftest import sign_in

from mildpath.demo import CLINICIANS

pytestmark = pytest.mark.e2e


def test_the_dashboard_filters_in_place_and_charts_carry_tooltips(page, live_server):
    sign_in(page, live_server, CLINICIANS[0][0], CLINICIANS[0][1])
    page.click("nav >> text=Outcomes")
    heading = page.locator("#cohort h2")
    everyone = heading.inner_text()
    assert "procedures" in everyone
    assert page.locator("#trajectory-odi circle title").count() >= 3
    assert "median" in page.locator("#trajectory-odi circle title").first.text_content()
    page.select_option("#f-levels-treated", "2")
    expect(heading).not_to_have_text(everyone)
    page.wait_for_url("**levels_treated=2**")  # HTMX keeps the address in step with the filters
    assert page.locator("#benchmarks table tbody tr").count() >= 15


def test_the_dashboard_fits_a_phone(phone, live_server):
    sign_in(phone, live_server, CLINICIANS[0][0], CLINICIANS[0][1])
    phone.goto(f"{live_server}/outcomes")
    assert phone.evaluate("document.documentElement.scrollWidth") <= 400, (
        "the page scrolls sideways on a phone"
    )
