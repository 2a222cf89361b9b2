"""The recovery plan in the reader's language (issue 15 §3): a Spanish patient reads it, and its calendar, in
Spanish; a clinician reads the same plan in English; follow-ups keep their catalogue ids in every language."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from icalendar import Calendar

from mildpath.content.milestones import load_milestones
from mildpath.content.schedule import follow_up_plan
from mildpath.domain.errors import InvalidInput
from mildpath.domain.recovery import make_milestone_catalog, plan_recovery
from mildpath.services import recovery as svc
from mildpath.services.clock import today
from tests.helpers import csrf_from, login

NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


def _events(body: bytes) -> tuple[Calendar, dict[str, object]]:
    calendar = Calendar.from_ical(body)
    return calendar, {str(e["uid"]).split("-", 3)[-1]: e for e in calendar.walk("VEVENT")}


def test_a_plan_asked_for_in_spanish_is_worded_in_spanish_and_in_english_otherwise(db, dr_alice, patient_rosa):
    rosa = patient_rosa.patient_id
    spanish = svc.get_plan_view(db, patient_rosa.actor, rosa, today=today(), language="es")
    english = svc.get_plan_view(db, dr_alice.actor, rosa, today=today())
    assert spanish is not None and english is not None
    words = {m.id: m.title for m in spanish.milestones}
    assert words["visit-6-weeks"] == "Visita de las 6 semanas"
    assert words["no-heavy-lifting"].endswith(f"{spanish.no_lifting_weeks} semanas")
    assert {m.id: m.title for m in english.milestones}["visit-6-weeks"] == "6-week visit"
    # the same milestones on the same days, whatever the language
    assert [(m.id, m.start) for m in spanish.milestones] == [(m.id, m.start) for m in english.milestones]


def test_the_questionnaire_window_of_a_follow_up_is_written_in_the_plans_language():
    day = date(2025, 1, 31)
    follow_ups = svc.plan_follow_ups(day, load_milestones(), follow_up_plan(), "es")
    three = next(f for f in follow_ups if f.id == "visit-3-months")
    assert three.label == "Visita y cuestionarios de los 3 meses"
    assert "Puede llenar los cuestionarios del 31 de marzo de 2025 al 30 de mayo de 2025." in three.text
    assert "questionnaires" not in three.text


def test_a_spanish_patients_calendar_is_in_spanish_whoever_downloads_it(db, dr_alice, patient_rosa):
    rosa = patient_rosa.patient_id
    for actor in (patient_rosa.actor, dr_alice.actor):  # the calendar is the patient's, in her language
        calendar, events = _events(svc.export_plan_ics(db, actor, rosa, now=NOW))
        assert str(calendar["x-wr-calname"]) == "Mi plan de recuperación"
        event = events["visit-6-weeks@mildpath"]
        assert str(event["summary"]) == "Visita de las 6 semanas"
        assert event["summary"].params["LANGUAGE"] == "es"
        assert "Puede llenar los cuestionarios del" in str(event["description"])


def test_an_english_patients_calendar_stays_in_english(db, patient_pat, pat_id):
    calendar, events = _events(svc.export_plan_ics(db, patient_pat.actor, pat_id, now=NOW))
    assert str(calendar["x-wr-calname"]) == "My recovery plan"
    assert str(events["visit-6-weeks@mildpath"]["summary"]) == "6-week visit"


def test_the_plan_page_follows_the_reader_rosa_reads_spanish_and_her_clinician_english(client, dr_alice, patient_rosa):
    rosa = patient_rosa.patient_id
    login(client, patient_rosa)
    mine = client.get(f"/patients/{rosa}/recovery").text
    assert "Visita de las 6 semanas" in mine and "Puede llenar los cuestionarios" in mine
    assert "Busque atención de urgencia enseguida" in mine  # the emergency signs, in Spanish
    client.get("/logout")
    login(client, dr_alice)
    theirs = client.get(f"/patients/{rosa}/recovery").text
    assert "6-week visit" in theirs and "Visita de las 6 semanas" not in theirs


def test_a_milestone_with_a_spanish_title_but_no_spanish_text_is_refused():
    data = {
        "version": "t",
        "milestones": [
            {"id": "a", "kind": "expectation", "title": "A", "text": "Some text.", "title_es": "Una",
             "start": {"days": 0}, "sources": ["overview-recovery"]},
        ],
        "follow_ups": [],
    }
    with pytest.raises(InvalidInput) as caught:
        make_milestone_catalog(data)
    assert "text_es" in str(caught.value)


def test_a_milestone_without_the_asked_language_keeps_its_english():
    data = {
        "version": "t",
        "milestones": [
            {"id": "a", "kind": "expectation", "title": "Home", "text": "Go home.", "start": {"days": 0},
             "sources": ["overview-recovery"]},
        ],
        "follow_ups": [],
    }
    plan = plan_recovery(date(2026, 1, 5), make_milestone_catalog(data), language="es")
    assert plan.milestones[0].title == "Home" and plan.language == "es"


def test_a_spanish_patients_emergency_reads_spanish_to_her_and_english_to_the_care_team(client, db, dr_alice,
                                                                                          patient_rosa):
    rosa = patient_rosa.patient_id
    view = svc.record_diary_entry(db, patient_rosa.actor, rosa, {"saddle_numbness": True}, now=NOW)
    reason = next(r for r in view.reasons if r.rule_id == "ces-saddle-numbness")
    assert reason.text.startswith("Usted indicó adormecimiento entre las piernas")
    assert reason.in_language("en").startswith("You reported numbness in the saddle area")
    assert reason.clinician_text.startswith("Patient reported numbness in the saddle area")
    flag = next(f for f in svc.worklist(db, dr_alice.actor, limit=500) if f.entry_id == view.id)
    assert flag.reasons[0].startswith("Patient reported numbness") and "Usted" not in " ".join(flag.reasons)
    db.commit()
    login(client, dr_alice)
    page = client.get(f"/patients/{rosa}/diary/{view.id}").text
    assert "You reported numbness in the saddle area" in page and "Usted indicó adormecimiento" not in page


def test_rosa_sending_an_empty_diary_entry_is_told_in_spanish_and_nothing_is_saved(client, patient_rosa):
    rosa = patient_rosa.patient_id
    login(client, patient_rosa)
    token = csrf_from(client.get(f"/patients/{rosa}/diary").text)
    resp = client.post(f"/patients/{rosa}/diary", data={"csrf_token": token})
    assert resp.status_code == 422
    assert "Responda al menos una pregunta o escriba una nota." in resp.text
    assert "answer at least one question" not in resp.text
