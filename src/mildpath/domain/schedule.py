"""Questionnaire follow-up schedule from the procedure date (clinical reference §5, suggested schedule).

# source: follow-up-schedule
The default plan (``content/schedule.yaml``) is baseline (before the procedure), 6 weeks (optional), 3, 6,
12 and 24 months after it, collecting ODI, ZCQ, NPRS back and leg and walking tolerance. The reference calls
it a design, not a guideline, and gives **no windows**: the content file's windows are our assumption.

Each timepoint has a target date and a window ``[opens, closes]``. Its status on ``today``:

==========  ================================================================================
completed   a response for it is recorded (whatever the date)
upcoming    the window has not opened yet (today < opens)
due         the window is open and the target date has not passed (opens <= today <= target)
overdue     the target date has passed but the window is still open (target < today <= closes)
missed      the window has closed without a response (today > closes)
==========  ================================================================================

Baseline's window closes on the procedure day itself (a baseline taken after the procedure is no baseline),
so it goes from due to missed without being overdue.

Month arithmetic is calendar-based: 3 months after 30 November is 28 (or 29) February; the day is clamped
to the end of a shorter month.
"""

from __future__ import annotations

import calendar
from collections.abc import Collection
from dataclasses import dataclass
from datetime import date, timedelta
from enum import StrEnum

from mildpath.domain.catalog import by_id


class Status(StrEnum):
    COMPLETED = "completed"
    UPCOMING = "upcoming"
    DUE = "due"
    OVERDUE = "overdue"
    MISSED = "missed"


@dataclass(frozen=True)
class Timepoint:
    """One planned collection, ``offset`` days/weeks/months (``unit``) after the procedure (0: before it).

    ``window_before_days`` and ``window_after_days`` set the window around the target date; ``instruments``
    lists the questionnaires collected (``zcq`` after the procedure includes its satisfaction part).
    """

    id: str
    label: str
    offset: int
    unit: str
    window_before_days: int
    window_after_days: int
    instruments: tuple[str, ...]
    optional: bool = False

    def target(self, procedure_date: date) -> date:
        if self.unit == "days":
            return procedure_date + timedelta(days=self.offset)
        if self.unit == "weeks":
            return procedure_date + timedelta(weeks=self.offset)
        if self.unit == "months":
            return add_months(procedure_date, self.offset)
        raise ValueError(f"timepoint {self.id}: unknown unit {self.unit!r}")

    @property
    def after_procedure(self) -> bool:
        """True for follow-up timepoints (ZCQ satisfaction is asked), false for baseline."""
        return self.offset > 0


@dataclass(frozen=True)
class SchedulePlan:
    """The ordered timepoints and the bibliography id they come from."""

    timepoints: tuple[Timepoint, ...]
    source: str

    def timepoint(self, timepoint_id: str) -> Timepoint:
        return by_id(self.timepoints, timepoint_id)


@dataclass(frozen=True)
class ScheduledTimepoint:
    """A timepoint placed on the calendar for one procedure, with its status on the given day."""

    timepoint: Timepoint
    target: date
    opens: date
    closes: date
    status: Status

    @property
    def id(self) -> str:
        return self.timepoint.id

    @property
    def open(self) -> bool:
        """A response can be collected now (due or overdue)."""
        return self.status in (Status.DUE, Status.OVERDUE)


def add_months(day: date, months: int) -> date:
    """``day`` plus ``months`` calendar months, clamping the day to the end of a shorter month.

    >>> add_months(date(2025, 11, 30), 3)
    datetime.date(2026, 2, 28)
    """
    month_index = day.year * 12 + (day.month - 1) + months
    year, month = divmod(month_index, 12)
    month += 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def _status(today: date, opens: date, target: date, closes: date, done: bool) -> Status:
    if done:
        return Status.COMPLETED
    if today < opens:
        return Status.UPCOMING
    if today <= target:
        return Status.DUE
    if today <= closes:
        return Status.OVERDUE
    return Status.MISSED


def place(timepoint: Timepoint, procedure_date: date, today: date, completed: bool) -> ScheduledTimepoint:
    """One timepoint on the calendar; see the module docstring for the statuses."""
    target = timepoint.target(procedure_date)
    opens = target - timedelta(days=timepoint.window_before_days)
    closes = target + timedelta(days=timepoint.window_after_days)
    return ScheduledTimepoint(timepoint, target, opens, closes, _status(today, opens, target, closes, completed))


def schedule(
    plan: SchedulePlan,
    procedure_date: date,
    today: date,
    completed: Collection[str] = (),
) -> tuple[ScheduledTimepoint, ...]:
    """The follow-up schedule of one procedure as seen on ``today``.

    ``completed`` holds the ids of timepoints that already have a response (``{"baseline", "3m"}``); an id not
    in the plan raises ``KeyError`` so that a typo does not silently leave a timepoint open.

    >>> from mildpath.domain.schedule import SchedulePlan, Timepoint
    >>> plan = SchedulePlan((Timepoint("3m", "3 months", 3, "months", 30, 30, ("odi",)),), "src")
    >>> [s.status.value for s in schedule(plan, date(2025, 1, 15), date(2025, 4, 20))]
    ['overdue']
    """
    known = {tp.id for tp in plan.timepoints}
    for tp_id in completed:
        if tp_id not in known:
            raise KeyError(tp_id)
    return tuple(place(tp, procedure_date, today, tp.id in completed) for tp in plan.timepoints)


def timepoint_for(plan: SchedulePlan, procedure_date: date, response_date: date) -> Timepoint | None:
    """The timepoint whose window holds ``response_date`` (nearest target if windows overlap), or ``None``.

    Use it to file a response under a timepoint when it is recorded.
    """
    best: tuple[int, Timepoint] | None = None
    for tp in plan.timepoints:
        placed = place(tp, procedure_date, response_date, completed=False)
        if placed.opens <= response_date <= placed.closes:
            distance = abs((response_date - placed.target).days)
            if best is None or distance < best[0]:
                best = (distance, tp)
    return None if best is None else best[1]
