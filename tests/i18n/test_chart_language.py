"""The chart follows its reader (issue 15 §3): Rosa, who prefers Spanish, reads her own chart in Spanish; her
clinician reads the same chart in English."""

from __future__ import annotations

from tests.helpers import login


def test_rosa_reads_her_chart_in_spanish_and_her_clinician_reads_it_in_english(client, dr_alice, patient_rosa):
    chart = f"/patients/{patient_rosa.patient_id}"
    login(client, patient_rosa)
    mine = client.get(chart).text
    assert "Fecha de nacimiento" in mine and "mujer" in mine and "Su atención paso a paso" in mine
    assert "Sus entradas del diario y el consejo de cada una" in mine  # a tile's blurb
    client.get("/logout")
    login(client, dr_alice)
    theirs = client.get(chart).text
    assert "Date of birth" in theirs and "female" in theirs and "Care pathway" in theirs
    assert "Fecha de nacimiento" not in theirs


def test_every_page_that_takes_free_text_about_symptoms_says_the_service_is_not_watched_around_the_clock(
    client, patient_rosa
):
    """Issue 15 §2: the diary, the self-check and a questionnaire's last step (their comments are read for signs)
    each say what to do in an emergency, in the reader's language."""
    self_check = client.get("/self-check", headers={"Accept-Language": "es"}).text
    assert 'id="emergency-notice"' in self_check
    english = client.get("/self-check", headers={"Accept-Language": "en"}).text
    assert 'id="emergency-notice"' in english and "911" in english
