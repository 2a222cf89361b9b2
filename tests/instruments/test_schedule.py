"""The follow-up schedule: target dates, windows and the five statuses as a function of today."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from mildpath.content.schedule import follow_up_plan
from mildpath.content.sources import bibliography
from mildpath.domain.schedule import Status, add_months, schedule, timepoint_for

PROCEDURE = date(2025, 3, 10)


def statuses(today: date, completed: tuple[str, ...] = ()) -> dict[str, str]:
    return {s.id: s.status.value for s in schedule(follow_up_plan(), PROCEDURE, today, completed)}


def test_the_shipped_plan_has_the_reference_timepoints_and_cites_its_source() -> None:
    plan = follow_up_plan()
    assert [tp.id for tp in plan.timepoints] == ["baseline", "6w", "3m", "6m", "12m", "24m"]
    assert plan.source == "follow-up-schedule" and plan.source in bibliography()
    assert plan.timepoint("6w").optional
    assert all(set(tp.instruments) == {"odi", "zcq", "nprs", "walking"} for tp in plan.timepoints)


def test_targets_fall_on_the_calendar_dates_after_the_procedure() -> None:
    targets = {s.id: s.target for s in schedule(follow_up_plan(), PROCEDURE, PROCEDURE)}
    assert targets == {
        "baseline": PROCEDURE,
        "6w": date(2025, 4, 21),
        "3m": date(2025, 6, 10),
        "6m": date(2025, 9, 10),
        "12m": date(2026, 3, 10),
        "24m": date(2027, 3, 10),
    }


@pytest.mark.parametrize(
    ("today", "completed", "expected"),
    [
        (date(2024, 12, 1), (), {"baseline": "upcoming", "3m": "upcoming"}),
        (date(2025, 3, 1), (), {"baseline": "due", "6w": "upcoming"}),
        (PROCEDURE, (), {"baseline": "due"}),
        (PROCEDURE + timedelta(days=1), (), {"baseline": "missed"}),
        (PROCEDURE + timedelta(days=1), ("baseline",), {"baseline": "completed"}),
        (date(2025, 4, 7), (), {"6w": "due"}),  # window opens 14 days before 21 April
        (date(2025, 4, 6), (), {"6w": "upcoming"}),
        (date(2025, 4, 22), (), {"6w": "overdue"}),
        (date(2025, 5, 5), (), {"6w": "overdue", "3m": "upcoming"}),
        (date(2025, 5, 6), (), {"6w": "missed"}),
        (date(2025, 6, 20), ("baseline", "3m"), {"3m": "completed", "6m": "upcoming"}),
        (date(2025, 7, 11), (), {"3m": "missed"}),
        (date(2027, 6, 1), (), {"24m": "overdue"}),
    ],
    ids=[
        "long-before",
        "baseline-window",
        "procedure-day",
        "baseline-after-procedure",
        "baseline-done",
        "6w-opens",
        "6w-not-yet",
        "6w-past-target",
        "6w-last-day",
        "6w-closed",
        "3m-done",
        "3m-closed",
        "24m-overdue",
    ],
)
def test_status_follows_today_and_completed_timepoints(
    today: date, completed: tuple[str, ...], expected: dict[str, str]
) -> None:
    got = statuses(today, completed)
    assert {k: got[k] for k in expected} == expected


def test_an_unknown_completed_timepoint_is_an_error_not_ignored() -> None:
    with pytest.raises(KeyError):
        schedule(follow_up_plan(), PROCEDURE, PROCEDURE, ["3 months"])


@pytest.mark.parametrize(
    ("start", "months", "expected"),
    [
        (date(2025, 11, 30), 3, date(2026, 2, 28)),
        (date(2023, 11, 30), 3, date(2024, 2, 29)),
        (date(2025, 8, 31), 6, date(2026, 2, 28)),
        (date(2025, 1, 31), 24, date(2027, 1, 31)),
    ],
    ids=str,
)
def test_add_months_clamps_the_day_to_the_end_of_a_shorter_month(start: date, months: int, expected: date) -> None:
    assert add_months(start, months) == expected


@pytest.mark.parametrize(
    ("response_date", "timepoint"),
    [
        (date(2025, 2, 1), "baseline"),
        (date(2025, 4, 30), "6w"),
        (date(2025, 6, 1), "3m"),
        (date(2025, 7, 30), None),
        (date(2026, 4, 1), "12m"),
    ],
    ids=str,
)
def test_timepoint_for_files_a_response_under_the_window_it_falls_in(
    response_date: date, timepoint: str | None
) -> None:
    found = timepoint_for(follow_up_plan(), PROCEDURE, response_date)
    assert (found.id if found else None) == timepoint


def test_open_timepoints_are_the_due_and_overdue_ones() -> None:
    rows = schedule(follow_up_plan(), PROCEDURE, date(2025, 4, 22))
    assert [r.id for r in rows if r.open] == ["6w"]
    assert Status.OVERDUE in {r.status for r in rows}
