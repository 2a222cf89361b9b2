"""The outcomes registry dashboard (staff) and a patient's own outcomes on their chart (issue 8).

``GET /outcomes`` shows the same report (``OutcomesReport``) as ``GET /api/v1/outcomes`` and
``mildpath report outcomes --json`` (``services.outcomes.outcomes_report``). The filter form works without
JavaScript (a plain GET); with HTMX it swaps only the results (``HX-Request``) and keeps the URL in step, so a
filtered view can be bookmarked or shared.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response

from mildpath.domain.errors import InvalidInput
from mildpath.reports.outcomes_pdf import fmt_ci, fmt_num, fmt_pct
from mildpath.services import outcomes as svc
from mildpath.services.clock import today
from mildpath.services.outcomes_models import OutcomesReport
from mildpath.web.deps import PatientId, PatientRecordActor, SessionDep, SettingsDep, Staff
from mildpath.web.i18n import negotiate, set_language
from mildpath.web.pages import _outcomes_charts as charts
from mildpath.web.pages._common import render

router = APIRouter(include_in_schema=False)

NAV = {
    "staff": [
        {
            "href": "/outcomes",
            "label": "Outcomes",
            "blurb": "The clinic's results with confidence intervals, beside the published trials",
        }
    ]
}
PATIENT_TABS = [
    {
        "href": "/patients/{id}/outcomes",
        "label": "Outcomes",
        "blurb": "Scores over time since the procedure, change from baseline and responder status",
        "roles": ("patient", "clinician", "admin"),
    }
]
FILTER_FIELDS = ("since", "until", "operator", "level", "levels_treated", "age_band")
BAR_DEFINITIONS = ("odi-points", "odi-relative", "nprs-back", "nprs-leg", "zcq-composite")
FORMAT = {"num": fmt_num, "ci": fmt_ci, "pct": fmt_pct}


def _query(filters: dict[str, str]) -> str:
    from urllib.parse import urlencode

    return urlencode({k: v for k, v in filters.items() if v})


def dashboard_context(report: OutcomesReport) -> dict[str, Any]:
    """Everything the results partial needs besides the report: chart geometry and formatters."""
    return {
        "r": report,
        "f": FORMAT,
        "measures": {m.id: m for m in report.measures},
        "follow": [t for t in report.timepoints if t.after_procedure],
        "trajectory_charts": [charts.trajectory(report, m) for m in svc.CHANGE_MEASURES],
        "bar_chart": charts.responder_bars(report, BAR_DEFINITIONS),
        "km_chart": charts.survival(report, "any"),
    }


@router.get("/outcomes")
def dashboard(request: Request, actor: Staff, session: SessionDep, settings: SettingsDep) -> Response:
    values = {k: request.query_params.get(k, "")[:20] for k in FILTER_FIELDS}
    partial = request.headers.get("HX-Request") == "true"
    choices = svc.filter_choices(session, actor)
    try:
        filters = svc.parse_filters(values)
    except InvalidInput as exc:
        failed = {"values": values, "choices": choices, "error": exc.message, "report": None, "query": ""}
        template = "outcomes/_results.html" if partial else "outcomes/dashboard.html"
        return render(request, template, failed, status_code=422)
    report = svc.outcomes_report(session, actor, filters, today=today(), declared=settings.licensed_wording_declared)
    context: dict[str, Any] = {
        "values": values,
        "choices": choices,
        "error": None,
        "report": report,
        "query": _query(values),
        **dashboard_context(report),
    }
    return render(request, "outcomes/_results.html" if partial else "outcomes/dashboard.html", context)


@router.get("/outcomes/report.pdf")
def dashboard_pdf(request: Request, actor: Staff, session: SessionDep, settings: SettingsDep) -> Response:
    """The registry report PDF for the dashboard's current filters."""
    values = {k: request.query_params.get(k, "")[:20] for k in FILTER_FIELDS}
    pdf = svc.outcomes_report_pdf(
        session, actor, svc.parse_filters(values), today=today(), declared=settings.licensed_wording_declared
    )
    return Response(
        pdf,
        media_type="application/pdf",
        headers={"Content-Disposition": f'attachment; filename="outcomes-{today().isoformat()}.pdf"'},
    )


@router.get("/outcomes/report.json")
def dashboard_json(request: Request, actor: Staff, session: SessionDep, settings: SettingsDep) -> Response:
    """The registry report JSON for the dashboard's current filters, as a download that works with the browser's
    session (``/api/v1/outcomes`` takes a bearer token; this is the same dict)."""
    import json

    values = {k: request.query_params.get(k, "")[:20] for k in FILTER_FIELDS}
    report = svc.outcomes_report(
        session, actor, svc.parse_filters(values), today=today(), declared=settings.licensed_wording_declared
    )
    return Response(
        json.dumps(report.model_dump(mode="json"), ensure_ascii=False, indent=2),
        media_type="application/json",
        headers={"Content-Disposition": f'attachment; filename="outcomes-{today().isoformat()}.json"'},
    )


@router.get("/patients/{patient_id}/outcomes")
def patient_page(request: Request, patient_id: PatientId, actor: PatientRecordActor, session: SessionDep) -> Response:
    outcomes = svc.patient_outcomes(session, actor, patient_id, today=today())
    set_language(negotiate(request))  # the charts' words are built before the page renders
    return render(
        request,
        "outcomes/patient.html",
        {
            "o": outcomes,
            "f": FORMAT,
            "charts": charts.patient_lines(outcomes),
            "patient_id": patient_id,
            "procedure_day": date.fromisoformat(outcomes.procedure_date) if outcomes.procedure_date else None,
        },
    )


@router.get("/patients/{patient_id}/outcomes/chart.png")
def patient_chart_png(patient_id: PatientId, actor: PatientRecordActor, session: SessionDep) -> Response:
    """The patient's lines as a PNG (for printing or a letter)."""
    from mildpath.reports.plots import patient_lines

    outcomes = svc.patient_outcomes(session, actor, patient_id, today=today())
    return Response(patient_lines(outcomes, "png"), media_type="image/png")
