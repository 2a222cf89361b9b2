"""How a page's language is chosen (issue 15 §3): ``?lang=``, the signed-in patient's stored preference, the
switch's cookie, the browser's Accept-Language, English; the switch on every page stores the choice."""

from __future__ import annotations

import re

from sqlalchemy import select

from mildpath.store.models import AuditEvent, Patient
from mildpath.web.i18n import from_accept_language, localized, localized_field
from tests.helpers import login, page_csrf

LANG = re.compile(r'<html lang="([a-z]+)"')


def _lang(html: str) -> str:
    match = LANG.search(html)
    assert match
    return match.group(1)


def test_accept_language_picks_the_best_language_we_have():
    assert from_accept_language("es-MX,es;q=0.9,en;q=0.8") == "es"
    assert from_accept_language("fr-CA,es;q=0.8,en;q=0.5") == "es"
    assert from_accept_language("en;q=0.4,es;q=0.9") == "es"
    assert from_accept_language("en-US") == "en"
    assert from_accept_language("fr, de") is None
    assert from_accept_language("") is None


def test_a_browser_asking_for_spanish_gets_the_login_page_in_spanish(client):
    resp = client.get("/login", headers={"Accept-Language": "es-ES,es;q=0.9"})
    assert _lang(resp.text) == "es"
    assert "Contraseña" in resp.text and "Password" not in resp.text
    english = client.get("/login", headers={"Accept-Language": "en-US"})
    assert _lang(english.text) == "en" and "Password" in english.text


def test_every_page_has_a_language_switch_and_the_cookie_keeps_the_choice(client):
    page = client.get("/login")
    assert 'action="/language"' in page.text
    resp = client.post(
        "/language", data={"lang": "es", "next": "/login?lang=en", "csrf_token": page_csrf(client, "/login")}
    )
    assert resp.status_code == 303 and resp.headers["location"] == "/login"  # the lang= of next is dropped
    assert _lang(client.get("/login", headers={"Accept-Language": "en"}).text) == "es"


def test_the_switch_refuses_to_send_the_browser_elsewhere(client):
    resp = client.post(
        "/language", data={"lang": "es", "next": "//evil.example/", "csrf_token": page_csrf(client, "/login")}
    )
    assert resp.headers["location"] == "/"


def test_a_patients_stored_preference_wins_over_the_browser(client, patient_rosa):
    login(client, patient_rosa)  # Rosa's record says Spanish
    assert _lang(client.get("/me/diary", headers={"Accept-Language": "en-US"}, follow_redirects=True).text) == "es"


def test_the_switch_stores_a_signed_in_patients_preference_with_an_audit_row(client, db, patient_pat):
    login(client, patient_pat)
    assert _lang(client.get("/me/diary", follow_redirects=True).text) == "en"
    token = page_csrf(client, f"/patients/{patient_pat.patient_id}/diary")
    assert client.post("/language", data={"lang": "es", "next": "/me/diary", "csrf_token": token}).status_code == 303
    client.cookies.delete("mp_lang")  # the stored preference alone now decides
    diary = client.get("/me/diary", follow_redirects=True)
    assert _lang(diary.text) == "es" and "¿Cómo se siente hoy?" in diary.text
    db.expire_all()
    assert db.get(Patient, patient_pat.patient_id).preferred_language == "es"
    actions = db.scalars(select(AuditEvent.action).where(AuditEvent.patient_id == patient_pat.patient_id)).all()
    assert "patient.language_update" in actions


def test_the_switch_refuses_a_language_without_a_catalogue_silently_as_english(client):
    page = page_csrf(client, "/login")
    resp = client.post("/language", data={"lang": "xx", "next": "/login", "csrf_token": page})
    assert resp.status_code == 303
    assert _lang(client.get("/login").text) == "en"


def test_an_error_page_speaks_the_patients_language(client):
    resp = client.get("/patients/1", headers={"Accept-Language": "es"}, follow_redirects=True)
    assert _lang(resp.text) == "es"


def test_content_strings_come_in_the_language_asked_for():
    assert localized({"en": "Back pain", "es": "Dolor de espalda"}, "es") == "Dolor de espalda"
    assert localized({"en": "Back pain"}, "es") == "Back pain"  # a missing translation shows the English
    assert localized("plain", "es") == "plain"
    assert localized_field({"text": "Fever", "text_es": "Fiebre"}, "text", "es") == "Fiebre"
    assert localized_field({"text": "Fever", "text_es": ""}, "text", "es") == "Fever"
    assert localized_field({"text": {"en": "Fever", "es": "Fiebre"}}, "text", "es") == "Fiebre"


def test_a_problem_detail_a_patient_reads_is_in_their_language(client, patient_rosa, pat_id):
    # Rosa asks for another patient's diary: 404, in Spanish for her, in English for an English browser
    spanish = client.get(f"/api/v1/patients/{pat_id}/diary", headers=patient_rosa.auth)
    assert spanish.status_code == 404
    assert spanish.json()["detail"] == "Este registro no existe o no es suyo."
    english = client.get(
        f"/api/v1/patients/{pat_id}/diary", headers={**patient_rosa.auth, "Accept-Language": "en"}
    )
    assert english.json()["detail"] == "Este registro no existe o no es suyo."  # her stored preference wins


def test_an_anonymous_problem_detail_follows_the_browser(client):
    spanish = client.get("/api/v1/patients/1", headers={"Accept-Language": "es"})
    english = client.get("/api/v1/patients/1")
    assert spanish.status_code == english.status_code == 401
    assert english.json()["detail"] == "Log in or send a bearer token."


def test_a_diary_form_error_is_explained_in_spanish(client, patient_rosa):
    login(client, patient_rosa)
    url = f"/patients/{patient_rosa.patient_id}/diary"
    resp = client.post(url, data={"csrf_token": page_csrf(client, url), "pain_back": "12"})
    assert resp.status_code == 422
    assert "No podemos usar esta respuesta: Dolor de espalda ahora" in resp.text
    assert "must be" not in resp.text
