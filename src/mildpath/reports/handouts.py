"""Printable patient handouts: one education page, or a personalised discharge packet, as PDF.

HTML is built here from the education library (:mod:`mildpath.content.education`) and printed by WeasyPrint,
imported lazily inside :func:`mildpath.reports.pdf.html_to_pdf` so that importing this module (or the web app)
stays light.

Print layout: US Letter by default or A4; 12 pt sans-serif (Liberation Sans or DejaVu Sans, falling back to
any sans-serif); "Page N of M" at the foot of every page; headings kept with their text; the emergency signs
in a ruled box that survives black-and-white printing. Glossary pop-ups are hidden on paper; the terms used
are listed under "Words to know" instead.
"""

from __future__ import annotations

import html
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any, Literal

from mildpath.content.education import format_date, get_page, glossary_terms_in, render, render_section
from mildpath.content.sources import bibliography
from mildpath.domain.errors import InvalidInput
from mildpath.reports.pdf import printed

Paper = Literal["letter", "a4"]
PAPER_SIZES: dict[str, str] = {"letter": "Letter", "a4": "A4"}

_LABELS: dict[str, dict[str, str]] = {
    "en": {
        "kicker": "Patient information · the mild procedure",
        "words": "Words to know",
        "sources": "Where this information comes from",
        "reviewed": "Last reviewed",
        "disclaimer": "This handout gives general information. It does not replace advice from your care team.",
        "page": "Page",
        "of": "of",
        "packet_title": "Going home after mild",
        "packet_kicker": "Your discharge packet",
        "name": "Name",
        "date": "Procedure date",
        "phone": "Clinic phone",
        "clinic": "Clinic",
        "plan": "Your recovery plan",
        "plan_none": "Your clinic will give you a plan with dates for calls, visits and short forms.",
        "when": "When",
        "what": "What",
        "help": "When to get help",
        "home": "At home",
        "more": "More answers",
    },
    "es": {
        "kicker": "Información para pacientes · el procedimiento mild",
        "words": "Palabras que debe conocer",
        "sources": "De dónde viene esta información",
        "reviewed": "Última revisión",
        "disclaimer": "Esta hoja da información general. No reemplaza los consejos de su equipo médico.",
        "page": "Página",
        "of": "de",
        "packet_title": "Volver a casa después de mild",
        "packet_kicker": "Sus instrucciones de alta",
        "name": "Nombre",
        "date": "Fecha del procedimiento",
        "phone": "Teléfono de la clínica",
        "clinic": "Clínica",
        "plan": "Su plan de recuperación",
        "plan_none": "Su clínica le dará un plan con fechas para llamadas, visitas y formularios cortos.",
        "when": "Cuándo",
        "what": "Qué",
        "help": "Cuándo pedir ayuda",
        "home": "En casa",
        "more": "Más respuestas",
    },
}

# What the discharge packet prints, in order: (page id, section anchors). Warning signs come first.
PACKET_PARTS: tuple[tuple[str, str, tuple[str, ...]], ...] = (
    ("help", "side-effects", ("emergency", "call-today", "normal")),
    ("home", "recovery", ("first-days", "lifting", "wound", "therapy", "improvement")),
    ("more", "blood-thinners", ("timing",)),
    ("more", "faq", ("driving",)),
)

