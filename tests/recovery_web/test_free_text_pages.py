"""Issue 15 on the pages: a text-only diary entry shows the matched words highlighted (escaped: no XSS), the
worklist shows the patient's words, and an empty form is refused with nothing saved."""

from __future__ import annotations

from mildpath.store.recovery import DiaryEntryRecord
from tests.helpers import count, login, page_csrf


def _submit(client, patient_id: int, **fields: str):  # type: ignore[no-untyped-def]
    token = page_csrf(client, f"/patients/{patient_id}/diary")
    return client.post(f"/patients/{patient_id}/diary", data={"csrf_token": token, **fields})


def test_the_matched_words_are_highlighted_and_escaped(client, patient_pat, dr_alice, pat_id):
    login(client, patient_pat)
    notes = "<script>alert(1)</script> I can't pee since this morning"
    resp = _submit(client, pat_id, notes=notes)
    assert resp.status_code == 303, resp.text
    page = client.get(resp.headers["location"]).text
    assert 'class="advice advice-emergency"' in page
    assert '<mark class="level-emergency" data-rule="ces-retention"' in page
    assert "can&#39;t pee</mark>" in page
    assert "<script>alert(1)</script>" not in page and "&lt;script&gt;" in page
    assert "red-flags-ces" in page
    login(client, dr_alice)
    worklist = client.get("/worklist").text
    assert "can&#39;t pee</mark>" in worklist and "Patient reported" in worklist


def test_an_empty_form_is_refused_and_saves_nothing(client, db, patient_pat, pat_id):
    login(client, patient_pat)
    before = count(db, DiaryEntryRecord)
    resp = _submit(client, pat_id, notes="  ")
    assert resp.status_code == 422
    assert "answer at least one question or write a note" in resp.text
    assert count(db, DiaryEntryRecord) == before


def test_answers_and_errors_use_plain_labels(client, patient_pat, pat_id):
    login(client, patient_pat)
    resp = _submit(client, pat_id, pain_back="4", urine_trouble="yes")
    page = client.get(resp.headers["location"]).text
    assert "<dt>Back pain now</dt>" in page and "<dt>Trouble passing urine" in page
    assert "pain_back" not in page.split('id="your-words"')[0].split("<h2>Your answers</h2>")[-1]
    refused = _submit(client, pat_id, pain_back="12")
    assert refused.status_code == 422 and "Back pain: must be" in refused.text


def test_the_worklist_pages_and_its_counters_follow_the_list(client, db, dr_alice, patient_pat, pat_id):
    for _ in range(3):
        assert client.post(f"/api/v1/patients/{pat_id}/diary", json={"notes": "chest pain"}, headers=patient_pat.auth)
    api = client.get("/api/v1/worklist?limit=2", headers=dr_alice.auth).json()
    second = client.get("/api/v1/worklist?limit=2&offset=2", headers=dr_alice.auth).json()
    assert len(api["items"]) == 2 and api["items"][0]["id"] not in {i["id"] for i in second["items"]}
    opened = api["counts"]["open"]
    login(client, dr_alice)
    page = client.get("/worklist").text
    assert f"{opened} new" in page and 'id="worklist-counts"' in page
    token = page_csrf(client, "/worklist")
    headers = {"HX-Request": "true", "X-CSRF-Token": token}
    card = client.post(f"/worklist/{api['items'][0]['id']}/acknowledge", headers=headers)
    assert card.status_code == 200
    assert 'hx-swap-oob="true"' in card.text and f"{opened - 1} new" in card.text


def test_the_emergency_notice_speaks_the_page_language(client, patient_pat, pat_id):
    """The "not watched around the clock" notice follows the page's language, not only the stored preference."""
    login(client, patient_pat)
    english = client.get(f"/patients/{pat_id}/diary").text
    spanish = client.get(f"/patients/{pat_id}/diary?lang=es").text
    assert "Nobody watches this diary around the clock" in english
    assert "Nadie revisa este diario a todas horas" in spanish
    assert "Nobody watches" not in spanish
