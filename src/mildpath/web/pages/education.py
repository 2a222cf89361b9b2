"""The patient education library on the web (issue 7).

Public, no login: the library index (``/learn``), each page with its sections and anchors (``/learn/{page}``),
its printable handout (``/learn/{page}/handout.pdf``), the glossary (``/learn/glossary``) and "Ask a question"
(``/learn/search?q=``). Search is the one ranker of the library (contracts §2): the in-memory SQLite FTS5 index
built from the content files (:mod:`mildpath.content.education_search`), on SQLite and PostgreSQL alike.

Personal, login needed: ``/me/learn`` takes a patient to ``/patients/{id}/learn``, the pages for their stage
with their own facts (procedure date, recovery plan milestones, clinic phone), their personalised handouts and
their discharge packet. Staff reach the same page from the patient's chart (the "Learn" tab).

Language: ``?lang=`` wins (and is remembered in a cookie), then the cookie set by the small language form, then
the signed-in patient's preferred language from their record, then English. A page not yet translated shows in
English with a note.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any
from urllib.parse import quote, urlparse

from fastapi import APIRouter, Form, Path, Query, Request
from fastapi.responses import Response
from sqlalchemy.orm import Session

from mildpath.content import education as content
from mildpath.content.education_search import search as search_library
from mildpath.content.sources import bibliography
from mildpath.domain.errors import InvalidInput
from mildpath.reports.handouts import Paper
from mildpath.services import clock
from mildpath.services import education as svc
from mildpath.services.access import Actor
from mildpath.web.deps import PatientId, PatientRecordActor, PatientSelf, PublicActor, PublicForm, SessionDep
from mildpath.web.downloads import PDF, attachment
from mildpath.web.pages._common import redirect, render

router = APIRouter(include_in_schema=False)

NAV = {
    "public": [
        {"href": "/learn", "label": "Learn about mild", "blurb": "Plain-language pages about the mild procedure"},
        {"href": "/learn/search", "label": "Ask a question", "blurb": "Type a question and find the answer"},
    ],
    "patient": [
        {"href": "/me/learn", "label": "Learn", "blurb": "Pages for where you are in your care, with your dates"},
    ],
}
PATIENT_TABS = [
    {
        "href": "/patients/{id}/learn",
        "label": "Learn",
        "blurb": "Education pages for this stage, with personal dates and the discharge packet",
        "roles": ("patient", "clinician", "admin"),
    },
]

LANG_COOKIE = "mp_lang"
LANG_COOKIE_AGE = 365 * 24 * 3600
PageId = Annotated[str, Path(max_length=80, description="Page id, e.g. recovery")]
Question = Annotated[str, Query(max_length=200)]
LangParam = Annotated[str, Query(max_length=8)]
PaperParam = Annotated[Paper, Query()]
SEARCH_LIMIT = 8

LANGUAGE_NAMES = {"en": "English", "es": "Español"}
STAGE_TITLES = {
    "en": {
        "considering": "Thinking about mild",
        "screened": "After your screening",
        "scheduled": "Getting ready for your procedure",
        "recovery": "Your recovery",
    },
    "es": {
        "considering": "Si está pensando en mild",
        "screened": "Después de su evaluación",
        "scheduled": "Cómo prepararse para su procedimiento",
        "recovery": "Su recuperación",
    },
}
# Interface words of these pages in each library language; the pages' own text comes from the content files.
UI: dict[str, dict[str, str]] = {
    "en": {
        "library": "Learn about mild",
        "intro": "Plain-language pages about the mild procedure for lumbar spinal stenosis: what it is, who it "
        "may help, the procedure day and recovery. Every fact comes from a cited source.",
        "ask": "Ask a question",
        "ask_hint": "For example: when can I lift my grandchild?",
        "search": "Search",
        "results_for": "Best answers for",
        "no_results": "No page answers this yet. Try other words, or ask your care team.",
        "bad_question": "This question holds characters that cannot be searched. Please type it again.",
        "glossary": "Words to know",
        "glossary_intro": "Words used in the pages, explained.",
        "on_this_page": "On this page",
        "handout": "Download a printable handout (PDF)",
        "print": "Print this page",
        "reviewed": "Last reviewed",
        "sources": "Sources",
        "language": "Language",
        "change": "Change",
        "not_translated": "This page is not yet available in your language; it is shown in English.",
        "back": "All pages",
        "my_learning": "My learning",
        "patient_learning": "Learning pages",
        "your_facts": "Your details",
        "procedure_date": "Procedure date",
        "no_date": "Your clinic will tell you the date.",
        "clinic": "Clinic",
        "clinic_phone": "Clinic phone",
        "no_phone": "Use the number your clinic gave you.",
        "plan": "Your check-ups",
        "no_plan": "Your clinic will give you a plan with dates for calls, visits and short forms.",
        "packet": "Download the discharge packet (PDF)",
        "packet_missing_phone": "The discharge packet needs the clinic's phone number, which is not set yet.",
        "for_stage": "Pages for this stage",
        "other_pages": "More pages",
        "my_handout": "Download this page with my details (PDF)",
        "emergency_link": "Signs that need emergency care right away",
    },
    "es": {
        "library": "Aprenda sobre mild",
        "intro": "Páginas en lenguaje sencillo sobre el procedimiento mild para la estenosis espinal lumbar: qué "
        "es, a quién puede ayudar, el día del procedimiento y la recuperación. Cada dato tiene su fuente.",
        "ask": "Haga una pregunta",
        "ask_hint": "Por ejemplo: ¿cuándo puedo cargar a mi nieto?",
        "search": "Buscar",
        "results_for": "Mejores respuestas para",
        "no_results": "Ninguna página responde a esto todavía. Pruebe otras palabras o pregunte a su equipo médico.",
        "bad_question": "Esta pregunta tiene caracteres que no se pueden buscar. Escríbala de nuevo, por favor.",
        "glossary": "Palabras que debe conocer",
        "glossary_intro": "Palabras que usan las páginas, explicadas.",
        "on_this_page": "En esta página",
        "handout": "Descargar una hoja para imprimir (PDF)",
        "print": "Imprimir esta página",
        "reviewed": "Última revisión",
        "sources": "Fuentes",
        "language": "Idioma",
        "change": "Cambiar",
        "not_translated": "Esta página aún no está en su idioma; se muestra en inglés.",
        "back": "Todas las páginas",
        "my_learning": "Mi información",
        "patient_learning": "Páginas de información",
        "your_facts": "Sus datos",
        "procedure_date": "Fecha del procedimiento",
        "no_date": "Su clínica le dirá la fecha.",
        "clinic": "Clínica",
        "clinic_phone": "Teléfono de la clínica",
        "no_phone": "Use el número que le dio su clínica.",
        "plan": "Sus citas de control",
        "no_plan": "Su clínica le dará un plan con fechas para llamadas, visitas y formularios cortos.",
        "packet": "Descargar las instrucciones de alta (PDF)",
        "packet_missing_phone": "Las instrucciones de alta necesitan el teléfono de la clínica, que aún no está.",
        "for_stage": "Páginas para esta etapa",
        "other_pages": "Más páginas",
        "my_handout": "Descargar esta página con mis datos (PDF)",
        "emergency_link": "Señales que necesitan atención de urgencia enseguida",
    },
}


# ------------------------------------------------------------------------------------------ language


def _language(request: Request, session: Session, actor: Actor) -> str:
    """The language to show (see the module docstring); also sets ``request.state.lang`` for ``<html lang>``."""
    known = content.languages()
    chosen = request.query_params.get("lang", "")
    if chosen not in known:
        chosen = request.cookies.get(LANG_COOKIE, "")
    if chosen not in known:
        chosen = svc.preferred_language(session, actor) or content.REFERENCE_LANGUAGE
    request.state.lang = chosen
    return chosen


def _remember(request: Request, response: Response, language: str) -> Response:
    """Keep a language chosen by ``?lang=`` for the next pages (the cookie holds only "en" or "es")."""
    if request.query_params.get("lang") == language and request.cookies.get(LANG_COOKIE) != language:
        _set_lang_cookie(request, response, language)
    return response


def _set_lang_cookie(request: Request, response: Response, language: str) -> None:
    response.set_cookie(
        LANG_COOKIE,
        language,
        max_age=LANG_COOKIE_AGE,
        httponly=True,
        samesite="lax",
        secure=bool(getattr(request.state, "https", False)),
        path="/",
    )


def _safe_next(value: str) -> str:
    """Only paths of this site: the language form must not become an open redirect."""
    if not value.startswith("/") or value.startswith("//") or urlparse(value).netloc or "\\" in value:
        return "/learn"
    return value


@router.post("/learn/language")
def choose_language(
    request: Request,
    actor: PublicForm,
    lang: Annotated[str, Form(max_length=8)] = "",
    next: Annotated[str, Form(max_length=2000)] = "/learn",
) -> Response:
    """The language form: remember the choice in a cookie and go back to the page it was made on."""
    response = redirect(_safe_next(next))
    if lang in content.languages():
        _set_lang_cookie(request, response, lang)
    return response


def _here(request: Request) -> str:
    """This page's path and query without ``lang=``, for the language form to come back to."""
    query = "&".join(f"{quote(k)}={quote(v)}" for k, v in request.query_params.multi_items() if k != "lang")
    return request.url.path + (f"?{query}" if query else "")


