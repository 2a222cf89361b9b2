"""Questionnaire pages: the patient's step-by-step form (resumable), the result with its trend, the clinician's
tab with paper entry, and the clinic's follow-up list."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from mildpath.store.proms import PromResponse
from tests.helpers import count, csrf_from, login
from tests.proms.conftest import ODI_32


def start_odi(client, patient_id: int) -> str:  # type: ignore[no-untyped-def]
    page = client.get(f"/patients/{patient_id}/questionnaires")
    resp = client.post(
        f"/patients/{patient_id}/questionnaires/start",
        data={"csrf_token": csrf_from(page.text), "instrument": "odi", "timepoint": "3m"},
    )
    assert resp.status_code == 303, resp.text[:300]
    return resp.headers["location"]


def post_step(client, url: str, step: int, answers: dict, action: str = "next"):  # type: ignore[no-untyped-def]
    page = client.get(url)
    form_url = url.split("?")[0]
    return client.post(form_url, data={"csrf_token": csrf_from(page.text), "step": step, "action": action, **answers})


def assert_strict_csp_friendly(html: str) -> None:
    assert "style=" not in html, "inline style attribute"
    assert not re.search(r"<script(?![^>]*\bsrc=)", html), "inline script"


def test_the_patient_sees_what_is_waiting(client, patient_rosa):
    login(client, patient_rosa)
    resp = client.get("/me/questionnaires")
    assert resp.status_code == 303
    page = client.get(resp.headers["location"])
    assert page.status_code == 200
    # Rosa prefers Spanish (issue 15 §3): her questionnaires speak it
    assert 'data-timepoint="3m"' in page.text and "Atrasado" in page.text
    assert "Seguir" in page.text  # the ZCQ she started
    assert_strict_csp_friendly(page.text)


def test_a_patient_fills_an_odi_step_by_step_leaves_and_resumes(client, db, patient_rosa):
    rosa = patient_rosa.patient_id
    login(client, patient_rosa)
    fill = start_odi(client, rosa)
    page = client.get(fill)
    assert "Paso 1 de 10" in page.text and '<progress id="progress" max="10" value="0"' in page.text
    assert_strict_csp_friendly(page.text)
    for step in range(3):
        resp = post_step(client, fill, step, {f"odi-{step + 1}": 2})
        assert resp.status_code == 303
        fill = resp.headers["location"]
    assert fill.endswith("step=4")
    left = post_step(client, fill, 3, {"odi-4": 1}, action="leave")
    assert left.headers["location"] == f"/patients/{rosa}/questionnaires?saved=1"
    assert "Sus respuestas están guardadas" in client.get(left.headers["location"]).text
    resumed = client.get(fill.split("?")[0])
    assert "Paso 5 de 10" in resumed.text
    row = db.scalar(select(PromResponse).where(PromResponse.patient_id == rosa, PromResponse.instrument == "odi"))
    assert row.answers == {"odi-1": 2, "odi-2": 2, "odi-3": 2, "odi-4": 1} and row.current_step == 3 + 1


def test_an_invalid_answer_re_shows_the_step_naming_the_question(client, db, patient_rosa):
    rosa = patient_rosa.patient_id
    login(client, patient_rosa)
    fill = start_odi(client, rosa)
    resp = post_step(client, fill, 0, {"odi-1": "9"})
    assert resp.status_code == 422
    assert "Pregunta 1 (Dolor: cuánto le duele)" in resp.text and "outside 0-5" in resp.text
    row = db.scalar(select(PromResponse).where(PromResponse.patient_id == rosa, PromResponse.instrument == "odi"))
    assert row.answers == {}


def test_back_keeps_the_answer_and_shows_the_previous_step(client, patient_rosa):
    login(client, patient_rosa)
    fill = start_odi(client, patient_rosa.patient_id)
    fill = post_step(client, fill, 0, {"odi-1": 3}).headers["location"]
    back = post_step(client, fill, 1, {"odi-2": 4}, action="back")
    assert back.headers["location"].endswith("step=1")
    page = client.get(back.headers["location"])
    assert 'id="odi-1-3" name="odi-1" value="3" checked' in page.text


def test_finishing_shows_the_score_and_the_trend(client, db, patient_rosa):
    rosa = patient_rosa.patient_id
    login(client, patient_rosa)
    fill = start_odi(client, rosa)
    for step in range(10):
        resp = post_step(client, fill, step, {f"odi-{step + 1}": 1})
        fill = resp.headers["location"]
    assert "/responses/" in fill and "done=1" in fill
    page = client.get(fill)
    assert page.status_code == 200
    assert re.search(r'id="score">20<', page.text)  # 10 of 50: 20 %
    assert "<svg" in page.text and "<polyline" in page.text
    assert_strict_csp_friendly(page.text)


def test_finishing_with_too_many_blanks_asks_for_the_missing_question(client, patient_rosa):
    login(client, patient_rosa)
    fill = start_odi(client, patient_rosa.patient_id)
    for step in range(10):
        answers = {} if step in (2, 5) else {f"odi-{step + 1}": 1}
        resp = post_step(client, fill, step, answers)
    assert resp.status_code == 422
    assert "Pregunta 3 (Levantar cosas)" in resp.text and "Paso 3 de 10" in resp.text


def test_the_clinician_tab_shows_the_schedule_and_every_response(client, dr_alice, pat_id):
    login(client, dr_alice)
    chart = client.get(f"/patients/{pat_id}")
    assert f"/patients/{pat_id}/questionnaires" in chart.text
    page = client.get(f"/patients/{pat_id}/questionnaires")
    assert page.status_code == 200
    assert "Follow-up schedule" in page.text and "Enter a paper form" in page.text
    assert page.text.count("data-response=") == 4  # Pat's baseline: four questionnaires
    assert "by the patient" in page.text


def test_a_clinician_enters_a_paper_form_marked_as_theirs(client, db, dr_alice, make_patient):
    pid = make_patient(100)
    login(client, dr_alice)
    form = client.get(f"/patients/{pid}/questionnaires/paper?instrument=odi")
    assert form.status_code == 200 and 'name="odi-10"' in form.text
    data = {"csrf_token": csrf_from(form.text), "instrument": "odi", "timepoint": "3m", "answered_on": ""}
    resp = client.post(f"/patients/{pid}/questionnaires/paper", data={**data, **ODI_32})
    assert resp.status_code == 303, resp.text[:500]
    result = client.get(resp.headers["location"])
    assert "32<" in result.text and "from a paper form, entered by Dr Alice Moreno" in result.text
    row = db.scalar(select(PromResponse).where(PromResponse.patient_id == pid))
    assert (row.entry_mode, row.entered_by) == ("paper", dr_alice.user_id)


def test_an_invalid_paper_form_keeps_what_was_typed(client, db, dr_alice, make_patient):
    pid = make_patient(100)
    login(client, dr_alice)
    form = client.get(f"/patients/{pid}/questionnaires/paper?instrument=walking")
    data = {"csrf_token": csrf_from(form.text), "instrument": "walking", "timepoint": "3m"}
    resp = client.post(f"/patients/{pid}/questionnaires/paper", data={**data, "walking-minutes": "-4"})
    assert resp.status_code == 422
    assert "walking" in resp.text.lower() and "negative" in resp.text and 'value="-4"' in resp.text
    assert count(db, PromResponse, patient_id=pid) == 0


def test_the_follow_up_list_shows_overdue_patients(client, dr_alice, patient_rosa):
    login(client, dr_alice)
    page = client.get("/follow-up")
    assert page.status_code == 200
    assert f'data-patient="{patient_rosa.patient_id}" data-timepoint="3m"' in page.text
    assert "Overdue" in page.text
    assert_strict_csp_friendly(page.text)


def test_the_follow_up_list_is_only_for_staff(client, patient_pat):
    login(client, patient_pat)
    assert client.get("/follow-up").status_code == 403


def test_it_hides_other_clinics_patients(client, dr_bob_other_clinic, pat_id):
    login(client, dr_bob_other_clinic)
    assert client.get(f"/patients/{pat_id}/questionnaires").status_code == 404
    assert client.get(f"/patients/{pat_id}/questionnaires/paper").status_code == 404
    assert f'data-patient="{pat_id}"' not in client.get("/follow-up").text


def test_a_patient_cannot_open_another_patients_response(client, db, patient_pat, patient_rosa, pat_id):
    rosa_response = db.scalar(select(PromResponse.id).where(PromResponse.patient_id == patient_rosa.patient_id))
    login(client, patient_pat)
    assert client.get(f"/patients/{patient_rosa.patient_id}/responses/{rosa_response}").status_code == 404
    assert client.get(f"/patients/{pat_id}/responses/{rosa_response}").status_code == 404


@pytest.fixture
def site_wording_app(app, settings, tmp_path):  # type: ignore[no-untyped-def]
    """The app with a site content folder holding licensed-style NPRS wording (docs/questionnaires.md)."""
    folder = tmp_path / "instruments"
    folder.mkdir()
    (folder / "nprs.yaml").write_text(
        "instrument: nprs\nversion: '0-10'\ntitle: Pain today\nitems:\n"
        "  nprs-back: {text: Rate your back pain today.}\n  nprs-leg: {text: Rate your leg pain today.}\n",
        encoding="utf-8",
    )
    app.state.settings = settings.model_copy(update={"content_dir": str(tmp_path)})
    return app


def test_a_sites_own_wording_replaces_the_neutral_labels(site_wording_app, client, patient_rosa):
    login(client, patient_rosa)
    page = client.get(f"/patients/{patient_rosa.patient_id}/questionnaires")
    resp = client.post(
        f"/patients/{patient_rosa.patient_id}/questionnaires/start",
        data={"csrf_token": csrf_from(page.text), "instrument": "nprs", "timepoint": "3m"},
    )
    step = client.get(resp.headers["location"])
    assert "Rate your back pain today." in step.text and "Pain today" in step.text


def test_the_result_page_names_the_neutral_wording_and_the_whole_percent_rule(client, db, dr_alice, make_patient):
    from tests.proms.conftest import ODI_3556

    pid = make_patient(100)
    login(client, dr_alice)
    form = client.get(f"/patients/{pid}/questionnaires/paper?instrument=odi")
    assert "ODI-style neutral labels: not the licensed wording" in form.text
    data = {"csrf_token": csrf_from(form.text), "instrument": "odi", "timepoint": "3m", "answered_on": ""}
    resp = client.post(f"/patients/{pid}/questionnaires/paper", data={**data, **ODI_3556})
    assert resp.status_code == 303, resp.text[:500]
    html = client.get(resp.headers["location"]).text
    assert "<h1>Back-related disability (ODI-style neutral labels: not the licensed wording)</h1>" in html
    assert "35.56" in html
    whole = re.search(r'id="whole-percent">(.*?)</p>', html, re.S)
    assert whole and "Whole percent: 36" in whole.group(1) and "AO scoring rule" in whole.group(1)
    assert 'id="wording-note"' in html
