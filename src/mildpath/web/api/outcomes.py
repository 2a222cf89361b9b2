"""/api/v1/outcomes: the registry report as JSON (the same ``OutcomesReport`` as the dashboard and
``mildpath report outcomes --json``) or as PDF, and one patient's own outcomes."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query
from fastapi.responses import Response

from mildpath.domain.inputs import IsoDate
from mildpath.domain.outcomes import AgeBand
from mildpath.services import outcomes as svc
from mildpath.services.clock import today
from mildpath.services.outcomes_models import OutcomesReport, PatientOutcomes
from mildpath.web.deps import PatientId, PatientRecordActor, SessionDep, SettingsDep, Staff

router = APIRouter(prefix="/api/v1", tags=["outcomes"])

Since = Annotated[IsoDate | None, Query(description="First procedure date included (YYYY-MM-DD)")]
Until = Annotated[IsoDate | None, Query(description="Last procedure date included (YYYY-MM-DD)")]
Operator = Annotated[int | None, Query(ge=1, le=2_147_483_647, description="Operator's user id")]
Level = Annotated[
    str | None,
    Query(
        max_length=8,
        description="A level treated, such as L4-L5",
        json_schema_extra={"enum": [*svc.level_choices(), None]},
    ),
]
LevelsTreated = Annotated[int | None, Query(ge=1, le=5, description="Number of levels treated")]
Band = Annotated[AgeBand | None, Query(description="Age band at the procedure")]


def _filters(
    since: Since = None,
    until: Until = None,
    operator: Operator = None,
    level: Level = None,
    levels_treated: LevelsTreated = None,
    age_band: Band = None,
) -> svc.OutcomeFilters:
    """The report's filters from the query (the same for the JSON and the PDF)."""
    return svc.parse_filters(
        {
            "since": since,
            "until": until,
            "operator": operator,
            "level": level,
            "levels_treated": levels_treated,
            "age_band": age_band,
        }
    )


Filters = Annotated[svc.OutcomeFilters, Depends(_filters)]


@router.get("/outcomes", response_model=OutcomesReport)
def outcomes(actor: Staff, session: SessionDep, settings: SettingsDep, filters: Filters) -> OutcomesReport:
    """The outcomes registry report (staff): cohort, follow-up, change from baseline with 95% CIs, responders,
    trajectories, discharge, adverse events, reinterventions (Kaplan-Meier) and the published benchmarks."""
    return svc.outcomes_report(session, actor, filters, today=today(), declared=settings.licensed_wording_declared)


@router.get(
    "/outcomes/report.pdf",
    response_class=Response,
    responses={200: {"content": {"application/pdf": {}}, "description": "The registry report as a PDF"}},
)
def outcomes_pdf(actor: Staff, session: SessionDep, settings: SettingsDep, filters: Filters) -> Response:
    """The same report as a PDF of several pages with charts and the benchmark table."""
    pdf = svc.outcomes_report_pdf(session, actor, filters, today=today(), declared=settings.licensed_wording_declared)
    return Response(
        pdf,
        media_type="application/pdf",
        headers={"Content-Disposition": f'attachment; filename="outcomes-{today().isoformat()}.pdf"'},
    )


@router.get("/patients/{patient_id}/outcomes", response_model=PatientOutcomes)
def patient_outcomes(patient_id: PatientId, actor: PatientRecordActor, session: SessionDep) -> PatientOutcomes:
    """One patient's scores per timepoint of their latest procedure, with responder calls (the patient or staff)."""
    return svc.patient_outcomes(session, actor, patient_id, today=today())
