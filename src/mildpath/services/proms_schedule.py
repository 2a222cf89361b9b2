"""Questionnaire schedules: procedure dates, each patient's follow-up schedule, the clinic's follow-up list and
the reminders (issue 4). Part of :mod:`mildpath.services.proms`, which re-exports everything public here.

A timepoint counts as completed once every questionnaire it asks for is completed for the current procedure
date; its window and status come from :mod:`mildpath.domain.schedule` (windows: ``content/schedule.yaml``, an
assumption stated there). Responses counted from an earlier procedure date (a repeat procedure) do not fill the
new schedule.

The procedure date comes from the procedure-day records (the latest procedure not cancelled) or, for a patient
without one, from the recovery plan's procedure date (both entered by clinicians).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, date, datetime
from typing import Any

from pydantic import Field
from sqlalchemy.orm import Session

from mildpath.content.instruments import instrument_form
from mildpath.content.schedule import follow_up_plan
from mildpath.domain.schedule import SchedulePlan, Status, place
from mildpath.services import access_links, notify
from mildpath.services import procedures as procedures_service
from mildpath.services import recovery as recovery_service
from mildpath.services.access import Actor, get_patient_for, record, require_staff, visible_patients
from mildpath.services.read_models import ReadModel
from mildpath.store import access_links as links_store
from mildpath.store import caregivers as caregivers_store
from mildpath.store import messaging as messaging_store
from mildpath.store import patients as patients_store
from mildpath.store import proms as store
from mildpath.store import users as users_store
from mildpath.store.models import OutboxMessage

REMINDER_KIND = "prom_reminder"
# No clinical details in a reminder (issue 4): no instrument, no procedure, no symptom, no score.
REMINDER_SUBJECT = "A questionnaire is waiting for you"
REMINDER_BODY = (
    "Hello,\n\nYou have a questionnaire waiting in mildpath. Please sign in to mildpath to answer it.\n\n"
    "This message was sent automatically; please do not reply to it."
)


class InstrumentStatus(ReadModel):
    """One questionnaire of a timepoint; also part of the API's answer (``GET /api/v1/patients/{id}/schedule``)."""

    instrument: str
    short_title: str
    status: str = Field(description="completed, in_progress or not_started")
    response_id: int | None


class TimepointView(ReadModel):
    id: str
    label: str
    target: date
    opens: date
    closes: date
    status: str = Field(description="completed, upcoming, due, overdue or missed")  # domain.schedule.Status
    optional: bool
    after_procedure: bool
    instruments: tuple[InstrumentStatus, ...]

    @property
    def open(self) -> bool:
        return self.status in (Status.DUE, Status.OVERDUE)

    @property
    def done(self) -> int:
        return sum(1 for i in self.instruments if i.status == "completed")


class ScheduleView(ReadModel):
    """A patient's follow-up schedule; also the API's answer (``GET /api/v1/patients/{id}/schedule``)."""

    patient_id: int
    procedure_date: date | None = Field(description="None: no procedure date on record, no schedule yet")
    timepoints: tuple[TimepointView, ...]
    source: str

    @property
    def open(self) -> tuple[TimepointView, ...]:
        return tuple(tp for tp in self.timepoints if tp.open)

    @property
    def next_upcoming(self) -> TimepointView | None:
        return next((tp for tp in self.timepoints if tp.status == Status.UPCOMING), None)


class FollowUpRow(ReadModel):
    """One open timepoint on the clinic's follow-up list; also the API's answer (``GET /api/v1/follow-up``)."""

    patient_id: int
    mrn: str
    name: str
    procedure_date: date
    timepoint: str
    label: str
    target: date
    closes: date
    status: str
    optional: bool
    done: int
    total: int
    reminded_at: datetime | None


# ---------------------------------------------------------------------------------------------------------------
# Procedure dates


def procedure_dates(session: Session, patient_ids: Iterable[int] | Any) -> dict[int, date]:
    """Each patient's procedure date: the latest procedure that is not cancelled, else the recovery plan's date
    (the same rule as :func:`procedure_date_for`, for many patients at once).

    ``patient_ids``: a list of ids or a subquery of ids. Two queries, whatever the number of patients.
    """
    ids = list(patient_ids) if isinstance(patient_ids, list | tuple | set) else patient_ids
    return store.procedure_dates(session, patient_ids=ids)


