"""The outcomes dashboard, the API and a patient's own outcomes page: the same numbers everywhere, HTMX filters,
strict CSP markup, and access (staff only for the registry; 404 for another clinic's patient)."""

from __future__ import annotations

import importlib.abc
import re
import sys
from dataclasses import dataclass

import pytest

from mildpath.reports.outcomes_pdf import fmt_ci, fmt_pct
from mildpath.services.access import Actor
from mildpath.services.auth import create_token
from mildpath.store.models import AuditEvent, User
from tests.helpers import count, login


@dataclass(frozen=True)
class Login:
    email: str
    password: str
    token: str

    @property
    def auth(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}


@pytest.fixture
def connection(shared_connection):  # type: ignore[no-untyped-def]
    """Every session of these tests (``db``, the app's) works on the module's cohort (see conftest)."""
    return shared_connection


@pytest.fixture
def small(registry_world):  # type: ignore[no-untyped-def]
    return registry_world[1]


@pytest.fixture
def registrar(db, small) -> Login:  # type: ignore[no-untyped-def]
    """Dr One of the registry test clinic, with a password and an API token."""
    user = db.get(User, small.actor.user_id)
    token = create_token(db, Actor.system("tests"), user, name="tests")
    db.flush()  # the app's own sessions share the connection: they see flushed rows
    return Login(user.email, "registry-test-password", token)


def cell(html: str, element_id: str) -> str:
    match = re.search(rf'id="{re.escape(element_id)}">(.*?)</(?:td|dd)>', html, re.S)
    assert match, f"no element {element_id}"
    return re.sub(r"<[^>]+>", " ", match.group(1))


def test_the_dashboard_and_the_json_report_show_the_same_numbers(client, small, registrar):
    resp = client.get("/api/v1/outcomes", headers=registrar.auth)
    assert resp.status_code == 200, resp.text[:500]
    report = resp.json()
    html = login(client, registrar).get("/outcomes").text
    for measure, rows in report["change"].items():
        for row in rows:
            assert fmt_ci(row) in cell(html, f"change-{measure}-{row['timepoint']}")
    for definition, rows in report["responders"].items():
        for row in rows:
            assert fmt_pct(row) in cell(html, f"resp-{definition}-{row['timepoint']}")
    for row in report["follow_up"]:
        assert fmt_pct(row) in cell(html, f"follow-{row['timepoint']}")
    for row in report["adverse_events"]:
        assert fmt_pct(row) in cell(html, f"ae-{row['type']}")
    assert fmt_pct(report["discharge"]["same_day"]) in cell(html, "stat-same-day")
    assert "\u221220.00 (\u221259.75 to 19.75)" in cell(html, "change-odi-3m")  # the hand-computed figure
    assert "4 procedures, 4 patients" in html


def test_the_dashboard_draws_charts_with_tooltips_and_no_inline_style_or_script(client, small, registrar):
    html = login(client, registrar).get("/outcomes").text
    for chart in ("trajectory-odi", "responder-bars", "survival-any"):
        assert f'id="{chart}"' in html
    assert "<title>3 months: median 27.00 points (interquartile range 23.00 to 31.50), n = 4</title>" in html
    assert "Day 100: 75.0% free of reintervention" in html
    assert "style=" not in html
    assert not re.search(r"<script(?![^>]*\bsrc=)[^>]*>", html)  # CSP: script-src 'self' only


def test_filters_swap_only_the_results_through_htmx(client, small, registrar):
    login(client, registrar)
    resp = client.get("/outcomes?levels_treated=2", headers={"HX-Request": "true"})
    assert resp.status_code == 200
    assert "<html" not in resp.text and "1 procedures, 1 patients" in resp.text
    assert 'href="/outcomes/report.pdf?levels_treated=2"' in resp.text


def test_a_bad_filter_is_shown_with_what_was_typed(client, small, registrar):
    resp = login(client, registrar).get("/outcomes?since=2026-02-01&until=2026-01-01")
    assert resp.status_code == 422
    assert "since must not be after until" in resp.text and 'value="2026-02-01"' in resp.text
    api = client.get("/api/v1/outcomes?level=L9-S9", headers=registrar.auth)
    assert api.status_code == 422 and api.headers["content-type"].startswith("application/problem+json")


def test_the_registry_is_for_staff_only(client, patient_pat):
    assert client.get("/api/v1/outcomes", headers=patient_pat.auth).status_code == 403
    assert client.get("/api/v1/outcomes").status_code == 401


