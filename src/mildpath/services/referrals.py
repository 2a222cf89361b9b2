"""Referrals (issue 18, contracts §9): the coordinator's worklist, from a flagged person to a decision.

Access: coordinators and clinicians of the referral's clinic (admins and the CLI operator: every clinic); a
referral of another clinic is :class:`NotFound`, as if it did not exist. Coordinators work the list (sources,
contacts, state changes, coverage) but make no clinical decision: :func:`decide` needs a clinician.
Every change writes its audit row in the same transaction; the rows carry codes, never free text.

States and transitions are :mod:`mildpath.domain.referrals`'s (a refused one is a ``Conflict`` naming both
states: 409). One referral per person and episode: :func:`add_source` merges a new source into the person's
open referral (kept as provenance), skips a source it has seen (same key) and opens a referral otherwise.

Coverage (``coverage``) is a separate object, never an input to the clinical status; its facts come from
``content/coverage.yaml`` (clinical-reference §3.4) and are "unknown" where the reference is silent.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Sequence
from datetime import UTC, date, datetime, time, timedelta
from typing import Annotated, Any, Literal

from pydantic import ConfigDict, Field, model_validator
from sqlalchemy.orm import Session

from mildpath.content.coverage import load_coverage
from mildpath.content.criteria import load_criteria_set
from mildpath.domain import referrals as rules
from mildpath.domain.conditions import Tri
from mildpath.domain.criteria import Role
from mildpath.domain.errors import InvalidInput, NotFound, PermissionDenied
from mildpath.domain.inputs import EdgeInput
from mildpath.fhir.meta import stamp
from mildpath.services.access import Actor, get_patient_for, record
from mildpath.services.audit import _cell as csv_cell
from mildpath.services.read_models import ReadModel
from mildpath.store import patients as patients_store
from mildpath.store import referrals as store
from mildpath.store import smart as smart_store

SOURCE_KINDS = ("population_screen", "cds_card", "self_check", "clinician_screening", "manual")
WORKERS = ("coordinator", "clinician", "admin", "system")
CHANNELS = ("phone", "sms", "email", "letter", "in_person", "portal")
OUTCOMES = ("reached", "no_answer", "left_message", "wrong_number", "declined")
Outcome = Literal["created", "merged", "skipped"]


# ------------------------------------------------------------------------------------------------ read models

class SourceView(ReadModel):
    kind: str
    date: date
    result: str
    criteria_set: str
    reasons: list[str]
    missing: list[str]
    referrer_name: str


class PriorAuthView(ReadModel):
    status: str
    dates: dict[str, str]


class StudyView(ReadModel):
    nct: str
    title: str
    enrolment: str


class CoverageView(ReadModel):
    status: str
    label: str
    study: StudyView | None = None
    prior_auth: PriorAuthView | None = None
    policy_id: str
    source: str
    reviewed: date | None
    unverified: str


class EventView(ReadModel):
    from_state: str
    to_state: str
    reason: str
    text: str
    actor_user_id: int | None
    at: datetime


class ContactView(ReadModel):
    channel: str
    outcome: str
    note: str
    actor_user_id: int | None
    at: datetime


class OverrideView(ReadModel):
    criterion: str
    reason_code: str
    comment: str


class DecisionView(ReadModel):
    decision: str
    reasons: list[str]
    overrides: list[OverrideView]
    clinician_user_id: int | None
    at: datetime


class ReferralView(ReadModel):
    """A referral as the worklist and ``GET /api/v1/referrals`` show it (contracts §9)."""

    id: int
    clinic_id: int
    patient_id: int | None
    subject_ref: str
    patient_name: str
    phone: str
    state: str
    urgency: str
    sources: list[SourceView]
    screening_status: str
    reasons: list[str]
    missing: list[str]
    coverage: CoverageView
    decision: str | None
    assigned_user_id: int | None
    contact_attempts: int
    created_at: datetime
    updated_at: datetime


class ReferralDetail(ReferralView):
    """One referral with its history: state changes, contact attempts and decisions."""

    events: list[EventView]
    contacts: list[ContactView]
    decisions: list[DecisionView]


class ImportResult(ReadModel):
    created: int
    merged: int
    skipped: int


# ------------------------------------------------------------------------------------------------ inputs

class ManualReferralIn(EdgeInput):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)
    patient_id: int = Field(ge=1)
    referrer_name: str = Field(min_length=1, max_length=200, description="The referring doctor")
    reasons: list[str] = Field(default_factory=list, max_length=20)


class TransitionIn(EdgeInput):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)
    to: str = Field(max_length=20)
    reason: str | None = Field(default=None, max_length=40)
    text: str | None = Field(default=None, max_length=2000)


class ContactIn(EdgeInput):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)
    channel: Literal["phone", "sms", "email", "letter", "in_person", "portal"]
    outcome: Literal["reached", "no_answer", "left_message", "wrong_number", "declined"]
    note: str = Field(default="", max_length=2000)


class OverrideIn(EdgeInput):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)
    criterion: str = Field(max_length=80)
    reason_code: str = Field(default="", max_length=60)
    comment: str = Field(default="", max_length=2000)


class DecisionIn(EdgeInput):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)
    decision: Literal["candidate", "not_candidate", "deferred"]
    reasons: list[Annotated[str, Field(max_length=2000)]] = Field(default_factory=list, max_length=20)
    overrides: list[OverrideIn] = Field(default_factory=list, max_length=40)


class CoverageIn(EdgeInput):
    """The coverage facts a coordinator records; none of them changes the clinical status."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)
    status: Literal["medicare_ced", "commercial", "self_pay", "unknown"]
    study_nct: str = Field(default="", pattern=r"^(NCT\d{8})?$", description="ClinicalTrials.gov number")
    study_title: str = Field(default="", max_length=300)
    enrolment: Literal["", "pending", "enrolled", "not_enrolled"] = ""
    prior_auth_status: Literal["", "not_requested", "requested", "approved", "denied", "appealed"] = ""
    prior_auth_dates: dict[Literal["requested", "approved", "denied", "appealed"], date] = Field(
        default_factory=dict)
    policy_id: str = Field(default="", max_length=100, description="The plan's policy id")
    source: str = Field(default="", max_length=300, description="Where the coverage fact comes from")
    reviewed: date | None = Field(default=None, description="The policy's review date")

    @model_validator(mode="after")
    def _consistent(self) -> CoverageIn:
        if self.status == "medicare_ced" and not self.study_nct:
            raise ValueError("study_nct: Medicare covers the procedure only within a CED study: name its NCT number")
        if self.status != "commercial" and (self.prior_auth_status or self.prior_auth_dates):
            raise ValueError("prior_auth_status: prior authorisation is recorded for a commercial plan")
        return self


