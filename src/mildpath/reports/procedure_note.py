"""Printable procedure-day documents: the procedure note (for the chart) and the discharge instructions (for the
patient), as HTML and as PDF.

HTML comes from Jinja2 templates in ``reports/templates/procedure/`` (autoescaped: names and free text are data);
PDF from WeasyPrint, imported inside the PDF functions so that importing this module stays light. Every
patient-facing sentence of the discharge instructions comes from ``content/procedure.yaml`` with its sources
(procedure overview "Recovery" and the post-procedure warning signs of clinical reference §4.5).
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime
from functools import lru_cache
from pathlib import Path

import jinja2

from mildpath.content.procedure import patient_texts, procedure_code
from mildpath.content.procedure import policies as load_policies
from mildpath.content.sources import source
from mildpath.domain.procedure import (
    DischargeReadiness,
    ItemStatus,
    NeuroCheck,
    NeuroStatus,
    ProcedureDay,
    ProcedurePolicies,
    Walking,
    describe_levels,
    evaluate_checklist,
    evaluate_discharge,
    validate_procedure_day,
)
from mildpath.domain.sources import Source
from mildpath.reports._templates import template_env
from mildpath.reports.pdf import printed

TEMPLATES = Path(__file__).resolve().parent / "templates" / "procedure"

_STATUS_LABEL = {ItemStatus.DONE: "done", ItemStatus.OPEN: "OPEN", ItemStatus.NOT_APPLICABLE: "not applicable"}
_WALKING_LABEL = {Walking.AS_BEFORE: "as before", Walking.WITH_HELP: "with help", Walking.NOT_YET: "not yet"}


@lru_cache(maxsize=1)
def _env() -> jinja2.Environment:
    return template_env(
        TEMPLATES,
        fmt_time=_fmt_time,
        fmt_clock=lambda dt: dt.strftime("%H:%M"),
        yes_no=_yes_no,
        legs=_legs,
        status_label=_STATUS_LABEL,
        walking_label=_WALKING_LABEL,
    )


def _css() -> str:
    return (TEMPLATES / "_style.css").read_text(encoding="utf-8")


def _fmt_time(moment: datetime) -> str:
    """``2025-03-10 08:30 (+01:00)``: local clock time with its offset, so a printed note is unambiguous."""
    offset = moment.strftime("%z")
    return f"{moment:%Y-%m-%d %H:%M} ({offset[:3]}:{offset[3:]})" if offset else f"{moment:%Y-%m-%d %H:%M}"


def _yes_no(value: bool | None, missing: str = "not recorded") -> str:
    return missing if value is None else ("yes" if value else "no")


def _legs(neuro: NeuroCheck | None) -> str:
    """``L ok / R weaker, numb``: each leg against before the procedure; ``?`` marks an unchecked aspect."""
    if neuro is None:
        return ""

    def one(strength: NeuroStatus | None, sensation: NeuroStatus | None) -> str:
        if strength is NeuroStatus.AS_BEFORE and sensation is NeuroStatus.AS_BEFORE:
            return "ok"
        words = []
        for value, worse, name in ((strength, "weaker", "strength"), (sensation, "numb", "feeling")):
            if value is None:
                words.append(f"{name} ?")
            elif value is NeuroStatus.WORSE:
                words.append(worse)
        return ", ".join(words)

    return f"L {one(neuro.left.strength, neuro.left.sensation)} / R {one(neuro.right.strength, neuro.right.sensation)}"


def _sources(ids: Iterable[str]) -> list[Source]:
    return [source(sid) for sid in dict.fromkeys(ids)]


def procedure_note_html(
    day: ProcedureDay, *, patient: str, today: date, policies: ProcedurePolicies | None = None
) -> str:
    """The procedure note as a standalone HTML document.

    Validates the day first: an invalid day raises ``InvalidRecord`` (a note is never printed from a broken
    record). The checklist is evaluated as of ``today``; plausibility warnings are printed, not hidden.
    """
    pol = policies or load_policies()
    warnings = validate_procedure_day(day, today=today, policies=pol)
    record = day.record
    checklist = (
        evaluate_checklist(day.checklist, record.procedure_date, today, policy=pol.checklist)
        if day.checklist is not None
        else None
    )
    discharge_eval = None
    if day.readiness is not None or day.observations or day.discharge is not None:
        readiness = day.readiness or DischargeReadiness()
        discharge_eval = evaluate_discharge(day.observations, readiness, policy=pol.discharge)
    cited: list[str] = list(procedure_code().sources)
    cited += [sid for item in (checklist.items if checklist else ()) for sid in item.sources]
    cited += [sid for w in warnings for sid in w.sources]
    cited += [
        sid for c in (discharge_eval.criteria + discharge_eval.alerts if discharge_eval else ()) for sid in c.sources
    ]
    if day.adverse_events or day.reinterventions:
        cited += [sid for c in pol.events.adverse_event_types for sid in c.sources]
    return (
        _env()
        .get_template("note.html")
        .render(
            css=_css(),
            patient=patient,
            today=today,
            record=record,
            code=procedure_code(),
            body_sites=describe_levels(record, pol.record),
            rp=pol.record,
            ep=pol.events,
            checklist=checklist,
            start_override=day.start_override,
            warnings=warnings,
            observations=sorted(day.observations, key=lambda o: o.at),
            discharge_eval=discharge_eval,
            discharge=day.discharge,
            adverse_events=day.adverse_events,
            reinterventions=day.reinterventions,
            sources=_sources(cited),
        )
    )


def discharge_instructions_html(
    *, patient: str, procedure_date: date | None = None, phone: str = "", language: str = "en"
) -> str:
    """The patient's discharge instructions as a standalone HTML document, in plain words, from cited content,
    in ``language`` (``en`` or ``es``: every sentence of the content has its Spanish sibling)."""
    texts = patient_texts()
    cited = [sid for sec in texts.discharge_instructions for s in sec.sentences for sid in s.sources]
    cited += [sid for sec in texts.discharge_instructions if sec.action for sid in sec.action.sources]
    return (
        _env()
        .get_template("discharge.html")
        .render(
            css=_css(),
            patient=patient,
            procedure_date=procedure_date,
            phone=phone,
            sections=texts.discharge_instructions,
            sources=_sources(cited),
            language="es" if language == "es" else "en",
            words=texts.sheet_words(language),
        )
    )



procedure_note_pdf = printed(procedure_note_html, base_url=TEMPLATES)


discharge_instructions_pdf = printed(discharge_instructions_html, base_url=TEMPLATES)