def test_it_hides_other_clinics_patients(client, small, dr_bob_other_clinic):
    patient = small.patients["A"]
    assert (
        client.get(f"/api/v1/patients/{patient}/outcomes", headers=dr_bob_other_clinic.auth).status_code
        == 404
    )
    assert login(client, dr_bob_other_clinic).get(f"/patients/{patient}/outcomes").status_code == 404


def test_a_patients_chart_shows_their_own_lines_and_responder_calls(client, db, small, registrar):
    patient = small.patients["A"]
    before = count(db, AuditEvent, action="outcomes.patient_read", patient_id=patient)
    html = login(client, registrar).get(f"/patients/{patient}/outcomes").text
    assert 'id="patient-odi"' in html and "<title>3 months: 30.00 points" in html
    assert "ODI improved by 20 points (&gt;= 10)" in html
    assert count(db, AuditEvent, action="outcomes.patient_read", patient_id=patient) == before + 1
    data = client.get(f"/api/v1/patients/{patient}/outcomes", headers=registrar.auth).json()
    assert [p["value"] for p in data["series"]["odi"]] == [50.0, 30.0, 20.0]
    png = client.get(f"/patients/{patient}/outcomes/chart.png")
    assert png.status_code == 200 and png.content.startswith(b"\x89PNG")


def test_a_patient_sees_their_own_outcomes_tab(client, patient_pat, pat_id):
    login(client, patient_pat)
    assert f'href="/patients/{pat_id}/outcomes"' in client.get(f"/patients/{pat_id}").text
    assert client.get(f"/patients/{pat_id}/outcomes").status_code == 200
    assert client.get("/outcomes").status_code == 403


def test_the_api_serves_the_report_as_a_pdf(client, small, registrar):
    import io

    from pypdf import PdfReader

    resp = client.get("/api/v1/outcomes/report.pdf?levels_treated=1", headers=registrar.auth)
    assert resp.status_code == 200 and resp.headers["content-type"] == "application/pdf"
    reader = PdfReader(io.BytesIO(resp.content))
    assert len(reader.pages) >= 2 and "3 completed procedures" in reader.pages[0].extract_text()


class _NotInstalled(importlib.abc.MetaPathFinder):
    """Makes a library missing for real in this process: its import fails as if it were not installed."""

    def __init__(self, *modules: str) -> None:
        self.modules = set(modules)

    def find_spec(self, fullname, path=None, target=None):
        if fullname.split(".")[0] in self.modules:
            raise ModuleNotFoundError(f"No module named {fullname!r}", name=fullname)
        return None


def test_the_pdf_says_which_extra_to_install_when_weasyprint_is_not_installed(client, small, registrar, monkeypatch):
    for name in [m for m in sys.modules if m.split(".")[0] == "weasyprint"]:
        monkeypatch.delitem(sys.modules, name)
    monkeypatch.setattr(sys, "meta_path", [_NotInstalled("weasyprint"), *sys.meta_path])
    resp = client.get("/api/v1/outcomes/report.pdf?levels_treated=1", headers=registrar.auth)
    assert resp.status_code == 501
    assert resp.headers["content-type"].startswith("application/problem+json")
    assert "install mildpath[pdf]" in resp.json()["detail"]


def test_the_dashboards_json_link_downloads_the_report_with_the_browser_session(client, small, registrar):
    browser = login(client, registrar)
    html = browser.get("/outcomes?levels_treated=2").text
    link = re.search(r'id="json-download" href="([^"]+)"', html)
    assert link, "the dashboard offers the JSON report"
    href = link.group(1).replace("&amp;", "&")
    resp = browser.get(href)
    assert resp.status_code == 200, resp.text[:300]
    assert resp.headers["content-type"].startswith("application/json")
    assert "attachment" in resp.headers["content-disposition"]
    downloaded = resp.json()
    api = client.get("/api/v1/outcomes?levels_treated=2", headers=registrar.auth).json()
    assert downloaded["cohort"] == api["cohort"] and downloaded["change"] == api["change"]
    assert downloaded["cohort"]["procedures"] == 1


def test_the_json_download_needs_a_signed_in_clinician(client, small):
    client.cookies.clear()
    resp = client.get("/outcomes/report.json", follow_redirects=False)
    assert resp.status_code in (302, 303, 401)


def test_the_dashboard_says_how_many_scores_were_left_out_of_the_comparisons(client, small, registrar):
    html = login(client, registrar).get("/outcomes").text
    notice = re.search(r'id="wording-excluded">(.*?)</p>', html, re.S)
    assert notice, "the dashboard names the scores left out of the comparisons"
    assert "9 ODI responses, 2 ZCQ responses" in notice.group(1)
    assert "MILDPATH_LICENSED_WORDING" in notice.group(1)
