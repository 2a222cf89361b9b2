"""Referral pages (issue 18): the coordinator's worklist, one referral's page and the override report.

The worklist sorts urgent referrals first, then the oldest; it filters by state, source and assigned clinician,
shows the latest screening status, its reasons and what is missing, and the coverage in a column of its own
(beside, never inside, the clinical status). Bulk actions: assign to a clinician, mark contacted. ``/referrals.csv``
exports the list as shown. Staff pages, in English like the patient list.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response
from pydantic import ValidationError
from starlette.datastructures import FormData

from mildpath.domain.errors import Conflict, InvalidInput, PermissionDenied
from mildpath.domain.referrals import CloseReason, State
from mildpath.services import clock
from mildpath.services import referrals as svc
from mildpath.web.deps import (
    RecordId,
    ReferralClinicianForm,
    ReferralWorker,
    ReferralWorkerForm,
    SessionDep,
)
from mildpath.web.downloads import CSV, attachment
from mildpath.web.pages._common import form_errors, redirect, render

router = APIRouter(include_in_schema=False)

NAV = {"staff": [{"href": "/referrals", "label": "Referrals",
                  "blurb": "The coordinator's worklist: from a flagged person to a decision and a date"}]}
FILTERS = ("state", "source", "clinician")


def _filters(state: str, source: str, clinician: str) -> dict[str, Any]:
    return {"state": state, "source": source, "clinician": int(clinician) if clinician.isdigit() else None}


@router.get("/referrals")
def worklist(
    request: Request, actor: ReferralWorker, session: SessionDep,
    state: str = Query("", max_length=200), source: str = Query("", max_length=24),
    clinician: str = Query("", max_length=12),
) -> Response:
    filters = _filters(state, source, clinician)
    rows = svc.list_referrals(session, actor, **filters)
    return render(request, "referrals/list.html", {
        "rows": rows, "filters": {"state": state, "source": source, "clinician": clinician},
        "states": [s.value for s in State], "sources": svc.SOURCE_KINDS,
        "clinicians": svc.clinicians(session, actor), "today": clock.today(), "error": None})


@router.get("/referrals.csv")
def worklist_csv(
    actor: ReferralWorker, session: SessionDep, state: str = Query("", max_length=200),
    source: str = Query("", max_length=24), clinician: str = Query("", max_length=12),
) -> Response:
    text = svc.worklist_csv(session, actor, **_filters(state, source, clinician))
    return attachment(text, CSV, "referrals.csv")


@router.post("/referrals/bulk")
async def bulk(request: Request, actor: ReferralWorkerForm, session: SessionDep) -> Response:
    form = await request.form()
    ids = [int(str(v)) for v in form.getlist("referral_id") if str(v).isdigit()]
    if not ids:
        return redirect("/referrals")
    if form.get("action") not in ("assign", "contacted", None):  # a choice: nothing else is done silently
        raise InvalidInput("action: choose assign or mark contacted", field="action")
    if form.get("action") == "assign":
        who = str(form.get("user_id") or "")
        if who and not who.isdigit():  # never read as "assigned to no one"
            raise InvalidInput("user_id: choose a person from the list", field="user_id")
        svc.assign(session, actor, svc.AssignIn(referral_ids=ids, user_id=int(who) if who.isdigit() else None),
                   now=clock.now())
    else:
        svc.mark_contacted(session, actor, ids, now=clock.now())
    return redirect("/referrals")


def _page(request: Request, session: SessionDep, actor: Any, referral_id: int, errors: list[dict[str, str]] | None
          = None, typed: dict[str, str] | None = None) -> Response:
    referral = svc.view_referral(session, actor, referral_id)
    return render(request, "referrals/detail.html", {
        "r": referral, "errors": errors or [], "today": clock.today(), "channels": svc.CHANNELS,
        "outcomes": svc.OUTCOMES, "next_states": svc.next_states(referral.state),
        "close_reasons": [c.value for c in CloseReason], "may_decide": actor.role == "clinician",
        "may_cover": actor.role in ("coordinator", "admin"), "coverage_form": svc.COVERAGE_CHOICES,
        "prior_auth_steps": PRIOR_AUTH_STEPS, "typed": typed,
        "clinicians": svc.clinicians(session, actor),
        "findings": svc.decision_findings(session, actor, referral_id) if actor.role == "clinician" else []},
        status_code=422 if errors else 200)


@router.get("/referrals/{referral_id:int}")
def referral_page(request: Request, referral_id: RecordId, actor: ReferralWorker, session: SessionDep) -> Response:
    return _page(request, session, actor, referral_id)


def _fields(form: FormData, *names: str) -> dict[str, str]:
    return {n: str(form.get(n, "")).strip() for n in names if str(form.get(n, "")).strip()}


async def _act(request: Request, session: SessionDep, actor: Any, referral_id: int, action: Any) -> Response:
    form = await request.form()
    try:
        action(form)
    except (ValidationError, InvalidInput) as exc:
        typed = {k: str(v) for k, v in form.items() if k != "csrf_token"}  # shown again, nothing lost
        return _page(request, session, actor, referral_id, form_errors(exc), typed)
    except (Conflict, PermissionDenied) as exc:
        typed = {k: str(v) for k, v in form.items() if k != "csrf_token"}
        return _page(request, session, actor, referral_id, [{"field": "form", "message": exc.message}], typed)
    return redirect(f"/referrals/{referral_id}")


@router.post("/referrals/{referral_id:int}/contacts")
async def contact(request: Request, referral_id: RecordId, actor: ReferralWorkerForm, session: SessionDep
                  ) -> Response:
    return await _act(request, session, actor, referral_id, lambda f: svc.log_contact(
        session, actor, referral_id, svc.ContactIn(**_fields(f, "channel", "outcome", "note")), now=clock.now()))


@router.post("/referrals/{referral_id:int}/transitions")
async def move(request: Request, referral_id: RecordId, actor: ReferralWorkerForm, session: SessionDep) -> Response:
    return await _act(request, session, actor, referral_id, lambda f: svc.transition(
        session, actor, referral_id, svc.TransitionIn(**_fields(f, "to", "reason", "text")), now=clock.now()))


PRIOR_AUTH_STEPS = ("requested", "approved", "denied", "appealed")


def _coverage(form: FormData) -> svc.CoverageIn:
    fields = _fields(form, "status", "study_nct", "study_title", "enrolment", "prior_auth_status", "policy_id")
    dates = {k: str(form.get(f"prior_auth_{k}", "")).strip() for k in PRIOR_AUTH_STEPS}
    return svc.CoverageIn.model_validate({**fields, "prior_auth_dates": {k: v for k, v in dates.items() if v}})


@router.post("/referrals/{referral_id:int}/coverage")
async def coverage(request: Request, referral_id: RecordId, actor: ReferralWorkerForm, session: SessionDep
                   ) -> Response:
    """The coordinator's coverage form: coverage beside (never inside) the clinical status."""
    return await _act(request, session, actor, referral_id, lambda f: svc.set_coverage(
        session, actor, referral_id, _coverage(f), now=clock.now()))


