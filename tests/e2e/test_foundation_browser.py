"""Browser: a clinician sees the patient list; a patient cannot open another patient's page."""

from __future__ import annotations

import pytest
from tests.e2e.conftest import sign_in

from mildpath.demo import CLINICIANS, PATIENT_LOGINS

pytestmark = pytest.mark.e2e


def test_the_demo_clinician_logs_in_and_sees_the_patient_list(page, live_server):
    email, password = CLINICIANS[0][0], CLINICIANS[0][1]
    sign_in(page, live_server, email, password)
    assert page.url.endswith("/patients")
    assert page.locator("table.table tbody tr").count() >= 30
    page.fill("#q", "Quinn")
    page.wait_for_timeout(800)  # the HTMX search fires after a 300 ms pause in typing
    assert page.locator("table.table tbody tr").count() == 1


def test_a_patient_cannot_open_another_patients_page(page, live_server):
    email, password, _ = PATIENT_LOGINS[0]
    sign_in(page, live_server, email, password)
    own = page.url
    assert "/patients/" in own
    own_id = int(own.rstrip("/").split("/")[-1])
    response = page.goto(f"{live_server}/patients/{own_id + 1}")
    assert response is not None and response.status == 404
    assert "Not found" in page.content()


def test_the_patient_list_works_on_a_phone(phone, live_server):
    sign_in(phone, live_server, CLINICIANS[0][0], CLINICIANS[0][1])
    width = phone.evaluate("document.documentElement.scrollWidth")
    assert width <= 400, "the page scrolls sideways on a phone"
