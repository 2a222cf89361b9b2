"""Ask a question: realistic patient questions land on the section that answers them (issue 7).

Each row names the section that answers the question and how high it must rank: top 1 where one section is
the answer, top 3 where two sections answer it about equally well (a FAQ entry and its page section).
"""

from __future__ import annotations

import pytest

from mildpath.content.education import UnknownLanguage, get_page
from mildpath.content.education_search import (
    EducationIndex,
    best_snippet,
    chunks,
    fts5_match,
    light_stem_es,
    query_terms,
    search,
)
from mildpath.domain.errors import InvalidInput

ENGLISH = [
    ("when can I lift my grandchild?", "recovery#lifting", 1),
    ("will I have stitches", "faq#stitches", 1),
    ("can I keep taking my blood thinner", "blood-thinners#never-stop", 3),
    ("can I keep taking my blood thinner", "faq#blood-thinner", 3),
    ("is it painful", "faq#does-it-hurt", 1),
    ("how long does it take", "faq#duration", 3),
    ("how long does it take", "how-mild-works#how-long", 3),
    ("do they put in metal", "faq#implants", 1),
    ("what is the mild procedure", "what-is-mild#name", 1),
    ("will I be asleep during it?", "faq#asleep", 1),
    ("how big is the cut?", "how-mild-works#opening", 3),
    ("do I need someone to drive me home", "procedure-day#escort", 1),
    ("can I eat breakfast before the procedure?", "procedure-day#before", 1),
    ("when can I go back to work", "faq#activities", 1),
    ("what if I get a fever after", "side-effects#call-today", 1),
    ("my legs feel numb after the procedure", "side-effects#emergency", 1),
    ("I can't control my bladder", "side-effects#emergency", 1),
    ("I have a headache when I stand up", "side-effects#call-today", 1),
    ("will Medicare pay for it?", "faq#insurance", 1),
    ("am I a candidate?", "who-is-a-candidate#good-fit", 1),
    ("do they remove a disc", "faq#disc", 1),
    ("how soon will I feel better", "recovery#improvement", 1),
    ("what are the risks", "side-effects#rare", 3),
    ("will the pain come back", "side-effects#long-term", 1),
    ("why do my legs hurt when I walk", "why-mild#symptoms", 3),
    ("when can I drive", "faq#driving", 1),
    ("which blood thinners do I need to mention", "blood-thinners#which-medicines", 1),
    ("can I still have surgery later", "faq#later-treatment", 1),
    ("what does fluoroscopy mean", "how-mild-works#imaging", 1),
    ("will I have to stay overnight in the hospital", "faq#overnight", 1),
    ("how many days before do I stop my warfarin", "blood-thinners#timing", 3),
    ("does it work? what did the studies find", "why-mild#evidence", 3),
    ("what happens to the wound, do I need a bandage", "recovery#wound", 1),
    ("will I need physical therapy", "recovery#therapy", 3),
    ("do I lie on my stomach", "how-mild-works#position", 1),
]

SPANISH = [
    ("¿cuándo puedo cargar a mi nieto?", "recovery#lifting", 1),
    ("¿me van a poner puntos?", "faq#stitches", 1),
    ("¿puedo seguir tomando mi anticoagulante?", "blood-thinners#never-stop", 3),
    ("¿duele?", "faq#does-it-hurt", 1),
    ("¿cuánto tiempo dura?", "faq#duration", 3),
    ("¿me ponen metal o tornillos?", "faq#implants", 1),
    ("¿voy a estar dormido?", "faq#asleep", 1),
    ("¿quién me lleva a casa?", "procedure-day#escort", 1),
    ("¿qué hago si tengo fiebre?", "side-effects#call-today", 1),
    ("¿puedo comer antes?", "procedure-day#before", 1),
    ("¿lo paga mi seguro?", "faq#insurance", 1),
    ("tengo las piernas dormidas después del procedimiento", "side-effects#emergency", 1),
    ("¿qué es el procedimiento mild?", "what-is-mild#name", 1),
    ("¿es peligroso?", "side-effects#rare", 1),
]


def _where(results):
    return [f"{r.page}#{r.anchor}" for r in results]


@pytest.mark.parametrize("question,expected,top", ENGLISH, ids=[f"{q} -> {e}" for q, e, _ in ENGLISH])
def test_english_questions_land_on_the_section_that_answers_them(question, expected, top):
    found = _where(search(question, "en", limit=top))
    assert expected in found, f"{question!r}: got {found}"


@pytest.mark.parametrize("question,expected,top", SPANISH, ids=[f"{q} -> {e}" for q, e, _ in SPANISH])
def test_spanish_questions_land_on_the_section_that_answers_them(question, expected, top):
    found = _where(search(question, "es", limit=top))
    assert expected in found, f"{question!r}: got {found}"


def test_there_are_at_least_twenty_realistic_questions():
    assert len({q for q, _, _ in ENGLISH}) >= 20


