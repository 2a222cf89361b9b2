"""The Spark dialect of the view runner: the same ViewDefinitions as Spark SQL, the same rows as DuckDB.

One local SparkSession for the module. The official suite's tests run as a few Spark jobs (UNION ALL of ten
tests' queries, each over its own resources), since a job per test costs more than the whole suite's work; the
views that must fail run alone. The SQL-text checks at the top need no JVM.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import re
import shutil
import sys
from pathlib import Path
from typing import Any

import duckdb
import pytest

from mildpath.content.criteria import load_criteria_set
from mildpath.content.view_definitions import load_view_definition, view_names
from mildpath.population.package import script_statements, write_package
from mildpath.population.views import InvalidView, ViewDataError, ViewError, compile_view, connect, evaluate, run_rows
from mildpath.population.views.spark_runner import check_version, evaluate_spark, run_rows_spark

ROOT = Path(__file__).resolve().parents[2]
SUITE = ROOT.parent / "shared" / "data" / "sql-on-fhir-v2-tests"
SYNTHEA = ROOT.parent / "shared" / "data" / "synthea-bulk-10"
MINI = Path(__file__).resolve().parent / "data" / "mini-export"
# DuckDB spellings that must never reach Spark SQL.
DUCKDB_ONLY = re.compile(
    r"\b(list_\w+|lambda|json_extract\w*|json_type|unnest|len|strftime|starts_with|suffix|error)\("
)


def _suite_tests() -> list[tuple[str, int, dict[str, Any], list[dict[str, Any]]]]:
    """Every test of the official suite: shareable and experimental (both pass on DuckDB, so both here)."""
    if not SUITE.is_dir():
        return []
    out = []
    for path in sorted(p for p in SUITE.glob("*.json") if not p.name.endswith("schema.json")):
        case = json.loads(path.read_text(encoding="utf-8"))
        for index, test in enumerate(case["tests"]):
            out.append((path.name, index, test, case.get("resources", [])))
    return out


SUITE_TESTS = _suite_tests()


def _normal(value: Any) -> Any:
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, list):
        return [_normal(v) for v in value]
    if isinstance(value, dict):
        return {k: _normal(v) for k, v in value.items()}
    return value


def _canon(rows: list[dict[str, Any]]) -> list[str]:
    return sorted(json.dumps(_normal(r), sort_keys=True) for r in rows)


# -- the SQL text (no JVM) -------------------------------------------------------------------------------


@pytest.mark.parametrize("name", view_names())
def test_shipped_view_compiles_to_spark_sql_without_duckdb_spellings(name):
    sql = compile_view(load_view_definition(name), dialect="spark").sql("lines")
    assert not DUCKDB_ONLY.search(sql), DUCKDB_ONLY.search(sql)
    outside_literals = re.sub(r"'(?:\\.|[^'\\])*'", "''", sql)
    assert '"' not in outside_literals, "Spark reads double quotes as strings: identifiers use backticks"


@pytest.mark.skipif(not SUITE_TESTS, reason=f"the official SQL on FHIR v2 suite is not at {SUITE}")
def test_every_suite_view_compiles_to_spark_sql_without_duckdb_spellings():
    for _, _, test, _ in SUITE_TESTS:
        try:
            sql = compile_view(test["view"], dialect="spark").sql("lines")
        except InvalidView:
            assert test.get("expectError"), test["title"]
            continue
        assert not DUCKDB_ONLY.search(sql), (test["title"], DUCKDB_ONLY.search(sql))


def test_a_decimal_keeps_its_written_precision_on_spark():
    view = {
        "resourceType": "ViewDefinition",
        "resource": "Observation",
        "status": "active",
        "select": [{"column": [{"name": "low", "path": "value.ofType(Quantity).value.lowBoundary()"}]}],
    }
    sql = compile_view(view, dialect="spark").sql("lines")
    assert "DECIMAL(%,0)" in sql, "1.0 is stored with scale 0: its '.0' is put back before counting digits"


@pytest.mark.parametrize("version", ["3.5.1", "unknown"])
def test_a_spark_session_older_than_4_is_refused_before_any_sql_runs(version):
    with pytest.raises(InvalidView, match=f"needs Spark 4.0 or later .* runs Spark {version}"):
        check_version(version)
    check_version("4.0.1")


def test_an_unknown_dialect_is_an_invalid_view():
    with pytest.raises(InvalidView, match="unknown SQL dialect 'oracle'"):
        compile_view(load_view_definition("patient"), dialect="oracle")


# -- Spark ----------------------------------------------------------------------------------------------


def _spark_missing() -> str | None:
    try:
        import pyspark  # noqa: F401
    except ImportError:
        return "PySpark is not installed"
    if not shutil.which("java") and not os.environ.get("JAVA_HOME"):
        return "no Java runtime for Spark"
    return None


@pytest.fixture(scope="module")
def spark():
    missing = _spark_missing()
    if missing:
        pytest.skip(missing)
    from pyspark.sql import SparkSession

    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    session = (
        SparkSession.builder.master("local[2]")
        .appName("mildpath view dialect tests")
        .config("spark.ui.enabled", "false")
        .config("spark.ui.showConsoleProgress", "false")
        .config("spark.sql.shuffle.partitions", "2")
        .config("spark.sql.session.timeZone", "UTC")
        .config("spark.log.level", "OFF")
        .getOrCreate()
    )
    yield session
    session.stop()


@pytest.mark.spark
@pytest.mark.parametrize("name", view_names())
def test_screening_view_gives_duckdbs_rows_on_spark_over_the_mini_export(spark, name):
    view = load_view_definition(name)
    expected, _ = run_rows(view, MINI)
    found, _ = run_rows_spark(view, MINI, spark)
    assert expected, "the mini export has rows for every shipped view"
    assert _canon(found) == _canon(expected)


@pytest.mark.spark
@pytest.mark.skipif(not SYNTHEA.is_dir(), reason=f"the real Synthea sample export is not at {SYNTHEA}")
def test_screening_views_give_duckdbs_rows_on_spark_over_the_real_synthea_export(spark):
    for name in ("patient", "condition", "procedure", "medication_request"):
        view = load_view_definition(name)
        expected, _ = run_rows(view, SYNTHEA)
        found, _ = run_rows_spark(view, SYNTHEA, spark)
        assert len(found) == len(expected) > 0, name
        assert _canon(found) == _canon(expected), name


def _suite_batch(spark) -> dict[int, list[dict[str, Any]] | str]:
    """Every suite test that should give rows, run in a few UNION ALL jobs: number -> rows, or the refusal text
    of a view the Spark dialect refuses."""
    out: dict[int, list[dict[str, Any]] | str] = {}
    lines, parts, compiled_by_number = [], [], {}
    for number, (_, _, test, resources) in enumerate(SUITE_TESTS):
        if test.get("expectError"):
            continue
        try:
            compiled = compile_view(test["view"], dialect="spark")
        except InvalidView as exc:
            out[number] = str(exc)
            continue
        compiled_by_number[number] = compiled
        lines += [(number, json.dumps(r, separators=(",", ":"))) for r in resources]
        source = f"(SELECT resource FROM mp_suite_lines WHERE t = {number})"
        fields = ", ".join(f"'{c.name}', `{c.name}`" for c in compiled.columns)
        row = f"to_json(named_struct({fields}), map('ignoreNullFields', 'false'))"
        parts.append(f"SELECT {number} AS t, {row} AS row FROM ({compiled.sql(source)}) AS _q")
    spark.createDataFrame(lines, "t int, resource string").coalesce(1).cache().createOrReplaceTempView("mp_suite_lines")
    for number in compiled_by_number:
        out[number] = []
    records = []
    # ~110 tiny, all different queries: Java code generation would cost more than running them interpreted
    # (the screening-view tests above keep Spark's default, generated code).
    spark.conf.set("spark.sql.codegen.wholeStage", "false")
    spark.conf.set("spark.sql.codegen.factoryMode", "NO_CODEGEN")
    try:
        for start in range(0, len(parts), 10):
            records += spark.sql(" UNION ALL ".join(parts[start : start + 10])).collect()
    finally:
        spark.conf.unset("spark.sql.codegen.wholeStage")
        spark.conf.unset("spark.sql.codegen.factoryMode")
    for record in records:
        compiled = compiled_by_number[record["t"]]
        row = json.loads(record["row"])
        for c in compiled.columns:  # JSON columns come out as JSON text
            if c.sql_type.startswith("JSON") and row[c.name] is not None:
                value = row[c.name]
                row[c.name] = [json.loads(v) for v in value] if c.collection else json.loads(value)
        out[record["t"]].append({c.name: row[c.name] for c in compiled.columns})
    return out


@pytest.fixture(scope="module")
def suite_on_spark(spark):
    return _suite_batch(spark)


@pytest.mark.spark
@pytest.mark.skipif(not SUITE_TESTS, reason=f"the official SQL on FHIR v2 suite is not at {SUITE}")
@pytest.mark.parametrize(
    ("number", "test"),
    [(n, t) for n, (_, _, t, _) in enumerate(SUITE_TESTS) if not t.get("expectError")],
    ids=[f"{f}::{t['title']}" for f, _, t, _ in SUITE_TESTS if not t.get("expectError")],
)
def test_suite_test_gives_duckdbs_rows_on_spark(suite_on_spark, number, test):
    found = suite_on_spark[number]
    assert not isinstance(found, str), f"refused on Spark: {found}"
    resources = SUITE_TESTS[number][3]
    expected = evaluate(test["view"], resources, con=connect())
    if "expectCount" in test:
        assert len(found) == len(expected) == test["expectCount"]
    else:
        assert _canon(found) == _canon(expected) == _canon(test["expect"])


@pytest.mark.spark
@pytest.mark.skipif(not SUITE_TESTS, reason=f"the official SQL on FHIR v2 suite is not at {SUITE}")
def test_suite_views_that_must_fail_fail_on_spark_too(spark):
    failing = [(t, r) for _, _, t, r in SUITE_TESTS if t.get("expectError")]
    assert failing
    for test, resources in failing:
        with pytest.raises(ViewError):
            evaluate_spark(test["view"], resources, spark)


@pytest.mark.spark
def test_several_values_in_a_single_column_is_a_view_data_error_on_spark(spark):
    view = {
        "resourceType": "ViewDefinition",
        "resource": "Patient",
        "status": "active",
        "select": [{"column": [{"name": "given", "path": "name.given"}]}],
    }
    patient = {"resourceType": "Patient", "id": "p", "name": [{"given": ["Ann", "Bo"]}]}
    with pytest.raises(ViewDataError, match="column 'given' .* returned more than one value"):
        evaluate_spark(view, [patient], spark)


def _input_steps(script: str) -> list[str]:
    """The statements that make the lines, the value sets and the view tables (steps 1-3: before mp_codes)."""
    statements = script_statements(script)
    first_fact = next(i for i, sql in enumerate(statements) if " mp_codes AS " in sql)
    return statements[:first_fact]


@pytest.mark.spark
def test_the_exported_spark_script_builds_the_tables_the_duckdb_script_builds(spark, tmp_path: Path):
    """Steps 1-3 of the package's scripts (lines, value sets, views); the facts and criteria SQL belong to the
    population screen's own Spark tests."""
    out = tmp_path / "package"
    write_package(out, load_criteria_set(), dt.date(2024, 6, 1))
    spark_sql = _input_steps((out / "sql/spark/screen.sql").read_text())
    duck_sql = _input_steps((out / "sql/duckdb/screen.sql").read_text())
    spark.conf.set("export_dir", str(MINI))
    spark.conf.set("package_dir", str(out))
    con = duckdb.connect()
    con.execute(f"SET VARIABLE export_dir = '{MINI}'")
    con.execute(f"SET VARIABLE package_dir = '{out}'")
    tables = [s.split()[2] for s in spark_sql if s.startswith("CACHE TABLE")]
    # The session is shared by the module: temporary views an earlier test made would clash with the script's.
    for table in spark.catalog.listTables():
        if table.isTemporary:
            spark.catalog.dropTempView(table.name)
    try:
        for sql in spark_sql:
            spark.sql(sql)
        for sql in duck_sql:
            con.execute(sql)
        for table in [*tables, "mp_vs"]:
            found = [r.asDict() for r in spark.table(table).collect()]
            result = con.execute(f"SELECT * FROM {table}")
            names = [d[0] for d in result.description]
            expected = [dict(zip(names, row, strict=True)) for row in result.fetchall()]
            assert _canon(found) == _canon(expected), table
        assert spark.table("mp_v_condition").count() == 2
    finally:
        for table in tables:
            spark.sql(f"UNCACHE TABLE IF EXISTS {table}")