COVERAGE_CHOICES: dict[str, tuple[str, ...]] = {
    "status": ("unknown", "medicare_ced", "commercial", "self_pay"),
    "enrolment": ("", "pending", "enrolled", "not_enrolled"),
    "prior_auth_status": ("", "not_requested", "requested", "approved", "denied", "appealed"),
}


class AssignIn(EdgeInput):
    model_config = ConfigDict(extra="forbid")
    referral_ids: list[int] = Field(min_length=1, max_length=500)
    user_id: int | None = None


# ------------------------------------------------------------------------------------------------ access

def _clinic_scope(actor: Actor) -> int | None:
    """The clinic whose referrals the actor works (None: every clinic, for admins and the operator)."""
    if actor.role not in WORKERS:
        raise PermissionDenied("referrals are for coordinators and clinicians")
    if actor.role in ("admin", "system"):
        return None
    if actor.clinic_id is None:
        raise PermissionDenied("this account belongs to no clinic")
    return actor.clinic_id


def _patient_clinic(session: Session, actor: Actor, patient_id: int) -> int:
    """The clinic of a patient the actor may refer: a coordinator's own clinic's patients, else those visible."""
    if actor.role == "coordinator":
        clinic = store.patient_clinic(session, patient_id=patient_id)
        if clinic is None or clinic != actor.clinic_id:
            raise NotFound(f"no patient {patient_id}", record_type="Patient", record_id=patient_id)
        return clinic
    return get_patient_for(session, actor, patient_id).clinic_id


def _get(session: Session, actor: Actor, referral_id: int) -> store.Referral:
    row = store.get(session, referral_id=referral_id, clinic_id=_clinic_scope(actor))
    if row is None:
        raise NotFound(f"no referral {referral_id}", record_type="Referral", record_id=referral_id)
    return row


# ------------------------------------------------------------------------------------------------ views

