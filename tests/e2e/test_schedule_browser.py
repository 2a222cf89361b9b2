"""Browser: a coordinator's day. Appointments booked through the API (a coordinator's token) show on
``/schedule`` with what is still open for the procedure, on a phone and on a desktop."""

from __future__ import annotations

import json
import subprocess
import sys
import urllib.request
from datetime import date

import pytest
from tests.e2e.conftest import ROOT, sign_in

from mildpath.demo import CLINICIANS

pytestmark = pytest.mark.e2e
EMAIL, PASSWORD = "cora.e2e@demo.example", "coordinator-e2e-password"


def _cli(env, *args: str) -> str:  # type: ignore[no-untyped-def]
    done = subprocess.run([sys.executable, "-m", "mildpath", *args], env={**env, "MILDPATH_NEW_PASSWORD": PASSWORD},
                          capture_output=True, text=True, cwd=ROOT, check=True)
    return done.stdout.strip()


def _api(base: str, token: str, method: str, path: str, body: dict | None = None) -> dict:  # type: ignore[type-arg]
    request = urllib.request.Request(base + path, method=method, data=json.dumps(body).encode() if body else None,
                                     headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=30) as resp:
        return json.loads(resp.read())  # type: ignore[no-any-return]


@pytest.fixture(scope="module")
def booked_day(live_server, live_env):  # type: ignore[no-untyped-def]
    """A coordinator, and on a day 20 days ahead: a procedure at 08:00 and an evaluation at 11:30 (clinic time)."""
    _cli(live_env, "user", "add", EMAIL, "--role", "coordinator", "--clinic", "1")
    token = _cli(live_env, "token", "create", EMAIL)
    clinician = _cli(live_env, "token", "create", CLINICIANS[0][0])
    patients = _api(live_server, clinician, "GET", "/api/v1/patients?limit=50")
    items = patients["items"] if isinstance(patients, dict) else patients
    free = [p for p in items if p["id"] not in _with_open_procedure(live_server, clinician, items)]
    day = date.fromordinal(date.today().toordinal() + 20).isoformat()
    first, second = free[0], free[1]
    _api(live_server, token, "POST", f"/api/v1/patients/{first['id']}/appointments",
         {"kind": "procedure", "start": f"{day}T08:00:00", "duration_minutes": 60, "place": "Suite 2"})
    _api(live_server, token, "POST", f"/api/v1/patients/{second['id']}/appointments",
         {"kind": "evaluation", "start": f"{day}T11:30:00", "place": "Room 4"})
    return day, first, second


def _with_open_procedure(base, token, items) -> set[int]:  # type: ignore[no-untyped-def]
    """Demo patients whose procedure is already scheduled (booking another would be refused)."""
    busy = set()
    for p in items:
        request = urllib.request.Request(f"{base}/api/v1/patients/{p['id']}/procedures",
                                         headers={"Authorization": f"Bearer {token}"})
        try:
            with urllib.request.urlopen(request, timeout=30) as resp:
                if any(s.get("status") in ("scheduled", "in_progress") for s in json.loads(resp.read())):
                    busy.add(p["id"])
        except urllib.error.HTTPError:
            pass
    return busy


@pytest.mark.parametrize("size", ["phone", "page"])
def test_the_coordinator_sees_who_is_coming_and_what_is_open(size, request, live_server, booked_day):
    day, first, second = booked_day
    tab = request.getfixturevalue(size)
    sign_in(tab, live_server, EMAIL, PASSWORD)
    tab.goto(f"{live_server}/schedule?date={day}")
    rows = tab.locator("li.schedule-row")
    assert rows.count() == 2
    assert "08:00" in rows.nth(0).inner_text() and first["family_name"] in rows.nth(0).inner_text()
    assert "11:30" in rows.nth(1).inner_text() and second["family_name"] in rows.nth(1).inner_text()
    procedure = rows.nth(0)
    assert procedure.locator("[data-item=consent_signed]").count() == 1
    assert procedure.locator("[data-item=escort_arranged]").count() == 1
    assert "item(s) open" in procedure.inner_text()
    width = tab.evaluate("document.documentElement.scrollWidth")
    assert width <= tab.viewport_size["width"] + 1, "nothing scrolls sideways"
    tab.click("text=Next day")
    assert tab.locator("#nobody").count() == 1


@pytest.mark.parametrize("size", ["phone", "page"])
def test_the_coordinators_day_walks_from_the_worklist_to_a_referral_to_the_schedule(
    size, request, live_server, booked_day
):
    """Issue 18's browser walk: worklist → referral (clinical status and coverage side by side) → the day's
    schedule, on a phone and on a desktop."""
    day, first, _ = booked_day
    tab = request.getfixturevalue(size)
    sign_in(tab, live_server, EMAIL, PASSWORD)
    tab.goto(f"{live_server}/referrals")
    rows = tab.locator("table.referrals tbody tr")
    assert rows.count() >= 1
    rows.first.locator("td[data-label=Person] a").click()
    assert tab.locator("#clinical").count() == 1 and tab.locator("#coverage").count() == 1
    assert tab.evaluate("document.documentElement.scrollWidth") <= tab.viewport_size["width"] + 1
    tab.goto(f"{live_server}/schedule?date={day}")
    assert tab.locator("li.schedule-row").count() == 2
    assert first["family_name"] in tab.locator("li.schedule-row").nth(0).inner_text()
