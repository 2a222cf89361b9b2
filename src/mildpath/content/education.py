"""The patient education library: Markdown pages with front matter, a bilingual glossary, HTML rendering.

Layout::

    content/education/<language>/<page-id>.md   one page per file; English (``en``) is the reference language
    content/education/glossary.yaml             terms in every language, each with a plain definition and sources

A page file::

    ---
    id: recovery                      # equals the file name; the same id in every language
    title: Recovery at home
    audience: patient                 # patient | clinician
    language: en                      # equals the folder name
    order: 70                         # position in listings
    sources: [overview, soreness-duration]
    last_reviewed: 2025-06-01
    stages: [scheduled, recovery]     # considering | screened | scheduled | recovery
    summary: One or two plain sentences.
    ---

    ## Lifting and exercise {#lifting}

    Plain sentences. Call {clinic_phone|the phone number your clinic gave you}.

    <!-- sources: overview -->
    <!-- keywords: grandchild, carry -->

Rules the loader enforces (a broken file fails loudly at first use, naming the file):

- every ``##`` heading ends with a stable anchor ``{#lower-case-slug}``, unique in its page; nothing but
  whitespace stands before the first ``##`` (the front matter ``summary`` is the introduction);
- every section cites at least one source in a ``<!-- sources: ... -->`` line; the page's ``sources`` list is
  exactly the union of its sections' sources, and every id exists in ``content/sources/*.yaml``;
- a section citing a source marked ``verified: false`` carries the visible label UNVERIFIED (NO VERIFICADO);
- personal facts appear only as ``{name|neutral wording}`` placeholders with a known name, so that a page
  always reads well without them (:func:`render` fills them in when the caller has the facts);
- a page in another language has an English original with the same id and the same section anchors, so that
  links and search results work across languages.
"""

from __future__ import annotations

import html
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from functools import lru_cache
from pathlib import Path
from typing import Annotated, Any, Literal

import yaml
from markdown_it import MarkdownIt
from markdown_it.token import Token
from pydantic import AfterValidator, BeforeValidator, ConfigDict, RootModel, field_validator

from mildpath.content.loader import Cited, ContentModel, Prose, Text, load_content, validate
from mildpath.content.loader import where as load_where
from mildpath.content.sources import CONTENT_DIR, ContentError, bibliography, check_cited
from mildpath.domain.errors import InvalidInput, NotFound

EDUCATION_DIR = CONTENT_DIR / "education"
GLOSSARY_FILE = EDUCATION_DIR / "glossary.yaml"
REFERENCE_LANGUAGE = "en"
AUDIENCES = ("patient", "clinician")
STAGES = ("considering", "screened", "scheduled", "recovery")

# Personal facts a page may mention. Each appears as {name|neutral wording}; `milestones` is a block placeholder
# (alone in its paragraph) that becomes a list. patient_name is used by the discharge packet, not by pages.
PLACEHOLDERS = ("procedure_date", "clinic_phone", "clinic_name", "milestones")
BLOCK_PLACEHOLDERS = ("milestones",)

UNVERIFIED_LABEL = {"en": "UNVERIFIED", "es": "NO VERIFICADO"}

_ANCHOR_RE = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
_HEADING_RE = re.compile(r"^##\s+(?P<heading>.+?)\s*\{#(?P<anchor>[^}]*)\}\s*$")
_MARKER_RE = re.compile(r"^<!--\s*(?P<kind>sources|keywords)\s*:\s*(?P<value>.*?)\s*-->\s*$")
_PLACEHOLDER_RE = re.compile(r"\{(?P<name>[a-z_]+)(?:\|(?P<fallback>[^{}|]*))?\}")
_PAGE_LINK_RE = re.compile(r"^page:(?P<page>[a-z0-9-]+)(?:#(?P<anchor>[a-z0-9-]+))?$")
_MD_SPECIAL = re.compile(r"([\\`*_{}\[\]()#+\-.!<>|~])")

