"""Ask a question of the education library: full-text search over its sections (SQLite FTS5, BM25).

One ranker everywhere (contracts §2): the CLI and tests build an in-memory FTS5 index from the content files,
so search needs no database. The pieces are split so that a database-backed index (for example PostgreSQL
full-text search) can reuse the same inputs instead of inventing its own:

- :func:`chunks` — the documents: one :class:`Chunk` per page section, with the fields to index;
- :data:`FIELD_WEIGHTS` — how much a hit in each field counts (title, heading, body, keywords);
- :func:`query_terms` — the sanitised terms of a question (stop words dropped, Spanish light-stemmed);
- :func:`index_text` — the text to index for a field (identity in English, light-stemmed in Spanish);
- :func:`best_snippet` — the passage shown for a hit, picked from the chunk's sentences.

Tokenisers: English uses FTS5's ``porter unicode61`` (Porter stemming). Spanish uses ``unicode61`` on text that
:func:`light_stem_es` has already reduced (plural and gender endings, accents), because FTS5's Porter stemmer is
English-only. Both strip diacritics, so "dolor" matches "dolór" and "anestesia" matches "anestésia".

Scores: FTS5's ``bm25()`` is lower-is-better; results report ``-bm25`` so a higher score is a better match.
Scores compare results of one question, not across questions.
"""

from __future__ import annotations

import re
import sqlite3
import threading
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache

from mildpath.content.education import Page, check_language, pages
from mildpath.domain.errors import InvalidInput
from mildpath.domain.inputs import check_text

MAX_QUESTION = 200  # characters of one question (the API's `q` says so too)

# Column weights for bm25(): a hit in a heading or curated keyword says more than one in a long body.
FIELD_WEIGHTS: dict[str, float] = {"title": 4.0, "heading": 6.0, "body": 1.0, "keywords": 4.0}
TOKENIZERS = {"en": "porter unicode61 remove_diacritics 2", "es": "unicode61 remove_diacritics 2"}
DEFAULT_LIMIT = 5
SNIPPET_CHARS = 240

# Words that carry no meaning in a patient's question. Kept short on purpose: "pain", "long", "stop", "after"
# and "before" stay, because patients' questions turn on them.


def _word_set(words: str) -> frozenset[str]:
    return frozenset(words.split())


STOP_WORDS: dict[str, frozenset[str]] = {
    "en": _word_set(
        """a an the and or but if of to in on at by for from with about as into than then so
        i me my mine myself we our us you your yours he she it its they them their this that these those
        is am are was were be been being do does did doing have has had having will would shall should can
        could may might must what when where which who whom whose why how there here any some all
        get got just really ok okay please know want need going go also very much many more mean means"""
    ),
    "es": _word_set(
        """a al ante con contra de del desde durante en entre hacia hasta para por según sin sobre tras
        el la lo los las un una unos unas y o u e ni que qué cual cuál cuales cuáles quien quién como cómo
        cuando cuándo donde dónde cuanto cuánto cuánta cuántos cuántas porque por qué
        yo me mi mis mío tu tú te ti su sus usted ustedes se le les nos nosotros ellos ellas él ella
        es son soy eres ser estar está están estoy era fue sido hay voy va van puedo puede pueden
        tengo tiene tienen tener hacer hace debo debe este esta esto estos estas ese esa eso esos esas
        muy más mas ya si sí también pero aunque quiere decir significa"""
    ),
}

_WORD_RE = re.compile(r"\w+", re.UNICODE)
_SENTENCE_RE = re.compile(r"(?<=[.!?;])\s+")


@dataclass(frozen=True)
class Chunk:
    """One indexed unit: a section of a page, with plain-text fields."""

    page: str  # page id: valid input for the handout command
    language: str
    anchor: str
    title: str  # page title
    heading: str
    body: str
    keywords: str


@dataclass(frozen=True)
class SearchResult:
    page: str
    title: str
    section: str
    anchor: str
    snippet: str
    score: float

    def as_dict(self) -> dict[str, object]:
        return {
            "page": self.page,
            "title": self.title,
            "section": self.section,
            "anchor": self.anchor,
            "snippet": self.snippet,
            "score": self.score,
        }


# ------------------------------------------------------------------------------------------------ shared inputs


