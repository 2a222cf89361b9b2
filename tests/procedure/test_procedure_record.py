"""The procedure record: validation errors with clear messages and plausibility warnings."""

from __future__ import annotations

import pytest

from mildpath.domain.errors import InvalidRecord
from mildpath.domain.procedure import ProcedureRecord, parse_record, validate_record
from tests.procedure.factories import at, make_record, record_data


def errors_of(policies, **overrides) -> list[dict]:
    with pytest.raises(InvalidRecord) as caught:
        validate_record(make_record(**overrides), policies.record)
    return caught.value.data["errors"]


def warnings_of(policies, **overrides) -> list[str]:
    return [w.field for w in validate_record(make_record(**overrides), policies.record)]


def test_a_typical_record_is_valid_without_warnings(policies):
    record = make_record()
    assert validate_record(record, policies.record) == ()
    assert record.duration_minutes == 45


@pytest.mark.parametrize(
    ("end", "minutes", "warned"),
    [
        pytest.param(at(9, 15), 45, False, id="45-minutes"),
        pytest.param(at(10, 30), 120, False, id="exactly-2-hours-is-not-over"),
        pytest.param(at(10, 31), 121, True, id="over-2-hours-warns"),
    ],
)
def test_duration_is_computed_and_over_2_hours_warns(policies, end, minutes, warned):
    record = make_record(end=end.isoformat())
    assert record.duration_minutes == minutes
    warnings = validate_record(record, policies.record)
    assert ("end" in [w.field for w in warnings]) is warned
    if warned:
        assert "121 minutes" in warnings[0].message and warnings[0].sources


def test_duration_rounds_down_to_whole_minutes():
    assert make_record(end=at(9, 15).replace(second=59).isoformat()).duration_minutes == 45


def test_a_record_in_progress_has_no_duration_and_no_completion_warnings(policies):
    record = make_record(end=None, tissue_removed=[], device_lots=[])
    assert record.duration is None and record.duration_minutes is None
    assert validate_record(record, policies.record) == ()


@pytest.mark.parametrize(
    ("end", "fragment"),
    [
        pytest.param(at(8, 0), "is before start", id="end-before-start"),
        pytest.param(at(8, 30), "end equals start", id="end-equals-start"),
    ],
)
def test_an_end_before_or_at_the_start_is_refused(policies, end, fragment):
    [error] = errors_of(policies, end=end.isoformat())
    assert error["field"] == "end" and fragment in error["message"]


def test_the_start_must_fall_on_the_procedure_date(policies):
    [error] = errors_of(policies, start=at(8, 30).replace(day=11).isoformat(), end=None)
    assert error["field"] == "start" and "not on the procedure date" in error["message"]


@pytest.mark.parametrize(
    ("levels", "field", "fragment"),
    [
        pytest.param(
            [{"level": "L6-S1", "side": "left"}], "levels.0.level", "unknown level 'L6-S1'", id="unknown-level"
        ),
        pytest.param([{"level": "l4-l5", "side": "left"}], "levels.0.level", "use one of L1-L2", id="level-is-exact"),
        pytest.param([{"level": "L4-L5", "side": "both"}], "levels.0.side", "unknown side 'both'", id="unknown-side"),
        pytest.param(
            [{"level": "L4-L5", "side": "left"}, {"level": "L4-L5", "side": "right"}],
            "levels",
            "more than once: L4-L5",
            id="duplicate-level",
        ),
        pytest.param([], "levels", "at least one", id="no-level"),
    ],
)
def test_levels_and_sides_are_checked_against_the_content_lists(policies, levels, field, fragment):
    [error] = errors_of(policies, levels=levels)
    assert error["field"] == field and fragment in error["message"]


def levels(*names: str) -> list[dict]:
    return [{"level": name, "side": "bilateral"} for name in names]


@pytest.mark.parametrize(
    ("treated", "warned"),
    [
        pytest.param(levels("L3-L4", "L4-L5", "L5-S1"), False, id="3-levels"),
        pytest.param(levels("L2-L3", "L3-L4", "L4-L5", "L5-S1"), True, id="4-levels-warn"),
    ],
)
def test_more_than_3_levels_warns(policies, treated, warned):
    assert ("levels" in warnings_of(policies, levels=treated)) is warned