_MONTHS = {
    "en": (
        "January",
        "February",
        "March",
        "April",
        "May",
        "June",
        "July",
        "August",
        "September",
        "October",
        "November",
        "December",
    ),
    "es": (
        "enero",
        "febrero",
        "marzo",
        "abril",
        "mayo",
        "junio",
        "julio",
        "agosto",
        "septiembre",
        "octubre",
        "noviembre",
        "diciembre",
    ),
}
_WEEKDAYS = {
    "en": ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"),
    "es": ("lunes", "martes", "miércoles", "jueves", "viernes", "sábado", "domingo"),
}


class UnknownPage(NotFound):
    """No education page with this id in this language."""

    def __init__(self, page_id: str, language: str, known: Iterable[str]) -> None:
        names = ", ".join(sorted(known))
        super().__init__(f"unknown education page {page_id!r} in language {language!r}; known pages: {names}")
        self.page_id = page_id
        self.language = language


class UnknownLanguage(InvalidInput):
    """The library has no pages in this language."""

    def __init__(self, language: str, known: Iterable[str]) -> None:
        super().__init__(
            f"unknown language {language!r}; available: {', '.join(sorted(known))}",
            field="language",
            value=language,
        )


@dataclass(frozen=True)
class Section:
    """One ``##`` section: the unit of linking, citing and searching."""

    anchor: str
    heading: str
    markdown: str  # body without the marker lines; may hold placeholders
    sources: tuple[str, ...]
    keywords: tuple[str, ...]
    text: str  # plain text with neutral wording for placeholders: for search and readability


@dataclass(frozen=True)
class Page:
    """A page in one language. ``id`` is shared by its translations."""

    id: str
    language: str
    title: str
    audience: str
    order: int
    sources: tuple[str, ...]
    last_reviewed: date
    stages: tuple[str, ...]
    summary: str
    sections: tuple[Section, ...]
    path: Path

    def section(self, anchor: str) -> Section:
        for section in self.sections:
            if section.anchor == anchor:
                return section
        raise KeyError(f"page {self.id!r} ({self.language}) has no section {anchor!r}")

    @property
    def anchors(self) -> tuple[str, ...]:
        return tuple(s.anchor for s in self.sections)

    @property
    def text(self) -> str:
        """The whole page as plain text (title, summary, headings, bodies); every heading, paragraph and list
        item ends as a sentence."""
        parts = [_sentence(self.title), _sentence(self.summary)]
        for s in self.sections:
            parts += [_sentence(s.heading), s.text]
        return " ".join(parts)


@dataclass(frozen=True)
class GlossaryEntry:
    """A term in one language: the words that show it in text, and a plain definition."""

    id: str
    language: str
    term: str
    forms: tuple[str, ...]  # every spelling matched in text, longest first
    definition: str
    sources: tuple[str, ...]


@dataclass(frozen=True)
class Library:
    pages: Mapping[tuple[str, str], Page]  # (language, id) -> page
    glossary: Mapping[str, tuple[GlossaryEntry, ...]]  # language -> entries

    @property
    def languages(self) -> tuple[str, ...]:
        return tuple(sorted({lang for lang, _ in self.pages}))


# ------------------------------------------------------------------------------------------------ loading


@lru_cache(maxsize=1)
def library() -> Library:
    """Every page and glossary entry, read and validated once."""
    pages: dict[tuple[str, str], Page] = {}
    for folder in sorted(p for p in EDUCATION_DIR.iterdir() if p.is_dir()):
        for path in sorted(folder.glob("*.md")):
            page = load_page(path, folder.name)
            pages[(page.language, page.id)] = page
    if not pages:
        raise ContentError(f"{EDUCATION_DIR}: no education pages")
    _check_translations(pages)
    glossary = _load_glossary(GLOSSARY_FILE, {lang for lang, _ in pages})
    return Library(pages=pages, glossary=glossary)


def languages() -> tuple[str, ...]:
    """Languages that have at least one page, e.g. ``("en", "es")``."""
    return library().languages


