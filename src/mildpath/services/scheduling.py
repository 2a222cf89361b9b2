"""Scheduling (issue 18): book, move and cancel a patient's evaluation, procedure and follow-up appointments.

Coordinators and clinicians of the patient's clinic (and admins) book, move and cancel; the patient reads their
own. Every change writes an audit row. Times are stored in UTC and shown in the clinic's time zone
(``Clinic.timezone``; empty: UTC); a start given without an offset is read as clinic time.

A **procedure** appointment is the one source of the procedure day: booking it creates the procedure-day record
(``store/procedures.py``), from whose date the questionnaire schedule and its reminders count
(``services/proms_schedule.py``), and one task per pre-procedure checklist item (``content/procedure.yaml``),
due :data:`TASK_LEAD_DAYS` days before the procedure day. Moving it moves the procedure record's date (hence
every questionnaire window) and every task's due date; cancelling it cancels the record and the tasks. A
reminder queued for the old date is dropped when the outbox re-checks it before sending (``reminder_hold``
compares the reminder's date with the procedure record's), so nothing stale is sent.

An appointment booked with a ``referral_id`` carries its referral along (``services/referrals.py:
follow_appointment``): a procedure schedules a decided referral, moving it records ``scheduled → scheduled``
(moved), done makes it done; cancelling leaves it scheduled unless the coordinator asks to close it.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Callable, Mapping, Sequence
from datetime import date, datetime, timedelta
from typing import Any, Literal
from zoneinfo import ZoneInfo

from pydantic import ConfigDict, Field
from sqlalchemy.orm import Session

from mildpath.content.procedure import policies
from mildpath.domain.errors import Conflict, InvalidInput, NotFound
from mildpath.domain.inputs import EdgeInput
from mildpath.fhir.appointment import appointment_resource
from mildpath.reports.ics import AppointmentEvent, appointments_to_ics
from mildpath.services import referrals
from mildpath.services.access import Actor, get_patient_for, record, require_role
from mildpath.services.read_models import ReadModel
from mildpath.store import clinics as clinics_store
from mildpath.store import patients as patients_store
from mildpath.store import procedures as procedures_store
from mildpath.store import scheduling as store
from mildpath.store import users as users_store
from mildpath.store.models import Patient

SCHEDULERS = ("clinician", "coordinator", "admin")
# The clinical reference names no lead time for any checklist item: each task is due by the procedure day.
# A site that wants earlier deadlines changes this, not the checklist.
TASK_LEAD_DAYS: dict[str, int] = {}
MAX_MINUTES = 12 * 60
BOOK_WINDOW = timedelta(days=366)  # how far from now an appointment may be booked or moved (either way)


class AppointmentIn(EdgeInput):
    """Book an appointment. ``start`` without an offset is the clinic's local time."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)
    kind: Literal["evaluation", "procedure", "follow_up"]
    start: datetime = Field(description="When it starts; without an offset, in the clinic's time zone")
    duration_minutes: int = Field(default=30, ge=5, le=MAX_MINUTES)
    place: str = Field(default="", max_length=200)
    clinician_user_id: int | None = Field(default=None, ge=1, le=2_147_483_647)
    referral_id: int | None = Field(default=None, ge=1, le=2_147_483_647)


