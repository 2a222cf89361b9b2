"""The procedure-day document: one JSON shape for the CLI and the store, validated as a whole."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import pytest

from mildpath.domain.errors import InvalidRecord
from mildpath.domain.procedure import ProcedureDay, parse_procedure_day, validate_procedure_day
from tests.procedure.factories import record_data

DAY_FILE = Path(__file__).parent / "data" / "day.json"
TODAY = date(2025, 3, 10)


def day_data(**overrides) -> dict:
    data = json.loads(DAY_FILE.read_text(encoding="utf-8"))
    data.update(overrides)
    return data


def test_the_sample_day_is_valid_and_round_trips(policies):
    day = parse_procedure_day(day_data())
    assert validate_procedure_day(day, today=TODAY, policies=policies) == ()
    assert ProcedureDay.model_validate(day.model_dump(mode="json")) == day


def test_a_bare_record_is_read_as_a_day_with_only_its_record():
    day = parse_procedure_day(record_data())
    assert day.record.operator == "Dr Alice Moreau" and day.checklist is None


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        pytest.param(
            {"discharge": {"kind": "overnight", "at": "2025-03-10T15:00:00+01:00"}},
            "discharge.reason",
            id="overnight-without-reason",
        ),
        pytest.param(
            {"discharge": {"kind": "home", "at": "2025-03-10T09:00:00+01:00"}},
            "discharge.at",
            id="discharged-before-the-end",
        ),
        pytest.param(
            {"observations": [{"at": "2025-03-10T09:30:00+01:00", "pain": 12}]},
            "observations.0.pain",
            id="pain-out-of-range",
        ),
        pytest.param(
            {
                "adverse_events": [
                    {"type": "epidural_hematoma", "onset": "2025-03-09", "severity": "severe", "serious": True}
                ]
            },
            "adverse_events.0.onset",
            id="event-before-procedure",
        ),
        pytest.param(
            {"reinterventions": [{"type": "fusion", "performed_on": "2025-03-10"}]},
            "reinterventions.0.performed_on",
            id="reintervention-same-day",
        ),
    ],
)
def test_errors_anywhere_in_the_day_name_their_path(policies, overrides, field):
    with pytest.raises(InvalidRecord) as caught:
        validate_procedure_day(parse_procedure_day(day_data(**overrides)), today=TODAY, policies=policies)
    assert [e["field"] for e in caught.value.data["errors"]] == [field]


def test_record_warnings_are_prefixed_with_record(policies):
    data = day_data()
    data["record"]["epidurogram"] = False
    warnings = validate_procedure_day(parse_procedure_day(data), today=TODAY, policies=policies)
    assert [w.field for w in warnings] == ["record.epidurogram"]