def check_language(language: str) -> str:
    """Return ``language`` if the library has pages in it, else raise :class:`UnknownLanguage`."""
    if language not in library().languages:
        raise UnknownLanguage(language, library().languages)
    return language


def pages(
    language: str = REFERENCE_LANGUAGE,
    *,
    audience: str | None = None,
    stage: str | None = None,
) -> tuple[Page, ...]:
    """The pages of one language in reading order, optionally only one audience or one pathway stage.

    A stage outside :data:`STAGES` is an error rather than an empty list, so a typo cannot hide every page.
    """
    check_language(language)
    if stage is not None and stage not in STAGES:
        raise InvalidInput(f"unknown stage {stage!r}; stages: {', '.join(STAGES)}", field="stage", value=stage)
    found = [
        p
        for (lang, _), p in library().pages.items()
        if lang == language and (audience is None or p.audience == audience) and (stage is None or stage in p.stages)
    ]
    return tuple(sorted(found, key=lambda p: (p.order, p.id)))


def get_page(page_id: str, language: str = REFERENCE_LANGUAGE, *, fallback: bool = False) -> Page:
    """The page ``page_id`` in ``language``.

    With ``fallback=True`` a page not yet translated comes back in English (check ``page.language``); an id
    unknown in every language raises :class:`UnknownPage` (a :class:`NotFound`: 404 on the web, exit 2 in the CLI).
    """
    check_language(language)
    lib = library()
    found = lib.pages.get((language, page_id))
    if found is None and fallback:
        found = lib.pages.get((REFERENCE_LANGUAGE, page_id))
    if found is None:
        raise UnknownPage(page_id, language, (pid for lang, pid in lib.pages if lang == language))
    return found


def glossary(language: str = REFERENCE_LANGUAGE) -> tuple[GlossaryEntry, ...]:
    """Glossary entries of one language, alphabetical by term."""
    check_language(language)
    return library().glossary.get(language, ())


def _a_date(value: Any) -> Any:
    if not isinstance(value, date) or isinstance(value, datetime):
        raise ValueError("last_reviewed must be a date (YYYY-MM-DD)")
    return value


def _plain(value: str) -> str:
    if not value or _PLACEHOLDER_RE.search(value):
        raise ValueError("must be plain text without placeholders")
    return value


def _strings(value: Any) -> Any:
    """A list of non-empty strings, each stripped."""
    if not isinstance(value, list) or not all(isinstance(v, str) and v.strip() for v in value):
        raise ValueError("must be a list of strings")
    return [v.strip() for v in value]


Strings = Annotated[tuple[str, ...], BeforeValidator(_strings)]
Stage = Literal["considering", "screened", "scheduled", "recovery"]
Plain = Annotated[str, AfterValidator(lambda v: _plain(v.strip()))]


class FrontMatter(ContentModel):
    """A page's front matter (see the module docstring)."""

    id: Text
    title: Plain
    audience: Literal["patient", "clinician"]
    language: str
    order: int = 1000
    sources: Annotated[Cited, BeforeValidator(_strings)]
    last_reviewed: Annotated[date, BeforeValidator(_a_date)]
    stages: Annotated[tuple[Stage, ...], BeforeValidator(_strings)]
    summary: Annotated[Prose, AfterValidator(_plain)]

    @field_validator("stages")
    @classmethod
    def _some_stage(cls, stages: tuple[str, ...]) -> tuple[str, ...]:
        if not stages:
            raise ValueError(f"stages must be a non-empty subset of {STAGES}")
        return stages