class AppointmentChange(EdgeInput):
    """Move (a new start, and optionally duration, place or clinician) or cancel (with a reason)."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)
    action: Literal["move", "cancel", "done"]
    start: datetime | None = None
    duration_minutes: int | None = Field(default=None, ge=5, le=MAX_MINUTES)
    place: str | None = Field(default=None, max_length=200)
    clinician_user_id: int | None = Field(default=None, ge=1, le=2_147_483_647)
    reason: str = Field(default="", max_length=500)
    close_referral: str = Field(default="", max_length=40,
                                description="On cancel: also close the appointment's referral with this §9 reason")


class TaskView(ReadModel):
    item: str
    label: str
    due_date: date
    status: str


class AppointmentView(ReadModel):
    id: int
    patient_id: int
    clinic_id: int
    kind: str
    start: datetime = Field(description="UTC")
    start_local: datetime = Field(description="In the clinic's time zone")
    timezone: str
    duration_minutes: int
    place: str
    clinician_user_id: int | None
    clinician_name: str
    status: str
    cancel_reason: str
    referral_id: int | None
    procedure_id: int | None
    tasks: list[TaskView]
    updated_at: datetime | None = None  # the row's last change (FHIR meta.lastUpdated)

    @property
    def end(self) -> datetime:
        return self.start + timedelta(minutes=self.duration_minutes)

    @property
    def local_date(self) -> date:
        return self.start_local.date()


# ------------------------------------------------------------------------------------------ helpers


def clinic_zone(session: Session, clinic_id: int) -> ZoneInfo:
    clinic = clinics_store.get_or_none(session, clinic_id=clinic_id)
    return ZoneInfo((clinic.timezone if clinic is not None else "") or "UTC")


def _as_utc(value: datetime, zone: ZoneInfo, now: datetime) -> datetime:
    local = value.replace(tzinfo=zone) if value.tzinfo is None or value.utcoffset() is None else value
    result = local.astimezone(ZoneInfo("UTC"))
    if abs(result - now) > BOOK_WINDOW:
        raise InvalidInput("start: must lie within a year of today", field="start", value=value.isoformat())
    return result


def _check_clinician(session: Session, user_id: int, clinic_id: int) -> None:
    if user_id not in {u.id for u in users_store.active_clinicians(session, clinic_id=clinic_id)}:
        raise InvalidInput("clinician_user_id: not an active clinician of the patient's clinic",
                           field="clinician_user_id", value=user_id)


def views_of(session: Session, rows: Sequence[store.Appointment]) -> list[AppointmentView]:
    tasks = store.tasks_for(session, appointment_ids=[r.id for r in rows])
    names = users_store.display_names(session, user_ids=[r.clinician_user_id for r in rows])
    zones: dict[int, ZoneInfo] = {}
    out = []
    for r in rows:
        zone = zones.setdefault(r.clinic_id, clinic_zone(session, r.clinic_id))
        out.append(AppointmentView(
            id=r.id, patient_id=r.patient_id, clinic_id=r.clinic_id, kind=r.kind, start=r.start_at,
            start_local=r.start_at.astimezone(zone), timezone=zone.key, duration_minutes=r.duration_minutes,
            place=r.place, clinician_user_id=r.clinician_user_id,
            clinician_name=names.get(r.clinician_user_id or 0, ""), status=r.status, cancel_reason=r.cancel_reason,
            referral_id=r.referral_id, procedure_id=r.procedure_id,
            tasks=[TaskView.model_validate(t) for t in tasks.get(r.id, [])], updated_at=r.updated_at,
        ))
    return out


def _appointment_for(session: Session, actor: Actor, appointment_id: int) -> tuple[store.Appointment, Patient]:
    row = store.get(session, appointment_id=appointment_id)
    if row is None:
        raise NotFound(f"no appointment {appointment_id}", record_type="Appointment", record_id=appointment_id)
    try:
        patient = get_patient_for(session, actor, row.patient_id)
    except NotFound:
        raise NotFound(f"no appointment {appointment_id}", record_type="Appointment",
                       record_id=appointment_id) from None
    return row, patient


def _task_rows(appointment_id: int, procedure_day: date) -> list[store.AppointmentTask]:
    return [
        store.AppointmentTask(appointment_id=appointment_id, item=str(spec.id), label=spec.label,
                              due_date=procedure_day - timedelta(days=TASK_LEAD_DAYS.get(str(spec.id), 0)),
                              status="open")
        for spec in policies().checklist.items
    ]


# ------------------------------------------------------------------------------------------ commands


def book(session: Session, actor: Actor, patient_id: int, data: AppointmentIn, *, now: datetime) -> AppointmentView:
    """Book an appointment; a procedure also creates its procedure-day record and its pre-procedure tasks."""
    require_role(actor, *SCHEDULERS)
    patient = get_patient_for(session, actor, patient_id)
    zone = clinic_zone(session, patient.clinic_id)
    start = _as_utc(data.start, zone, now)
    if data.clinician_user_id is not None:
        _check_clinician(session, data.clinician_user_id, patient.clinic_id)
    if data.referral_id is not None:
        referrals.follow_appointment(session, actor, data.referral_id, patient_id=patient.id, kind=data.kind,
                                     action="book", now=now)
    procedure_id = None
    if data.kind == "procedure":
        if procedures_store.open_procedure(session, patient_id=patient.id) is not None:
            raise Conflict("this patient already has a scheduled or in-progress procedure: move that one")
        procedure = procedures_store.add_procedure(
            session, patient_id=patient.id, scheduled_date=start.astimezone(zone).date(),
            operator_user_id=data.clinician_user_id, created_by=actor.user_id, now=now)
        procedure_id = procedure.id
        record(session, actor, "procedure.schedule", "Procedure", procedure.id, patient.id)
    row = store.add(session, store.Appointment(
        patient_id=patient.id, clinic_id=patient.clinic_id, kind=data.kind, start_at=start,
        duration_minutes=data.duration_minutes, place=data.place, clinician_user_id=data.clinician_user_id,
        status="booked", cancel_reason="", referral_id=data.referral_id, procedure_id=procedure_id,
        created_by=actor.user_id, created_at=now, updated_at=now))
    if procedure_id is not None:
        store.add_tasks(session, _task_rows(row.id, start.astimezone(zone).date()))
    record(session, actor, "appointment.book", "Appointment", row.id, patient.id, {"kind": data.kind})
    return views_of(session, [row])[0]


def change(
    session: Session, actor: Actor, appointment_id: int, data: AppointmentChange, *, now: datetime
) -> AppointmentView:
    """Move, cancel or mark done a booked appointment; what a procedure derived follows it."""
    require_role(actor, *SCHEDULERS)
    row, patient = _appointment_for(session, actor, appointment_id)
    if row.status != "booked":
        raise Conflict(f"this appointment is {row.status}: only a booked one can change")
    procedure = procedures_store.get_procedure(session, procedure_id=row.procedure_id) if row.procedure_id else None
    if data.action == "move":
        _move(session, row, patient, procedure, data, now)
        record(session, actor, "appointment.move", "Appointment", row.id, patient.id)
        if procedure is not None:
            record(session, actor, "procedure.reschedule", "Procedure", procedure.id, patient.id,
                   {"fields": ["scheduled_date"], "by": "appointment"})
    elif data.action == "cancel":
        if not data.reason:
            raise InvalidInput("reason: say why the appointment is cancelled", field="reason")
        if data.close_referral and row.referral_id is None:
            raise InvalidInput("close_referral: this appointment has no referral", field="close_referral")
        row.status, row.cancel_reason = "cancelled", data.reason
        for task in store.tasks_for(session, appointment_ids=[row.id])[row.id]:
            task.status = "cancelled"
        if procedure is not None and procedure.status == "scheduled":
            procedure.status, procedure.cancel_reason, procedure.updated_at = "cancelled", data.reason, now
            record(session, actor, "procedure.cancel", "Procedure", procedure.id, patient.id)
        record(session, actor, "appointment.cancel", "Appointment", row.id, patient.id)
    else:
        row.status = "done"
        record(session, actor, "appointment.done", "Appointment", row.id, patient.id)
    if row.referral_id is not None:
        referrals.follow_appointment(session, actor, row.referral_id, patient_id=patient.id, kind=row.kind,
                                     action=data.action, now=now, close_reason=data.close_referral,
                                     text=data.reason)
    row.updated_at = now
    session.flush()
    return views_of(session, [row])[0]


def _move(
    session: Session, row: store.Appointment, patient: Patient, procedure: procedures_store.ProcedureRow | None,
    data: AppointmentChange, now: datetime,
) -> None:
    if data.start is None:
        raise InvalidInput("start: a move needs the new start", field="start")
    zone = clinic_zone(session, patient.clinic_id)
    start = _as_utc(data.start, zone, now)
    if data.clinician_user_id is not None:
        _check_clinician(session, data.clinician_user_id, patient.clinic_id)
        row.clinician_user_id = data.clinician_user_id
    if procedure is not None and procedure.status != "scheduled":
        raise Conflict(f"the procedure is {procedure.status}: it can no longer be moved")
    shift = start.astimezone(zone).date() - row.start_at.astimezone(zone).date()
    row.start_at = start
    if data.duration_minutes is not None:
        row.duration_minutes = data.duration_minutes
    if data.place is not None:
        row.place = data.place
    if procedure is not None:
        procedure.scheduled_date = start.astimezone(zone).date()
        procedure.updated_at = now
        if data.clinician_user_id is not None:
            procedure.operator_user_id = data.clinician_user_id
        for task in store.tasks_for(session, appointment_ids=[row.id])[row.id]:
            task.due_date = task.due_date + shift


def follow_procedure(session: Session, procedure_id: int, *, new_date: date | None, reason: str, now: datetime,
                     actor: Actor | None = None) -> None:
    """Keep a procedure's appointment in step when the procedure-day page moves (``new_date``) or cancels
    (``None``) the procedure itself: the appointment keeps its local time on the new day, its tasks move by the
    same number of days; a cancelled procedure cancels both. The caller audits the procedure change; given the
    ``actor``, a move is also recorded on the appointment's referral (``scheduled → scheduled``, moved)."""
    for row in store.for_procedure(session, procedure_id=procedure_id):
        tasks = store.tasks_for(session, appointment_ids=[row.id])[row.id]
        if new_date is None:
            row.status, row.cancel_reason = "cancelled", reason
            for task in tasks:
                task.status = "cancelled"
        else:
            zone = clinic_zone(session, row.clinic_id)
            local = row.start_at.astimezone(zone)
            shift = new_date - local.date()
            row.start_at = datetime.combine(new_date, local.time(), zone).astimezone(ZoneInfo("UTC"))
            for task in tasks:
                task.due_date = task.due_date + shift
            if actor is not None and row.referral_id is not None and row.status == "booked":
                referrals.follow_appointment(session, actor, row.referral_id, patient_id=row.patient_id,
                                             kind=row.kind, action="move", now=now)
        row.updated_at = now
    session.flush()


