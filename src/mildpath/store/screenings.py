"""Candidacy screenings (issue 3): one row per stored screening of one patient.

``kind`` says where the facts came from: ``self_check`` (the patient's plain-language self-check, on the portal or
typed in by staff), ``clinician_assessment`` (the form in the patient's chart or the API) or ``fhir_import`` (a
FHIR Bundle posted for the patient). ``as_of`` is the date the screening looked from; ``criteria_set`` the
``name@version`` it was screened against, so an old screening always says which rules produced it.

``result`` is the whole explained answer (``ScreeningResult.to_json()``; each criterion also carries the wording
in force then, so the explanation survives a later change of the criteria set). ``answers`` is the input: the
form's answers as validated, or for a FHIR import a summary of the facts read (codes, dates, records).
``status`` repeats ``result["status"]`` for queries (the patient list's column).

Keyword-only query and persist functions; none of them commits (the caller owns the transaction).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import date, datetime
from typing import Any

from sqlalchemy import Date, ForeignKey, Index, Integer, String, func, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from mildpath.store.base import Base, JSONType, UTCDateTime, utcnow

KINDS = ("self_check", "clinician_assessment", "fhir_import")
STATUSES = ("likely_candidate", "not_candidate", "needs_more_information", "urgent_referral")


class Screening(Base):
    """One stored candidacy screening of one patient."""

    __tablename__ = "screenings"
    __table_args__ = (Index("ix_screenings_patient_id_kind", "patient_id", "kind"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    patient_id: Mapped[int] = mapped_column(ForeignKey("patients.id"), index=True)
    kind: Mapped[str] = mapped_column(String(24))
    as_of: Mapped[date] = mapped_column(Date)
    criteria_set: Mapped[str] = mapped_column(String(120))
    status: Mapped[str] = mapped_column(String(32))
    result: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
    answers: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
    created_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"), nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    comment_entry_id: Mapped[int | None] = mapped_column(Integer, nullable=True)  # the comment's triaged entry


def set_comment_entry(session: Session, *, screening_id: int, entry_id: int) -> None:
    """Remember the diary entry that carries the triage of a self-check's comment (written at the next flush)."""
    row = session.get(Screening, screening_id)
    if row is not None:
        row.comment_entry_id = entry_id


def add_screening(
    session: Session,
    *,
    patient_id: int,
    kind: str,
    as_of: date,
    criteria_set: str,
    status: str,
    result: dict[str, Any],
    answers: dict[str, Any],
    created_by: int | None,
    created_at: datetime,
) -> Screening:
    """Insert one screening (flushed, so its id is known)."""
    if kind not in KINDS:
        raise ValueError(f"unknown screening kind {kind!r}")
    if status not in STATUSES:
        raise ValueError(f"unknown screening status {status!r}")
    row = Screening(
        patient_id=patient_id,
        kind=kind,
        as_of=as_of,
        criteria_set=criteria_set,
        status=status,
        result=result,
        answers=answers,
        created_by=created_by,
        created_at=created_at,
    )
    session.add(row)
    session.flush()
    return row


def get_screening(session: Session, *, patient_id: int, screening_id: int) -> Screening | None:
    """The screening if it belongs to that patient (else ``None``: another patient's id is no match)."""
    return session.scalar(select(Screening).where(Screening.id == screening_id, Screening.patient_id == patient_id))


def list_for_patient(
    session: Session, *, patient_id: int, kind: str | None = None, limit: int = 100
) -> Sequence[Screening]:
    """The patient's screenings, newest first (by id: the order they were stored)."""
    stmt = select(Screening).where(Screening.patient_id == patient_id)
    if kind is not None:
        stmt = stmt.where(Screening.kind == kind)
    return session.scalars(stmt.order_by(Screening.id.desc()).limit(limit)).all()


def latest_by_patient(session: Session, *, patient_ids: Iterable[int]) -> dict[int, Screening]:
    """For each patient, the latest clinician assessment or FHIR import, else the latest self-check.

    Two queries whatever the number of patients (one grouped, one fetching the rows): built for a list column.
    The clinic's own screenings win over a self-check because a self-check can never be more than guidance.
    """
    ids = sorted(set(patient_ids))
    if not ids:
        return {}
    latest = session.execute(
        select(Screening.patient_id, Screening.kind, func.max(Screening.id))
        .where(Screening.patient_id.in_(ids))
        .group_by(Screening.patient_id, Screening.kind)
    ).all()
    chosen: dict[int, tuple[bool, int]] = {}  # patient -> (is a self-check, screening id)
    for patient_id, kind, screening_id in latest:
        key = (kind == "self_check", int(screening_id))
        current = chosen.get(patient_id)
        # The clinic's screenings (False sorts first) win; among them, the newest.
        if current is None or (key[0], -key[1]) < (current[0], -current[1]):
            chosen[patient_id] = key
    rows = session.scalars(select(Screening).where(Screening.id.in_([sid for _, sid in chosen.values()])))
    return {row.patient_id: row for row in rows}
