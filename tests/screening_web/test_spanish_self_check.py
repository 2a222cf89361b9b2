"""The self-check in Spanish (issue 15 §3): questions, answers, guidance, the reasons behind it and the errors
speak the visitor's language (the patient's preference, else the browser's); English visitors keep English."""

from __future__ import annotations

from tests.helpers import csrf_from, login
from tests.screening_web.test_pages import YES_NO

SPANISH = {"accept-language": "es-MX,es;q=0.9"}


def _self_check(client, answers: dict, headers: dict | None = None):  # type: ignore[no-untyped-def]
    token = csrf_from(client.get("/self-check", headers=headers).text)
    return client.post("/self-check", data={**answers, "csrf_token": token}, headers=headers)


def test_a_spanish_browser_gets_the_questions_and_answers_in_spanish(client):
    page = client.get("/self-check", headers=SPANISH).text
    assert "¿Me puede ayudar mild con la espalda y las piernas?" in page
    assert "vaciar la orina o las heces" in page  # a red-flag question
    assert "De 5 a 15 minutos" in page and "No lo sé" in page
    assert "How long can you stand or walk" not in page


def test_a_red_flag_in_spanish_says_to_seek_emergency_care_with_the_reason_in_spanish(client):
    resp = _self_check(client, {**YES_NO, "saddle_numbness": "yes"}, SPANISH)
    assert "Busque atención de urgencia ahora" in resp.text and 'role="alert"' in resp.text
    assert "Lo que nos dijo" in resp.text
    assert "Problemas nuevos para controlar la orina o las heces" in resp.text  # the criterion's patient_es


def test_a_spanish_invalid_answer_names_the_question_and_the_problem_in_spanish(client):
    resp = _self_check(client, {**YES_NO, "walk_tolerance": "forever"}, SPANISH)
    assert resp.status_code == 422
    assert "¿Cuánto tiempo puede estar de pie o caminar antes de tener que parar?: no se pudo leer" in resp.text
    assert "Sus respuestas siguen aquí." in resp.text


def test_rosa_who_prefers_spanish_saves_her_self_check_and_reads_it_back_in_spanish(client, patient_rosa):
    login(client, patient_rosa)
    result = _self_check(client, YES_NO)
    assert "Pregunte por mild a un especialista de la columna" in result.text
    assert "Guardar en mi historia" in result.text
    token = csrf_from(result.text)
    saved = client.post("/self-check/save", data={**YES_NO, "csrf_token": token})
    assert saved.status_code == 303
    page = client.get(saved.headers["location"]).text
    assert "Guardado en su historia: su autoevaluación del" in page and " de 20" in page  # "7 de diciembre de 2026"


def test_an_english_visitor_keeps_the_english_self_check(client):
    resp = _self_check(client, {**YES_NO, "saddle_numbness": "yes"}, {"accept-language": "en-US"})
    assert "Seek emergency care now" in resp.text and "What you told us" in resp.text
    assert "New problems controlling your bladder or bowels" in resp.text


def test_rosa_saving_an_empty_self_check_is_told_in_spanish_to_answer_a_question(client, patient_rosa):
    login(client, patient_rosa)
    token = csrf_from(client.get("/self-check").text)
    resp = client.post("/self-check/save", data={"csrf_token": token})
    assert resp.status_code == 422
    assert "Responda al menos una pregunta y vuelva a intentarlo." in resp.text