def chunks(language: str = "en", *, audience: str | None = None) -> tuple[Chunk, ...]:
    """Every section of every page in ``language`` as a :class:`Chunk` (placeholders in neutral wording)."""
    return tuple(c for p in pages(language, audience=audience) for c in _page_chunks(p))


def _page_chunks(page: Page) -> tuple[Chunk, ...]:
    return tuple(
        Chunk(
            page=page.id,
            language=page.language,
            anchor=s.anchor,
            title=page.title,
            heading=s.heading,
            body=s.text,
            keywords=" ".join(s.keywords),
        )
        for s in page.sections
    )


def _fold(word: str) -> str:
    """Lower case without diacritics ("Cuánto" -> "cuanto")."""
    decomposed = unicodedata.normalize("NFKD", word.lower())
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


def light_stem_es(word: str) -> str:
    """A light Spanish stemmer (after J. Savoy's light stemmer, as in Lucene's ``SpanishLightStemmer``).

    It only folds plural and gender endings, which is what matters for short patient questions:
    "puntos" -> "punt", "dolores" -> "dolor", "luces" -> "luz", "operada" -> "operad". Words of four letters
    or fewer are left alone, so "más", "dos" and "ojo" are not mangled.
    """
    w = _fold(word)
    if len(w) < 5:
        return w
    if w.endswith("eses"):
        return w[:-2]
    if w.endswith("ces"):
        return w[:-3] + "z"
    if w.endswith(("os", "as", "es")):
        return w[:-2]
    if w.endswith(("o", "a", "e")):
        return w[:-1]
    return w


def index_text(text: str, language: str) -> str:
    """What FTS5 (or another engine) indexes for a field: the text itself in English (the tokenizer stems it);
    light-stemmed words in Spanish."""
    if language == "es":
        return " ".join(light_stem_es(w) for w in _WORD_RE.findall(text))
    return text


def query_terms(question: str, language: str = "en") -> tuple[str, ...]:
    """The meaningful words of a question, in order, without duplicates.

    Anything that is not a letter or digit is dropped, so FTS5 syntax in user text (quotes, ``*``, ``:``,
    ``NEAR``, ``^``, parentheses, a lone ``-``) can never reach the engine as syntax. Stop words and one-letter
    words go; Spanish words are light-stemmed to match :func:`index_text`.
    """
    stop = STOP_WORDS.get(language, frozenset())
    seen: dict[str, None] = {}
    for raw in _WORD_RE.findall(question.replace("_", " ")):
        word = raw.lower()
        if len(word) < 2 or word in stop or _fold(word) in stop:
            continue
        term = light_stem_es(word) if language == "es" else word
        seen.setdefault(term, None)
    return tuple(seen)


def query_phrases(terms: Sequence[str]) -> tuple[str, ...]:
    """Pairs of neighbouring terms ("blood thinner", "mild procedure"): a passage using the patient's own
    wording ranks above one that only shares single words."""
    return tuple(f"{a} {b}" for a, b in zip(terms, terms[1:], strict=False))


def fts5_match(terms: Sequence[str]) -> str:
    """An FTS5 MATCH expression: any term or neighbouring pair matches (OR); each is a quoted string, so no
    user text is ever read as FTS5 syntax."""
    clean = [t.replace('"', "") for t in terms]
    parts = [t for t in clean if t] + list(query_phrases([t for t in clean if t]))
    return " OR ".join(f'"{p}"' for p in parts)


# ------------------------------------------------------------------------------------------------ in-memory index