def _common(request: Request, language: str, **extra: Any) -> dict[str, Any]:
    return {
        "t": UI[language] if language in UI else UI[content.REFERENCE_LANGUAGE],
        "language": language,
        "languages": [(code, LANGUAGE_NAMES.get(code, code)) for code in content.languages()],
        "here": _here(request),
        **extra,
    }


def _public_url(language: str) -> Callable[[str, str | None], str]:
    def url(page_id: str, anchor: str | None) -> str:
        return f"/learn/{page_id}?lang={language}" + (f"#{anchor}" if anchor else "")

    return url


# ------------------------------------------------------------------------------------------ public library


@router.get("/learn")
def library_index(request: Request, actor: PublicActor, session: SessionDep) -> Response:
    language = _language(request, session, actor)
    listed = content.pages(language, audience="patient")
    response = render(request, "education/index.html", _common(request, language, pages=listed, q=""))
    return _remember(request, response, language)


@router.get("/learn/search")
def library_search(request: Request, actor: PublicActor, session: SessionDep, q: Question = "") -> Response:
    language = _language(request, session, actor)
    error, status = False, 200
    try:
        results = search_library(q, language, SEARCH_LIMIT) if q.strip() else []
    except InvalidInput:  # the rules of every input (a control character): the page again, saying so
        results, error, status = [], True, 422
    response = render(
        request,
        "education/search.html",
        _common(request, language, q=q, results=results, error=error, page_url=_public_url(language)),
        status_code=status,
    )
    return _remember(request, response, language)


