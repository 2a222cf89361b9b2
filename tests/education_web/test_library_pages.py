"""The public library on the web: every page renders with its sections and anchors, in English and Spanish,
without a login; the glossary, the search box and the handouts are public too."""

from __future__ import annotations

import re

import pytest

from mildpath.content.education import glossary, pages
from tests.education_web.conftest import section_ids
from tests.helpers import csrf_from, login

LIBRARY = [(lang, p.id) for lang in ("en", "es") for p in pages(lang, audience="patient")]


@pytest.mark.parametrize(("lang", "page_id"), LIBRARY, ids=[f"{lang}-{pid}" for lang, pid in LIBRARY])
def test_every_page_renders_its_sections_with_their_anchors_without_a_login(client, lang, page_id):
    page = next(p for p in pages(lang) if p.id == page_id)
    resp = client.get(f"/learn/{page_id}?lang={lang}")
    assert resp.status_code == 200
    assert f'<html lang="{lang}">' in resp.text
    assert section_ids(resp.text) == list(page.anchors)
    for anchor in page.anchors:
        assert f'href="#{anchor}"' in resp.text, f"the table of contents links to #{anchor}"
    assert f'href="/learn/{page_id}/handout.pdf?lang={lang}"' in resp.text
    assert page.title.replace("'", "&#39;") in resp.text


def test_the_library_index_lists_every_patient_page_in_reading_order(client):
    html = client.get("/learn?lang=en").text
    listed = re.findall(r'<h2><a href="/learn/([a-z0-9-]+)\?lang=en">', html)
    assert listed == [p.id for p in pages("en", audience="patient")]


def test_the_start_page_links_to_the_library_and_the_question_box(client):
    html = client.get("/").text
    assert 'href="/learn"' in html and "Learn about mild" in html
    assert 'href="/learn/search"' in html and "Ask a question" in html


def test_glossary_terms_carry_their_definition_for_hover_tap_and_keyboard(client):
    html = client.get("/learn/how-mild-works?lang=en").text
    term = re.search(r'<dfn class="glossary-term" title="([^"]+)" tabindex="0" aria-describedby="([^"]+)">', html)
    assert term, "a glossary term is marked up"
    assert f'<span class="glossary-definition" role="tooltip" id="{term.group(2)}">{term.group(1)}</span>' in html
    assert '<link rel="stylesheet" href="/static/education.css">' in html


def test_the_stylesheet_hides_definitions_until_a_term_is_focused_or_hovered_and_has_a_print_layout(client):
    css = client.get("/static/education.css").text
    assert ".glossary-definition { display:none; }" in css
    assert "dfn.glossary-term:focus + .glossary-definition" in css
    assert "dfn.glossary-term:hover + .glossary-definition" in css
    assert "@media print" in css


@pytest.mark.parametrize("lang", ["en", "es"])
def test_the_glossary_page_lists_every_term_with_an_anchor(client, lang):
    html = client.get(f"/learn/glossary?lang={lang}").text
    for entry in glossary(lang):
        assert f'<dt id="term-{entry.id}">' in html


def test_an_unknown_page_is_404_and_an_unknown_language_falls_back_to_english(client):
    assert client.get("/learn/no-such-page").status_code == 404
    resp = client.get("/learn/recovery?lang=xx")
    assert resp.status_code == 200 and '<html lang="en">' in resp.text


def test_a_too_long_question_or_page_id_is_refused_cleanly(client):
    assert client.get("/learn/search", params={"q": "x" * 201}).status_code == 422
    assert client.get("/learn/" + "a" * 81).status_code == 422


def test_the_public_handout_is_a_pdf_download_without_a_login(client):
    resp = client.get("/learn/recovery/handout.pdf?lang=es")
    assert resp.status_code == 200
    assert resp.headers["content-type"] == "application/pdf"
    assert resp.headers["content-disposition"] == 'attachment; filename="mild-recovery-es.pdf"'
    assert resp.content[:5] == b"%PDF-"
    assert client.get("/learn/no-such-page/handout.pdf").status_code == 404


def test_a_signed_in_clinician_can_read_the_library_too(client, dr_alice):
    login(client, dr_alice)
    assert client.get("/learn/faq").status_code == 200


def test_the_language_form_carries_a_csrf_token_and_the_page_to_return_to(client):
    html = client.get("/learn/search?q=wound&lang=en").text
    form = html[html.index('action="/learn/language"') :]
    assert csrf_from(form)
    assert 'name="next" value="/learn/search?q=wound"' in form
