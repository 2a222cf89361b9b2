"""A recovery plan as an iCalendar file (RFC 5545) the patient can add to a phone or desktop calendar.

Each milestone becomes an all-day ``VEVENT`` (``DTSTART;VALUE=DATE``; ``DTEND`` is the day *after* the last day,
because RFC 5545 §3.6.1 makes DTEND exclusive). The calendar carries no name or other identifier of the patient:
a lost phone export shows "6-week visit", not whose visit. ``UID`` values are stable for one plan, so importing
the file again updates the events instead of duplicating them (RFC 5545 §3.8.4.7). Summaries, descriptions and
the calendar's name are in the language the plan was worded in (``RecoveryPlan.language``: the patient's).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from icalendar import Calendar, Event

from mildpath.domain.errors import InvalidInput
from mildpath.domain.recovery import DatedMilestone, RecoveryPlan

PRODID = "-//mildpath//recovery plan//EN"


@dataclass(frozen=True)
class AppointmentEvent:
    """What the calendar file shows of one appointment (no patient name; ``title`` already translated)."""

    id: int
    title: str
    start_local: datetime  # aware, in the clinic's zone
    duration_minutes: int
    place: str
    status: str
    sequence: int = 0
CALENDAR_NAME = "My recovery plan"
CALENDAR_NAMES = {"en": CALENDAR_NAME, "es": "Mi plan de recuperación"}


def to_ics(plan: RecoveryPlan, *, now: datetime, uid_namespace: str | None = None) -> bytes:
    """The plan as ``text/calendar`` bytes.

    ``now`` is the creation time written as every event's ``DTSTAMP`` (required by RFC 5545); it must carry a
    time zone and is written in UTC. ``uid_namespace`` keeps the UIDs of two patients' plans apart: pass an
    opaque per-plan value (never a name); without it the procedure date is used, which is stable but shared by
    every plan with the same date.
    """
    if now.tzinfo is None or now.utcoffset() is None:
        raise InvalidInput("now: needs a time zone", field="now", value=now)
    stamp = now.astimezone(UTC)
    namespace = uid_namespace or f"plan-{plan.procedure_date.isoformat()}"
    calendar = Calendar()
    calendar.add("prodid", PRODID)
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    calendar.add("x-wr-calname", CALENDAR_NAMES.get(plan.language, CALENDAR_NAME))
    for milestone in plan.milestones:
        calendar.add_component(_event(milestone, stamp, namespace, plan.language))
    return bytes(calendar.to_ical())


def _event(milestone: DatedMilestone, stamp: datetime, namespace: str, language: str) -> Event:
    event = Event()
    event.add("uid", f"{namespace}-{milestone.id}@mildpath")
    event.add("dtstamp", stamp)
    event.add("dtstart", milestone.start)
    event.add("dtend", milestone.last_day + timedelta(days=1))
    words = {"LANGUAGE": language}  # RFC 5545 §3.2.10
    event.add("summary", milestone.title, parameters=words)
    if milestone.text:
        event.add("description", milestone.text, parameters=words)
    event.add("categories", [milestone.kind.value])
    event.add("transp", "TRANSPARENT")  # a milestone does not make the patient "busy"
    return event


APPOINTMENTS_PRODID = "-//mildpath//appointments//EN"


def appointments_to_ics(
    appointments: Sequence[AppointmentEvent], *, now: datetime, calendar_name: str = "My appointments"
) -> bytes:
    """Appointments as ``text/calendar`` bytes, each ``VEVENT`` at its time in the clinic's zone (``TZID`` with
    its ``VTIMEZONE``, RFC 5545 §3.6.5). A cancelled appointment stays in the feed as ``STATUS:CANCELLED`` so a
    calendar that imported it before removes it; its ``UID`` is stable (``appointment-<id>@mildpath``) and its
    ``SEQUENCE`` grows with each change. Like the plan, the file names no patient."""
    if now.tzinfo is None or now.utcoffset() is None:
        raise InvalidInput("now: needs a time zone", field="now", value=now)
    calendar = Calendar()
    calendar.add("prodid", APPOINTMENTS_PRODID)
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    calendar.add("method", "PUBLISH")
    calendar.add("x-wr-calname", calendar_name)
    for appt in appointments:
        event = Event()
        event.add("uid", f"appointment-{appt.id}@mildpath")
        event.add("dtstamp", now.astimezone(UTC))
        event.add("dtstart", appt.start_local)
        event.add("dtend", appt.start_local + timedelta(minutes=appt.duration_minutes))
        event.add("summary", appt.title)
        if appt.place:
            event.add("location", appt.place)
        event.add("status", "CANCELLED" if appt.status == "cancelled" else "CONFIRMED")
        event.add("sequence", appt.sequence)
        calendar.add_component(event)
    calendar.add_missing_timezones()
    return bytes(calendar.to_ical())
