"""Questionnaire tables: each patient-reported outcome response, and the reminders sent for open timepoints.

``prom_responses`` holds one row per (patient, instrument, timepoint, procedure date): the *slot* a response
fills. A row starts ``in_progress`` (a patient filling a form section by section; ``current_step`` says where to
resume) and becomes ``completed``. ``answers`` is the whole response as given (``{item id: value}``; an absent
item is unanswered); ``scores`` is computed from the answers by the domain on every write and never typed in.
``entered_by`` is the account that wrote the answers and ``entry_mode`` how: ``patient`` (the patient, on the
portal or the API), ``paper`` (a clinician typing a paper form or posting for a patient), ``import`` (a FHIR
QuestionnaireResponse) or ``proxy`` (a caregiver the patient let answer for them, issue 20). ``answered_on`` is
the day the patient answered (for paper, the date on the form); ``procedure_date`` is the procedure the
timepoint was counted from, kept so a later change of the procedure date does not re-file what was collected.

``prom_reminders`` remembers the one reminder queued per patient, timepoint and procedure date, so that the
reminder job can run as often as it likes (idempotent).

Keyword-only query and persist functions; none of them commits (the caller owns the transaction). The
functions under "registry queries" are what the outcomes registry (issue 8) reads.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import Boolean, Date, ForeignKey, Index, Integer, String, Text, UniqueConstraint, func, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from mildpath.store.base import Base, JSONType, UTCDateTime, utcnow
from mildpath.store.models import Patient
from mildpath.store.procedures import ProcedureRow
from mildpath.store.recovery import RecoveryPlanRecord

STATUSES = ("in_progress", "completed")
#: ``wording``: the words the patient answered: ``licensed`` (a site's licensed text) or ``neutral`` (mildpath's
#: own labels, which are not the validated instrument: such scores stay out of comparisons with the trials).
WORDINGS = ("neutral", "licensed")
ENTRY_MODES = ("patient", "paper", "import", "proxy")  # proxy: a caregiver answered for the patient


class PromResponse(Base):
    """One questionnaire response of one patient at one timepoint."""

    __tablename__ = "prom_responses"
    __table_args__ = (
        UniqueConstraint("patient_id", "instrument", "timepoint", "procedure_date", name="prom_slot"),
        Index("ix_prom_responses_patient_id_answered_on", "patient_id", "answered_on"),
        Index("ix_prom_responses_status_instrument", "status", "instrument"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    patient_id: Mapped[int] = mapped_column(ForeignKey("patients.id"))
    instrument: Mapped[str] = mapped_column(String(16))
    timepoint: Mapped[str] = mapped_column(String(16))
    procedure_date: Mapped[date | None] = mapped_column(Date, nullable=True)
    after_treatment: Mapped[bool] = mapped_column(Boolean, default=False)
    status: Mapped[str] = mapped_column(String(16), default="in_progress")
    answers: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
    current_step: Mapped[int] = mapped_column(Integer, default=0)
    scores: Mapped[dict[str, Any] | None] = mapped_column(JSONType, nullable=True)
    entry_mode: Mapped[str] = mapped_column(String(16), default="patient")
    entered_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"), nullable=True)
    entered_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    started_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    completed_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    answered_on: Mapped[date | None] = mapped_column(Date, nullable=True)
    wording: Mapped[str] = mapped_column(String(16), default="neutral", server_default="neutral")
    comment: Mapped[str] = mapped_column(Text, default="", server_default="")  # the patient's own words
    comment_entry_id: Mapped[int | None] = mapped_column(Integer, nullable=True)  # the triaged diary entry


class PromReminder(Base):
    """The reminder queued for one open timepoint of one patient (at most one per window)."""

    __tablename__ = "prom_reminders"
    __table_args__ = (UniqueConstraint("patient_id", "timepoint", "procedure_date", name="prom_reminder_slot"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    patient_id: Mapped[int] = mapped_column(ForeignKey("patients.id"))
    timepoint: Mapped[str] = mapped_column(String(16))
    procedure_date: Mapped[date] = mapped_column(Date)
    outbox_id: Mapped[int | None] = mapped_column(ForeignKey("outbox.id"), nullable=True)
    queued_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class CaregiverReminder(Base):
    """A copy of a reminder sent to a caregiver the patient shares reminders with (issue 20): re-checked like the
    patient's (its :class:`PromReminder`) and against the caregiver's grant."""

    __tablename__ = "caregiver_reminders"
    __table_args__ = (UniqueConstraint("reminder_id", "grant_id", name="caregiver_reminder_once"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    reminder_id: Mapped[int] = mapped_column(ForeignKey("prom_reminders.id"))
    grant_id: Mapped[int] = mapped_column(ForeignKey("caregivers.id"))
    outbox_id: Mapped[int] = mapped_column(ForeignKey("outbox.id"), index=True, unique=True)


# ------------------------------------------------------------------------------------------ responses


def add_response(
    session: Session,
    *,
    patient_id: int,
    instrument: str,
    timepoint: str,
    procedure_date: date | None,
    after_treatment: bool,
    entry_mode: str,
    entered_by: int | None,
    now: datetime,
    answers: dict[str, Any] | None = None,
    scores: dict[str, Any] | None = None,
    current_step: int = 0,
    answered_on: date | None = None,
    wording: str = "neutral",
) -> PromResponse:
    """A new response: in progress, or completed at once when ``answered_on`` is given (one INSERT)."""
    row = PromResponse(
        patient_id=patient_id,
        instrument=instrument,
        timepoint=timepoint,
        procedure_date=procedure_date,
        after_treatment=after_treatment,
        status="in_progress" if answered_on is None else "completed",
        answers=dict(answers or {}),
        current_step=current_step,
        scores=scores,
        entry_mode=entry_mode,
        entered_by=entered_by,
        entered_at=now,
        started_at=now,
        completed_at=None if answered_on is None else now,
        answered_on=answered_on,
        wording=wording,
    )
    session.add(row)
    session.flush()
    return row


def write_answers(
    session: Session,
    row: PromResponse,
    *,
    answers: dict[str, Any],
    scores: dict[str, Any],
    entered_by: int | None,
    now: datetime,
    current_step: int | None = None,
) -> PromResponse:
    """Replace the row's answers and scores (a new dict, so the JSON column sees the change); written to the
    database at the session's next flush."""
    row.answers = dict(answers)
    row.scores = dict(scores)
    row.entered_by = entered_by
    row.entered_at = now
    if current_step is not None:
        row.current_step = current_step
    return row


