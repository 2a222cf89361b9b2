"""The one translation of the criteria to SQL: dates as the FHIR reader reads them, and the text tests that
let the engines skip lines no criterion can use without ever skipping one that could."""

from __future__ import annotations

import datetime as dt

import duckdb
import pytest

from mildpath.domain.conditions import Select
from mildpath.fhir.read import _date
from mildpath.population.compile import (
    ESCAPE_NEEDLE,
    DuckDBSql,
    SparkSql,
    _needles,
    compile_screen,
    fhir_date,
)
from tests.population.conftest import AS_OF

DATES = [
    "2020", "2020-05", "2020-05-06", "2020-05-06T23:30:00-04:00", "2020-05-06T01:00:00Z",
    "2020-05-06T10:00:00.123+09:00", "2020-02-30", "2020-13", "", "abc", "2020-5-6", " 2020-05-06 ", None,
]  # fmt: skip


@pytest.mark.parametrize("text", DATES, ids=repr)
def test_dates_read_as_the_fhir_reader_reads_them(text):
    literal = "CAST(NULL AS VARCHAR)" if text is None else DuckDBSql().literal(text)
    ((found,),) = duckdb.sql(f"SELECT {fhir_date(DuckDBSql(), literal)}").fetchall()
    assert found == _date(text)


def test_the_rules_needles_name_every_code_they_use(criteria_set):
    compiled = compile_screen(criteria_set, AS_OF)
    conditions = compiled.needles["Condition"]
    assert conditions is not None and 'M48.06"' in conditions and '192970008"' in conditions
    assert compiled.needles["Patient"] is None  # every patient is screened
    assert all(n is None or ESCAPE_NEEDLE in n for n in compiled.needles.values())
    assert any("clinician-assessment" in n for n in compiled.needles["Observation"] or ())


def test_a_code_a_needle_cannot_spell_makes_the_type_read_whole():
    odd = Select(kind="diagnosis", value_set="odd", codes=frozenset({("http://example.org", "a/b c")}))
    assert _needles([odd], ("Patient", "Condition"))["Condition"] is None


def test_types_no_rule_reads_are_not_read(criteria_set):
    types = compile_screen(criteria_set, AS_OF).resource_types
    assert "Encounter" not in types and "Immunization" not in types and types[0] == "Patient"


def test_the_spark_dialect_escapes_what_spark_reads_as_escapes():
    assert SparkSql().literal("a'b\\u") == "'a\\'b\\\\u'"
    assert DuckDBSql().literal("a'b\\u") == "'a''b\\u'"


def test_the_screen_reads_as_sql_for_other_engines(criteria_set):
    text = "\n".join(compile_screen(criteria_set, dt.date(2025, 1, 31), "spark").statements())
    assert "CREATE TABLE mp_facts AS" in text and "DATE '2025-01-31'" in text
    assert "DATE '2024-10-31'" in text  # 3 months before 31 January: the end of October (conditions §Span)