def load_page(path: Path, folder_language: str) -> Page:
    """Parse and validate one page file written in ``folder_language``; any rule broken raises ContentError."""
    where = f"education/{folder_language}/{path.name}"
    raw, body = _split_front_matter(path.read_text(encoding="utf-8"), where)
    missing = [k for k, f in FrontMatter.model_fields.items() if f.is_required() and k not in raw]
    if missing:
        raise ContentError(f"{where}: front matter lacks {', '.join(missing)}")
    meta = validate(raw, FrontMatter, where)
    if meta.id != path.stem or not _ANCHOR_RE.match(meta.id):
        raise ContentError(f"{where}: id {meta.id!r} must be a lower-case slug equal to the file name")
    if meta.language != folder_language:
        raise ContentError(f"{where}: language {meta.language!r} does not match its folder")
    sections = _parse_sections(body, where, folder_language)
    cited = {sid for s in sections for sid in s.sources}
    if cited != set(meta.sources):
        raise ContentError(
            f"{where}: front matter sources must equal the sections' sources; "
            f"only in front matter: {sorted(set(meta.sources) - cited)}, "
            f"only in sections: {sorted(cited - set(meta.sources))}"
        )
    return Page(
        id=meta.id,
        language=folder_language,
        title=meta.title,
        audience=meta.audience,
        order=meta.order,
        sources=meta.sources,
        last_reviewed=meta.last_reviewed,
        stages=meta.stages,
        summary=meta.summary,
        sections=sections,
        path=path,
    )


def _split_front_matter(text: str, where: str) -> tuple[dict[str, Any], str]:
    lines = text.splitlines()
    if not lines or lines[0].strip() != "---":
        raise ContentError(f"{where}: must start with YAML front matter between '---' lines")
    try:
        end = next(i for i in range(1, len(lines)) if lines[i].strip() == "---")
    except StopIteration:
        raise ContentError(f"{where}: front matter is not closed with '---'") from None
    try:
        meta = yaml.safe_load("\n".join(lines[1:end])) or {}
    except yaml.YAMLError as exc:
        raise ContentError(f"{where}: front matter is not valid YAML ({exc})") from exc
    if not isinstance(meta, dict):
        raise ContentError(f"{where}: front matter must be a mapping")
    return meta, "\n".join(lines[end + 1 :])


def _parse_sections(body: str, where: str, language: str) -> tuple[Section, ...]:
    chunks: list[tuple[str, str, list[str]]] = []
    preamble: list[str] = []
    for number, line in enumerate(body.splitlines(), 1):
        if line.startswith("## "):
            m = _HEADING_RE.match(line)
            if not m or not _ANCHOR_RE.match(m["anchor"]):
                raise ContentError(f"{where}: body line {number}: '##' headings end with {{#lower-case-anchor}}")
            chunks.append((m["heading"], m["anchor"], []))
        elif line.startswith("# "):
            raise ContentError(f"{where}: body line {number}: '#' is the page title; use '##' or '###'")
        elif chunks:
            chunks[-1][2].append(line)
        else:
            preamble.append(line)
    if "".join(preamble).strip():
        raise ContentError(f"{where}: text before the first '##' section (use the summary instead)")
    if not chunks:
        raise ContentError(f"{where}: a page needs at least one '##' section")
    anchors = [anchor for _, anchor, _ in chunks]
    duplicates = sorted({a for a in anchors if anchors.count(a) > 1})
    if duplicates:
        raise ContentError(f"{where}: duplicate section anchors {duplicates}")
    return tuple(_make_section(h, a, lines, f"{where}#{a}", language) for h, a, lines in chunks)


def _make_section(heading: str, anchor: str, lines: list[str], where: str, language: str) -> Section:
    sources: list[str] = []
    keywords: list[str] = []
    kept: list[str] = []
    for line in lines:
        m = _MARKER_RE.match(line.strip())
        if m:
            values = [v.strip() for v in m["value"].split(",") if v.strip()]
            (sources if m["kind"] == "sources" else keywords).extend(values)
        elif "<!--" in line:
            raise ContentError(f"{where}: unknown comment {line.strip()!r} (only sources: and keywords:)")
        else:
            kept.append(line)
    markdown = "\n".join(kept).strip()
    if not markdown:
        raise ContentError(f"{where}: empty section")
    check_cited(sources, where)
    _check_placeholders(markdown, where)
    unverified = [sid for sid in sources if not bibliography()[sid].verified]
    label = UNVERIFIED_LABEL.get(language, UNVERIFIED_LABEL[REFERENCE_LANGUAGE])
    if unverified and label not in markdown:
        raise ContentError(f"{where}: cites unverified {unverified} without the visible label {label!r}")
    text = _plain_text(_fill(markdown, {}, language))
    return Section(anchor, heading.strip(), markdown, tuple(sources), tuple(keywords), text)