def set_comment(session: Session, row: PromResponse, *, comment: str, entry_id: int | None) -> PromResponse:
    """Keep the patient's comment and the diary entry its triage raised, if any (written at the next flush)."""
    row.comment = comment
    row.comment_entry_id = entry_id
    return row


def complete(session: Session, row: PromResponse, *, answered_on: date, now: datetime) -> PromResponse:
    """Mark the response completed (the session writes it at its next flush)."""
    row.status = "completed"
    row.completed_at = now
    row.answered_on = answered_on
    return row


def get_response(session: Session, *, response_id: int) -> PromResponse | None:
    return session.get(PromResponse, response_id)


def find_slot(
    session: Session, *, patient_id: int, instrument: str, timepoint: str, procedure_date: date | None
) -> PromResponse | None:
    """The response filling this slot, if any (a slot holds at most one)."""
    stmt = select(PromResponse).where(
        PromResponse.patient_id == patient_id,
        PromResponse.instrument == instrument,
        PromResponse.timepoint == timepoint,
        PromResponse.procedure_date.is_(None)
        if procedure_date is None
        else PromResponse.procedure_date == procedure_date,
    )
    return session.scalars(stmt.order_by(PromResponse.id)).first()


def list_for_patient(
    session: Session,
    *,
    patient_id: int,
    status: str | None = None,
    instrument: str | None = None,
    limit: int = 500,
) -> list[PromResponse]:
    """The patient's responses, oldest answered first (in-progress ones, not yet answered, last)."""
    stmt = select(PromResponse).where(PromResponse.patient_id == patient_id)
    if status is not None:
        stmt = stmt.where(PromResponse.status == status)
    if instrument is not None:
        stmt = stmt.where(PromResponse.instrument == instrument)
    stmt = stmt.order_by(
        PromResponse.answered_on.is_(None), PromResponse.answered_on, PromResponse.started_at, PromResponse.id
    )
    return list(session.scalars(stmt.limit(limit)))


def slots_for(
    session: Session, *, patient_ids: Sequence[int] | Any
) -> list[tuple[int, date | None, str, str, str, int]]:
    """``(patient_id, procedure_date, timepoint, instrument, status, response id)`` of every response of the
    given patients (an id list or a subquery of ids): what the schedule needs to mark timepoints done."""
    stmt = select(
        PromResponse.patient_id,
        PromResponse.procedure_date,
        PromResponse.timepoint,
        PromResponse.instrument,
        PromResponse.status,
        PromResponse.id,
    ).where(PromResponse.patient_id.in_(patient_ids))
    return [(p, d, t, i, s, rid) for p, d, t, i, s, rid in session.execute(stmt).all()]


# ------------------------------------------------------------------------------------------ reminders


def reminded(session: Session, *, patient_ids: Sequence[int] | Any) -> dict[tuple[int, str, date], datetime]:
    """``{(patient_id, timepoint, procedure_date): queued_at}`` of the reminders already queued."""
    stmt = select(
        PromReminder.patient_id, PromReminder.timepoint, PromReminder.procedure_date, PromReminder.queued_at
    ).where(PromReminder.patient_id.in_(patient_ids))
    return {(p, t, d): at for p, t, d, at in session.execute(stmt).all()}


def completed_of(session: Session, *, patient_ids: Sequence[int] | Any) -> list[PromResponse]:
    """The completed responses of these patients (a list or a subquery of ids), in the order they were filed."""
    stmt = (
        select(PromResponse)
        .where(PromResponse.patient_id.in_(patient_ids), PromResponse.status == "completed")
        .order_by(PromResponse.id)
    )
    return list(session.scalars(stmt))


