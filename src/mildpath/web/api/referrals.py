"""/api/v1 referrals (issue 18, contracts §9): the worklist, manual referrals, state changes, contact attempts,
the clinician's decision with its overrides, coverage, the import of a population screen and the override
report. Coordinators and clinicians of the clinic; the decision: clinicians only."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, File, Query, UploadFile
from sqlalchemy.orm import Session

from mildpath.domain import referrals as rules
from mildpath.services import clock
from mildpath.services import referrals as svc
from mildpath.services.access import Actor
from mildpath.services.referral_import import import_screen
from mildpath.web.deps import RecordId, ReferralClinician, ReferralWorker, SessionDep

router = APIRouter(prefix="/api/v1", tags=["referrals"])
MAX_UPLOAD = 200 * 1024 * 1024  # a population screen of a few hundred thousand people, and its export's Patients


_STATE = "(?:" + "|".join(s.value for s in rules.State) + ")"
STATES_PATTERN = f"^(?:{_STATE}(?:,{_STATE})*)?$"
SOURCES_PATTERN = "^(?:" + "|".join(svc.SOURCE_KINDS) + ")?$"

@router.get("/referrals", response_model=list[svc.ReferralView])
def list_referrals(
    actor: ReferralWorker,
    session: SessionDep,
    state: Annotated[str, Query(max_length=200, pattern=STATES_PATTERN, description="States, comma-separated")] = "",
    source: Annotated[str, Query(max_length=24, pattern=SOURCES_PATTERN, description="Source kind")] = "",
    clinician: Annotated[int | None, Query(ge=1, description="Assigned clinician's user id")] = None,
) -> list[svc.ReferralView]:
    """The clinic's referrals: urgent first, then the oldest first."""
    return svc.list_referrals(session, actor, state=state, source=source, clinician=clinician)


@router.post("/referrals", response_model=svc.ReferralDetail, status_code=201)
def create_referral(body: svc.ManualReferralIn, actor: ReferralWorker, session: SessionDep) -> svc.ReferralDetail:
    """A manual referral (from another doctor, with the referrer's name)."""
    return svc.create_manual(session, actor, body, now=clock.now())


@router.post("/referrals/imports", response_model=svc.ImportResult)
def import_referrals(
    actor: ReferralWorker,
    session: SessionDep,
    file: Annotated[UploadFile, File(description="A `population screen` output (CSV or Parquet)")],
    export: Annotated[UploadFile | None, File(description="The Bulk export the screen read, as a zip")] = None,
) -> svc.ImportResult:
    """Import a population screen's candidates (idempotent): ``{"created", "merged", "skipped"}``."""
    data = file.file.read(MAX_UPLOAD)
    bundle = export.file.read(MAX_UPLOAD) if export is not None else None
    return import_screen(session, actor, name=file.filename or "upload", data=data, export=bundle,
                         now=clock.now(), today=clock.today())


@router.post("/referrals/assign", response_model=list[svc.ReferralView])
def assign_referrals(body: svc.AssignIn, actor: ReferralWorker, session: SessionDep) -> list[svc.ReferralView]:
    """Bulk: assign referrals to a clinician of the clinic."""
    return svc.assign(session, actor, body, now=clock.now())


@router.get("/referrals/{referral_id:int}", response_model=svc.ReferralDetail)
def get_referral(referral_id: RecordId, actor: ReferralWorker, session: SessionDep) -> svc.ReferralDetail:
    """One referral with its sources, history, contacts, decisions and coverage."""
    return svc.view_referral(session, actor, referral_id)


# The changes to one referral: each takes a body, calls the service's change of the same shape
# ``(session, actor, referral_id, body, now=...)`` and answers the referral with its history.
# (name, method, path suffix, body, who may, status, the change, what it does)
_CHANGES: tuple[tuple[str, str, str, type[Any], Any, int, Callable[..., svc.ReferralDetail], str], ...] = (
    ("transition", "POST", "transitions", svc.TransitionIn, ReferralWorker, 200, svc.transition,
     "Move the referral to another state (409 naming both states when contracts §9 does not allow it)."),
    ("log_contact", "POST", "contacts", svc.ContactIn, ReferralWorker, 201, svc.log_contact,
     "Log a contact attempt (channel, outcome)."),
    ("decide", "POST", "decision", svc.DecisionIn, ReferralClinician, 200, svc.decide,
     "The specialist's decision; an override of a criterion without its reason: 422."),
    ("set_coverage", "PUT", "coverage", svc.CoverageIn, ReferralWorker, 200, svc.set_coverage,
     "Record the coverage, beside (never inside) the clinical status."),
)


def _change_endpoint(
    name: str, body_type: type[Any], who: Any, change: Callable[..., svc.ReferralDetail], doc: str
) -> Callable[..., svc.ReferralDetail]:
    def endpoint(referral_id: int, body: Any, actor: Actor, session: Session) -> svc.ReferralDetail:
        return change(session, actor, referral_id, body, now=clock.now())

    endpoint.__name__ = endpoint.__qualname__ = name  # the route's name and operationId, as a def of its own had
    endpoint.__doc__ = doc
    # FastAPI reads the parameters' types (so the body's schema and the dependencies) from these
    endpoint.__annotations__ = {
        "referral_id": RecordId, "body": body_type, "actor": who, "session": SessionDep, "return": svc.ReferralDetail
    }
    return endpoint


for _name, _method, _suffix, _body, _who, _status, _change, _doc in _CHANGES:
    router.add_api_route(
        f"/referrals/{{referral_id:int}}/{_suffix}",
        _change_endpoint(_name, _body, _who, _change, _doc),
        methods=[_method],
        response_model=svc.ReferralDetail,
        status_code=_status,
    )


@router.get("/reports/overrides", response_model=svc.OverrideReport)
def overrides_report(
    actor: ReferralWorker,
    session: SessionDep,
    start: Annotated[date, Query(alias="from", description="First day (included)")],
    end: Annotated[date, Query(alias="to", description="Last day (included)")],
) -> svc.OverrideReport:
    """How often each criterion was overridden, and why, over the date range."""
    return svc.overrides_report(session, actor, start=start, end=end)