def _decision(form: FormData) -> svc.DecisionIn:
    overrides = [svc.OverrideIn(criterion=c, reason_code=str(form.get(f"reason_code_{c}", "")).strip(),
                                comment=str(form.get(f"comment_{c}", "")).strip())
                 for c in (str(v) for v in form.getlist("override"))]
    reasons = [line.strip() for line in str(form.get("reasons", "")).splitlines() if line.strip()]
    return svc.DecisionIn(decision=str(form.get("decision", "")), reasons=reasons,
                          overrides=overrides)


@router.post("/referrals/{referral_id:int}/decision")
async def decide(request: Request, referral_id: RecordId, actor: ReferralClinicianForm, session: SessionDep
                 ) -> Response:
    return await _act(request, session, actor, referral_id, lambda f: svc.decide(
        session, actor, referral_id, _decision(f), now=clock.now()))


@router.get("/reports/overrides")
def overrides_page(
    request: Request, actor: ReferralWorker, session: SessionDep,
    start: date | None = Query(None, alias="from"), end: date | None = Query(None, alias="to"),
) -> Response:
    end = end or clock.today()
    start = start or end - timedelta(days=90)
    report = svc.overrides_report(session, actor, start=start, end=end)
    return render(request, "referrals/overrides.html", {"report": report,
                                                        "clinicians": svc.clinicians(session, actor)})