PRINT_CSS = """
@page {
  size: %(size)s;
  margin: 20mm 18mm 22mm 18mm;
  @top-left { content: "%(kicker)s"; font-size: 9pt; color: #444; }
  @bottom-center { content: "%(page)s " counter(page) " %(of)s " counter(pages); font-size: 10pt; color: #222; }
}
@page :first { @top-left { content: none; } }
html { font-family: "Liberation Sans", "DejaVu Sans", Arial, Helvetica, sans-serif; font-size: 12pt;
       line-height: 1.4; color: #111; }
body { margin: 0; }
h1 { font-size: 22pt; line-height: 1.2; margin: 0 0 6pt 0; }
h2 { font-size: 15pt; margin: 16pt 0 4pt 0; padding-bottom: 2pt; border-bottom: 0.75pt solid #777;
     break-after: avoid; }
h3 { font-size: 13pt; margin: 12pt 0 4pt 0; break-after: avoid; }
p, li { orphans: 3; widows: 3; }
li { margin: 2pt 0; break-inside: avoid; }
.kicker { font-size: 10pt; text-transform: uppercase; letter-spacing: 0.06em; color: #444; margin: 0 0 4pt 0; }
.summary { font-size: 13.5pt; margin: 0 0 8pt 0; }
a { color: inherit; text-decoration: none; }
dfn.glossary-term { font-style: normal; border-bottom: 1pt dotted #555; }
.glossary-definition { display: none; }
section#emergency { border: 2pt solid #000; padding: 2pt 10pt 6pt 10pt; margin-top: 12pt; break-inside: avoid; }
section#emergency h2 { border-bottom: none; margin-top: 6pt; }
.facts { border: 1pt solid #555; padding: 8pt 12pt; margin: 8pt 0 12pt 0; break-inside: avoid; }
.facts dt { font-weight: bold; float: left; width: 45%%; }
.facts dd { margin: 0 0 4pt 45%%; }
table.plan { border-collapse: collapse; width: 100%%; margin: 4pt 0 8pt 0; }
table.plan th, table.plan td { border: 0.75pt solid #777; padding: 4pt 6pt; text-align: left; vertical-align: top; }
table.plan tr { break-inside: avoid; }
.words dt { font-weight: bold; margin-top: 4pt; break-after: avoid; }
.words dd { margin: 0 0 0 12pt; }
footer { margin-top: 12pt; font-size: 9.5pt; line-height: 1.3; color: #333; break-inside: avoid; }
footer p { margin: 0 0 3pt 0; }
footer h2 { font-size: 10.5pt; border-bottom: none; margin: 8pt 0 2pt 0; padding: 0; }
footer ol { margin: 0; padding-left: 16pt; }
"""


@dataclass(frozen=True)
class _Doc:
    language: str
    title: str
    kicker: str
    summary: str
    body: str
    words: tuple[tuple[str, str], ...]
    source_ids: tuple[str, ...]
    reviewed: date | None


def _labels(language: str) -> dict[str, str]:
    return _LABELS.get(language, _LABELS["en"])


def _check_paper(paper: str) -> str:
    try:
        return PAPER_SIZES[paper.lower()]
    except KeyError:
        raise InvalidInput(f"paper must be one of {', '.join(PAPER_SIZES)}, not {paper!r}", field="paper") from None


def _css(language: str, paper: str) -> str:
    labels = _labels(language)
    values = {"size": _check_paper(paper), "kicker": labels["kicker"], "page": labels["page"], "of": labels["of"]}
    return PRINT_CSS % {k: v.replace('"', "'") for k, v in values.items()}


def _document(doc: _Doc, paper: str) -> str:
    labels = _labels(doc.language)
    e = html.escape
    words = ""
    if doc.words:
        items = "".join(f"<dt>{e(term)}</dt><dd>{e(definition)}</dd>" for term, definition in doc.words)
        words = f'<section class="words"><h2>{e(labels["words"])}</h2><dl>{items}</dl></section>'
    sources = "".join(f"<li>{e(bibliography()[sid].title)}</li>" for sid in doc.source_ids)
    reviewed = (
        f"<p>{e(labels['reviewed'])}: {e(format_date(doc.reviewed, doc.language, weekday=False))}.</p>"
        if doc.reviewed
        else ""
    )
    return f"""<!doctype html>
<html lang="{e(doc.language)}">
<head><meta charset="utf-8"><title>{e(doc.title)}</title><style>{_css(doc.language, paper)}</style></head>
<body>
<header><p class="kicker">{e(doc.kicker)}</p><h1>{e(doc.title)}</h1>
{f'<p class="summary">{e(doc.summary)}</p>' if doc.summary else ""}</header>
<main>
{doc.body}
{words}
</main>
<footer>{reviewed}<p>{e(labels["disclaimer"])}</p><h2>{e(labels["sources"])}</h2><ol>{sources}</ol></footer>
</body>
</html>
"""


