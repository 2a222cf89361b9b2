"""The coordinator's day view (issue 18): ``/schedule?date=YYYY-MM-DD`` (default today, clinic time), who is
coming and what is still open for each; coordinators and clinicians see their clinic, admins choose one
(``&clinic=ID``). The rules live in services/schedule_day.py."""

from __future__ import annotations

from datetime import date, timedelta

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response

from mildpath.domain.errors import InvalidInput
from mildpath.services import clock
from mildpath.services import schedule_day as svc
from mildpath.web.deps import ScheduleDesk, SessionDep
from mildpath.web.i18n import N_
from mildpath.web.pages._common import render

router = APIRouter(include_in_schema=False)

NAV = {"staff": [{"href": "/schedule", "label": N_("Schedule"), "blurb": "Who is coming today, and what is open"}]}
KIND_LABELS = {"evaluation": "Evaluation", "procedure": "Procedure", "follow_up": "Follow-up"}


@router.get("/schedule")
def schedule_day(
    request: Request, actor: ScheduleDesk, session: SessionDep,
    day: str = Query(default="", alias="date", max_length=10), clinic: int | None = Query(default=None, ge=1,
                                                                                           le=2_147_483_647),
) -> Response:
    today = clock.today()
    try:
        chosen = date.fromisoformat(day) if day else today
    except ValueError:
        raise InvalidInput("date: a day as YYYY-MM-DD", field="date", value=day) from None
    view = svc.day_view(session, actor, chosen, today=today, clinic_id=clinic)
    return render(request, "schedule/day.html", {
        "view": view, "kinds": KIND_LABELS, "previous": (chosen - timedelta(days=1)).isoformat(),
        "next": (chosen + timedelta(days=1)).isoformat(),
    })
