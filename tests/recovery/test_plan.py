"""The recovery plan: dated milestones from the procedure date, configurable per patient, cited."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest

from mildpath.content.sources import bibliography
from mildpath.domain.errors import InvalidInput
from mildpath.domain.recovery import (
    FollowUp,
    MilestoneCatalog,
    MilestoneKind,
    PlanOptions,
    add_months,
    day_number,
    describe_day,
    plan_recovery,
)

DAY = date(2025, 1, 31)


def dates(catalog: MilestoneCatalog, **options: Any) -> dict[str, tuple[date, date | None]]:
    plan = plan_recovery(DAY, catalog, PlanOptions(**options))
    return {m.id: (m.start, m.end) for m in plan.milestones}


EXPECTED_DATES = [
    ("home-same-day", DAY, None),
    ("soreness-settles", DAY, date(2025, 2, 4)),
    ("light-activity", date(2025, 2, 1), date(2025, 2, 3)),
    ("no-heavy-lifting", DAY, DAY + timedelta(weeks=6)),
    ("clear-improvement", date(2025, 2, 7), date(2025, 3, 14)),
    ("full-benefit", date(2025, 4, 30), date(2025, 7, 31)),
    ("phone-check", date(2025, 2, 1), date(2025, 2, 2)),
    ("wound-check", date(2025, 2, 7), date(2025, 2, 14)),
    ("visit-6-weeks", date(2025, 3, 14), None),
    ("visit-3-months", date(2025, 4, 30), None),
    ("visit-6-months", date(2025, 7, 31), None),
    ("visit-12-months", date(2026, 1, 31), None),
    ("visit-24-months", date(2027, 1, 31), None),
]


@pytest.mark.parametrize(("milestone_id", "start", "end"), EXPECTED_DATES, ids=[e[0] for e in EXPECTED_DATES])
def test_each_default_milestone_gets_its_date(
    catalog: MilestoneCatalog, milestone_id: str, start: date, end: date | None
) -> None:
    assert dates(catalog)[milestone_id] == (start, end)


def test_milestones_come_in_date_order(catalog: MilestoneCatalog) -> None:
    starts = [m.start for m in plan_recovery(DAY, catalog).milestones]
    assert starts == sorted(starts)


def test_every_milestone_cites_a_known_source(catalog: MilestoneCatalog) -> None:
    known = set(bibliography())
    for milestone in plan_recovery(DAY, catalog, PlanOptions(physical_therapy=True)).milestones:
        assert milestone.sources and set(milestone.sources) <= known, milestone.id


@pytest.mark.parametrize(("weeks", "end"), [(1, date(2025, 2, 7)), (4, date(2025, 2, 28)), (12, date(2025, 4, 25))])
def test_the_no_lifting_weeks_are_configurable(catalog: MilestoneCatalog, weeks: int, end: date) -> None:
    plan = plan_recovery(DAY, catalog, PlanOptions(no_lifting_weeks=weeks))
    milestone = plan.milestone("no-heavy-lifting")
    assert milestone.end == end
    assert f"{weeks} week" in milestone.title
    assert ("1 weeks" not in milestone.title) and ("1 weeks" not in milestone.text)


def test_the_default_no_lifting_period_comes_from_the_catalogue(catalog: MilestoneCatalog) -> None:
    assert catalog.settings["no_lifting_weeks"] == 6
    assert "6 weeks" in plan_recovery(DAY, catalog).milestone("no-heavy-lifting").title


def test_physical_therapy_appears_only_when_prescribed(catalog: MilestoneCatalog) -> None:
    assert "physical-therapy" not in dates(catalog)
    assert dates(catalog, physical_therapy=True)["physical-therapy"] == (DAY + timedelta(days=14), None)
    assert dates(catalog, physical_therapy=True, physical_therapy_start_day=21)["physical-therapy"][0] == (
        DAY + timedelta(days=21)
    )


def test_follow_ups_passed_in_replace_the_default_schedule(catalog: MilestoneCatalog) -> None:
    prom = [("6-week questionnaires", date(2025, 3, 14)), FollowUp("3-month visit", date(2025, 5, 1))]
    plan = plan_recovery(DAY, catalog, PlanOptions(follow_ups=prom))
    follow_ups = [m for m in plan.milestones if m.kind is MilestoneKind.FOLLOW_UP]
    assert [(m.title, m.start) for m in follow_ups] == [
        ("6-week questionnaires", date(2025, 3, 14)),
        ("3-month visit", date(2025, 5, 1)),
    ]
    assert all(m.sources == ("follow-up-schedule",) for m in follow_ups)
    assert len({m.id for m in plan.milestones}) == len(plan.milestones)


def test_an_empty_follow_up_list_means_no_visits(catalog: MilestoneCatalog) -> None:
    plan = plan_recovery(DAY, catalog, PlanOptions(follow_ups=[]))
    assert not [m for m in plan.milestones if m.kind is MilestoneKind.FOLLOW_UP]


def test_the_default_schedule_follows_the_reference(catalog: MilestoneCatalog) -> None:
    # clinical reference §5: day 1-2 phone check; 1-2 weeks; 6 weeks; 3, 6, 12 and 24 months.
    assert [spec.id for spec in catalog.follow_ups] == [
        "phone-check",
        "wound-check",
        "visit-6-weeks",
        "visit-3-months",
        "visit-6-months",
        "visit-12-months",
        "visit-24-months",
    ]


BAD_OPTIONS = [
    ("no lifting 0 weeks", {"no_lifting_weeks": 0}, "no_lifting_weeks"),
    ("no lifting 53 weeks", {"no_lifting_weeks": 53}, "no_lifting_weeks"),
    ("no lifting as text", {"no_lifting_weeks": "6"}, "no_lifting_weeks"),
    ("no lifting as a boolean", {"no_lifting_weeks": True}, "no_lifting_weeks"),
    ("therapy as text", {"physical_therapy": "yes"}, "physical_therapy"),
    ("therapy start negative", {"physical_therapy_start_day": -1}, "physical_therapy_start_day"),
    ("follow-up without a label", {"follow_ups": [("", date(2025, 3, 1))]}, "follow_ups[0]"),
    ("follow-up with a text date", {"follow_ups": [("visit", "2025-03-01")]}, "follow_ups[0]"),
    ("follow-up as one value", {"follow_ups": [("visit",)]}, "follow_ups[0]"),
    (
        "follow-up ending before it starts",
        {"follow_ups": [FollowUp("visit", date(2025, 3, 2), end=date(2025, 3, 1))]},
        "follow_ups[0]",
    ),
]


@pytest.mark.parametrize(("options", "field"), [b[1:] for b in BAD_OPTIONS], ids=[b[0] for b in BAD_OPTIONS])
def test_invalid_options_are_refused_naming_the_option(
    catalog: MilestoneCatalog, options: dict[str, Any], field: str
) -> None:
    with pytest.raises(InvalidInput) as caught:
        plan_recovery(DAY, catalog, PlanOptions(**options))
    assert caught.value.field == field


def test_a_datetime_is_not_a_procedure_date(catalog: MilestoneCatalog) -> None:
    with pytest.raises(InvalidInput):
        plan_recovery(datetime(2025, 1, 31, 9, tzinfo=UTC), catalog)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("today", "n", "words"),
    [
        (date(2025, 1, 28), -3, "Your procedure is in 3 days"),
        (date(2025, 1, 30), -1, "Your procedure is tomorrow"),
        (date(2025, 1, 31), 0, "Today is the day of your procedure (day 0)"),
        (date(2025, 2, 5), 5, "Today is day 5 after your procedure"),
        (date(2025, 3, 14), 42, "Today is day 42 after your procedure"),
    ],
    ids=["before", "eve", "procedure day", "day 5", "day 42"],
)
def test_today_is_day_n(today: date, n: int, words: str) -> None:
    assert day_number(DAY, today) == n
    assert describe_day(DAY, today) == words


def test_the_plan_knows_what_is_happening_today_and_next(catalog: MilestoneCatalog) -> None:
    plan = plan_recovery(DAY, catalog)
    today = date(2025, 2, 2)  # day 2
    assert plan.day_number(today) == 2
    assert {m.id for m in plan.active_on(today)} == {
        "soreness-settles",
        "light-activity",
        "no-heavy-lifting",
        "phone-check",
    }
    assert [m.id for m in plan.upcoming(today, limit=2)] == ["clear-improvement", "wound-check"]
    assert plan.end_date == date(2027, 1, 31)


@pytest.mark.parametrize(
    ("start", "months", "expected"),
    [
        (date(2025, 1, 31), 1, date(2025, 2, 28)),
        (date(2024, 1, 31), 1, date(2024, 2, 29)),
        (date(2025, 11, 30), 3, date(2026, 2, 28)),
        (date(2025, 12, 15), 12, date(2026, 12, 15)),
        (date(2024, 2, 29), 24, date(2026, 2, 28)),
    ],
    ids=["short month", "leap year", "over the year end", "a year", "leap day plus two years"],
)
def test_months_are_calendar_months_clamped_to_the_month_end(start: date, months: int, expected: date) -> None:
    assert add_months(start, months) == expected


# ------------------------------------------------------------------------------------------ the content file

BROKEN_MILESTONES = [
    ("unknown source", ("milestones", 0, "sources"), ["no-such-source"], "no-such-source"),
    ("no source", ("milestones", 0, "sources"), [], "cites no source"),
    ("unknown kind", ("milestones", 0, "kind"), "wish", "kind"),
    ("unknown setting", ("milestones", 3, "end"), {"weeks": "$lifting"}, "$lifting"),
    ("unknown unit", ("milestones", 0, "start"), {"years": 1}, "years"),
    ("unknown flag", ("milestones", 4, "only_if"), "yoga", "only_if"),
    ("unknown placeholder", ("milestones", 3, "title"), "No lifting for {weeks}", "braces"),
]


@pytest.mark.parametrize(
    ("path", "value", "words"), [b[1:] for b in BROKEN_MILESTONES], ids=[b[0] for b in BROKEN_MILESTONES]
)
def test_a_broken_milestones_file_fails_loudly(tmp_path: Any, path: tuple, value: Any, words: str) -> None:
    import yaml

    from mildpath.content.milestones import MILESTONES_FILE, load_milestones
    from mildpath.content.sources import ContentError

    data = yaml.safe_load(MILESTONES_FILE.read_text(encoding="utf-8"))
    data[path[0]][path[1]][path[2]] = value
    site = tmp_path / "site-milestones.yaml"
    site.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    with pytest.raises(ContentError, match="site-milestones.yaml") as caught:
        load_milestones(site)
    assert words in str(caught.value)