def procedure_dates(session: Session, *, patient_ids: Sequence[int] | Any) -> dict[int, date]:
    """Each patient's procedure date for the questionnaire schedule: the latest procedure not cancelled, else the
    recovery plan's date. ``patient_ids``: a list of ids or a subquery of ids. Two queries."""
    latest = (
        select(ProcedureRow.patient_id, func.max(ProcedureRow.scheduled_date))
        .where(ProcedureRow.patient_id.in_(patient_ids), ProcedureRow.status != "cancelled")
        .group_by(ProcedureRow.patient_id)
    )
    found: dict[int, date] = dict(session.execute(latest).all())
    plans = select(RecoveryPlanRecord.patient_id, RecoveryPlanRecord.procedure_date).where(
        RecoveryPlanRecord.patient_id.in_(patient_ids)
    )
    for pid, day in session.execute(plans).all():
        found.setdefault(pid, day)
    return found


def add_reminder(
    session: Session, *, patient_id: int, timepoint: str, procedure_date: date, outbox_id: int | None, now: datetime
) -> PromReminder:
    row = PromReminder(
        patient_id=patient_id, timepoint=timepoint, procedure_date=procedure_date, outbox_id=outbox_id, queued_at=now
    )
    session.add(row)
    session.flush()
    return row


def reminder_for_message(session: Session, *, outbox_id: int) -> PromReminder | None:
    """The questionnaire reminder an outbox message carries, if it is one."""
    return session.scalars(select(PromReminder).where(PromReminder.outbox_id == outbox_id)).first()


def add_caregiver_reminder(session: Session, *, reminder_id: int, grant_id: int, outbox_id: int) -> None:
    session.add(CaregiverReminder(reminder_id=reminder_id, grant_id=grant_id, outbox_id=outbox_id))
    session.flush()


def caregiver_reminder_for_message(session: Session, *, outbox_id: int) -> tuple[PromReminder, int] | None:
    """(the patient's reminder, the caregiver grant id) of a caregiver's copy, if the message is one."""
    row = session.execute(
        select(PromReminder, CaregiverReminder.grant_id)
        .join(CaregiverReminder, CaregiverReminder.reminder_id == PromReminder.id)
        .where(CaregiverReminder.outbox_id == outbox_id)
    ).first()
    return (row[0], row[1]) if row is not None else None


# ------------------------------------------------------------------------------------------ registry queries


@dataclass(frozen=True)
class RegistryResponse:
    """One completed response as plain values, for the outcomes registry.

    ``scores`` is the stored score JSON (see ``services.proms.score_json``): ``value`` (ODI, walking), ``band``
    (ODI), ``subscales`` (``{"severity": {"value": ...}, ...}`` for ZCQ; ``back``/``leg`` for NPRS), ``exact``
    (the unrounded fraction as ``"320/9"``), ``answered``, ``missing`` and ``reason``.
    """

    response_id: int
    patient_id: int
    clinic_id: int
    instrument: str
    timepoint: str
    procedure_date: date | None
    answered_on: date | None
    completed_at: datetime | None
    after_treatment: bool
    entry_mode: str
    answers: dict[str, Any]
    scores: dict[str, Any]
    wording: str = "neutral"

    @property
    def proxy(self) -> bool:
        """Answered by a caregiver for the patient (``entry_mode`` ``proxy``), not by the patient."""
        return self.entry_mode == "proxy"


def registry_responses(
    session: Session,
    *,
    patient_ids: Sequence[int] | Any,
    instruments: Sequence[str] | None = None,
    timepoints: Sequence[str] | None = None,
    since: date | None = None,
    until: date | None = None,
) -> list[RegistryResponse]:
    """Completed responses of the given patients (an id list or a subquery of ids), optionally limited to some
    instruments and timepoints and to a procedure-date period (``since``..``until`` inclusive), ordered by
    patient, procedure date and answer date."""
    stmt = (
        select(PromResponse, Patient.clinic_id)
        .join(Patient, Patient.id == PromResponse.patient_id)
        .where(PromResponse.patient_id.in_(patient_ids), PromResponse.status == "completed")
    )
    if instruments is not None:
        stmt = stmt.where(PromResponse.instrument.in_(list(instruments)))
    if timepoints is not None:
        stmt = stmt.where(PromResponse.timepoint.in_(list(timepoints)))
    if since is not None:
        stmt = stmt.where(PromResponse.procedure_date >= since)
    if until is not None:
        stmt = stmt.where(PromResponse.procedure_date <= until)
    stmt = stmt.order_by(
        PromResponse.patient_id, PromResponse.procedure_date, PromResponse.answered_on, PromResponse.id
    )
    return [
        RegistryResponse(
            response_id=row.id,
            patient_id=row.patient_id,
            clinic_id=clinic_id,
            instrument=row.instrument,
            timepoint=row.timepoint,
            procedure_date=row.procedure_date,
            answered_on=row.answered_on,
            completed_at=row.completed_at,
            after_treatment=row.after_treatment,
            entry_mode=row.entry_mode,
            answers=dict(row.answers or {}),
            scores=dict(row.scores or {}),
            wording=row.wording or "neutral",
        )
        for row, clinic_id in session.execute(stmt).all()
    ]
