"""Issue 15: a diary entry of free text only is triaged, its matched words reach the worklist in clinician
wording, and an empty entry is refused with nothing stored."""

from __future__ import annotations

import pytest

from mildpath.store.models import AuditEvent
from mildpath.store.recovery import DiaryEntryRecord, TriageFlag
from tests.helpers import count


def _post(client, persona, patient_id, body):  # type: ignore[no-untyped-def]
    return client.post(f"/api/v1/patients/{patient_id}/diary", json=body, headers=persona.auth)


@pytest.mark.parametrize(
    "notes",
    [
        "I can't pee since this morning",
        "no puedo orinar y tengo adormecida la entrepierna",
        "dolor en el pecho y me falta el aire",
        "can't control my bladder, numb groin",
    ],
)
def test_a_text_only_emergency_is_flagged_with_the_patients_words(client, dr_alice, patient_pat, pat_id, notes):
    resp = _post(client, patient_pat, pat_id, {"notes": notes})
    assert resp.status_code == 201, resp.text
    body = resp.json()
    assert body["level"] == "emergency" and body["flag_status"] == "open"
    assert body["matched"] and all(m["text"] in notes and m["source"] for m in body["matched"])
    items = client.get("/api/v1/worklist", headers=dr_alice.auth).json()["items"]
    (row,) = [i for i in items if i["id"] == body["flag_id"]]
    assert row["matched"] == body["matched"]
    assert all(r.startswith("Patient reported") for r in row["reasons"])
    assert not any("You " in r for r in row["reasons"])


def test_structured_reasons_on_the_worklist_use_clinician_wording(client, dr_alice, patient_pat, pat_id):
    flag_id = _post(client, patient_pat, pat_id, {"saddle_numbness": True})
    items = client.get("/api/v1/worklist", headers=dr_alice.auth).json()["items"]
    (row,) = [i for i in items if i["id"] == flag_id.json()["flag_id"]]
    assert row["reasons"][0].startswith("Patient reported numbness in the saddle area")


def test_spanish_entry_gets_spanish_words(client, patient_pat, pat_id):
    body = _post(client, patient_pat, pat_id, {"notes": "tengo fiebre", "language": "es"}).json()
    assert body["level"] == "same_day"
    assert body["advice"].startswith("Llame hoy a la clínica")


@pytest.mark.parametrize("body", [{}, {"notes": "  "}, {"notes": None, "pain_back": None}])
def test_an_empty_entry_is_a_422_problem_and_nothing_is_stored(client, db, patient_pat, pat_id, body):
    before = (count(db, DiaryEntryRecord), count(db, TriageFlag), count(db, AuditEvent, action="recovery.diary_create"))
    resp = _post(client, patient_pat, pat_id, body)
    assert resp.status_code == 422
    assert resp.headers["content-type"].startswith("application/problem+json")
    assert "entry" in resp.text
    after = (count(db, DiaryEntryRecord), count(db, TriageFlag), count(db, AuditEvent, action="recovery.diary_create"))
    assert after == before


def test_a_negated_note_stays_expected(client, patient_pat, pat_id):
    body = _post(client, patient_pat, pat_id, {"notes": "no fever, not numb anymore", "pain_back": 2}).json()
    assert body["matched"] == [] and body["flag_id"] is None
