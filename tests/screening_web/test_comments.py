"""Issue 15 §1: the self-check's comment is read by the symptom reader. Anyone sees the result at once; a
signed-in patient who saves it raises a worklist flag with the matched words (the API too); a negated sign
raises nothing."""

from __future__ import annotations

import pytest

from mildpath.store.recovery import DiaryEntryRecord, TriageFlag
from mildpath.store.screenings import Screening
from tests.helpers import count, login
from tests.screening_web.conftest import SELF_CHECK
from tests.screening_web.test_pages import HIDDEN, YES_NO, _self_check


def _post(client, persona, patient_id, comment):  # type: ignore[no-untyped-def]
    body = {"kind": "self_check", "answers": {**SELF_CHECK, "comment": comment}}
    return client.post(f"/api/v1/patients/{patient_id}/screenings", json=body, headers=persona.auth)


@pytest.mark.parametrize(
    ("comment", "words"),
    [("no puedo orinar y tengo adormecida la entrepierna", "no puedo orinar"), ("I can't pee since yesterday", "pee")],
    ids=["spanish", "english"],
)
def test_a_saved_self_check_comment_with_a_danger_sign_raises_an_emergency_flag(
    client, db, dr_alice, patient_pat, pat_id, comment, words
):
    resp = _post(client, patient_pat, pat_id, comment)
    assert resp.status_code == 201, resp.text
    body = resp.json()
    assert body["answers"]["comment"] == comment
    triage = body["comment_triage"]
    assert triage["level"] == "emergency" and triage["flag_id"] is not None
    assert any(words in m["text"] and m["text"] in comment for m in triage["matched"])
    items = client.get("/api/v1/worklist", headers=dr_alice.auth).json()["items"]
    row = next(i for i in items if i["id"] == triage["flag_id"])
    assert row["matched"] == triage["matched"] and all(r.startswith("Patient reported") for r in row["reasons"])
    assert db.get(DiaryEntryRecord, triage["entry_id"]).origin == "self_check"
    assert db.get(Screening, body["id"]).comment_entry_id == triage["entry_id"]


def test_a_negated_sign_in_a_self_check_comment_raises_nothing(client, db, patient_pat, pat_id):
    before = (count(db, DiaryEntryRecord, patient_id=pat_id), count(db, TriageFlag, patient_id=pat_id))
    resp = _post(client, patient_pat, pat_id, "no fever, sin fiebre, not numb anymore")
    assert resp.status_code == 201, resp.text
    assert resp.json()["comment_triage"]["level"] == "expected"
    assert (count(db, DiaryEntryRecord, patient_id=pat_id), count(db, TriageFlag, patient_id=pat_id)) == before


def test_an_anonymous_visitor_sees_the_emergency_in_their_comment_and_nothing_is_stored(client, db):
    before = (count(db, DiaryEntryRecord), count(db, TriageFlag), count(db, Screening))
    resp = _self_check(client, {**YES_NO, "comment": "dolor en el pecho y me falta el aire"})
    assert resp.status_code == 200
    assert 'id="comment-triage"' in resp.text and 'data-level="emergency"' in resp.text and 'role="alert"' in resp.text
    assert "<mark" in resp.text and "dolor en el pecho" in resp.text
    assert (count(db, DiaryEntryRecord), count(db, TriageFlag), count(db, Screening)) == before


def test_the_comment_is_kept_when_a_patient_saves_the_self_check_and_the_flag_is_raised(
    client, db, patient_pat, pat_id
):
    login(client, patient_pat)
    result = _self_check(client, {**YES_NO, "comment": "my groin is numb"})
    form: dict[str, list[str]] = {}
    for name, value in HIDDEN.findall(result.text):
        form.setdefault(name, []).append(value)
    assert form["comment"] == ["my groin is numb"]
    saved = client.post("/self-check/save", data=form)
    assert saved.status_code == 303
    page = client.get(saved.headers["location"])
    assert 'data-level="emergency"' in page.text and "Your care team has been told" in page.text
    sid = int(saved.headers["location"].rsplit("/", 1)[-1])
    entry_id = db.get(Screening, sid).comment_entry_id
    assert entry_id is not None and db.query(TriageFlag).filter_by(entry_id=entry_id).one().level == "emergency"