# ------------------------------------------------------------------------------------------ queries


def list_for_patient(session: Session, actor: Actor, patient_id: int) -> list[AppointmentView]:
    """The patient's appointments, earliest first (the patient themself, their clinic's staff, admins)."""
    require_role(actor, "patient", *SCHEDULERS)
    patient = get_patient_for(session, actor, patient_id)
    record(session, actor, "appointment.list", "Patient", patient.id, patient.id)
    return views_of(session, store.for_patient(session, patient_id=patient.id))


def get_appointment(session: Session, actor: Actor, appointment_id: int) -> AppointmentView:
    require_role(actor, "patient", *SCHEDULERS)
    row, patient = _appointment_for(session, actor, appointment_id)
    record(session, actor, "appointment.read", "Appointment", row.id, patient.id)
    return views_of(session, [row])[0]


# ------------------------------------------------------------------------------------------ calendars

Titles = Callable[[str], Mapping[str, str]]  # language -> {kind: the event's title in that language}


def _calendar(session: Session, patient: Patient, rows: Sequence[store.Appointment], now: datetime,
              titles: Titles) -> bytes:
    names = titles(patient.preferred_language)
    events = [
        AppointmentEvent(v.id, names.get(v.kind, v.kind), v.start_local, v.duration_minutes, v.place, v.status,
                         int((r.updated_at - r.created_at).total_seconds()))
        for v, r in zip(views_of(session, rows), rows, strict=True)
    ]
    return appointments_to_ics(events, now=now, calendar_name=names.get("calendar", "My appointments"))


