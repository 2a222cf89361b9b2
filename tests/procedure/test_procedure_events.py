"""Adverse events and reinterventions: fixed types, dates against the procedure, the 30-day window, counts."""

from __future__ import annotations

from datetime import date

import pytest

from mildpath.domain.errors import InvalidRecord
from mildpath.domain.procedure import (
    AdverseEvent,
    AdverseEventType,
    Reintervention,
    ReinterventionType,
    Severity,
    count_events,
    validate_adverse_event,
    validate_reintervention,
)

PROCEDURE = date(2025, 3, 10)
TODAY = date(2025, 12, 31)


def event(type_: str = "surgical_site_infection", onset: date = date(2025, 3, 20), **extra) -> AdverseEvent:
    return AdverseEvent.model_validate(
        {"type": type_, "onset": onset.isoformat(), "severity": "moderate", "serious": False, **extra}
    )


def check_event(policies, item: AdverseEvent) -> None:
    validate_adverse_event(item, procedure_date=PROCEDURE, today=TODAY, policy=policies.events)


def test_a_plausible_adverse_event_is_accepted(policies):
    check_event(policies, event())


@pytest.mark.parametrize(
    ("onset", "fragment"),
    [
        pytest.param(date(2025, 3, 9), "before the procedure", id="before-the-procedure"),
        pytest.param(date(2026, 1, 1), "in the future", id="after-today"),
    ],
)
def test_an_adverse_event_is_dated_between_the_procedure_and_today(policies, onset, fragment):
    with pytest.raises(InvalidRecord, match=fragment):
        check_event(policies, event(onset=onset))


@pytest.mark.parametrize(
    ("onset", "accepted"),
    [
        pytest.param(date(2025, 3, 10), True, id="same-day"),
        pytest.param(date(2025, 4, 9), True, id="day-30"),
        pytest.param(date(2025, 4, 10), False, id="day-31"),
    ],
)
def test_an_ed_visit_or_readmission_counts_only_within_30_days(policies, onset, accepted):
    item = event("ed_visit_or_readmission", onset)
    if accepted:
        check_event(policies, item)
    else:
        with pytest.raises(InvalidRecord, match="within 30 days"):
            check_event(policies, item)


def test_the_adverse_event_types_are_a_fixed_list():
    with pytest.raises(ValueError, match="type"):
        event("sprained_ankle")
    assert {str(t) for t in AdverseEventType} == {
        "dural_tear_csf_leak",
        "epidural_hematoma",
        "surgical_site_infection",
        "new_neurological_deficit",
        "bleeding_needing_treatment",
        "ed_visit_or_readmission",
    }


def test_the_severity_scale_is_fhirs_mild_moderate_severe():
    assert [str(s) for s in Severity] == ["mild", "moderate", "severe"]


def reintervention(type_: str = "epidural_injection", performed_on: date = date(2025, 9, 1), **extra):
    return Reintervention.model_validate({"type": type_, "performed_on": performed_on.isoformat(), **extra})


@pytest.mark.parametrize(
    ("item", "fragment"),
    [
        pytest.param(reintervention(performed_on=PROCEDURE), "not after the procedure", id="same-day"),
        pytest.param(reintervention(performed_on=date(2026, 2, 1)), "in the future", id="future"),
        pytest.param(reintervention("laminectomy", levels=["L4-L5", "L7"]), "unknown level 'L7'", id="bad-level"),
    ],
)
def test_a_reintervention_is_after_the_procedure_at_known_levels(policies, item, fragment):
    with pytest.raises(InvalidRecord, match=fragment):
        validate_reintervention(item, procedure_date=PROCEDURE, today=TODAY, policy=policies.events)


def test_a_later_laminectomy_is_accepted(policies):
    item = reintervention("laminectomy", levels=["L4-L5"])
    validate_reintervention(item, procedure_date=PROCEDURE, today=TODAY, policy=policies.events)


def test_counts_list_every_type_with_zeros_and_the_serious_events():
    counts = count_events(
        [event(), event("epidural_hematoma", serious=True), event()],
        [reintervention(), reintervention("repeat_mild")],
    )
    assert counts.adverse_events[AdverseEventType.SURGICAL_SITE_INFECTION] == 2
    assert counts.adverse_events[AdverseEventType.DURAL_TEAR_CSF_LEAK] == 0
    assert len(counts.adverse_events) == len(AdverseEventType)
    assert counts.serious_adverse_events == 1
    assert counts.reinterventions[ReinterventionType.REPEAT_MILD] == 1
    assert counts.reinterventions[ReinterventionType.FUSION] == 0
