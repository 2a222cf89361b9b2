"""The registry report as a printable document: HTML (Jinja2, autoescaped) rendered to PDF by WeasyPrint.

Input is the report of :func:`mildpath.services.outcomes.outcomes_report` (an ``OutcomesReport``, read by
attribute; not imported, the reports layer sits below services), so the PDF shows exactly the numbers of the JSON
and the dashboard. Charts come from :mod:`mildpath.reports.plots` as PNG, embedded as data
URIs. WeasyPrint and matplotlib are imported inside the functions that need them.

Layout: page 1, the cohort and the benchmarks beside the clinic's figures; page 2, trajectories and change from
baseline; page 3, responders and follow-up; page 4, reinterventions (Kaplan-Meier), adverse events, discharge,
methods and sources.
"""

from __future__ import annotations

import base64
from collections.abc import Mapping
from functools import lru_cache
from pathlib import Path
from typing import Any

import jinja2

from mildpath.reports._templates import template_env

#: ``services.outcomes_models.OutcomesReport``.
Report = Any
TEMPLATES = Path(__file__).resolve().parent / "templates" / "outcomes"


def fmt_num(value: float | None, digits: int = 2, signed: bool = False) -> str:
    """A number for print: the minus sign as U+2212, ``—`` for nothing.

    >>> fmt_num(-13.05), fmt_num(None), fmt_num(4.5, 1, signed=True)
    ('−13.05', '—', '+4.5')
    """
    if value is None:
        return "\u2014"
    text = f"{value:+.{digits}f}" if signed else f"{value:.{digits}f}"
    return text.replace("-", "\u2212")


def _field(row: Any, key: str, default: Any = None) -> Any:
    """A field of a report row: a typed row of ``OutcomesReport`` (an attribute) or its JSON (a key)."""
    if isinstance(row, Mapping):
        return row.get(key, default)
    return getattr(row, key, default)


def fmt_ci(row: Any, key: str = "mean", digits: int = 2, unit: str = "") -> str:
    """``value (low to high)`` from a report row; ``value`` alone when there is no interval."""
    value = _field(row, key)
    if value is None:
        return "\u2014"
    text = fmt_num(value, digits) + unit
    low, high = _field(row, "ci_low"), _field(row, "ci_high")
    if low is None or high is None:
        return text
    return f"{text} ({fmt_num(low, digits)} to {fmt_num(high, digits)})"


def fmt_pct(row: Any) -> str:
    """``58.3% (31.9 to 80.7), 7/12`` from a proportion row; ``—`` with ``0/0``."""
    if _field(row, "percent") is None:
        return f"\u2014 (0/{_field(row, 'n', 0)})"
    return f"{fmt_ci(row, 'percent', 1, '%')}, {_field(row, 'events')}/{_field(row, 'n')}"


@lru_cache(maxsize=1)
def _env() -> jinja2.Environment:
    return template_env(TEMPLATES, num=fmt_num, ci=fmt_ci, pct=fmt_pct)


def _png(data: bytes) -> str:
    return "data:image/png;base64," + base64.b64encode(data).decode("ascii")


def charts(report: Report) -> dict[str, str]:
    """The report's charts as PNG data URIs (``trajectories``, ``responders``, ``survival``)."""
    from mildpath.reports import plots

    return {
        "trajectories": _png(plots.trajectories_grid(report)),
        "responders": _png(plots.responder_bars(report)),
        "survival": _png(plots.survival_chart(report, "any")),
    }


def report_html(report: Report, *, with_charts: bool = True) -> str:
    """The report as a standalone HTML document (charts embedded unless ``with_charts`` is false)."""
    measures = {m.id: m for m in report.measures}
    sources = {s.id: s for b in report.benchmarks for s in b.sources}
    return (
        _env()
        .get_template("report.html")
        .render(
            r=report,
            measures=measures,
            sources=list(sources.values()),
            charts=charts(report) if with_charts else {},
        )
    )


def report_pdf(report: Report) -> bytes:
    """The report as PDF bytes (WeasyPrint)."""
    from mildpath.reports.pdf import html_to_pdf, printer

    printer()  # without WeasyPrint, say so before the charts are drawn
    return html_to_pdf(report_html(report), base_url=TEMPLATES)