def _coverage(row: store.ReferralCoverage | None) -> CoverageView:
    facts = load_coverage()
    status = row.status if row is not None else "unknown"
    fact = facts.statuses.get(status) or facts.statuses["unknown"]  # type: ignore[call-overload]
    study = prior = None
    if row is not None and row.study_nct:
        study = StudyView(nct=row.study_nct, title=row.study_title or facts.studies.get(row.study_nct, ""),
                          enrolment=row.enrolment)
    if row is not None and row.prior_auth_status:
        prior = PriorAuthView(status=row.prior_auth_status, dates=dict(row.prior_auth_dates or {}))
    policy = (row.policy_id if row is not None and row.policy_id else "") or fact.policy
    return CoverageView(status=status, label=fact.label, study=study, prior_auth=prior, policy_id=policy,
                        source=(row.source if row is not None and row.source else fact.cites),
                        reviewed=(row.reviewed if row is not None and row.reviewed else fact.reviewed),
                        unverified=fact.unverified)


def _source_view(s: store.ReferralSource) -> SourceView:
    return SourceView(kind=s.kind, date=s.dated, result=s.result, criteria_set=s.criteria_set,
                      reasons=list(s.reasons or []), missing=list(s.missing or []), referrer_name=s.referrer_name)


def _latest_screening(sources: Sequence[store.ReferralSource]) -> store.ReferralSource | None:
    screened = [s for s in sources if s.result]
    return max(screened, key=lambda s: (s.dated, s.id)) if screened else None


def _views(session: Session, rows: Sequence[store.Referral], *, detail: bool = False) -> list[ReferralView]:
    ids = [r.id for r in rows]
    sources = store.sources_of(session, referral_ids=ids)
    contacts = store.contacts_of(session, referral_ids=ids)
    coverage = store.coverage_of(session, referral_ids=ids)
    people = patients_store.by_ids(session, patient_ids={r.patient_id for r in rows if r.patient_id})
    events = store.events_of(session, referral_ids=ids) if detail else {}
    decisions = store.decisions_of(session, referral_ids=ids) if detail else {}
    overrides = store.overrides_of(session, decision_ids=[d.id for ds in decisions.values() for d in ds])
    out: list[ReferralView] = []
    for r in rows:
        latest = _latest_screening(sources[r.id])
        person = people.get(r.patient_id) if r.patient_id else None
        base = ReferralView(
            id=r.id, clinic_id=r.clinic_id, patient_id=r.patient_id, subject_ref=r.subject_ref,
            patient_name=f"{person.given_name} {person.family_name}" if person else "",
            phone=person.phone if person else "", state=r.state, urgency=r.urgency,
            sources=[_source_view(s) for s in sources[r.id]],
            screening_status=latest.result if latest else "",
            reasons=list(latest.reasons or []) if latest else [],
            missing=list(latest.missing or []) if latest else [],
            coverage=_coverage(coverage.get(r.id)), decision=r.decision, assigned_user_id=r.assigned_user_id,
            contact_attempts=len(contacts[r.id]), created_at=r.created_at, updated_at=r.updated_at,
        )
        if not detail:
            out.append(base)
            continue
        out.append(ReferralDetail(
            **dict(base),
            events=[EventView.model_validate(e) for e in events[r.id]],
            contacts=[ContactView.model_validate(c) for c in contacts[r.id]],
            decisions=[DecisionView(decision=d.decision, reasons=list(d.reasons or []),
                                    overrides=[OverrideView.model_validate(o) for o in overrides[d.id]],
                                    clinician_user_id=d.clinician_user_id, at=d.at) for d in decisions[r.id]],
        ))
    return out


def list_referrals(
    session: Session, actor: Actor, *, state: str = "", source: str = "", clinician: int | None = None,
    ids: Iterable[int] | None = None,
) -> list[ReferralView]:
    """The worklist: urgent referrals first, then the oldest first (contracts §9)."""
    states = [rules.parse_state(s, "state").value for s in state.split(",") if s.strip()] if state else []
    if source and source not in SOURCE_KINDS:
        raise InvalidInput(f"unknown source {source!r}", field="source", value=source)
    rows = store.listing(session, clinic_id=_clinic_scope(actor), states=states, source=source,
                         assigned_user_id=clinician, ids=ids)
    views = sorted(_views(session, rows),
                   key=lambda v: rules.worklist_key(rules.Urgency(v.urgency), v.created_at))
    record(session, actor, "referral.list", "Referral", None, None, {"results": len(views)})
    return views