def _evidence_free(row: dict[str, Any]) -> dict[str, Any]:
    """A result row without its evidence lists (their order within a criterion is not the screen's promise)."""
    return {k: (str(v) if isinstance(v, dt.date) else v) for k, v in row.items() if not k.endswith("_evidence")}


@pytest.mark.spark
def test_the_whole_exported_spark_script_runs_in_the_default_heap_and_answers_as_the_duckdb_script(
    spark, tmp_path: Path
):
    """Issue 17: the exported Spark package runs to completion with Spark's default driver memory (this session
    sets none: 1 GB) and gives every patient the DuckDB script's status and answers. The criteria as one inlined
    query ran out of that heap in analysis even on 100 patients: the plan, not the data, grew (so a small export
    shows the defect); the script now writes each step as Parquet and reads it back."""
    from mildpath.population.synth import generate

    export = tmp_path / "export"
    generate(export, patients=40, seed=3, as_of=dt.date(2025, 6, 30), workers=1)
    out = tmp_path / "package"
    write_package(out, load_criteria_set(), dt.date(2025, 6, 30))
    spark_sql = script_statements((out / "sql/spark/screen.sql").read_text())
    duck_sql = script_statements((out / "sql/duckdb/screen.sql").read_text())
    assert not any(sql.startswith("WITH ") or " WITH mp_" in sql for sql in spark_sql), "a step is inlined again"
    for table in spark.catalog.listTables():
        if table.isTemporary:
            spark.catalog.dropTempView(table.name)
    spark.conf.set("export_dir", str(export))
    spark.conf.set("package_dir", str(out))
    codegen = spark.conf.get("spark.sql.codegen.wholeStage")
    try:
        for sql in spark_sql[:-1]:
            spark.sql(sql)
        found = [_evidence_free(r.asDict()) for r in spark.sql(spark_sql[-1]).collect()]
    finally:
        spark.conf.set("spark.sql.codegen.wholeStage", codegen)
        spark.catalog.clearCache()
    con = duckdb.connect()
    con.execute(f"SET VARIABLE export_dir = '{export}'")
    con.execute(f"SET VARIABLE package_dir = '{out}'")
    for sql in duck_sql[:-1]:
        con.execute(sql)
    result = con.execute(duck_sql[-1])
    names = [d[0] for d in result.description]
    expected = [_evidence_free(dict(zip(names, row, strict=True))) for row in result.fetchall()]
    assert len(found) == len(expected) == 40
    assert _canon(found) == _canon(expected)
    assert {r["status"] for r in expected} - {"not_candidate"}, "the export should give more than one status"
