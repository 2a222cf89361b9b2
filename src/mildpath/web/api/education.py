"""/api/v1/education: the public patient library as JSON and PDF (no credentials needed, like the web pages).

Search answers with the same JSON as ``mildpath education search --json`` (contracts §2), from the same ranker:
the in-memory SQLite FTS5 index of the content files, whichever database the server uses.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Annotated

from fastapi import APIRouter, Path, Query
from fastapi.responses import Response
from pydantic import BaseModel, Field

from mildpath.content import education as content
from mildpath.content.education_search import MAX_QUESTION
from mildpath.content.education_search import search as search_library
from mildpath.reports.handouts import Paper
from mildpath.services.education import library_handout_pdf
from mildpath.web.deps import PublicActor
from mildpath.web.downloads import PDF, attachment

router = APIRouter(prefix="/api/v1", tags=["education"])

Lang = Annotated[
    str,
    Query(
        min_length=2,
        max_length=8,
        description="Language of the pages: en or es",
        json_schema_extra={"enum": list(content.languages())},
    ),
]
PageId = Annotated[str, Path(max_length=80, description="Page id, as listed by /education/pages")]


class EducationSectionPublic(BaseModel):
    anchor: str = Field(description="Stable anchor of the section (the #fragment on the web page)")
    heading: str
    html: str = Field(description="The section as HTML, glossary terms marked up")
    sources: list[str] = Field(description="Source ids the section cites")


class EducationPageSummary(BaseModel):
    id: str
    language: str
    title: str
    summary: str
    audience: str
    stages: list[str]
    url: str = Field(description="The page on the web")


class EducationPageList(BaseModel):
    language: str
    pages: list[EducationPageSummary]


class EducationPagePublic(EducationPageSummary):
    sources: list[str]
    last_reviewed: date
    html: str = Field(description="Every section as HTML, in order")
    sections: list[EducationSectionPublic]


class EducationSearchResult(BaseModel):
    page: str = Field(description="Page id: valid for /education/pages/{page_id} and the handout")
    title: str
    section: str
    anchor: str
    snippet: str
    score: float = Field(description="Higher is better; compares results of one question only")


class EducationSearchResults(BaseModel):
    results: list[EducationSearchResult]


def _summary(page: content.Page) -> EducationPageSummary:
    """The page's own fields of the summary, and its address on the web."""
    fields = {name: getattr(page, name) for name in EducationPageSummary.model_fields if name != "url"}
    return EducationPageSummary(**fields, url=f"/learn/{page.id}?lang={page.language}")


@router.get("/education/pages", response_model=EducationPageList)
def list_pages(actor: PublicActor, lang: Lang = "en") -> EducationPageList:
    """The patient pages of one language, in reading order."""
    content.check_language(lang)
    return EducationPageList(language=lang, pages=[_summary(p) for p in content.pages(lang, audience="patient")])


@router.get("/education/pages/{page_id}", response_model=EducationPagePublic)
def get_page(page_id: PageId, actor: PublicActor, lang: Lang = "en") -> EducationPagePublic:
    """One page with its sections as HTML; a page not yet translated comes back in English (see ``language``)."""
    page = content.get_page(page_id, lang, fallback=True)
    url = _page_url(page.language)
    sections = [
        EducationSectionPublic(
            anchor=s.anchor,
            heading=s.heading,
            html=content.render_section(page, s.anchor, page_url=url),
            sources=list(s.sources),
        )
        for s in page.sections
    ]
    return EducationPagePublic(
        **_summary(page).model_dump(),
        sources=list(page.sources),
        last_reviewed=page.last_reviewed,
        html="\n".join(s.html for s in sections),
        sections=sections,
    )


def _page_url(language: str) -> Callable[[str, str | None], str]:
    def url(page_id: str, anchor: str | None) -> str:
        return f"/learn/{page_id}?lang={language}" + (f"#{anchor}" if anchor else "")

    return url


@router.get("/education/search", response_model=EducationSearchResults)
def search(
    actor: PublicActor,
    q: Annotated[str, Query(max_length=MAX_QUESTION, description="The question, in the patient's own words")],
    lang: Lang = "en",
    limit: Annotated[int, Query(ge=1, le=50)] = 5,
) -> EducationSearchResults:
    """The sections that best answer ``q``, best first (the same answer as the CLI)."""
    content.check_language(lang)
    return EducationSearchResults(
        results=[EducationSearchResult(**r.as_dict()) for r in search_library(q, lang, limit)]
    )


@router.get(
    "/education/pages/{page_id}/handout.pdf",
    response_class=Response,
    responses={200: {"content": {"application/pdf": {}}, "description": "A printable PDF handout"}},
)
def handout(
    page_id: PageId, actor: PublicActor, lang: Lang = "en", paper: Annotated[Paper, Query()] = "letter"
) -> Response:
    """The page as a printable PDF handout."""
    page = content.get_page(page_id, lang, fallback=True)
    pdf = library_handout_pdf(page.id, page.language, paper=paper)
    return attachment(pdf, PDF, f"mild-{page.id}-{page.language}.pdf")