def view_referral(session: Session, actor: Actor, referral_id: int) -> ReferralDetail:
    row = _get(session, actor, referral_id)
    record(session, actor, "referral.read", "Referral", row.id, row.patient_id)
    view = _views(session, [row], detail=True)[0]
    assert isinstance(view, ReferralDetail)
    return view


# ------------------------------------------------------------------------------------------------ changes

def add_source(
    session: Session,
    actor: Actor,
    *,
    kind: str,
    key: str,
    dated: date,
    now: datetime,
    clinic_id: int | None = None,
    patient_id: int | None = None,
    subject_ref: str = "",
    result: str = "",
    criteria_set: str = "",
    reasons: Sequence[str] = (),
    missing: Sequence[str] = (),
    criteria: dict[str, str] | None = None,
    referrer_name: str = "",
) -> tuple[int, Outcome]:
    """Add one source to the person's open referral, or open one: ``(referral id, "created"|"merged"|"skipped")``.

    Other code calls this for every kind of source: a population-screen row, a CDS card the clinician accepted,
    a self-check the patient saved with consent, a clinician screening, a manual referral. ``key`` names the
    source (the same key again in the clinic is skipped). The person is a patient (``patient_id``, checked
    against the actor) or, before the patient exists, the FHIR id a screen named (``subject_ref``).
    """
    if kind not in SOURCE_KINDS:
        raise InvalidInput(f"unknown source kind {kind!r}", field="kind", value=kind)
    if patient_id is not None:
        clinic_id = _patient_clinic(session, actor, patient_id)
        if actor.role == "patient" and kind != "self_check":
            raise PermissionDenied("a patient refers themself only through a self-check")
    elif actor.role not in ("admin", "system"):
        clinic_id = _clinic_scope(actor)
    if clinic_id is None or not (patient_id or subject_ref):
        raise InvalidInput("a referral needs a clinic and a person", field="patient_id")
    if store.source_key_known(session, clinic_id=clinic_id, key=key):
        existing = store.open_for(session, clinic_id=clinic_id, patient_id=patient_id, subject_ref=subject_ref)
        return (existing.id if existing else 0), "skipped"
    referral = store.open_for(session, clinic_id=clinic_id, patient_id=patient_id, subject_ref=subject_ref)
    outcome: Outcome = "merged" if referral is not None else "created"
    if referral is None:
        referral = store.add(session, store.Referral(
            clinic_id=clinic_id, patient_id=patient_id, subject_ref=subject_ref, state=rules.State.NEW.value,
            urgency=rules.Urgency.ROUTINE.value, created_at=now, updated_at=now))
        store.add(session, store.ReferralEvent(referral_id=referral.id, from_state="", to_state="new",
                                               reason=kind, actor_user_id=actor.user_id, at=now))
    store.add(session, store.ReferralSource(
        referral_id=referral.id, clinic_id=clinic_id, kind=kind, key=key, dated=dated, result=result,
        criteria_set=criteria_set, reasons=list(reasons), missing=list(missing), criteria=dict(criteria or {}),
        referrer_name=referrer_name, created_by_user_id=actor.user_id, created_at=now))
    if rules.urgency([result]) is rules.Urgency.URGENT:
        referral.urgency = rules.Urgency.URGENT.value
    referral.updated_at = now
    session.flush()
    action = "referral.create" if outcome == "created" else "referral.merge"
    record(session, actor, action, "Referral", referral.id, patient_id, {"kind": kind, "result": result})
    return referral.id, outcome


def create_manual(session: Session, actor: Actor, data: ManualReferralIn, *, now: datetime) -> ReferralDetail:
    """A referral from another doctor, with the referrer's name (or a new source on the open referral)."""
    _clinic_scope(actor)
    referral_id, _ = add_source(
        session, actor, kind="manual", key=f"manual:{data.patient_id}:{now.isoformat()}", dated=now.date(),
        now=now, patient_id=data.patient_id, reasons=data.reasons, referrer_name=data.referrer_name)
    return view_referral(session, actor, referral_id)


def _move(session: Session, actor: Actor, row: store.Referral, step: rules.Transition, now: datetime) -> None:
    row.state = step.to_state.value
    row.updated_at = now
    store.add(session, store.ReferralEvent(
        referral_id=row.id, from_state=step.from_state.value, to_state=step.to_state.value,
        reason=step.reason or "", text=step.text or "", actor_user_id=actor.user_id, at=now))
    record(session, actor, "referral.transition", "Referral", row.id, row.patient_id,
           {"from": step.from_state.value, "to": step.to_state.value, "reason": step.reason or ""})