def procedure_date_for(session: Session, patient_id: int) -> date | None:
    """The procedure date the patient's questionnaire schedule counts from: the procedure-day service's
    (the latest procedure not cancelled), else the recovery plan's. No access check: callers did it."""
    found = procedures_service.procedure_date_for(session, patient_id)
    return found if found is not None else recovery_service.procedure_date_for(session, patient_id)


# ---------------------------------------------------------------------------------------------------------------
# Schedule, follow-up list and reminders


def _schedule(
    plan: SchedulePlan,
    procedure_date: date,
    today: date,
    slots: Mapping[tuple[str, str], tuple[str, int]],
) -> tuple[TimepointView, ...]:
    """The plan placed on the calendar; ``slots``: ``{(timepoint, instrument): (status, response id)}`` of the
    responses counted from this procedure date."""
    out = []
    for tp in plan.timepoints:
        statuses = tuple(
            InstrumentStatus(
                instrument=instrument,
                short_title=instrument_form(instrument).short_title,
                status=slots.get((tp.id, instrument), ("not_started", 0))[0],
                response_id=slots.get((tp.id, instrument), ("", None))[1],
            )
            for instrument in tp.instruments
        )
        done = all(s.status == "completed" for s in statuses)
        placed = place(tp, procedure_date, today, completed=done)
        out.append(
            TimepointView(
                id=tp.id,
                label=tp.label,
                target=placed.target,
                opens=placed.opens,
                closes=placed.closes,
                status=placed.status.value,
                optional=tp.optional,
                after_procedure=tp.after_procedure,
                instruments=statuses,
            )
        )
    return tuple(out)


def _slots_by_patient(
    session: Session, patient_ids: Any, dates: Mapping[int, date]
) -> dict[int, dict[tuple[str, str], tuple[str, int]]]:
    out: dict[int, dict[tuple[str, str], tuple[str, int]]] = {}
    for pid, proc, timepoint, instrument, status, rid in store.slots_for(session, patient_ids=patient_ids):
        if pid in dates and proc == dates[pid]:
            out.setdefault(pid, {})[(timepoint, instrument)] = (status, rid)
    return out


def patient_schedule(session: Session, actor: Actor, patient_id: int, *, today: date) -> ScheduleView:
    """The patient's follow-up schedule on ``today``: each timepoint's window, status and instruments.

    Without a procedure date there is no schedule yet (``procedure_date`` ``None``, no timepoints).
    """
    get_patient_for(session, actor, patient_id)
    plan = follow_up_plan()
    record(session, actor, "proms.schedule", "PromSchedule", None, patient_id)
    procedure_date = procedure_date_for(session, patient_id)
    if procedure_date is None:
        return ScheduleView(patient_id=patient_id, procedure_date=None, timepoints=(), source=plan.source)
    slots = _slots_by_patient(session, [patient_id], {patient_id: procedure_date}).get(patient_id, {})
    return ScheduleView(
        patient_id=patient_id,
        procedure_date=procedure_date,
        timepoints=_schedule(plan, procedure_date, today, slots),
        source=plan.source,
    )


def clinic_follow_up(
    session: Session,
    actor: Actor,
    *,
    today: date,
    statuses: Sequence[str] = ("overdue", "due"),
    limit: int = 1000,
) -> list[FollowUpRow]:
    """Staff: the timepoints of the actor's patients in the given statuses (overdue first, then by target date),
    with how many of their questionnaires are done and when the patient was last reminded."""
    require_staff(actor)
    ids = patients_store.ids_of(visible_patients(actor), anonymised=False)
    dates = procedure_dates(session, ids)
    patients = patients_store.by_ids(session, patient_ids=dates)
    slots = _slots_by_patient(session, list(dates), dates)
    reminders = store.reminded(session, patient_ids=list(dates)) if dates else {}
    plan = follow_up_plan()
    rows = []
    for pid, proc in dates.items():
        patient = patients.get(pid)
        if patient is None:
            continue
        for tp in _schedule(plan, proc, today, slots.get(pid, {})):
            if tp.status in statuses:
                rows.append(
                    FollowUpRow(
                        patient_id=pid,
                        mrn=patient.mrn,
                        name=f"{patient.given_name} {patient.family_name}",
                        procedure_date=proc,
                        timepoint=tp.id,
                        label=tp.label,
                        target=tp.target,
                        closes=tp.closes,
                        status=tp.status,
                        optional=tp.optional,
                        done=tp.done,
                        total=len(tp.instruments),
                        reminded_at=reminders.get((pid, tp.id, proc)),
                    )
                )
    order = {status: i for i, status in enumerate(("overdue", "due", "upcoming", "missed", "completed"))}
    rows.sort(key=lambda r: (order.get(r.status, 9), r.target, r.name, r.patient_id))
    record(session, actor, "proms.follow_up", "PromSchedule", None, None, {"results": len(rows)})
    return rows[:limit]


