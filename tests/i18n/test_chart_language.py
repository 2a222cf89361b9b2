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