@router.get("/learn/glossary")
def library_glossary(request: Request, actor: PublicActor, session: SessionDep) -> Response:
    language = _language(request, session, actor)
    response = render(
        request, "education/glossary.html", _common(request, language, entries=content.glossary(language))
    )
    return _remember(request, response, language)


@router.get("/learn/{page_id}")
def library_page(request: Request, page_id: PageId, actor: PublicActor, session: SessionDep) -> Response:
    language = _language(request, session, actor)
    page = content.get_page(page_id, language, fallback=True)
    response = render(
        request,
        "education/page.html",
        _common(
            request,
            language,
            **_page_context(page, None, _public_url(language)),
            handout_url=f"/learn/{page.id}/handout.pdf?lang={page.language}",
            back_url="/learn",
        ),
    )
    return _remember(request, response, language)


@router.get("/learn/{page_id}/handout.pdf")
def library_handout(
    request: Request, page_id: PageId, actor: PublicActor, session: SessionDep, paper: PaperParam = "letter"
) -> Response:
    language = _language(request, session, actor)
    page = content.get_page(page_id, language, fallback=True)
    pdf = svc.library_handout_pdf(page.id, page.language, paper=paper)
    return _pdf(pdf, f"mild-{page.id}-{page.language}.pdf")


def _pdf(body: bytes, filename: str) -> Response:
    return attachment(body, PDF, filename, private=True)