def transition(session: Session, actor: Actor, referral_id: int, data: TransitionIn, *, now: datetime
               ) -> ReferralDetail:
    """Move a referral to another state if contracts §9 allows it (409 naming both states otherwise)."""
    row = _get(session, actor, referral_id)
    to = rules.parse_state(data.to)
    if to is rules.State.DECIDED:
        raise InvalidInput("a referral is decided through its decision (POST .../decision)", field="to")
    decision = rules.Decision(row.decision) if row.decision else None
    step = rules.check_transition(rules.State(row.state), to, decision=decision, reason=data.reason, text=data.text)
    if step.reason == rules.CloseReason.NOT_CANDIDATE.value and actor.role == "coordinator" and (
            row.decision != rules.Decision.NOT_CANDIDATE.value):
        raise PermissionDenied("closing as not_candidate follows a clinician's decision")
    _move(session, actor, row, step, now)
    return view_referral(session, actor, referral_id)


# What an appointment booked for a referral does to it: (appointment kind, action, referral state) -> (to, reason).
_APPOINTMENT_STEPS: dict[tuple[str, str, rules.State], tuple[rules.State, str]] = {
    ("evaluation", "book", rules.State.CONTACTED): (rules.State.EVALUATION_BOOKED, "appointment"),
    ("procedure", "book", rules.State.DECIDED): (rules.State.SCHEDULED, "appointment"),
    ("procedure", "book", rules.State.SCHEDULED): (rules.State.SCHEDULED, "moved"),
    ("procedure", "move", rules.State.SCHEDULED): (rules.State.SCHEDULED, "moved"),
    ("procedure", "done", rules.State.SCHEDULED): (rules.State.DONE, "appointment"),
}


def follow_appointment(
    session: Session, actor: Actor, referral_id: int, *, patient_id: int, kind: str, action: str, now: datetime,
    close_reason: str = "", text: str = "",
) -> None:
    """Keep a referral in step with an appointment booked for it, through the §9 transitions (each audited):
    booking a procedure for a ``decided`` (candidate) referral schedules it, moving it is ``scheduled → scheduled``
    (moved), marking it done makes the referral ``done``; booking an evaluation for a ``contacted`` referral books
    the evaluation. Cancelling leaves the referral as it is, for the coordinator to act, unless ``close_reason``
    asks to close it. Another clinic's referral is :class:`NotFound`; another patient's is :class:`InvalidInput`."""
    row = _get(session, actor, referral_id)
    if row.patient_id != patient_id:
        raise InvalidInput("referral_id: the referral is another patient's", field="referral_id", value=referral_id)
    if action == "cancel":
        if close_reason:
            transition(session, actor, row.id, TransitionIn(to="closed", reason=close_reason, text=text or None),
                       now=now)
        return
    target = _APPOINTMENT_STEPS.get((kind, action, rules.State(row.state)))
    if target is None:
        return
    decision = rules.Decision(row.decision) if row.decision else None
    _move(session, actor, row, rules.check_transition(
        rules.State(row.state), target[0], decision=decision, reason=target[1]), now)


def log_contact(session: Session, actor: Actor, referral_id: int, data: ContactIn, *, now: datetime
                ) -> ReferralDetail:
    """Log a contact attempt; a referral still ``new`` or ``contacted`` becomes (again) ``contacted``."""
    row = _get(session, actor, referral_id)
    store.add(session, store.ReferralContact(referral_id=row.id, channel=data.channel, outcome=data.outcome,
                                             note=data.note, actor_user_id=actor.user_id, at=now))
    record(session, actor, "referral.contact", "Referral", row.id, row.patient_id,
           {"channel": data.channel, "outcome": data.outcome})
    if row.state in (rules.State.NEW.value, rules.State.CONTACTED.value):
        step = rules.check_transition(rules.State(row.state), rules.State.CONTACTED, reason=data.outcome)
        _move(session, actor, row, step, now)
    return view_referral(session, actor, referral_id)


def _findings(sources: Sequence[store.ReferralSource]) -> dict[str, tuple[Role, Tri]]:
    """The criteria's statuses of the latest screening, with each criterion's role (from the criteria set)."""
    latest = _latest_screening(sources)
    if latest is None:
        return {}
    roles = {c.id: c.role for c in load_criteria_set("default").criteria}
    out = {}
    for criterion, status in (latest.criteria or {}).items():
        if criterion in roles and status in {t.value for t in Tri}:
            out[criterion] = (roles[criterion], Tri(status))
    return out