def _check_placeholders(markdown: str, where: str) -> None:
    for m in _PLACEHOLDER_RE.finditer(markdown):
        if m["name"] not in PLACEHOLDERS:
            raise ContentError(f"{where}: unknown placeholder {{{m['name']}}}; known: {', '.join(PLACEHOLDERS)}")
        if m["fallback"] is None or not m["fallback"].strip():
            raise ContentError(f"{where}: placeholder {{{m['name']}}} needs neutral wording: {{name|wording}}")
    for paragraph in re.split(r"\n\s*\n", markdown):
        for m in _PLACEHOLDER_RE.finditer(paragraph):
            if m["name"] in BLOCK_PLACEHOLDERS and paragraph.strip() != m.group(0):
                raise ContentError(f"{where}: {{{m['name']}|...}} must stand alone in its paragraph")


def _check_translations(pages: Mapping[tuple[str, str], Page]) -> None:
    for (lang, pid), page in pages.items():
        if lang == REFERENCE_LANGUAGE:
            continue
        original = pages.get((REFERENCE_LANGUAGE, pid))
        where = f"education/{lang}/{pid}.md"
        if original is None:
            raise ContentError(f"{where}: has no English original education/en/{pid}.md")
        if original.anchors != page.anchors:
            raise ContentError(f"{where}: section anchors {page.anchors} differ from the English {original.anchors}")
        if original.audience != page.audience or set(original.stages) != set(page.stages):
            raise ContentError(f"{where}: audience and stages must match the English original")


class TermWordsIn(ContentModel):
    term: Annotated[str, AfterValidator(_plain)]
    forms: Strings = ()
    definition: Prose

    @field_validator("definition")
    @classmethod
    def _defined(cls, definition: str) -> str:
        if not definition:
            raise ValueError("needs a definition")
        return definition


class TermIn(ContentModel):
    sources: Cited
    en: TermWordsIn | None = None
    es: TermWordsIn | None = None


class GlossaryFile(RootModel[dict[str, TermIn]]):
    """``education/glossary.yaml``: term id (a lower-case slug) -> its sources and its words in each language."""

    model_config = ConfigDict(frozen=True)

    @field_validator("root")
    @classmethod
    def _slugs(cls, terms: dict[str, TermIn]) -> dict[str, TermIn]:
        bad = [t for t in terms if not _ANCHOR_RE.match(t)]
        if bad:
            raise ValueError(f"term ids are lower-case slugs, not {bad}")
        return terms


def _load_glossary(path: Path, page_languages: set[str]) -> dict[str, tuple[GlossaryEntry, ...]]:
    data = load_content(path, GlossaryFile).root
    out: dict[str, list[GlossaryEntry]] = {lang: [] for lang in page_languages}
    for term_id, entry in data.items():
        for lang in page_languages:
            item = getattr(entry, lang, None)
            if item is None:
                raise ContentError(f"{load_where(path)}: {term_id}: needs a term and a definition in {lang!r}")
            forms = {item.term, *item.forms}
            out[lang].append(
                GlossaryEntry(
                    id=term_id,
                    language=lang,
                    term=item.term,
                    forms=tuple(sorted(forms, key=lambda f: (-len(f), f))),
                    definition=item.definition,
                    sources=entry.sources,
                )
            )
    return {lang: tuple(sorted(items, key=lambda e: e.term.lower())) for lang, items in out.items()}


