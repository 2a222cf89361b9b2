"""The plan as an iCalendar file (RFC 5545) that parses back, and as a FHIR R4 CarePlan valid under R4B."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone

import pytest
from fhir.resources.R4B.careplan import CarePlan
from icalendar import Calendar

from mildpath.domain.errors import InvalidInput
from mildpath.domain.recovery import MilestoneCatalog, PlanOptions, RecoveryPlan, plan_recovery
from mildpath.fhir.careplan import MILESTONE_SYSTEM, to_careplan
from mildpath.reports.ics import to_ics

DAY = date(2025, 1, 31)
NOW = datetime(2025, 1, 31, 15, 30, tzinfo=UTC)


@pytest.fixture
def plan(catalog: MilestoneCatalog) -> RecoveryPlan:
    return plan_recovery(DAY, catalog, PlanOptions(physical_therapy=True, no_lifting_weeks=4))


# ------------------------------------------------------------------------------------------ iCalendar


def test_the_ics_parses_back_with_one_event_per_milestone(plan: RecoveryPlan) -> None:
    calendar = Calendar.from_ical(to_ics(plan, now=NOW))
    assert str(calendar["VERSION"]) == "2.0"
    assert "PRODID" in calendar
    events = calendar.walk("VEVENT")
    assert [str(e["SUMMARY"]) for e in events] == [m.title for m in plan.milestones]
    for event, milestone in zip(events, plan.milestones, strict=True):
        assert event.decoded("DTSTART") == milestone.start
        assert event.decoded("DTEND") == milestone.last_day + timedelta(days=1)  # RFC 5545: DTEND is exclusive
        assert event.decoded("DTSTAMP") == NOW
    assert len({str(e["UID"]) for e in events}) == len(events)


def test_the_ics_keeps_rfc_5545_line_rules(plan: RecoveryPlan) -> None:
    data = to_ics(plan, now=NOW)
    lines = data.split(b"\r\n")
    assert lines[0] == b"BEGIN:VCALENDAR" and lines[-2] == b"END:VCALENDAR" and lines[-1] == b""
    assert all(len(line) <= 75 for line in lines)
    assert b"\n" not in data.replace(b"\r\n", b"")


def test_the_same_plan_gives_the_same_bytes(plan: RecoveryPlan) -> None:
    assert to_ics(plan, now=NOW) == to_ics(plan, now=NOW)


def test_the_creation_time_is_written_in_utc(plan: RecoveryPlan) -> None:
    paris = datetime(2025, 1, 31, 16, 30, tzinfo=timezone(timedelta(hours=1)))
    assert b"DTSTAMP:20250131T153000Z" in to_ics(plan, now=paris)


def test_a_naive_creation_time_is_refused(plan: RecoveryPlan) -> None:
    with pytest.raises(InvalidInput):
        to_ics(plan, now=datetime(2025, 1, 31, 15, 30))  # noqa: DTZ001


def test_a_namespace_keeps_two_patients_uids_apart(plan: RecoveryPlan) -> None:
    first = Calendar.from_ical(to_ics(plan, now=NOW, uid_namespace="a1")).walk("VEVENT")
    second = Calendar.from_ical(to_ics(plan, now=NOW, uid_namespace="b2")).walk("VEVENT")
    assert not {str(e["UID"]) for e in first} & {str(e["UID"]) for e in second}


# ------------------------------------------------------------------------------------------ FHIR CarePlan


def test_the_careplan_validates_as_fhir_r4b(plan: RecoveryPlan) -> None:
    resource = to_careplan(
        plan, patient_ref="Patient/123", careplan_id="recovery-123", procedure_ref="Procedure/77", created=DAY
    )
    model = CarePlan.model_validate(resource)
    assert model.status == "active" and model.intent == "plan"
    assert model.subject.reference == "Patient/123"
    assert model.supportingInfo[0].reference == "Procedure/77"
    assert len(model.activity) == len(plan.milestones)


def test_the_careplan_round_trips_through_the_model(plan: RecoveryPlan) -> None:
    resource = to_careplan(plan, patient_ref="urn:uuid:6f1c6d38-0d0b-4f7e-8d7e-0d1c2b3a4f5e")
    dumped = CarePlan.model_validate(resource).model_dump(mode="json", exclude_none=True)
    assert CarePlan.model_validate(dumped) == CarePlan.model_validate(resource)


def test_each_activity_carries_its_milestone_and_dates(plan: RecoveryPlan) -> None:
    activities = to_careplan(plan, patient_ref="Patient/1")["activity"]
    by_code = {a["detail"]["code"]["coding"][0]["code"]: a["detail"] for a in activities}
    assert all(a["detail"]["code"]["coding"][0]["system"] == MILESTONE_SYSTEM for a in activities)
    lifting = by_code["no-heavy-lifting"]
    assert lifting["scheduledPeriod"] == {"start": "2025-01-31", "end": "2025-02-28"}
    assert "kind" not in lifting
    assert by_code["visit-6-weeks"]["kind"] == "Appointment"
    assert by_code["physical-therapy"]["kind"] == "ServiceRequest"


def test_a_careplan_with_follow_ups_passed_in_validates(catalog: MilestoneCatalog) -> None:
    plan = plan_recovery(DAY, catalog, PlanOptions(follow_ups=[("3-month questionnaires", date(2025, 4, 30))]))
    CarePlan.model_validate(to_careplan(plan, patient_ref="Patient/9", status="draft"))


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [({"patient_ref": ""}, "patient_ref"), ({"patient_ref": "Patient/1", "status": "done"}, "status")],
    ids=["no subject", "unknown status"],
)
def test_a_careplan_needs_a_subject_and_a_known_status(plan: RecoveryPlan, kwargs: dict, field: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        to_careplan(plan, **kwargs)
    assert caught.value.field == field