class FindingView(ReadModel):
    criterion: str
    status: str
    against: bool


def decision_findings(session: Session, actor: Actor, referral_id: int) -> list[FindingView]:
    """The criteria the decision is taken on (the latest screening's), marking those that argue against."""
    row = _get(session, actor, referral_id)
    findings = _findings(store.sources_of(session, referral_ids=[row.id])[row.id])
    return [FindingView(criterion=c, status=status.value, against=rules.argues_against(role, status))
            for c, (role, status) in findings.items()]


def decide(session: Session, actor: Actor, referral_id: int, data: DecisionIn, *, now: datetime) -> ReferralDetail:
    """The specialist's decision (clinicians only): overriding a criterion needs a coded reason and a comment."""
    if actor.role not in ("clinician", "system"):
        raise PermissionDenied("the decision is a clinician's")
    row = _get(session, actor, referral_id)
    decision = rules.Decision(data.decision)
    findings = _findings(store.sources_of(session, referral_ids=[row.id])[row.id])
    overrides = rules.check_decision(decision, findings, [
        rules.Override(o.criterion, o.reason_code, o.comment) for o in data.overrides])
    step = rules.check_transition(rules.State(row.state), rules.State.DECIDED)
    saved = store.add(session, store.ReferralDecision(
        referral_id=row.id, clinic_id=row.clinic_id, decision=decision.value, reasons=list(data.reasons),
        findings={c: status.value for c, (_, status) in findings.items()}, clinician_user_id=actor.user_id, at=now))
    for o in overrides:
        session.add(store.ReferralOverride(decision_id=saved.id, criterion=o.criterion, reason_code=o.reason_code,
                                           comment=o.comment))
    row.decision = decision.value
    _move(session, actor, row, step, now)
    record(session, actor, "referral.decide", "Referral", row.id, row.patient_id,
           {"decision": decision.value, "overrides": [o.criterion for o in overrides]})
    return view_referral(session, actor, referral_id)


def set_coverage(session: Session, actor: Actor, referral_id: int, data: CoverageIn, *, now: datetime
                 ) -> ReferralDetail:
    """Record the referral's coverage, beside (never inside) its clinical status."""
    row = _get(session, actor, referral_id)
    cov = store.coverage_of(session, referral_ids=[row.id]).get(row.id) or store.add(
        session, store.ReferralCoverage(referral_id=row.id))
    cov.status, cov.study_nct, cov.study_title, cov.enrolment = (
        data.status, data.study_nct, data.study_title, data.enrolment)
    cov.prior_auth_status = data.prior_auth_status
    cov.prior_auth_dates = {k: v.isoformat() for k, v in data.prior_auth_dates.items()}
    cov.policy_id, cov.source, cov.reviewed = data.policy_id, data.source, data.reviewed
    cov.updated_by_user_id, cov.updated_at = actor.user_id, now
    session.flush()
    record(session, actor, "referral.coverage", "Referral", row.id, row.patient_id, {"status": data.status})
    return view_referral(session, actor, referral_id)


def assign(session: Session, actor: Actor, data: AssignIn, *, now: datetime) -> list[ReferralView]:
    """Bulk: give these referrals to a clinician of the clinic (``user_id`` None: to nobody)."""
    rows = [_get(session, actor, i) for i in data.referral_ids]
    for row in rows:
        if data.user_id is not None and data.user_id not in store.clinicians_of(session, clinic_id=row.clinic_id):
            raise InvalidInput("assign referrals to a clinician of their clinic", field="user_id",
                               value=data.user_id)
        row.assigned_user_id = data.user_id
        row.updated_at = now
        record(session, actor, "referral.assign", "Referral", row.id, row.patient_id, {"user_id": data.user_id})
    session.flush()
    return list_referrals(session, actor, ids=[r.id for r in rows])


def mark_contacted(session: Session, actor: Actor, referral_ids: Sequence[int], *, now: datetime) -> int:
    """Bulk: referrals still ``new`` become ``contacted`` (the others are left as they are); how many moved."""
    moved = 0
    for referral_id in referral_ids:
        row = _get(session, actor, referral_id)
        if row.state == rules.State.NEW.value:
            _move(session, actor, row, rules.check_transition(rules.State.NEW, rules.State.CONTACTED,
                                                              reason="bulk"), now)
            moved += 1
    return moved