REMINDER_SMS = {
    # A short line and a link; no clinical detail (issue 20). The patient's language, else English.
    "en": "mildpath: a questionnaire is waiting for you. {link}",
    "es": "mildpath: tiene un cuestionario pendiente. {link}",
}
CAREGIVER_REMINDER_KIND = "prom_reminder_caregiver"
CAREGIVER_REMINDER_SMS = {
    # To a caregiver the patient shares reminders with: no name, no clinical detail, a link (issue 20).
    "en": "mildpath: someone you help has a questionnaire waiting. {link}",
    "es": "mildpath: una persona a la que ayuda tiene un cuestionario pendiente. {link}",
}
CAREGIVER_REMINDER_BODY = (
    "Hello,\n\nSomeone you help has a questionnaire waiting in mildpath. Please sign in to see it, or remind "
    "them.\n\nThis is an automatic message from your clinic."
)
CAREGIVER_REMINDER_SUBJECT = "A questionnaire is waiting"
CAREGIVING_PAGE = "/caregiving"
REMINDER_LINK_LINE = "\n\nOr open it with this link (it works once, for 72 hours): {link}"
QUESTIONNAIRES_PAGE = "/me/questionnaires"


def _reminder_route(
    session: Session, patient_id: int, email: str, link_base: str, with_link: bool
) -> tuple[str, str, str]:
    """(channel, address, text) of a patient's reminder: SMS when they agreed to texts and have a phone, else
    email. With ``with_link``, the text carries a sign-in link that opens the questionnaires."""
    patient = messaging_store.patient_contact(session, patient_id=patient_id)
    consent = messaging_store.consent_in_force(session, patient_id=patient_id, channel="sms")
    link = access_links.link_url(link_base) if with_link else link_base.rstrip("/") + QUESTIONNAIRES_PAGE
    if patient is not None and patient.phone and consent is not None and consent.granted:
        text = REMINDER_SMS.get(patient.preferred_language, REMINDER_SMS["en"])
        return "sms", patient.phone, text.format(link=link)
    return "email", email, REMINDER_BODY + (REMINDER_LINK_LINE.format(link=link) if with_link else "")


def reminder_hold(session: Session, message: OutboxMessage, at: datetime) -> notify.Hold | None:
    """Re-checked just before a reminder is sent: cancelled when its questionnaires were completed meanwhile,
    or when the procedure it counts from was moved or cancelled (the new date gets reminders of its own). A
    caregiver's copy is checked the same way, and cancelled once the patient stops sharing reminders with them."""
    if message.kind == CAREGIVER_REMINDER_KIND:
        found = store.caregiver_reminder_for_message(session, outbox_id=message.id)
        if found is None:
            return None
        reminder, grant_id = found
        grant = caregivers_store.get(session, grant_id=grant_id, patient_id=reminder.patient_id)
        if grant is None or not grant.allows("reminders"):
            return notify.Hold(cancel="the patient no longer shares reminders with this caregiver")
        return _reminder_checks(session, reminder, at)
    if message.kind != REMINDER_KIND:
        return None
    patients_reminder = store.reminder_for_message(session, outbox_id=message.id)
    return None if patients_reminder is None else _reminder_checks(session, patients_reminder, at)


def _reminder_checks(session: Session, reminder: store.PromReminder, at: datetime) -> notify.Hold | None:
    current = procedure_dates(session, [reminder.patient_id]).get(reminder.patient_id)
    if current is None:
        return notify.Hold(cancel="the procedure was cancelled")
    if current != reminder.procedure_date:
        return notify.Hold(cancel="the procedure was moved")
    slots = _slots_by_patient(session, [reminder.patient_id], {reminder.patient_id: current})
    for tp in _schedule(follow_up_plan(), current, at.date(), slots.get(reminder.patient_id, {})):
        if tp.id == reminder.timepoint and tp.status == "completed":
            return notify.Hold(cancel="the questionnaires were completed")
    return None