# ------------------------------------------------------------------------------------------------ personal facts


def format_date(value: date, language: str, *, weekday: bool = True) -> str:
    """A long, unambiguous date in the page's language, e.g. ``Tuesday, March 3, 2026`` / ``martes, 3 de marzo
    de 2026`` (no locale needed, so it reads the same on every server); ``weekday=False`` leaves the day name out."""
    months, days = _MONTHS.get(language, _MONTHS["en"]), _WEEKDAYS.get(language, _WEEKDAYS["en"])
    month = months[value.month - 1]
    text = f"{value.day} de {month} de {value.year}" if language == "es" else f"{month} {value.day}, {value.year}"
    return f"{days[value.weekday()]}, {text}" if weekday else text


def _fact_text(value: Any, language: str) -> str:
    if isinstance(value, datetime):
        value = value.date()
    if isinstance(value, date):
        return format_date(value, language)
    return " ".join(str(value).split())


def _escape_md(text: str) -> str:
    """Backslash-escape Markdown punctuation so a fact is shown as typed (``html=False`` already blocks HTML)."""
    return _MD_SPECIAL.sub(r"\\\1", text)


def milestone_lines(milestones: Iterable[Any], language: str) -> list[str]:
    """``(when, what)`` pairs as display strings ``"when: what"``; ``when`` may be a date or text.

    Anything but a sequence of pairs (a bare string, a dict) is refused with :class:`InvalidInput` rather than
    printed letter by letter.
    """
    if isinstance(milestones, str | bytes | Mapping):
        raise InvalidInput("milestones must be a list of (when, what) pairs", field="milestones")
    lines = []
    for item in milestones:
        if isinstance(item, str | bytes) or not isinstance(item, Sequence) or len(item) != 2:
            raise InvalidInput(f"milestone {item!r} is not a (when, what) pair", field="milestones", value=item)
        when, what = item
        lines.append(f"{_fact_text(when, language)}: {_fact_text(what, language)}")
    return lines


def _fill(markdown: str, facts: Mapping[str, Any], language: str) -> str:
    """Replace ``{name|neutral}`` with the fact when given (escaped), else with the neutral wording."""

    def replace(m: re.Match[str]) -> str:
        name, fallback = m["name"], (m["fallback"] or "").strip()
        value = facts.get(name)
        if value is None or value == "" or (name in BLOCK_PLACEHOLDERS and not value):
            return fallback
        if name == "milestones":
            return "\n".join(f"- {_escape_md(line)}" for line in milestone_lines(value, language))
        return _escape_md(_fact_text(value, language))

    return _PLACEHOLDER_RE.sub(replace, markdown)


# ------------------------------------------------------------------------------------------------ rendering

_MD = MarkdownIt("commonmark", {"html": False, "linkify": False, "typographer": False})


def _plain_text(markdown: str) -> str:
    """Text of the Markdown without markup; every paragraph, list item or heading ends as a sentence."""
    blocks: list[str] = []
    for token in _MD.parse(markdown):
        if token.type == "inline":
            parts = []
            for child in token.children or []:
                if child.type in ("text", "code_inline"):
                    parts.append(child.content)
                elif child.type in ("softbreak", "hardbreak"):
                    parts.append(" ")
            block = " ".join("".join(parts).split())
            if block:
                blocks.append(_sentence(block))
    return " ".join(blocks)


def _sentence(text: str) -> str:
    """End a block as a sentence: a list item ending in ";" or "," and a lead-in ending in ":" are read (and
    measured for readability) as sentences of their own, as on the page."""
    text = text.strip()
    if not text or text[-1] in ".!?…":
        return text
    if text[-1] in ":;,":
        return f"{text[:-1]}."
    return f"{text}."


