"""The criteria set's code lists without a terminology server: FHIR R4 ValueSets and rows for SQL joins."""

from __future__ import annotations

import csv
import datetime as dt
from pathlib import Path

import duckdb
import pyarrow.parquet as pq
import pytest
from fhir.resources.R4B.bundle import Bundle
from fhir.resources.R4B.valueset import ValueSet

from mildpath.content.criteria import load_criteria_set, load_value_sets, value_sets_used
from mildpath.domain.errors import InvalidInput
from mildpath.population.compile import compile_screen
from mildpath.population.valuesets import (
    COLUMNS,
    CONCEPT_COMMENTS,
    ValueSetRow,
    computable_name,
    create_value_set_table,
    value_set_bundle,
    value_set_resources,
    value_set_rows,
    write_value_set_rows,
)

CRITERIA = load_criteria_set()
RESOURCES = value_set_resources(CRITERIA)
BY_NAME = {r["id"]: r for r in RESOURCES}


def _codes(resource: dict) -> set[tuple[str, str]]:
    return {(inc["system"], c["code"]) for inc in resource["compose"]["include"] for c in inc["concept"]}


def test_there_is_one_value_set_per_code_list_the_rules_use():
    assert list(BY_NAME) == value_sets_used(CRITERIA)


@pytest.mark.parametrize("resource", RESOURCES, ids=[r["id"] for r in RESOURCES])
def test_value_set_is_valid_r4_with_an_enumerated_compose_of_exactly_the_list(resource):
    ValueSet.model_validate(resource)
    listed = load_value_sets()[resource["id"]]
    assert _codes(resource) == set(listed.codes)
    systems = [inc["system"] for inc in resource["compose"]["include"]]
    assert len(systems) == len(set(systems)), "one include per code system"
    assert all("valueSet" not in inc and "filter" not in inc for inc in resource["compose"]["include"])
    assert resource["url"] == f"https://mildpath.org/fhir/ValueSet/{resource['id']}"
    assert resource["version"] == "mild-default@1.0.0"
    assert resource["useContext"][0]["valueCodeableConcept"]["coding"][0]["code"] == CRITERIA.label
    assert all(sid in resource["description"] for sid in listed.sources), "every source is cited"


def test_a_list_that_includes_others_enumerates_their_codes():
    care = BY_NAME["conservative-care"]
    sets = load_value_sets()
    assert _codes(care) == set(sets["physical-therapy"].codes) | set(sets["epidural-steroid-injection"].codes)


def test_an_unverified_list_is_a_draft_labelled_unverified_and_a_verified_one_is_active():
    assert not load_value_sets()["prior-lumbar-surgery"].verified
    assert BY_NAME["prior-lumbar-surgery"]["status"] == "draft"
    assert "UNVERIFIED" in BY_NAME["prior-lumbar-surgery"]["description"]
    assert BY_NAME["lumbar-stenosis"]["status"] == "active"
    assert "UNVERIFIED" not in BY_NAME["lumbar-stenosis"]["description"]


def test_code_notes_travel_as_concept_comments():
    icd = next(i for i in BY_NAME["lumbar-stenosis"]["compose"]["include"] if i["system"].endswith("icd-10-cm"))
    m4806 = next(c for c in icd["concept"] if c["code"] == "M48.06")
    assert m4806["extension"][0]["url"] == CONCEPT_COMMENTS
    assert "2017-10-01" in m4806["extension"][0]["valueString"]


@pytest.mark.parametrize(
    ("name", "expected"),
    [("lumbar-stenosis", "LumbarStenosis"), ("odi-score", "OdiScore"), ("9-lives", "V9Lives")],
    ids=["hyphens", "short", "leading digit"],
)
def test_computable_names_start_with_a_capital_letter(name, expected):
    assert computable_name(name) == expected


def test_the_bundle_is_a_valid_collection_of_every_value_set():
    bundle = value_set_bundle(CRITERIA)
    Bundle.model_validate(bundle)
    assert bundle["type"] == "collection"
    assert [e["resource"]["id"] for e in bundle["entry"]] == list(BY_NAME)
    assert all(e["fullUrl"] == e["resource"]["url"] for e in bundle["entry"])


def test_rows_are_the_codes_the_screen_joins_on():
    rows = value_set_rows(CRITERIA)
    assert rows == sorted(rows)
    screen = compile_screen(CRITERIA, dt.date(2024, 6, 1))
    assert {(r.valueset, r.system, r.code) for r in rows} == set(screen.valueset_rows)
    assert all(r.display for r in rows), "every shipped code has a display"


@pytest.mark.parametrize("suffix", [".csv", ".parquet"])
def test_rows_round_trip_through_csv_and_parquet(tmp_path: Path, suffix):
    rows = value_set_rows(CRITERIA)
    path = write_value_set_rows(rows, tmp_path / f"valuesets{suffix}")
    if suffix == ".csv":
        with path.open(encoding="utf-8", newline="") as handle:
            read = list(csv.reader(handle))
        assert tuple(read[0]) == COLUMNS
        back = [ValueSetRow(*r) for r in read[1:]]
    else:
        table = pq.read_table(path)
        assert tuple(table.column_names) == COLUMNS
        back = [ValueSetRow(**r) for r in table.to_pylist()]
    assert back == rows


def test_rows_refuse_a_file_that_is_neither_csv_nor_parquet(tmp_path: Path):
    with pytest.raises(InvalidInput, match=r"\.csv or \.parquet"):
        write_value_set_rows([], tmp_path / "valuesets.xlsx")


def test_rows_load_as_a_duckdb_table_sql_can_join():
    con = duckdb.connect()
    create_value_set_table(con, value_set_rows(CRITERIA))
    found = con.execute(
        "SELECT valueset FROM mp_valuesets WHERE system = 'http://hl7.org/fhir/sid/icd-10-cm' AND code = 'M48.062' "
        "ORDER BY valueset"
    ).fetchall()
    assert [r[0] for r in found] == ["lumbar-stenosis", "lumbar-stenosis-with-claudication"]
    with pytest.raises(InvalidInput):
        create_value_set_table(con, [], "mp_vs; DROP TABLE x")
