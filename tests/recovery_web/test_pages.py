"""Recovery pages: the timeline, the diary form and its advice, the history, and the worklist forms."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from mildpath.store.recovery import DiaryEntryRecord, RecoveryPlanRecord, TriageFlag
from mildpath.web.pages.recovery import diary_data
from tests.helpers import count, login, page_csrf


def _submit(client, patient_id: int, **fields: str | list[str]):  # type: ignore[no-untyped-def]
    token = page_csrf(client, f"/patients/{patient_id}/diary")
    return client.post(f"/patients/{patient_id}/diary", data={"csrf_token": token, **fields})


def test_a_patient_finds_recovery_and_diary_in_the_navigation(client, patient_pat, pat_id):
    login(client, patient_pat)
    home = client.get(f"/patients/{pat_id}").text
    assert 'href="/me/recovery">My recovery' in home and 'href="/me/diary">Symptom diary' in home
    assert f'href="/patients/{pat_id}/recovery"' in home  # the chart's tab too
    assert client.get("/me/diary").headers["location"] == f"/patients/{pat_id}/diary"
    assert client.get("/me/recovery").headers["location"] == f"/patients/{pat_id}/recovery"


def test_the_timeline_says_today_is_day_5(client, patient_pat, pat_id):
    login(client, patient_pat)
    page = client.get(f"/patients/{pat_id}/recovery")
    assert page.status_code == 200
    assert "Today is day 5 after your procedure" in page.text
    assert "Home the same day" in page.text and f'href="/patients/{pat_id}/recovery.ics"' in page.text
    assert "Set up the plan" not in page.text and "Change the plan" not in page.text  # staff only


def test_the_ics_link_downloads_a_calendar(client, patient_pat, pat_id):
    login(client, patient_pat)
    resp = client.get(f"/patients/{pat_id}/recovery.ics")
    assert resp.status_code == 200 and resp.text.startswith("BEGIN:VCALENDAR")
    assert "attachment" in resp.headers["content-disposition"]


def test_the_diary_form_shows_the_advice_right_after_submitting(client, db, patient_pat, pat_id):
    login(client, patient_pat)
    form = client.get(f"/patients/{pat_id}/diary").text
    for name in ("pain_back", "pain_leg", "saddle_numbness", "bladder_bowel_change", "incision", "temperature"):
        assert f'name="{name}"' in form
    assert len(re.findall(r'<label for="[^"]+"', form)) >= 40  # every tap target has its label
    resp = _submit(client, pat_id, pain_back="4", pain_leg="3", saddle_numbness="yes", new_weakness="no")
    assert resp.status_code == 303
    advice = client.get(resp.headers["location"])
    assert advice.status_code == 200
    assert 'class="advice advice-emergency"' in advice.text and 'role="alert"' in advice.text
    assert "Call emergency services or go to the emergency department now" in advice.text
    assert "numbness in the saddle area" in advice.text
    entry = db.scalars(select(DiaryEntryRecord).order_by(DiaryEntryRecord.id.desc())).first()
    assert entry.answers["new_weakness"] is False and entry.answers["pain_back"] == 4


def test_a_fahrenheit_fever_is_read_as_celsius_and_shows_the_clinic_phone(client, db, patient_pat, pat_id):
    login(client, patient_pat)
    resp = _submit(client, pat_id, temperature="100.4", temperature_unit="f", incision="fine")
    advice = client.get(resp.headers["location"]).text
    assert "advice-same_day" in advice and "Call the clinic today" in advice
    assert 'href="tel:+15550100"' in advice
    entry = db.scalars(select(DiaryEntryRecord).order_by(DiaryEntryRecord.id.desc())).first()
    assert entry.answers["temperature_c"] == 38.0


def test_a_refused_form_keeps_every_answer_and_saves_nothing(client, db, patient_pat, pat_id):
    login(client, patient_pat)
    before = count(db, DiaryEntryRecord)
    resp = _submit(client, pat_id, pain_back="6", incision=["fine", "drainage"], notes="stiff in the morning")
    assert resp.status_code == 422
    assert "cannot be combined" in resp.text
    assert 'id="pain_back-6" name="pain_back" value="6" checked' in resp.text
    assert "stiff in the morning" in resp.text
    assert count(db, DiaryEntryRecord) == before


def test_the_history_lists_entries_with_their_level(client, patient_pat, pat_id):
    login(client, patient_pat)
    _submit(client, pat_id, pain_back="2", incision="fine")
    page = client.get(f"/patients/{pat_id}/diary").text
    assert 'id="diary-history"' in page and "Expected during recovery" in page


@pytest.mark.parametrize(
    ("values", "expected"),
    [
        ({"pain_back": "3", "new_weakness": "no"}, {"pain_back": 3, "new_weakness": False}),
        ({"temperature": "37,8", "temperature_unit": "c"}, {"temperature_c": 37.8}),
        ({"temperature": "101.3", "temperature_unit": "f"}, {"temperature_c": 38.5}),
        ({"pain_medicines": "ibuprofen, acetaminophen\n"}, {"pain_medicines": ["ibuprofen", "acetaminophen"]}),
        ({"pain_back": "lots", "headache_upright": ""}, {"pain_back": "lots"}),
        ({}, {}),
    ],
    ids=["numbers-and-no", "decimal-comma", "fahrenheit", "medicines", "unreadable-passes-on", "empty"],
)
def test_form_text_becomes_diary_fields(values, expected):
    assert diary_data(values) == expected


def test_staff_set_the_plan_with_the_form_and_a_bad_date_keeps_the_values(client, db, dr_alice, world):
    login(client, dr_alice)
    patient_id = world.demo_patient_ids[7]
    page = client.get(f"/patients/{patient_id}/recovery")
    assert "There is no recovery plan yet" in page.text and "Set up the plan" in page.text
    token = page_csrf(client, f"/patients/{patient_id}/recovery")
    bad = client.post(
        f"/patients/{patient_id}/recovery",
        data={"csrf_token": token, "procedure_date": "2026-02-30", "no_lifting_weeks": "5"},
    )
    assert bad.status_code == 422 and 'value="5"' in bad.text
    assert count(db, RecoveryPlanRecord, patient_id=patient_id) == 0
    ok = client.post(
        f"/patients/{patient_id}/recovery",
        data={"csrf_token": token, "procedure_date": _in_days(7), "physical_therapy": "yes"},
    )
    assert ok.status_code == 303
    page = client.get(f"/patients/{patient_id}/recovery").text
    assert "Your procedure is in 7 days" in page and "Physical therapy" in page


def test_the_worklist_acknowledges_and_resolves_with_plain_forms(client, db, dr_alice, patient_pat, pat_id):
    login(client, patient_pat)
    _submit(client, pat_id, headache_upright="yes")
    flag = db.scalars(select(TriageFlag).order_by(TriageFlag.id.desc())).first()
    client.cookies.clear()
    login(client, dr_alice)
    page = client.get("/worklist")
    assert page.status_code == 200 and f'id="flag-{flag.id}"' in page.text
    token = page_csrf(client, "/worklist")
    assert client.post(f"/worklist/{flag.id}/acknowledge", data={"csrf_token": token}).status_code == 303
    db.refresh(flag)
    assert flag.status == "acknowledged" and flag.acknowledged_by == dr_alice.user_id
    refused = client.post(f"/worklist/{flag.id}/resolve", data={"csrf_token": token, "note": " "})
    assert refused.status_code == 422 and "say what was done" in refused.text
    done = client.post(f"/worklist/{flag.id}/resolve", data={"csrf_token": token, "note": "Phoned; advised rest."})
    assert done.status_code == 303
    db.refresh(flag)
    assert flag.status == "resolved" and flag.resolution_note == "Phoned; advised rest."
    assert f'id="flag-{flag.id}"' not in client.get("/worklist").text


def test_htmx_gets_just_the_flag_card_back(client, db, dr_alice, patient_pat, pat_id):
    login(client, dr_alice)
    _submit(client, pat_id, bilateral_weakness="yes")
    flag = db.scalars(select(TriageFlag).order_by(TriageFlag.id.desc())).first()
    token = page_csrf(client, "/worklist")
    headers = {"HX-Request": "true", "X-CSRF-Token": token}
    card = client.post(f"/worklist/{flag.id}/acknowledge", headers=headers)
    assert card.status_code == 200 and card.text.lstrip().startswith('<li class="card flag flag-emergency')
    assert "<html" not in card.text and "Acknowledged by Dr Alice Moreno" in card.text
    again = client.post(f"/worklist/{flag.id}/acknowledge", headers=headers)
    assert again.status_code == 409 and "already acknowledged" in again.text
    refused = client.post(f"/worklist/{flag.id}/resolve", data={"note": ""}, headers=headers)
    assert refused.status_code == 422 and 'role="alert"' in refused.text
    done = client.post(f"/worklist/{flag.id}/resolve", data={"note": "Sent to ED."}, headers=headers)
    assert done.status_code == 200 and "Resolved by Dr Alice Moreno" in done.text


def test_the_worklist_forms_need_the_csrf_token(client, db, dr_alice):
    login(client, dr_alice)
    flag = db.scalars(select(TriageFlag).where(TriageFlag.status == "open")).first()
    assert client.post(f"/worklist/{flag.id}/acknowledge").status_code == 403


def test_a_patient_cannot_open_the_worklist(client, patient_pat):
    login(client, patient_pat)
    assert client.get("/worklist").status_code == 403


def test_it_hides_other_clinics_patients(client, dr_bob_other_clinic, pat_id):
    login(client, dr_bob_other_clinic)
    for path in ("recovery", "diary", "recovery.ics"):
        resp = client.get(f"/patients/{pat_id}/{path}")
        assert resp.status_code == 404 and "Quinn" not in resp.text
    worklist = client.get("/worklist").text
    assert "Quinn" not in worklist


def test_a_patient_cannot_open_another_patients_diary(client, patient_pat, world, pat_id):
    login(client, patient_pat)
    other = next(i for i in world.demo_patient_ids if i != pat_id)
    assert client.get(f"/patients/{other}/diary").status_code == 404
    token = page_csrf(client, f"/patients/{pat_id}/diary")
    assert client.post(f"/patients/{other}/diary", data={"csrf_token": token, "pain_back": "2"}).status_code == 404


def _in_days(days: int) -> str:
    from datetime import timedelta

    from mildpath.services.clock import today

    return (today() + timedelta(days=days)).isoformat()


def test_the_recovery_page_lists_the_emergency_signs_with_readable_sources(client, patient_pat, pat_id):
    from mildpath.content.sources import source

    login(client, patient_pat)
    page = client.get(f"/patients/{pat_id}/recovery").text
    card = re.search(r'id="emergency-signs">(.*?)</section>', page, re.S)
    assert card, "the recovery page lists the emergency signs"
    text = card.group(1)
    assert "numbness around your bottom or genitals" in text and "bladder or bowels" in text
    assert source("red-flags-ces").title in text.replace("&#39;", "'").replace("&amp;", "&")
    assert "overview-recovery" not in page and "red-flags-ces" not in page  # titles, not internal ids
