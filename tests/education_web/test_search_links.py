"""Asking a question on the web: the best passages link to their sections, and every link lands on a section that
exists. The ranking itself is tested in tests/education/test_search.py; here the web must show the same
answers as the one ranker (the in-memory FTS5 index), on SQLite and on PostgreSQL alike."""

from __future__ import annotations

import html
import re

import pytest

from mildpath.content.education_search import search
from tests.education_web.conftest import section_ids

RESULT_LINK = re.compile(r'<h3><a href="(/learn/([a-z0-9-]+)\?lang=(en|es)#([a-z0-9-]+))">')

QUESTIONS = [
    ("en", "when can I lift my grandchild?", "recovery#lifting"),
    ("en", "will I have stitches", "faq#stitches"),
    ("en", "do I need someone to drive me home", "procedure-day#escort"),
    ("en", "what if I get a fever after", "side-effects#call-today"),
    ("en", "my legs feel numb after the procedure", "side-effects#emergency"),
    ("en", "what does fluoroscopy mean", "how-mild-works#imaging"),
    ("en", "am I a candidate?", "who-is-a-candidate#good-fit"),
    ("en", "when can I drive", "faq#driving"),
    ("es", "¿cuándo puedo cargar a mi nieto?", "recovery#lifting"),
    ("es", "¿qué hago si tengo fiebre?", "side-effects#call-today"),
    ("es", "¿quién me lleva a casa?", "procedure-day#escort"),
]


@pytest.mark.parametrize(("lang", "question", "expected"), QUESTIONS, ids=[f"{q} -> {e}" for _, q, e in QUESTIONS])
def test_the_best_answer_links_to_the_right_section(client, lang, question, expected):
    resp = client.get("/learn/search", params={"q": question, "lang": lang})
    assert resp.status_code == 200
    links = RESULT_LINK.findall(resp.text)
    assert links, f"no results for {question!r}"
    href, page_id, link_lang, anchor = links[0]
    assert (f"{page_id}#{anchor}", link_lang) == (expected, lang)
    target = client.get(html.unescape(href).split("#", 1)[0])
    assert anchor in section_ids(target.text), f"{href} points at a section the page does not have"


def test_the_web_shows_exactly_the_rankers_answers_in_order(client):
    question = "can I keep taking my blood thinner"
    expected = [f"/learn/{r.page}?lang=en#{r.anchor}" for r in search(question, "en", 8)]
    shown = [href for href, *_ in RESULT_LINK.findall(client.get("/learn/search", params={"q": question}).text)]
    assert shown == expected


def test_each_result_shows_the_page_title_the_section_and_the_passage(client):
    first = search("will I have stitches", "en", 1)[0]
    text = client.get("/learn/search", params={"q": "will I have stitches"}).text
    for part in (first.title, first.section, first.snippet):
        assert html.escape(part, quote=True) in text


@pytest.mark.parametrize(
    "question",
    ["", "   ", "the and of", '"NEAR(*:^', "x" * 200],
    ids=["empty", "blank", "stop-words", "fts-syntax", "max"],
)
def test_odd_questions_never_break_the_page(client, question):
    resp = client.get("/learn/search", params={"q": question})
    assert resp.status_code == 200


def test_a_question_with_no_answer_says_so(client):
    resp = client.get("/learn/search", params={"q": "zzzqqq xylophone"})
    assert 'id="no-results"' in resp.text