def test_results_come_best_first_with_everything_a_link_needs():
    results = search("how long will the soreness last", "en", limit=5)
    assert len(results) == 5
    assert [r.score for r in results] == sorted((r.score for r in results), reverse=True)
    for r in results:
        page = get_page(r.page, "en")  # a `page` value is valid input for the handout command
        assert r.title == page.title
        assert r.anchor in page.anchors and r.section == page.section(r.anchor).heading
        assert r.snippet and len(r.snippet) <= 240
        assert set(r.as_dict()) >= {"page", "title", "snippet", "score", "anchor"}


def test_a_snippet_is_the_passage_that_matched():
    top = search("when can I lift my grandchild?", "en", limit=1)[0]
    assert "grandchild" in top.snippet


@pytest.mark.parametrize(
    "question",
    [
        '"',
        '"unbalanced',
        "NEAR(pain stitches, 2)",
        "stitch*",
        "^pain",
        "title:pain",
        "pain AND OR NOT",
        "(((",
        "-",
        "''",
        "{ } [ ]",
        "\x00",
        "pain\nstitches",
        "a" * 5000,
        "🙂 stitches?",
    ],
    ids=[
        "quote",
        "open-quote",
        "near",
        "prefix",
        "caret",
        "column",
        "operators",
        "parens",
        "minus",
        "apostrophes",
        "braces",
        "nul",
        "newline",
        "very-long",
        "emoji",
    ],
)
def test_search_syntax_in_a_question_never_crashes(question):
    """Answers a list, or (NUL, over 200 characters: the rules of every input) refuses naming ``q``."""
    for language in ("en", "es"):
        try:
            results = search(question, language)
        except InvalidInput as exc:
            assert exc.field == "q" and (question == "\x00" or len(question) > 200)
            continue
        assert isinstance(results, list)


@pytest.mark.parametrize(
    "question",
    ["", "   ", "?!", "what is it", "¿qué es?"],
    ids=["empty", "blank", "punct", "stop-words", "stop-words-es"],
)
def test_a_question_without_meaningful_words_finds_nothing(question):
    lang = "es" if "¿" in question else "en"
    assert search(question, lang) == []


def test_an_unknown_language_is_refused():
    with pytest.raises(UnknownLanguage):
        search("stitches", "fr")


def test_query_terms_drop_stop_words_and_syntax():
    assert query_terms('When can I "lift" my grandchild?*', "en") == ("lift", "grandchild")
    assert query_terms("¿Cuándo puedo cargar a mi nieto?", "es") == ("cargar", "niet")
    assert fts5_match(("blood", "thinner")) == '"blood" OR "thinner" OR "blood thinner"'


@pytest.mark.parametrize(
    "word,stem",
    [
        ("puntos", "punt"),
        ("punto", "punt"),
        ("dolores", "dolor"),
        ("luces", "luz"),
        ("anestésica", "anestesic"),
        ("más", "mas"),
        ("dos", "dos"),
        ("meses", "mes"),
    ],
    ids=lambda v: str(v),
)
def test_the_spanish_light_stemmer_folds_plurals_gender_and_accents(word, stem):
    assert light_stem_es(word) == stem


def test_chunks_are_the_shared_input_of_every_index():
    items = chunks("en")
    assert len(items) == sum(len(get_page(c.page).sections) for c in {c.page: c for c in items}.values())
    first = items[0]
    assert first.body and first.title and first.heading and "{" not in first.body


def test_an_index_built_from_chosen_chunks_ranks_only_those():
    items = [c for c in chunks("en") if c.page == "faq"]
    index = EducationIndex("en", items)
    assert {r.page for r in index.search("stitches pain time", limit=10)} == {"faq"}


def test_best_snippet_grows_around_the_matching_sentence_and_cuts_long_text():
    sentences = ["One.", "Two is here.", "Three."]
    assert best_snippet(sentences, 1, limit=100) == "One. Two is here. Three."
    assert best_snippet(sentences, 2, limit=12) == "Three."
    assert best_snippet(["word " * 100], 0, limit=30).endswith("…")
    assert best_snippet([], 0) == ""


@pytest.mark.parametrize(
    ("question", "language"),
    [
        ("I can't pee", "en"),
        ("chest pain", "en"),
        ("I feel short of breath", "en"),
        ("dolor de pecho", "es"),
        ("fiebre", "es"),
        ("no puedo orinar", "es"),
    ],
    ids=["cant-pee", "chest-pain", "breathless", "dolor-de-pecho", "fiebre", "no-puedo-orinar"],
)
def test_a_symptom_question_goes_to_when_to_get_help_first(question, language):
    from mildpath.content.education_search import search as run

    first = run(question, language)[0]
    assert (first.page, first.anchor) in {("side-effects", "emergency"), ("side-effects", "call-today")}, first