def render(
    page: Page, facts: Mapping[str, Any] | None = None, *, page_url: Callable[[str, str | None], str] | None = None
) -> str:
    """HTML of every section of ``page`` (the caller's template shows the title and summary).

    - ``facts`` may hold ``procedure_date`` (a date or text), ``clinic_phone``, ``clinic_name`` and
      ``milestones`` (``(when, what)`` pairs). A missing or empty fact keeps the page's neutral wording; values are
      escaped, so a fact can never inject markup.
    - Each section is ``<section id="ANCHOR">`` with its ``<h2>``; the first use of a glossary term in each
      section is a ``<dfn class="glossary-term">`` carrying its definition (``title`` for hover; a focusable
      element plus a ``role="tooltip"`` span, shown by CSS on focus, for tap and keyboard; no script).
    - ``page_url(page_id, anchor)`` builds links written ``[text](page:ID#anchor)``; without it such links point
      at ``#anchor`` on the same page and become plain text for other pages (as in a printed handout).
    """
    return "\n".join(render_section(page, s.anchor, facts, page_url=page_url) for s in page.sections)


def render_section(
    page: Page,
    anchor: str,
    facts: Mapping[str, Any] | None = None,
    *,
    page_url: Callable[[str, str | None], str] | None = None,
) -> str:
    """HTML of one section (see :func:`render`)."""
    section = page.section(anchor)
    tokens = _MD.parse(_fill(section.markdown, facts or {}, page.language))
    entries = library().glossary.get(page.language, ())
    _link_glossary(tokens, entries, id_suffix=f"{page.id}-{anchor}")
    _resolve_page_links(tokens, page, page_url)
    body = _MD.renderer.render(tokens, _MD.options, {})
    heading = html.escape(section.heading)
    return f'<section id="{anchor}" class="education-section">\n<h2>{heading}</h2>\n{body}</section>'


def glossary_terms_used(page: Page) -> tuple[GlossaryEntry, ...]:
    """Glossary entries whose words appear in the page (for a "Words to know" box), alphabetical."""
    return glossary_terms_in(page.text, page.language)


def glossary_terms_in(text: str, language: str) -> tuple[GlossaryEntry, ...]:
    """Glossary entries of ``language`` whose words appear in ``text``, alphabetical."""
    return tuple(e for e in library().glossary.get(language, ()) if _term_pattern(e).search(text))


@lru_cache(maxsize=512)
def _term_pattern_for(forms: tuple[str, ...]) -> re.Pattern[str]:
    alternatives = "|".join(re.escape(f) for f in forms)
    return re.compile(rf"(?<!\w)(?:{alternatives})(?!\w)", re.IGNORECASE)


def _term_pattern(entry: GlossaryEntry) -> re.Pattern[str]:
    return _term_pattern_for(entry.forms)


def _link_glossary(tokens: Sequence[Token], entries: Sequence[GlossaryEntry], id_suffix: str) -> None:
    """Wrap the first occurrence of each term (outside headings, links and code) in its definition."""
    done: set[str] = set()
    in_heading = False
    # longest spelling first, so "neurogenic claudication" wins over a shorter term inside it
    entries = sorted(entries, key=lambda e: -len(e.forms[0]))
    for token in tokens:
        if token.type == "heading_open":
            in_heading = True
        elif token.type == "heading_close":
            in_heading = False
        elif token.type == "inline" and not in_heading and token.children:
            token.children = _wrap_children(token.children, entries, done, id_suffix)


def _wrap_children(
    children: list[Token],
    entries: Sequence[GlossaryEntry],
    done: set[str],
    id_suffix: str,
) -> list[Token]:
    out: list[Token] = []
    link_depth = 0
    for child in children:
        if child.type == "link_open":
            link_depth += 1
        elif child.type == "link_close":
            link_depth -= 1
        if child.type != "text" or link_depth:
            out.append(child)
            continue
        pieces = _split_terms(child.content, entries, done, id_suffix)
        if len(pieces) == 1 and pieces[0][1] is None:
            out.append(child)
            continue
        for text, markup in pieces:
            token = Token("html_inline", "", 0)
            token.content = markup if markup is not None else html.escape(text, quote=False)
            out.append(token)
    return out