def appointment_ics(session: Session, actor: Actor, appointment_id: int, *, now: datetime, titles: Titles) -> bytes:
    """One appointment as an iCalendar file, in the patient's language and the clinic's time zone."""
    require_role(actor, "patient", *SCHEDULERS)
    row, patient = _appointment_for(session, actor, appointment_id)
    record(session, actor, "appointment.export", "Appointment", row.id, patient.id, {"format": "ics"})
    return _calendar(session, patient, [row], now, titles)


def patient_ics(session: Session, actor: Actor, patient_id: int, *, now: datetime, titles: Titles) -> bytes:
    """Every appointment of the patient as one calendar (cancelled ones marked so)."""
    require_role(actor, "patient", *SCHEDULERS)
    patient = get_patient_for(session, actor, patient_id)
    record(session, actor, "appointment.export", "Patient", patient.id, patient.id, {"format": "ics"})
    return _calendar(session, patient, store.for_patient(session, patient_id=patient.id), now, titles)


def _feed_digest(secret_key: str, patient_id: int) -> str:
    return hmac.new(secret_key.encode(), f"calendar-feed:{patient_id}".encode(), hashlib.sha256).hexdigest()[:32]


def feed_token(session: Session, actor: Actor, patient_id: int, *, secret_key: str) -> str:
    """The token of the patient's calendar feed URL (``/api/v1/calendar/<token>.ics``), for a calendar app that
    cannot sign in. It reveals only the patient's appointment times and places, and changes with the secret key."""
    require_role(actor, "patient", *SCHEDULERS)
    patient = get_patient_for(session, actor, patient_id)
    record(session, actor, "appointment.feed_link", "Patient", patient.id, patient.id)
    return f"{patient.id}-{_feed_digest(secret_key, patient.id)}"