def queue_due_reminders(
    session: Session, today: date, *, now: datetime | None = None, link_base: str = "", secret_key: str = ""
) -> int:
    """Queue one reminder per patient and open timepoint (due or overdue, not all answered); returns how many.

    Idempotent: a timepoint already reminded for this procedure date is skipped, so the job may run daily.
    Only patients with an active portal account are reminded (the message asks them to sign in). The message
    carries no clinical details: not the questionnaire, the procedure or any answer (:data:`REMINDER_BODY`).
    It goes by SMS (a short line and a link) to a patient whose consent to texts is in force and who has a
    phone number, else by email to the account. With ``secret_key``, the link is a single-use sign-in link
    (services/access_links.py) that opens the questionnaires; without, the questionnaires page under ``link_base``.
    """
    when = now or datetime.now(UTC)
    system = Actor.system("reminders")
    accounts = users_store.patient_accounts(session)
    if not accounts:
        return 0
    dates = procedure_dates(session, list(accounts))
    slots = _slots_by_patient(session, list(dates), dates)
    already = store.reminded(session, patient_ids=list(dates))
    plan = follow_up_plan()
    queued = 0
    for pid in sorted(dates):
        proc = dates[pid]
        for tp in _schedule(plan, proc, today, slots.get(pid, {})):
            if not tp.open or (pid, tp.id, proc) in already:
                continue
            user_id, email = accounts[pid]
            channel, address, body = _reminder_route(session, pid, email, link_base, bool(secret_key))
            message = notify.queue(
                session,
                kind=REMINDER_KIND,
                subject=REMINDER_SUBJECT,
                body=body,
                recipient_user_id=user_id,
                recipient_address=address,
                channel=channel,
                patient_id=pid,
            )
            session.flush()
            if secret_key:
                access_links.attach_sign_in_link(session, message, user_id=user_id, target=QUESTIONNAIRES_PAGE,
                                                 secret_key=secret_key, now=when)
            reminder = store.add_reminder(
                session, patient_id=pid, timepoint=tp.id, procedure_date=proc, outbox_id=message.id, now=when
            )
            record(session, system, "proms.remind", "PromReminder", reminder.id, pid, {"timepoint": tp.id})
            queued += 1
            _remind_caregivers(session, system, reminder, link_base=link_base, secret_key=secret_key, now=when)
    return queued


def _remind_caregivers(
    session: Session, system: Actor, reminder: store.PromReminder, *, link_base: str, secret_key: str, now: datetime
) -> int:
    """A copy of the reminder to each caregiver the patient shares reminders with, on the caregiver's own channel
    (the one they were invited on; the grant is the consent on record). Their link opens their caregiving page."""
    patient = messaging_store.patient_contact(session, patient_id=reminder.patient_id)
    language = patient.preferred_language if patient is not None else "en"
    queued = 0
    for grant in caregivers_store.sharing_reminders(session, patient_id=reminder.patient_id):
        account = links_store.user_by_id(session, user_id=grant.user_id)
        if account is None or not account.active:
            continue
        if grant.channel == "sms" and grant.phone:
            link = access_links.link_url(link_base) if secret_key else link_base.rstrip("/") + CAREGIVING_PAGE
            channel, address = "sms", grant.phone
            body = CAREGIVER_REMINDER_SMS.get(language, CAREGIVER_REMINDER_SMS["en"]).format(link=link)
        elif not account.email.endswith("@" + access_links.NO_EMAIL_DOMAIN):
            channel, address, body = "email", account.email, CAREGIVER_REMINDER_BODY
            if secret_key:
                body += REMINDER_LINK_LINE.format(link=access_links.link_url(link_base))
        else:
            continue
        message = notify.queue(session, kind=CAREGIVER_REMINDER_KIND, subject=CAREGIVER_REMINDER_SUBJECT, body=body,
                               recipient_user_id=grant.user_id, recipient_address=address, channel=channel,
                               patient_id=reminder.patient_id)
        session.flush()
        if secret_key:
            access_links.attach_sign_in_link(session, message, user_id=grant.user_id, target=CAREGIVING_PAGE,
                                             secret_key=secret_key, now=now)
        store.add_caregiver_reminder(session, reminder_id=reminder.id, grant_id=grant.id, outbox_id=message.id)
        record(session, system, "proms.remind_caregiver", "CaregiverGrant", grant.id, reminder.patient_id,
               {"timepoint": reminder.timepoint})
        queued += 1
    return queued