@pytest.mark.parametrize("tissue", ["disc", "Disc", " DISC "])
def test_disc_is_refused_as_removed_tissue(policies, tissue):
    [error] = errors_of(policies, tissue_removed=["lamina", tissue])
    assert error["field"] == "tissue_removed.1"
    assert "does not remove disc material" in error["message"]
    assert "overview-precise" in error["sources"]


def test_an_unknown_tissue_is_refused(policies):
    [error] = errors_of(policies, tissue_removed=["bone spur"])
    assert "unknown tissue 'bone spur'" in error["message"]


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        pytest.param({"operator": "  "}, "operator", id="blank-operator"),
        pytest.param({"anaesthesia": "spinal"}, "anaesthesia", id="unknown-anaesthesia"),
        pytest.param({"sedation": "other"}, "sedation_detail", id="other-sedation-undescribed"),
        pytest.param({"incisions": 0}, "incisions", id="no-incision"),
        pytest.param({"fluoroscopy_seconds": -1}, "fluoroscopy_seconds", id="negative-fluoroscopy"),
        pytest.param({"events": [{"kind": "other"}]}, "events.0.description", id="other-event-undescribed"),
        pytest.param({"device_lots": ["VX-1", " "]}, "device_lots.1", id="blank-lot"),
    ],
)
def test_other_field_errors_name_the_field(policies, overrides, field):
    assert [e["field"] for e in errors_of(policies, **overrides)] == [field]


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        pytest.param({"anaesthesia": "general"}, "anaesthesia", id="general-anaesthesia"),
        pytest.param({"epidurogram": False}, "epidurogram", id="no-epidurogram"),
        pytest.param({"events": [{"kind": "dural_puncture"}]}, "events.0", id="dural-puncture-to-adverse-event"),
        pytest.param({"device_lots": []}, "device_lots", id="no-lot-number"),
        pytest.param({"tissue_removed": []}, "tissue_removed", id="no-tissue"),
    ],
)
def test_plausibility_warnings_do_not_block(policies, overrides, field):
    assert warnings_of(policies, **overrides) == [field]


def test_every_error_is_reported_at_once(policies):
    errors = errors_of(
        policies, end=at(8, 0).isoformat(), levels=[{"level": "L9", "side": "up"}], tissue_removed=["disc"]
    )
    assert [e["field"] for e in errors] == ["end", "levels.0.level", "levels.0.side", "tissue_removed.0"]


def test_the_exception_message_names_the_first_error_and_counts_the_rest(policies):
    with pytest.raises(InvalidRecord) as caught:
        validate_record(make_record(end=at(8, 0).isoformat(), tissue_removed=["disc"]), policies.record)
    assert caught.value.message.startswith("invalid procedure record: end: end ")
    assert caught.value.message.endswith("(and 1 more)")
    assert caught.value.field == "end"


def test_times_without_a_time_zone_are_refused_with_a_hint():
    with pytest.raises(InvalidRecord, match="needs a time zone offset"):
        parse_record(record_data(start="2025-03-10T08:30:00"))


def test_unknown_fields_and_wrong_shapes_are_refused_with_their_path():
    with pytest.raises(InvalidRecord) as caught:
        parse_record(record_data(level="L4-L5", levels="L4-L5"))
    fields = {e["field"]: e["message"] for e in caught.value.data["errors"]}
    assert fields == {"levels": "should be a list", "level": "unknown field"}


def test_a_record_that_is_not_an_object_is_refused():
    with pytest.raises(InvalidRecord, match="expected a JSON object"):
        parse_record(["not", "a", "record"])  # type: ignore[arg-type]


def test_the_record_round_trips_through_json():
    record = make_record(events=[{"kind": "bleeding", "description": "minor, pressure"}])
    assert ProcedureRecord.model_validate_json(record.model_dump_json()) == record