def _page_context(
    page: content.Page, facts: dict[str, Any] | None, page_url: Callable[[str, str | None], str]
) -> dict[str, Any]:
    return {
        "page": page,
        "body": content.render(page, facts, page_url=page_url),
        "words": content.glossary_terms_used(page),
        "sources": [bibliography()[sid] for sid in page.sources],
        "reviewed": content.format_date(page.last_reviewed, page.language, weekday=False),
    }


# ------------------------------------------------------------------------------------------ personal pages


@router.get("/me/learn")
def my_learning(actor: PatientSelf) -> Response:
    return redirect(f"/patients/{actor.patient_id}/learn")


def _fallback_phone(request: Request) -> str:
    return str(request.app.state.settings.clinic_phone or "")


@router.get("/patients/{patient_id}/learn")
def personal_index(request: Request, patient_id: PatientId, actor: PatientRecordActor, session: SessionDep) -> Response:
    language = _language(request, session, actor)
    profile = svc.view_learning(
        session, actor, patient_id, today=clock.today(), fallback_phone=_fallback_phone(request)
    )
    for_stage = content.pages(language, audience="patient", stage=profile.stage)
    others = [p for p in content.pages(language, audience="patient") if p not in for_stage]
    context = _common(
        request,
        language,
        profile=profile,
        stage_title=STAGE_TITLES.get(language, STAGE_TITLES["en"])[profile.stage],
        procedure_date=content.format_date(profile.procedure_date, language) if profile.procedure_date else "",
        milestones=profile.milestones(language, follow_ups_only=True),
        plan_language=svc.PLAN_LANGUAGE,
        for_stage=for_stage,
        others=others,
        q="",
    )
    return _remember(request, render(request, "education/personal.html", context), language)


@router.get("/patients/{patient_id}/learn/discharge-packet.pdf")
def personal_packet(
    request: Request,
    patient_id: PatientId,
    actor: PatientRecordActor,
    session: SessionDep,
    paper: PaperParam = "letter",
) -> Response:
    language = _language(request, session, actor)
    pdf = svc.discharge_packet_pdf(
        session,
        actor,
        patient_id,
        language=language,
        today=clock.today(),
        fallback_phone=_fallback_phone(request),
        paper=paper,
    )
    return _pdf(pdf, f"discharge-packet-{language}.pdf")


@router.get("/patients/{patient_id}/learn/{page_id}")
def personal_page(
    request: Request, patient_id: PatientId, page_id: PageId, actor: PatientRecordActor, session: SessionDep
) -> Response:
    language = _language(request, session, actor)
    page = content.get_page(page_id, language, fallback=True)
    profile = svc.view_learning(
        session, actor, patient_id, today=clock.today(), fallback_phone=_fallback_phone(request), page=page.id
    )
    base = f"/patients/{patient_id}/learn"

    def url(target: str, anchor: str | None) -> str:
        return f"{base}/{target}?lang={language}" + (f"#{anchor}" if anchor else "")

    context = _common(
        request,
        language,
        **_page_context(page, profile.facts(page.language), url),
        handout_url=f"{base}/{page.id}/handout.pdf?lang={page.language}",
        back_url=base,
        profile=profile,
    )
    return _remember(request, render(request, "education/page.html", context), language)


@router.get("/patients/{patient_id}/learn/{page_id}/handout.pdf")
def personal_handout(
    request: Request,
    patient_id: PatientId,
    page_id: PageId,
    actor: PatientRecordActor,
    session: SessionDep,
    paper: PaperParam = "letter",
) -> Response:
    language = _language(request, session, actor)
    page = content.get_page(page_id, language, fallback=True)
    pdf = svc.personal_handout_pdf(
        session,
        actor,
        patient_id,
        page.id,
        language=page.language,
        today=clock.today(),
        fallback_phone=_fallback_phone(request),
        paper=paper,
    )
    return _pdf(pdf, f"mild-{page.id}-{page.language}.pdf")
