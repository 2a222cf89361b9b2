"""Referrals (issue 18, contracts §9): a flagged person carried from the flag to a decision and a date.

One referral per person and episode (an open referral: not ``done`` or ``closed``), in one clinic. Its rows:

- ``referral_sources``: why the person was referred, each kept as provenance (kind, date, screening result,
  reasons, what is missing, the criteria's statuses, the referrer's name). ``key`` identifies a source (a
  population-screen row's digest, a screening's id...): the same key twice in a clinic is the same source.
- ``referral_events``: every state change (who, when, from, to, why).
- ``referral_contacts``: every contact attempt (channel, outcome).
- ``referral_decisions`` and ``referral_overrides``: the specialist's decision, the findings it was taken on,
  and each criterion it overrode (coded reason and comment).
- ``referral_coverage``: the coverage status, kept beside the clinical status and never mixed into it.
- ``patient_identifiers``: identifiers of a patient from outside (the FHIR id of a Bulk export), with where they
  came from, so that a second import finds the same person.

A referral may exist before its person is a mildpath patient (a screen imported without its export):
``subject_ref`` then holds the FHIR id the screen named and ``patient_id`` is empty until an import with the
export (or a match) links it.

Keyword-only query and persist functions; none of them commits (the caller owns the transaction).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import date, datetime
from typing import Any

from sqlalchemy import Date, ForeignKey, Index, String, Text, UniqueConstraint, delete, select, update
from sqlalchemy.orm import Mapped, Session, mapped_column

from mildpath.store.base import Base, JSONType, UTCDateTime, utcnow
from mildpath.store.models import Patient, User

OPEN_STATES = ("new", "contacted", "evaluation_booked", "decided", "scheduled")


class Referral(Base):
    __tablename__ = "referrals"
    __table_args__ = (Index("ix_referrals_clinic_id_state", "clinic_id", "state"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    clinic_id: Mapped[int] = mapped_column(ForeignKey("clinics.id"))
    patient_id: Mapped[int | None] = mapped_column(ForeignKey("patients.id"), nullable=True, index=True)
    subject_ref: Mapped[str] = mapped_column(String(200), default="", index=True)
    state: Mapped[str] = mapped_column(String(20), default="new")
    urgency: Mapped[str] = mapped_column(String(8), default="routine")
    decision: Mapped[str | None] = mapped_column(String(16), nullable=True)
    assigned_user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class ReferralSource(Base):
    __tablename__ = "referral_sources"
    __table_args__ = (Index("ix_referral_sources_clinic_id_key", "clinic_id", "key"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    referral_id: Mapped[int] = mapped_column(ForeignKey("referrals.id"), index=True)
    clinic_id: Mapped[int] = mapped_column(ForeignKey("clinics.id"))
    kind: Mapped[str] = mapped_column(String(24))
    key: Mapped[str] = mapped_column(String(100))
    dated: Mapped[date] = mapped_column(Date)
    result: Mapped[str] = mapped_column(String(32), default="")
    criteria_set: Mapped[str] = mapped_column(String(120), default="")
    reasons: Mapped[list[str]] = mapped_column(JSONType, default=list)
    missing: Mapped[list[str]] = mapped_column(JSONType, default=list)
    criteria: Mapped[dict[str, str]] = mapped_column(JSONType, default=dict)
    referrer_name: Mapped[str] = mapped_column(String(200), default="")
    created_by_user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class ReferralEvent(Base):
    __tablename__ = "referral_events"
    id: Mapped[int] = mapped_column(primary_key=True)
    referral_id: Mapped[int] = mapped_column(ForeignKey("referrals.id"), index=True)
    from_state: Mapped[str] = mapped_column(String(20), default="")
    to_state: Mapped[str] = mapped_column(String(20))
    reason: Mapped[str] = mapped_column(String(40), default="")
    text: Mapped[str] = mapped_column(Text, default="")
    actor_user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), nullable=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class ReferralContact(Base):
    __tablename__ = "referral_contacts"
    id: Mapped[int] = mapped_column(primary_key=True)
    referral_id: Mapped[int] = mapped_column(ForeignKey("referrals.id"), index=True)
    channel: Mapped[str] = mapped_column(String(16))
    outcome: Mapped[str] = mapped_column(String(24))
    note: Mapped[str] = mapped_column(Text, default="")
    actor_user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), nullable=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class ReferralDecision(Base):
    __tablename__ = "referral_decisions"
    id: Mapped[int] = mapped_column(primary_key=True)
    referral_id: Mapped[int] = mapped_column(ForeignKey("referrals.id"), index=True)
    clinic_id: Mapped[int] = mapped_column(ForeignKey("clinics.id"), index=True)
    decision: Mapped[str] = mapped_column(String(16))
    reasons: Mapped[list[str]] = mapped_column(JSONType, default=list)
    findings: Mapped[dict[str, str]] = mapped_column(JSONType, default=dict)  # criterion -> status decided on
    clinician_user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), nullable=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, index=True)


class ReferralOverride(Base):
    __tablename__ = "referral_overrides"
    id: Mapped[int] = mapped_column(primary_key=True)
    decision_id: Mapped[int] = mapped_column(ForeignKey("referral_decisions.id"), index=True)
    criterion: Mapped[str] = mapped_column(String(80))
    reason_code: Mapped[str] = mapped_column(String(60))
    comment: Mapped[str] = mapped_column(Text)


class ReferralCoverage(Base):
    __tablename__ = "referral_coverage"
    id: Mapped[int] = mapped_column(primary_key=True)
    referral_id: Mapped[int] = mapped_column(ForeignKey("referrals.id"), unique=True)
    status: Mapped[str] = mapped_column(String(16), default="unknown")
    study_title: Mapped[str] = mapped_column(String(300), default="")
    study_nct: Mapped[str] = mapped_column(String(20), default="")
    enrolment: Mapped[str] = mapped_column(String(16), default="")
    prior_auth_status: Mapped[str] = mapped_column(String(16), default="")
    prior_auth_dates: Mapped[dict[str, str]] = mapped_column(JSONType, default=dict)
    policy_id: Mapped[str] = mapped_column(String(100), default="")
    source: Mapped[str] = mapped_column(String(300), default="")
    reviewed: Mapped[date | None] = mapped_column(Date, nullable=True)
    updated_by_user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), nullable=True)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class PatientIdentifier(Base):
    __tablename__ = "patient_identifiers"
    __table_args__ = (UniqueConstraint("clinic_id", "system", "value", name="clinic_system_value"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    patient_id: Mapped[int] = mapped_column(ForeignKey("patients.id"), index=True)
    clinic_id: Mapped[int] = mapped_column(ForeignKey("clinics.id"))
    system: Mapped[str] = mapped_column(String(200))
    value: Mapped[str] = mapped_column(String(200))
    source: Mapped[str] = mapped_column(String(300), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


def add(session: Session, row: Base) -> Any:
    session.add(row)
    session.flush()
    return row


def get(session: Session, *, referral_id: int, clinic_id: int | None) -> Referral | None:
    """The referral with this id, in this clinic (``clinic_id`` None: in any clinic)."""
    stmt = select(Referral).where(Referral.id == referral_id)
    if clinic_id is not None:
        stmt = stmt.where(Referral.clinic_id == clinic_id)
    return session.scalar(stmt)


def open_for(session: Session, *, clinic_id: int, patient_id: int | None, subject_ref: str) -> Referral | None:
    """The open referral of this person in this clinic (by patient id, else by the screen's FHIR id)."""
    who = Referral.patient_id == patient_id if patient_id is not None else Referral.subject_ref == subject_ref
    return session.scalar(
        select(Referral).where(Referral.clinic_id == clinic_id, who, Referral.state.in_(OPEN_STATES))
        .order_by(Referral.id)
    )


def open_patient_ids(session: Session, *, patient_ids: Iterable[int]) -> dict[int, list[int]]:
    """Per clinic, which of these patients have an open referral there (the clinic's open referral list)."""
    rows = session.execute(
        select(Referral.clinic_id, Referral.patient_id).distinct()
        .where(Referral.patient_id.in_(list(patient_ids)), Referral.state.in_(OPEN_STATES))
        .order_by(Referral.clinic_id, Referral.patient_id)
    ).all()
    out: dict[int, list[int]] = {}
    for clinic_id, patient_id in rows:
        if patient_id is not None:
            out.setdefault(clinic_id, []).append(patient_id)
    return out


def open_in_clinic(session: Session, *, clinic_id: int) -> list[int]:
    """The patients with an open referral in this clinic (its open referral list's members)."""
    return list(session.scalars(
        select(Referral.patient_id).distinct()
        .where(Referral.clinic_id == clinic_id, Referral.patient_id.is_not(None), Referral.state.in_(OPEN_STATES))
    ))


def unlinked(session: Session, *, clinic_id: int, subject_ref: str) -> Sequence[Referral]:
    """Referrals of a person the screen named by FHIR id who is not yet linked to a patient."""
    return session.scalars(
        select(Referral).where(Referral.clinic_id == clinic_id, Referral.patient_id.is_(None),
                               Referral.subject_ref == subject_ref)
    ).all()


def source_key_known(session: Session, *, clinic_id: int, key: str) -> bool:
    return session.scalar(
        select(ReferralSource.id).where(ReferralSource.clinic_id == clinic_id, ReferralSource.key == key)
    ) is not None


def listing(
    session: Session, *, clinic_id: int | None, states: Iterable[str] = (), source: str = "",
    assigned_user_id: int | None = None, ids: Iterable[int] | None = None,
) -> Sequence[Referral]:
    stmt = select(Referral)
    if clinic_id is not None:
        stmt = stmt.where(Referral.clinic_id == clinic_id)
    wanted = list(states)
    if wanted:
        stmt = stmt.where(Referral.state.in_(wanted))
    if source:
        stmt = stmt.where(Referral.id.in_(select(ReferralSource.referral_id).where(ReferralSource.kind == source)))
    if assigned_user_id is not None:
        stmt = stmt.where(Referral.assigned_user_id == assigned_user_id)
    if ids is not None:
        stmt = stmt.where(Referral.id.in_(list(ids)))
    return session.scalars(stmt.order_by(Referral.created_at, Referral.id)).all()


def _by_referral(session: Session, model: Any, referral_ids: list[int], order: Any) -> dict[int, list[Any]]:
    out: dict[int, list[Any]] = {i: [] for i in referral_ids}
    if referral_ids:
        for row in session.scalars(select(model).where(model.referral_id.in_(referral_ids)).order_by(order)):
            out[row.referral_id].append(row)
    return out


def sources_of(session: Session, *, referral_ids: Iterable[int]) -> dict[int, list[ReferralSource]]:
    return _by_referral(session, ReferralSource, list(referral_ids), ReferralSource.id)


def events_of(session: Session, *, referral_ids: Iterable[int]) -> dict[int, list[ReferralEvent]]:
    return _by_referral(session, ReferralEvent, list(referral_ids), ReferralEvent.id)


def contacts_of(session: Session, *, referral_ids: Iterable[int]) -> dict[int, list[ReferralContact]]:
    return _by_referral(session, ReferralContact, list(referral_ids), ReferralContact.id)


def decisions_of(session: Session, *, referral_ids: Iterable[int]) -> dict[int, list[ReferralDecision]]:
    return _by_referral(session, ReferralDecision, list(referral_ids), ReferralDecision.id)


def coverage_of(session: Session, *, referral_ids: Iterable[int]) -> dict[int, ReferralCoverage]:
    ids = list(referral_ids)
    if not ids:
        return {}
    rows = session.scalars(select(ReferralCoverage).where(ReferralCoverage.referral_id.in_(ids)))
    return {r.referral_id: r for r in rows}


def enrolled_in_study(session: Session, *, study_nct: str) -> list[int]:
    """The patients whose referral coverage is Medicare CED within ``study_nct`` and who are enrolled in it."""
    stmt = (select(Referral.patient_id).join(ReferralCoverage, ReferralCoverage.referral_id == Referral.id)
            .where(ReferralCoverage.status == "medicare_ced", ReferralCoverage.study_nct == study_nct,
                   ReferralCoverage.enrolment == "enrolled", Referral.patient_id.is_not(None))
            .distinct())
    return sorted(int(pid) for pid in session.scalars(stmt) if pid is not None)


def overrides_of(session: Session, *, decision_ids: Iterable[int]) -> dict[int, list[ReferralOverride]]:
    ids = list(decision_ids)
    out: dict[int, list[ReferralOverride]] = {i: [] for i in ids}
    if ids:
        for row in session.scalars(select(ReferralOverride).where(ReferralOverride.decision_id.in_(ids))
                                   .order_by(ReferralOverride.id)):
            out[row.decision_id].append(row)
    return out


def decisions_between(
    session: Session, *, clinic_id: int | None, start: datetime, end: datetime
) -> Sequence[ReferralDecision]:
    stmt = select(ReferralDecision).where(ReferralDecision.at >= start, ReferralDecision.at < end)
    if clinic_id is not None:
        stmt = stmt.where(ReferralDecision.clinic_id == clinic_id)
    return session.scalars(stmt.order_by(ReferralDecision.id)).all()


def patient_by_identifier(session: Session, *, clinic_id: int, system: str, value: str) -> int | None:
    return session.scalar(
        select(PatientIdentifier.patient_id).where(PatientIdentifier.clinic_id == clinic_id,
                                                   PatientIdentifier.system == system,
                                                   PatientIdentifier.value == value)
    )


def patient_by_mrn(session: Session, *, clinic_id: int, mrn: str) -> int | None:
    return session.scalar(select(Patient.id).where(Patient.clinic_id == clinic_id, Patient.mrn == mrn))


def patient_clinic(session: Session, *, patient_id: int) -> int | None:
    return session.scalar(select(Patient.clinic_id).where(Patient.id == patient_id))


def clinicians_of(session: Session, *, clinic_id: int | None) -> dict[int, str]:
    """``{user id: name}`` of the active clinicians of a clinic (every clinic: None), by name."""
    stmt = select(User).where(User.role == "clinician", User.active.is_(True))
    if clinic_id is not None:
        stmt = stmt.where(User.clinic_id == clinic_id)
    return {u.id: u.display_name or u.email for u in session.scalars(stmt.order_by(User.display_name, User.id))}


def scrub_patient(session: Session, *, patient_id: int) -> int:
    """Anonymisation: drop what could name the person (outside identifiers, the screen's FHIR id, free-text
    notes of contact attempts and state changes); the coded workflow stays. Rows changed."""
    ids = select(Referral.id).where(Referral.patient_id == patient_id)
    changed = 0
    for stmt in (
        delete(PatientIdentifier).where(PatientIdentifier.patient_id == patient_id),
        update(Referral).where(Referral.patient_id == patient_id, Referral.subject_ref != "").values(subject_ref=""),
        update(ReferralContact).where(ReferralContact.referral_id.in_(ids), ReferralContact.note != "")
        .values(note=""),
        update(ReferralEvent).where(ReferralEvent.referral_id.in_(ids), ReferralEvent.text != "").values(text=""),
    ):
        changed += int(session.execute(stmt).rowcount or 0)  # type: ignore[attr-defined]
    return changed