def next_states(state: str) -> list[str]:
    """The states a referral in ``state`` may move to by hand (``decided`` comes from the decision)."""
    allowed = rules.ALLOWED[rules.State(state)] - {rules.State.DECIDED}
    return [s.value for s in rules.State if s in allowed]


CSV_COLUMNS = ("id", "patient_name", "phone", "state", "urgency", "screening_status", "reasons", "missing",
               "sources", "coverage", "assigned_user_id", "created_at")


def worklist_csv(session: Session, actor: Actor, **filters: Any) -> str:
    """The worklist as CSV (the same rows and order as the page), spreadsheet formulas neutralised."""
    buf = io.StringIO()
    writer = csv.writer(buf)
    writer.writerow(CSV_COLUMNS)
    for v in list_referrals(session, actor, **filters):
        writer.writerow([csv_cell(x) for x in (
            v.id, v.patient_name or v.subject_ref, v.phone, v.state, v.urgency, v.screening_status,
            "; ".join(v.reasons), "; ".join(v.missing), "; ".join(sorted({s.kind for s in v.sources})),
            v.coverage.status, v.assigned_user_id, v.created_at)])
    record(session, actor, "referral.export", "Referral", None, None, {"format": "csv"})
    return buf.getvalue()


def clinicians(session: Session, actor: Actor) -> dict[int, str]:
    """The clinicians a referral of the actor's clinic can be assigned to (the worklist's filter)."""
    return store.clinicians_of(session, clinic_id=_clinic_scope(actor))


# ------------------------------------------------------------------------------------------------ the report

class CriterionOverrides(ReadModel):
    criterion: str
    overridden: int
    total: int
    reasons: dict[str, int]


class OverrideReport(ReadModel):
    start: date
    end: date
    criteria: list[CriterionOverrides]
    by_clinician: dict[str, int]
    #: CDS Hooks 2.0 feedback on mildpath's cards in the period: per criterion the card rested on, how many
    #: cards were overridden (``reasons`` by the EHR's ``overrideReason.reason.code``) of all given feedback.
    cds_feedback: list[CriterionOverrides] = []


def overrides_report(session: Session, actor: Actor, *, start: date, end: date) -> OverrideReport:
    """How often each criterion was overridden in decisions from ``start`` to ``end`` (both included), and why.

    ``total`` counts the decisions taken with a finding for the criterion; ``overridden`` those that overrode it.
    """
    if end < start:
        raise InvalidInput("the report's end is before its start", field="to")
    scope = _clinic_scope(actor)
    first = datetime.combine(start, time.min, tzinfo=UTC)
    last = datetime.combine(end + timedelta(days=1), time.min, tzinfo=UTC)
    decisions = store.decisions_between(session, clinic_id=scope, start=first, end=last)
    overrides = store.overrides_of(session, decision_ids=[d.id for d in decisions])
    rows: dict[str, CriterionOverrides] = {}
    by_clinician: dict[str, int] = {}
    for d in decisions:
        for criterion in d.findings or {}:
            rows.setdefault(criterion, CriterionOverrides(criterion=criterion, overridden=0, total=0, reasons={}))
            rows[criterion] = rows[criterion].model_copy(update={"total": rows[criterion].total + 1})
        for o in overrides[d.id]:
            row = rows.setdefault(o.criterion, CriterionOverrides(criterion=o.criterion, overridden=0, total=1,
                                                                  reasons={}))
            reasons = {**row.reasons, o.reason_code: row.reasons.get(o.reason_code, 0) + 1}
            rows[o.criterion] = row.model_copy(update={"overridden": row.overridden + 1, "reasons": reasons})
            who = str(d.clinician_user_id or "")
            by_clinician[who] = by_clinician.get(who, 0) + 1
    cds = _cds_feedback_rows(session, scope, first, last)
    record(session, actor, "referral.overrides_report", "Referral", None, None,
           {"decisions": len(decisions), "cds_feedback": sum(r.total for r in cds)})
    ordered = sorted(rows.values(), key=lambda r: (-r.overridden, r.criterion))
    return OverrideReport(start=start, end=end, criteria=ordered, by_clinician=by_clinician, cds_feedback=cds)