class EducationIndex:
    """An in-memory FTS5 index of one language's sections. Safe to share between threads (one lock)."""

    def __init__(self, language: str, items: Sequence[Chunk]) -> None:
        self.language = language
        self._chunks = tuple(items)
        self._lock = threading.Lock()
        self._db = sqlite3.connect(":memory:", check_same_thread=False)
        tokenizer = TOKENIZERS.get(language, TOKENIZERS["es"])
        self._db.execute(
            f"CREATE VIRTUAL TABLE sections USING fts5(title, heading, body, keywords, tokenize = '{tokenizer}')"
        )
        self._db.execute(f"CREATE VIRTUAL TABLE sentences USING fts5(chunk UNINDEXED, text, tokenize = '{tokenizer}')")
        for rowid, chunk in enumerate(self._chunks, 1):
            self._db.execute(
                "INSERT INTO sections (rowid, title, heading, body, keywords) VALUES (?, ?, ?, ?, ?)",
                (rowid, *(index_text(getattr(chunk, f), language) for f in ("title", "heading", "body", "keywords"))),
            )
            for sentence in _sentences(chunk.body):
                self._db.execute(
                    "INSERT INTO sentences (chunk, text) VALUES (?, ?)", (rowid, index_text(sentence, language))
                )
        self._sentences = {rowid: _sentences(c.body) for rowid, c in enumerate(self._chunks, 1)}

    def search(self, question: str, limit: int = DEFAULT_LIMIT) -> list[SearchResult]:
        """Best sections first; a question with no meaningful word gives no results (never an error)."""
        terms = query_terms(question, self.language)
        if not terms or limit < 1:
            return []
        match = fts5_match(terms)
        w = FIELD_WEIGHTS
        with self._lock:
            rows = self._db.execute(
                "SELECT rowid, bm25(sections, ?, ?, ?, ?) AS rank FROM sections WHERE sections MATCH ? "
                "ORDER BY rank, rowid LIMIT ?",
                (w["title"], w["heading"], w["body"], w["keywords"], match, limit),
            ).fetchall()
            results = []
            for rowid, rank in rows:
                chunk = self._chunks[rowid - 1]
                results.append(
                    SearchResult(
                        page=chunk.page,
                        title=chunk.title,
                        section=chunk.heading,
                        anchor=chunk.anchor,
                        snippet=self._snippet(rowid, match),
                        score=round(-float(rank), 4),
                    )
                )
        return results

    def _snippet(self, rowid: int, match: str) -> str:
        found = self._db.execute(
            "SELECT rowid FROM sentences WHERE sentences MATCH ? AND chunk = ? ORDER BY bm25(sentences), rowid LIMIT 1",
            (match, rowid),
        ).fetchone()
        sentences = self._sentences[rowid]
        if found is None:
            return best_snippet(sentences, 0)
        first = self._db.execute("SELECT min(rowid) FROM sentences WHERE chunk = ?", (rowid,)).fetchone()[0]
        return best_snippet(sentences, found[0] - first)


def _sentences(text: str) -> list[str]:
    return [s.strip() for s in _SENTENCE_RE.split(text) if s.strip()]


def best_snippet(sentences: Sequence[str], index: int, limit: int = SNIPPET_CHARS) -> str:
    """The sentence at ``index``, grown with its neighbours (next first, then previous) while the passage fits
    in ``limit`` characters; a lone long sentence is cut at a word boundary with an ellipsis."""
    if not sentences:
        return ""
    start = end = max(0, min(index, len(sentences) - 1))
    size = len(sentences[start])
    grew = True
    while grew:
        grew = False
        if end + 1 < len(sentences) and size + 1 + len(sentences[end + 1]) <= limit:
            end, size, grew = end + 1, size + 1 + len(sentences[end + 1]), True
        if start > 0 and size + 1 + len(sentences[start - 1]) <= limit:
            start, size, grew = start - 1, size + 1 + len(sentences[start - 1]), True
    out = " ".join(sentences[start : end + 1])
    if len(out) > limit:
        out = out[: limit - 1].rsplit(" ", 1)[0].rstrip(",;:") + "…"
    return out


@lru_cache(maxsize=8)
def index_for(language: str = "en") -> EducationIndex:
    """The in-memory index of one language, built once per process from the content files."""
    check_language(language)
    return EducationIndex(language, chunks(language))


def search(question: str, language: str = "en", limit: int = DEFAULT_LIMIT) -> list[SearchResult]:
    """Search the library in ``language`` (see :class:`EducationIndex`); an unknown language raises
    :class:`~mildpath.content.education.UnknownLanguage`, a question longer than ``MAX_QUESTION`` or with
    text no input may hold (domain/inputs.py) :class:`~mildpath.domain.errors.InvalidInput` naming ``q``:
    the API and the CLI refuse the same questions."""
    if len(question) > MAX_QUESTION:
        raise InvalidInput(f"q: longer than {MAX_QUESTION} characters", field="q")
    check_text(question, "q")
    return index_for(language).search(question, limit)