def feed_ics(session: Session, token: str, *, secret_key: str, now: datetime, titles: Titles) -> bytes:
    """The calendar behind a feed token; a wrong, erased or unknown one is :class:`NotFound`."""
    pid_text, _, digest = token.partition("-")
    missing = NotFound("no such calendar", record_type="Calendar", record_id="feed")
    if not pid_text.isdigit() or len(pid_text) > 10:
        raise missing
    patient_id = int(pid_text)
    if not hmac.compare_digest(digest, _feed_digest(secret_key, patient_id)):
        raise missing
    patient = patients_store.by_ids(session, patient_ids=[patient_id]).get(patient_id)
    if patient is None or patient.anonymised_at is not None:
        raise missing
    record(session, Actor.system("calendar-feed"), "appointment.export", "Patient", patient.id, patient.id,
           {"format": "ics", "via": "feed"})
    return _calendar(session, patient, store.for_patient(session, patient_id=patient.id), now, titles)


# ------------------------------------------------------------------------------------------ FHIR


def fhir_resources_for_patient(session: Session, patient_id: int) -> list[dict[str, Any]]:
    """Every appointment of the patient as an R4 ``Appointment`` (patient-rights export registry and the FHIR
    server: no access check or audit here; the callers made both)."""
    return [
        appointment_resource(
            appointment_id=v.id, patient_id=v.patient_id, kind=v.kind, start=v.start_local,
            duration_minutes=v.duration_minutes, status=v.status, place=v.place,
            clinician_user_id=v.clinician_user_id, cancel_reason=v.cancel_reason, last_updated=v.updated_at)
        for v in views_of(session, store.for_patient(session, patient_id=patient_id))
    ]