def page_handout_html(
    page_id: str, language: str = "en", *, facts: Mapping[str, Any] | None = None, paper: Paper = "letter"
) -> str:
    """The printable HTML of one education page (placeholders filled from ``facts`` when given).

    A page not yet translated into ``language`` prints in English; an unknown id raises
    :class:`~mildpath.content.education.UnknownPage`.
    """
    page = get_page(page_id, language, fallback=True)
    doc = _Doc(
        language=page.language,
        title=page.title,
        kicker=_labels(page.language)["kicker"],
        summary=page.summary,
        body=render(page, facts),
        words=_words([(page.text, page.language)]),
        source_ids=page.sources,
        reviewed=page.last_reviewed,
    )
    return _document(doc, paper)


page_handout_pdf = printed(page_handout_html)


def discharge_packet_html(
    *,
    patient_name: str,
    procedure_date: date | str,
    clinic_phone: str,
    milestones: Iterable[tuple[date | str, str]] = (),
    clinic_name: str | None = None,
    language: str = "en",
    paper: Paper = "letter",
) -> str:
    """The personalised discharge packet as printable HTML.

    All personal data comes in as plain values (the caller has already checked access to the patient):
    ``milestones`` are ``(when, what)`` pairs from the recovery plan, ``when`` a date or text. The packet holds
    the warning signs first, then the patient's plan and the recovery advice, with sources.
    """
    if not patient_name.strip() or not clinic_phone.strip():
        raise InvalidInput(
            "the discharge packet needs the patient's name and the clinic's phone number",
            field="patient_name" if not patient_name.strip() else "clinic_phone",
        )
    labels = _labels(language)
    facts = {"procedure_date": procedure_date, "clinic_phone": clinic_phone, "clinic_name": clinic_name}
    e = html.escape
    details = [
        (labels["name"], patient_name),
        (labels["date"], _when(procedure_date, language)),
        (labels["phone"], clinic_phone),
    ]
    if clinic_name:
        details.append((labels["clinic"], clinic_name))
    parts = ['<dl class="facts">' + "".join(f"<dt>{e(k)}</dt><dd>{e(v)}</dd>" for k, v in details) + "</dl>"]
    printed: list[tuple[str, str]] = []
    source_ids: list[str] = []
    current_group = ""
    for group, page_id, anchors in PACKET_PARTS:
        page = get_page(page_id, language, fallback=True)
        if group != current_group:
            parts.append(f'<h2 class="group">{e(labels[group])}</h2>')
            current_group = group
            if group == "home":
                parts.append(_plan_table(list(milestones), language))
        for anchor in anchors:
            parts.append(render_section(page, anchor, facts).replace("<h2>", "<h3>").replace("</h2>", "</h3>"))
            section = page.section(anchor)
            printed.append((f"{section.heading}. {section.text}", page.language))
            source_ids += [s for s in section.sources if s not in source_ids]
    doc = _Doc(
        language=language,
        title=labels["packet_title"],
        kicker=labels["packet_kicker"],
        summary="",
        body="\n".join(parts),
        words=_words(printed),
        source_ids=tuple(source_ids),
        reviewed=None,
    )
    return _document(doc, paper)


discharge_packet_pdf = printed(discharge_packet_html)



def _when(value: date | str, language: str) -> str:
    return format_date(value, language) if isinstance(value, date) else " ".join(str(value).split())


def _plan_table(milestones: Sequence[tuple[date | str, str]], language: str) -> str:
    labels = _labels(language)
    e = html.escape
    heading = f"<h3>{e(labels['plan'])}</h3>"
    if not milestones:
        return f"{heading}<p>{e(labels['plan_none'])}</p>"
    rows = "".join(
        f"<tr><td>{e(_when(when, language))}</td><td>{e(' '.join(str(what).split()))}</td></tr>"
        for when, what in milestones
    )
    return (
        f'{heading}<table class="plan"><thead><tr><th scope="col">{e(labels["when"])}</th>'
        f'<th scope="col">{e(labels["what"])}</th></tr></thead><tbody>{rows}</tbody></table>'
    )


def _words(texts: Iterable[tuple[str, str]]) -> tuple[tuple[str, str], ...]:
    """(term, definition) of every glossary term found in the given (text, language) pairs, alphabetical."""
    seen: dict[str, tuple[str, str]] = {}
    for text, language in texts:
        for entry in glossary_terms_in(text, language):
            seen.setdefault(entry.id, (entry.term, entry.definition))
    return tuple(sorted(seen.values(), key=lambda item: item[0].lower()))
