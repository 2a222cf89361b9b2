"""Rendering pages to HTML: personal facts only when given, glossary definitions on tap or hover, no script."""

from __future__ import annotations

import re
from datetime import date
from html.parser import HTMLParser

import pytest

from mildpath.content.education import format_date, get_page, pages, render, render_section
from mildpath.domain.errors import InvalidInput

ALL_PAGES = [p for lang in ("en", "es") for p in pages(lang)]
PAGE_IDS = [f"{p.language}/{p.id}" for p in ALL_PAGES]


class _Collect(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict[str, str | None]]] = []

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))


def parse(html: str) -> list[tuple[str, dict[str, str | None]]]:
    collector = _Collect()
    collector.feed(html)
    return collector.tags


@pytest.mark.parametrize("page", ALL_PAGES, ids=PAGE_IDS)
def test_every_page_renders_with_one_section_per_anchor_and_unique_ids(page):
    tags = parse(render(page))
    section_ids = [a["id"] for t, a in tags if t == "section"]
    assert section_ids == list(page.anchors)
    ids = [a["id"] for _, a in tags if a.get("id")]
    assert len(ids) == len(set(ids))
    assert not any(t in ("script", "style", "iframe") for t, _ in tags)
    assert not any(k.startswith("on") for _, a in tags for k in a)  # no inline event handlers


@pytest.mark.parametrize("page", ALL_PAGES, ids=PAGE_IDS)
def test_without_facts_a_page_shows_neutral_wording_and_no_braces(page):
    html = render(page)
    assert "{" not in html and "}" not in html
    assert "&lt;!--" not in html  # marker comments never leak


def test_neutral_wording_reads_as_a_sentence():
    html = render_section(get_page("side-effects"), "call-today")
    assert "Call your care team at the number your clinic gave you on the same day" in html
    html_es = render_section(get_page("procedure-day", "es"), "before")
    assert "Su procedimiento es el día que le indique su clínica." in html_es


def test_facts_fill_the_placeholders_in_the_page_language():
    facts = {"procedure_date": date(2026, 3, 3), "clinic_phone": "(555) 010-0199"}
    en = render_section(get_page("procedure-day"), "before", facts)
    assert "planned for Tuesday, March 3, 2026." in en
    assert "at (555) 010-0199." in en
    es = render_section(get_page("procedure-day", "es"), "before", facts)
    assert "es el martes, 3 de marzo de 2026." in es


def test_an_empty_fact_keeps_the_neutral_wording():
    html = render_section(get_page("side-effects"), "call-today", {"clinic_phone": ""})
    assert "the number your clinic gave you" in html


@pytest.mark.parametrize(
    "value",
    ["<script>alert(1)</script>", "**bold** [link](javascript:alert(1))", "555 <b>0100</b> & co"],
    ids=["html", "markdown", "mixed"],
)
def test_facts_are_shown_as_typed_and_can_never_inject_markup(value):
    html = render_section(get_page("side-effects"), "call-today", {"clinic_phone": value})
    assert "<script" not in html and "<b>" not in html and "<strong>" not in html
    assert 'href="javascript' not in html
    tags = {t for t, _ in parse(html)}
    assert tags <= {"section", "h2", "p", "ul", "li", "dfn", "span"}


def test_milestones_become_a_list_in_the_follow_up_section():
    facts = {"milestones": [(date(2026, 3, 4), "Phone check"), ("6 weeks", "Visit and short forms")]}
    html = render_section(get_page("recovery"), "follow-up", facts)
    assert "<li>Wednesday, March 4, 2026: Phone check</li>" in html
    assert "<li>6 weeks: Visit and short forms</li>" in html
    assert "Your clinic will give you a plan" not in html
    assert "Your clinic will give you a plan" in render_section(get_page("recovery"), "follow-up", {"milestones": []})


@pytest.mark.parametrize("bad", ["Phone check", {"when": "soon"}, [("only one",)]], ids=["string", "dict", "single"])
def test_milestones_that_are_not_pairs_are_refused(bad):
    with pytest.raises(InvalidInput):
        render_section(get_page("recovery"), "follow-up", {"milestones": bad})


def test_glossary_terms_carry_their_definition_for_hover_tap_and_screen_readers():
    html = render_section(get_page("how-mild-works"), "imaging")
    dfn = re.search(
        r'<dfn class="glossary-term" title="([^"]+)" tabindex="0" aria-describedby="([^"]+)">'
        r"fluoroscopy</dfn>",
        html,
    )
    assert dfn, html
    definition, described_by = dfn.groups()
    assert definition.startswith("Live X-ray pictures")
    assert f'<span class="glossary-definition" role="tooltip" id="{described_by}">{definition}</span>' in html


def test_a_term_is_explained_once_per_section_and_never_inside_a_heading():
    html = render_section(get_page("how-mild-works"), "anesthesia")
    assert html.count('aria-describedby="gloss-sedation-') == 1
    assert "<h2>Medicine to keep you comfortable</h2>" in html


def test_the_longer_term_wins_over_a_shorter_one_inside_it():
    html = render_section(get_page("what-is-mild"), "stenosis")
    assert ">lumbar spinal stenosis</dfn>" in html


def test_spanish_pages_use_the_spanish_glossary():
    html = render_section(get_page("how-mild-works", "es"), "imaging")
    assert ">fluoroscopia</dfn>" in html and "Imágenes de rayos X en vivo" in html


def test_links_between_pages_use_the_callers_urls_or_become_plain_text():
    page = get_page("faq")
    linked = render_section(page, "blood-thinner", page_url=lambda pid, anchor: f"/learn/en/{pid}#{anchor}")
    assert '<a href="/learn/en/blood-thinners#never-stop">Blood thinners and mild</a>' in linked
    plain = render_section(page, "blood-thinner")
    assert "<a " not in plain and "Blood thinners and mild" in plain


@pytest.mark.parametrize(
    "day,language,expected",
    [
        (date(2026, 12, 3), "en", "Thursday, December 3, 2026"),
        (date(2026, 12, 3), "es", "jueves, 3 de diciembre de 2026"),
    ],
    ids=["en", "es"],
)
def test_dates_are_written_out_in_the_page_language(day, language, expected):
    assert format_date(day, language) == expected