def _cds_feedback_rows(
    session: Session, clinic_id: int | None, start: datetime, end: datetime
) -> list[CriterionOverrides]:
    rows: dict[str, CriterionOverrides] = {}
    for item, _card in smart_store.feedback_between(session, clinic_id=clinic_id, start=start, end=end):
        criterion = item.criterion or "(card)"
        row = rows.setdefault(criterion, CriterionOverrides(criterion=criterion, overridden=0, total=0, reasons={}))
        update: dict[str, object] = {"total": row.total + 1}
        if item.outcome == "overridden":
            code = str(((item.override_reason or {}).get("reason") or {}).get("code") or "unspecified")
            update |= {"overridden": row.overridden + 1, "reasons": {**row.reasons, code: row.reasons.get(code, 0) + 1}}
        rows[criterion] = row.model_copy(update=update)
    return sorted(rows.values(), key=lambda r: (-r.overridden, r.criterion))


# ------------------------------------------------------------------------------------------------ FHIR export

#: The referral's state as an R4 Task.status (the exact state is Task.businessStatus). source: FHIR R4 Task
#: (https://hl7.org/fhir/R4/task.html#statemachine): a coordination workflow is a Task; ``closed`` ends it
#: unfinished (cancelled), ``done`` completes it.
TASK_STATUS = {"new": "requested", "contacted": "in-progress", "evaluation_booked": "in-progress",
               "decided": "in-progress", "scheduled": "in-progress", "done": "completed", "closed": "cancelled"}


def fhir_resources_for_patient(session: Session, patient_id: int) -> list[dict[str, object]]:
    """The patient's referrals for the patient export (services/patient_rights.py): a ``Task`` per referral and a
    ``ClinicalImpression`` per specialist decision.

    Why these two: FHIR R4 models a workflow step someone must carry out as a ``Task`` (its ``businessStatus``
    holds our state, its ``output`` points at the decision), and "the clinician's assessment of a patient's
    condition, with the findings it rests on" as a ``ClinicalImpression`` (``summary``: the decision and its
    reasons; one ``finding`` per criterion the decision overrode, its ``basis`` the coded reason and comment).
    The coverage goes in a ``Task.note`` of its own, beside the clinical answer and never inside the impression.
    No practitioner is referenced: the export holds no Practitioner resource for a reference to resolve to.
    """
    rows = [r for r in store.listing(session, clinic_id=None) if r.patient_id == patient_id]
    views = {v.id: v for v in _views(session, rows, detail=True) if isinstance(v, ReferralDetail)}
    out: list[dict[str, object]] = []
    subject = {"reference": f"Patient/{patient_id}"}
    for referral_id, v in views.items():
        impressions = []
        for n, d in enumerate(v.decisions, start=1):
            summary = f"Specialist decision: {d.decision}" + (f" ({'; '.join(d.reasons)})" if d.reasons else "")
            impression: dict[str, object] = {
                "resourceType": "ClinicalImpression", "id": f"referral-{referral_id}-decision-{n}",
                "status": "completed", "subject": subject, "date": d.at.isoformat(), "summary": summary,
                "description": "Specialist evaluation for the mild procedure (referral decision)"}
            if d.overrides:
                impression["finding"] = [{"itemCodeableConcept": {"text": o.criterion},
                                          "basis": f"override of the screening: {o.reason_code}: {o.comment}"}
                                         for o in d.overrides]
            impressions.append(stamp(impression, d.at))
        coverage = f"Coverage (separate from the clinical status): {v.coverage.status}; source: {v.coverage.source}"
        task: dict[str, object] = {
            "resourceType": "Task", "id": f"referral-{referral_id}", "status": TASK_STATUS[v.state],
            "businessStatus": {"text": v.state}, "intent": "order", "priority": (
                "urgent" if v.urgency == "urgent" else "routine"),
            "description": "Carry the referral to a specialist's decision about the mild procedure",
            "for": subject, "authoredOn": v.created_at.isoformat(), "lastModified": v.updated_at.isoformat(),
            "note": [{"text": coverage}],
        }
        stamp(task, v.updated_at)
        if impressions:
            task["output"] = [{"type": {"text": "specialist decision"},
                               "valueReference": {"reference": f"ClinicalImpression/{i['id']}"}}
                              for i in impressions]
        out.extend([task, *impressions])
    return out


def anonymise_patient(session: Session, patient_id: int) -> int:
    """Patient rights (services/patient_rights.py): the referrals keep their coded workflow, lose what names."""
    return store.scrub_patient(session, patient_id=patient_id)
