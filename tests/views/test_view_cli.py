"""``mildpath view run`` as scripts call it: formats, stdout discipline and exit codes (contracts §2)."""

from __future__ import annotations

import csv
import io
import json
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest

ROOT = Path(__file__).resolve().parents[2]
MINI = Path(__file__).resolve().parent / "data" / "mini-export"
CONDITIONS = ROOT / "src" / "mildpath" / "content" / "views" / "condition.json"


def mildpath(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "mildpath", *args], capture_output=True, text=True, cwd=ROOT, timeout=120
    )


def write_view(tmp_path: Path, view: object) -> str:
    path = tmp_path / "view.json"
    path.write_text(json.dumps(view))
    return str(path)


def test_json_prints_one_array_of_row_objects_and_notes_go_to_stderr():
    done = mildpath("view", "run", str(CONDITIONS), str(MINI), "--format", "json")
    assert done.returncode == 0, done.stderr
    rows = json.loads(done.stdout)
    assert [r["code"] for r in rows] == ["M48.062", "18347007"]
    assert "non-resource" in done.stderr


def test_ndjson_and_csv_print_one_row_per_line(tmp_path: Path):
    lines = mildpath("view", "run", str(CONDITIONS), str(MINI), "--format", "ndjson").stdout.splitlines()
    assert [json.loads(line)["code"] for line in lines] == ["M48.062", "18347007"]
    table = list(
        csv.DictReader(io.StringIO(mildpath("view", "run", str(CONDITIONS), str(MINI), "--format", "csv").stdout))
    )
    assert [r["code"] for r in table] == ["M48.062", "18347007"]
    assert table[0]["abatement_date"] == ""


def test_parquet_goes_to_the_out_file_with_sql_types(tmp_path: Path):
    view = write_view(
        tmp_path,
        {
            "resource": "Observation",
            "select": [
                {
                    "column": [
                        {"name": "id", "path": "id", "type": "id"},
                        {"name": "value", "path": "value.ofType(Quantity).value", "type": "decimal"},
                        {"name": "codes", "path": "code.coding.code", "type": "code", "collection": True},
                    ]
                }
            ],
        },
    )
    out = tmp_path / "obs.parquet"
    done = mildpath("view", "run", view, str(MINI / "Observation.ndjson"), "--format", "parquet", "--out", str(out))
    assert done.returncode == 0, done.stderr
    assert done.stdout == ""
    rows = duckdb.sql(f"SELECT id, value, codes FROM '{out}' ORDER BY id").fetchall()
    assert rows == [("o1", 42.22, ["97909-6"]), ("o2", None, ["72514-3"])]


def test_csv_writes_collections_as_json_arrays(tmp_path: Path):
    view = write_view(
        tmp_path,
        {
            "resource": "Condition",
            "select": [{"column": [{"name": "codes", "path": "code.coding.code", "type": "code", "collection": True}]}],
        },
    )
    done = mildpath("view", "run", view, str(MINI), "--format", "csv")
    assert list(csv.DictReader(io.StringIO(done.stdout))) == [{"codes": '["M48.062","18347007"]'}]


BAD = [
    (
        "an invalid view",
        {"resource": "Patient", "select": [{"column": [{"name": "bad name", "path": "id"}]}]},
        None,
        "column name",
    ),
    (
        "several values in a plain column",
        {"resource": "Condition", "select": [{"column": [{"name": "code", "path": "code.coding.code"}]}]},
        None,
        "more than one value",
    ),
    (
        "a missing source",
        {"resource": "Patient", "select": [{"column": [{"name": "id", "path": "id"}]}]},
        "/nonexistent/export",
        "no such file",
    ),
    (
        "parquet without --out",
        {"resource": "Patient", "select": [{"column": [{"name": "id", "path": "id"}]}]},
        "parquet",
        "--out",
    ),
    ("a view that is not JSON", "{not json", None, "not valid JSON"),
]


@pytest.mark.parametrize(("case", "view", "variant", "message"), BAD, ids=[b[0] for b in BAD])
def test_bad_input_exits_2_with_one_line_on_stderr_and_nothing_on_stdout(tmp_path, case, view, variant, message):
    path = tmp_path / "view.json"
    path.write_text(view if isinstance(view, str) else json.dumps(view))
    source = variant if variant and variant.startswith("/") else str(MINI)
    fmt = "parquet" if variant == "parquet" else "json"
    done = mildpath("view", "run", str(path), source, "--format", fmt)
    assert done.returncode == 2
    assert done.stdout == ""
    assert len(done.stderr.strip().splitlines()) == 1
    assert message in done.stderr


def test_importing_the_cli_loads_neither_duckdb_nor_pyarrow():
    code = "import sys, mildpath.cli; print(sorted({'duckdb', 'pyarrow', 'pandas'} & set(sys.modules)))"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, timeout=60)
    assert done.stdout.strip() == "[]", done.stderr