def _split_terms(
    text: str,
    entries: Sequence[GlossaryEntry],
    done: set[str],
    id_suffix: str,
) -> list[tuple[str, str | None]]:
    """Split ``text`` into plain pieces and (matched text, markup) pieces, each term at most once."""
    hits: list[tuple[int, int, GlossaryEntry]] = []
    for entry in entries:
        if entry.id in done:
            continue
        m = _term_pattern(entry).search(text)
        if m and not any(m.start() < e and s < m.end() for s, e, _ in hits):
            hits.append((m.start(), m.end(), entry))
    if not hits:
        return [(text, None)]
    # entries come longest first and a hit overlapping an earlier one is skipped; rebuild in text order
    pieces: list[tuple[str, str | None]] = []
    pos = 0
    for start, end, entry in sorted(hits, key=lambda h: h[0]):
        done.add(entry.id)
        if start > pos:
            pieces.append((text[pos:start], None))
        word = text[start:end]
        def_id = f"gloss-{entry.id}-{id_suffix}"
        definition = html.escape(entry.definition)
        markup = (
            f'<dfn class="glossary-term" title="{definition}" tabindex="0" aria-describedby="{def_id}">'
            f"{html.escape(word, quote=False)}</dfn>"
            f'<span class="glossary-definition" role="tooltip" id="{def_id}">{definition}</span>'
        )
        pieces.append((word, markup))
        pos = end
    if pos < len(text):
        pieces.append((text[pos:], None))
    return pieces


def _resolve_page_links(tokens: Sequence[Token], page: Page, page_url: Callable[[str, str | None], str] | None) -> None:
    for token in tokens:
        if token.type != "inline" or not token.children:
            continue
        kept: list[Token] = []
        drop_close = 0
        for child in token.children:
            if child.type == "link_open":
                m = _PAGE_LINK_RE.match(str(child.attrGet("href") or ""))
                if m:
                    target, anchor = m["page"], m["anchor"]
                    if page_url is not None:
                        child.attrSet("href", page_url(target, anchor))
                    elif target == page.id and anchor:
                        child.attrSet("href", f"#{anchor}")
                    else:
                        drop_close += 1
                        continue
            elif child.type == "link_close" and drop_close:
                drop_close -= 1
                continue
            kept.append(child)
        token.children = kept


def page_links(page: Page) -> list[tuple[str, str | None]]:
    """Every ``page:ID#anchor`` link target in the page, for tests that check links resolve."""
    found = []
    for section in page.sections:
        for token in _MD.parse(section.markdown):
            for child in token.children or []:
                if child.type == "link_open":
                    m = _PAGE_LINK_RE.match(str(child.attrGet("href") or ""))
                    if m:
                        found.append((m["page"], m["anchor"]))
                    elif str(child.attrGet("href") or "").startswith("page:"):
                        found.append((str(child.attrGet("href")), None))
    return found


@dataclass(frozen=True)
class EmergencySigns:
    """The warning signs that need emergency care, as the library states them (``side-effects#emergency``)."""

    heading: str
    signs: tuple[str, ...]
    sources: tuple[str, ...]
    language: str


def emergency_signs(language: str = REFERENCE_LANGUAGE) -> EmergencySigns:
    """The emergency signs of the patient library's "get emergency care" section in ``language`` (the
    reference language when the library lacks it). The section cites the triage sources (post-procedure-triage,
    red-flags-ces), so the recovery page lists the same signs the triage rules raise as emergencies."""
    lang = language if language in library().languages else REFERENCE_LANGUAGE
    page = next(p for p in pages(lang) if p.id == "side-effects")
    section = next(s for s in page.sections if s.anchor == "emergency")
    signs = tuple(
        line.strip()[2:].strip().rstrip(";.").strip()
        for line in section.markdown.splitlines()
        if line.strip().startswith("- ")
    )
    return EmergencySigns(section.heading, signs, tuple(section.sources), lang)
