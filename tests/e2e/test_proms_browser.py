"""Browser: on a phone, a patient fills her ODI section by section, leaves, comes back, finishes and sees her
score and trend."""

from __future__ import annotations

import re

import pytest
from tests.e2e.conftest import sign_in

from mildpath.demo import PATIENT_LOGINS

pytestmark = pytest.mark.e2e


def answer(phone, section: int, value: int) -> None:  # type: ignore[no-untyped-def]
    phone.click(f"label[for=odi-{section}-{value}]")
    phone.click("#next")
    phone.wait_for_load_state("domcontentloaded")


def test_a_patient_fills_an_odi_on_her_phone_leaves_resumes_and_sees_her_trend(phone, live_server):
    email, password, _ = PATIENT_LOGINS[1]  # Rosa: her 3-month questionnaires are overdue in the demo
    sign_in(phone, live_server, email, password)
    phone.goto(live_server + "/me/questionnaires")
    odi = phone.locator("[data-timepoint='3m'] li[data-instrument='odi']")
    odi.locator("button").click()
    phone.wait_for_load_state("domcontentloaded")
    assert phone.locator("#step-count").inner_text() == "Paso 1 de 10"  # Rosa reads Spanish (issue 15 §3)
    assert phone.evaluate("document.documentElement.scrollWidth") <= 400, "the form scrolls sideways on a phone"

    for section, value in [(1, 3), (2, 1), (3, 3), (4, 2)]:
        answer(phone, section, value)
    assert phone.locator("#step-count").inner_text() == "Paso 5 de 10"
    assert phone.locator("#progress").get_attribute("value") == "4"
    phone.click("label[for=odi-5-2]")
    phone.click("#leave")
    phone.wait_for_load_state("domcontentloaded")
    assert "Sus respuestas están guardadas" in phone.locator("#saved").inner_text()

    phone.goto(live_server + "/me/questionnaires")  # later: she comes back
    phone.locator("[data-timepoint='3m'] li[data-instrument='odi'] a.button").click()
    phone.wait_for_load_state("domcontentloaded")
    assert phone.locator("#step-count").inner_text() == "Paso 6 de 10"
    phone.click("#back")
    phone.wait_for_load_state("domcontentloaded")
    assert phone.locator("#odi-5-2").is_checked(), "the answer saved before leaving is still there"
    phone.click("#next")
    phone.wait_for_load_state("domcontentloaded")

    for section, value in [(6, 2), (7, 1), (8, 0), (9, 2), (10, 2)]:
        answer(phone, section, value)
    # 3+1+3+2+2+2+1+0+2+2 = 18 of 50: 36 %
    assert re.search(r"/responses/\d+\?done=1$", phone.url)
    assert phone.locator("#score").inner_text().startswith("36")
    assert phone.locator("#trend-chart svg polyline").count() == 1
    assert phone.locator("#trend-chart svg circle").count() >= 2  # baseline, 6 weeks, now
