"""Choosing the language: ``?lang=`` wins and is remembered, the small form sets the cookie, a signed-in patient
gets the language of their record, and everything else is English."""

from __future__ import annotations

from mildpath.content.education import get_page
from tests.education_web.conftest import audit_rows
from tests.helpers import csrf_from, login

ES_TITLE = get_page("recovery", "es").title
EN_TITLE = get_page("recovery", "en").title


def _title(html: str) -> str:
    return html.split("<h1>", 1)[1].split("</h1>", 1)[0]


def test_english_is_the_default(client):
    resp = client.get("/learn/recovery")
    assert _title(resp.text) == EN_TITLE and '<html lang="en">' in resp.text


def test_the_lang_parameter_switches_and_is_remembered_for_the_next_pages(client):
    first = client.get("/learn/recovery?lang=es")
    assert _title(first.text) == ES_TITLE
    assert "mp_lang=es" in first.headers["set-cookie"]
    later = client.get("/learn/recovery")
    assert _title(later.text) == ES_TITLE and '<html lang="es">' in later.text
    assert "Haga una pregunta" in later.text, "the interface speaks the chosen language too"


def test_the_language_form_sets_the_cookie_and_returns_to_the_page(client):
    token = csrf_from(client.get("/learn/recovery").text)
    resp = client.post("/learn/language", data={"lang": "es", "next": "/learn/recovery", "csrf_token": token})
    assert resp.status_code == 303 and resp.headers["location"] == "/learn/recovery"
    assert _title(client.get("/learn/recovery").text) == ES_TITLE


def test_the_language_form_needs_its_csrf_token(client):
    client.get("/learn")
    assert client.post("/learn/language", data={"lang": "es", "next": "/learn"}).status_code == 403


def test_the_language_form_never_redirects_off_site_and_ignores_unknown_languages(client):
    token = csrf_from(client.get("/learn").text)
    for target in ("https://evil.example/", "//evil.example/x", "/\\evil.example"):
        resp = client.post("/learn/language", data={"lang": "xx", "next": target, "csrf_token": token})
        assert resp.headers["location"] == "/learn"
        assert "mp_lang" not in resp.headers.get("set-cookie", "")


def test_a_signed_in_patient_reads_in_the_language_of_their_record(client, db, patient_rosa):
    login(client, patient_rosa)
    before = len(audit_rows(db, "education.language_read", patient_rosa.patient_id))
    resp = client.get("/learn/recovery")
    assert _title(resp.text) == ES_TITLE
    assert len(audit_rows(db, "education.language_read", patient_rosa.patient_id)) == before + 1


def test_an_explicit_choice_beats_the_patients_record(client, patient_rosa):
    login(client, patient_rosa)
    assert _title(client.get("/learn/recovery?lang=en").text) == EN_TITLE
    assert _title(client.get("/learn/recovery").text) == EN_TITLE


def test_search_answers_in_the_chosen_language(client):
    html = client.get("/learn/search", params={"q": "¿cuándo puedo cargar a mi nieto?", "lang": "es"}).text
    assert 'href="/learn/recovery?lang=es#lifting"' in html
