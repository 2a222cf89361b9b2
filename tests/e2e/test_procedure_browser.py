"""Browser: at the bedside (a tablet-sized window), a clinician walks the demo patient whose procedure is today
from the checklist to a same-day discharge: complete the checklist, start, record, observe, discharge."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from tests.e2e.conftest import sign_in

from mildpath.demo import CLINICIANS, FAMILY, GIVEN, STAGES

pytestmark = pytest.mark.e2e

TODAY_INDEX = next(i for i, (stage, _) in enumerate(STAGES) if stage == "procedure_today")


@pytest.fixture
def tablet(browser):  # type: ignore[no-untyped-def]
    context = browser.new_context(viewport={"width": 1024, "height": 768}, has_touch=True)
    pg = context.new_page()
    yield pg
    context.close()


def _times() -> tuple[str, str]:
    """A start 40 minutes ago (not before midnight) and an end now, as HH:MM in the local time zone."""
    now = datetime.now().astimezone()
    start = max(now - timedelta(minutes=40), now.replace(hour=0, minute=0))
    return start.strftime("%H:%M"), now.strftime("%H:%M")


def test_a_clinician_walks_todays_patient_from_checklist_to_discharge(tablet, live_server):
    page = tablet
    sign_in(page, live_server, CLINICIANS[0][0], CLINICIANS[0][1])
    page.goto(live_server + "/procedures/today")
    page.click(f"table.proc-today a:has-text('{GIVEN[TODAY_INDEX]} {FAMILY[TODAY_INDEX]}')")
    assert "1 required item(s) open" in page.content()

    page.click("text=Open the checklist")
    assert "UNVERIFIED" in page.content()
    page.check("#escort_arranged")
    page.fill("#escort_name", "Maria")
    page.click("#save-checklist")
    assert "Checklist saved" in page.content()
    assert page.locator(".badge.status-item-open").count() == 0

    page.click(".steps a:has-text('Start')")
    page.click("#start-button")
    assert page.url.endswith("/record")

    start, end = _times()
    page.check("#level_L4-L5")
    page.select_option("#side_L4-L5", "bilateral")
    page.fill("#start_time", start)
    page.fill("#end_time", end)
    page.fill("#incisions", "2")
    page.fill("#fluoroscopy_seconds", "85")
    page.check("#tissue_lamina")
    page.check("#tissue_ligamentum_flavum")
    page.fill("#device_lots", "MILD-E2E-01")
    page.click("#save-record")
    assert "Record saved" in page.content(), page.content()[:3000]

    page.click("text=Observation and discharge")
    page.fill("#aldrete", "10")
    page.fill("#padss", "10")
    page.fill("#temperature_c", "36.8")
    for leg in ("left_strength", "left_sensation", "right_strength", "right_sensation"):
        page.select_option(f"#{leg}", "as_before")
    page.select_option("#pain", "2")
    page.select_option("#walking", "as_before")
    page.click("#add-observation")
    assert page.locator(".obs tbody tr").count() == 1

    page.check("#escort_present")
    page.fill("#escort_name_d", "Maria")
    page.check("#instructions_given")
    page.click("#discharge-home")
    assert "home at" in page.content()
    assert page.evaluate("document.documentElement.scrollWidth") <= 1024, "the page scrolls sideways on a tablet"
