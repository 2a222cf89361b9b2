"""``mildpath view export``: the portable package is complete, its ValueSets validate, its views run with
``view run``, and its DuckDB script screens as mildpath's own population screen does."""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import json
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest
from fhir.resources.R4B.bundle import Bundle
from fhir.resources.R4B.valueset import ValueSet
from typer.testing import CliRunner

from mildpath.cli import app
from mildpath.content.criteria import load_criteria_set, value_sets_used
from mildpath.content.view_definitions import view_names
from mildpath.population.compile import view_tables
from mildpath.population.engine import run
from mildpath.population.package import FORMAT, script_statements, write_package

ROOT = Path(__file__).resolve().parents[2]
MINI = Path(__file__).resolve().parent / "data" / "mini-export"
AS_OF = "2024-06-01"
CRITERIA = load_criteria_set()


@pytest.fixture(scope="module")
def package(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict]:
    """The package as the command writes it (one real subprocess: stdout holds the JSON summary only)."""
    out = tmp_path_factory.mktemp("export") / "package"
    done = subprocess.run(
        [sys.executable, "-m", "mildpath", "view", "export", "--out", str(out), "--as-of", AS_OF],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    summary = json.loads(done.stdout)
    assert summary["criteria_set"] == "mild-default@1.0.0" and summary["as_of"] == AS_OF
    return out, json.loads((out / "manifest.json").read_text(encoding="utf-8"))


def test_the_manifest_names_the_criteria_set_version_and_every_file_with_its_hash(package):
    out, manifest = package
    assert manifest["format"] == FORMAT
    assert manifest["criteria_set"] == CRITERIA.label
    assert (manifest["criteria_set_name"], manifest["criteria_set_version"]) == (CRITERIA.name, CRITERIA.version)
    assert manifest["as_of"] == AS_OF
    on_disk = {p.relative_to(out).as_posix() for p in out.rglob("*") if p.is_file()} - {"manifest.json"}
    assert set(manifest["files"]) == on_disk
    for name, digest in manifest["files"].items():
        assert hashlib.sha256((out / name).read_bytes()).hexdigest() == digest, name


def test_the_package_holds_every_view_the_screen_reads_and_every_shipped_view(package):
    out, manifest = package
    files = {v["file"] for v in manifest["views"]}
    for table in view_tables():
        assert f"views/{table.table.removeprefix('mp_v_')}.json" in files
    for name in view_names():
        assert f"views/{name}.json" in files
    assert all(v["compiles_for"] == ["duckdb", "spark"] for v in manifest["views"])
    assert all(json.loads((out / f).read_text())["resourceType"] == "ViewDefinition" for f in files)


def test_the_value_sets_validate_one_file_each_and_in_the_bundle(package):
    out, manifest = package
    assert [v["name"] for v in manifest["valuesets"]] == value_sets_used(CRITERIA)
    for entry in manifest["valuesets"]:
        resource = json.loads((out / entry["file"]).read_text(encoding="utf-8"))
        ValueSet.model_validate(resource)
        assert (resource["url"], resource["version"]) == (entry["url"], CRITERIA.label)
    bundle = json.loads((out / "valuesets" / "bundle.json").read_text(encoding="utf-8"))
    Bundle.model_validate(bundle)
    assert len(bundle["entry"]) == len(manifest["valuesets"])
    with (out / "valuesets" / "valuesets.csv").open(encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert {r["valueset"] for r in rows} == set(value_sets_used(CRITERIA))


def test_the_readme_says_what_it_screens_and_how_to_run_it_elsewhere(package):
    out, _ = package
    text = (out / "README.md").read_text(encoding="utf-8")
    for needle in (CRITERIA.label, f"as of {AS_OF}", "## DuckDB", "## Spark", "Pathling", "FHIR Data Pipes"):
        assert needle in text, needle
    for engine in ("duckdb", "spark"):
        script = (out / "sql" / engine / "screen.sql").read_text(encoding="utf-8")
        assert script.startswith(f"-- mildpath portable screen {CRITERIA.label}, as of {AS_OF}")


def test_every_exported_view_runs_with_view_run(package):
    out, manifest = package
    runner = CliRunner()
    for view in manifest["views"]:
        done = runner.invoke(app, ["view", "run", str(out / view["file"]), str(MINI), "--format", "json"])
        assert done.exit_code == 0, (view["name"], done.output)
        assert isinstance(json.loads(done.stdout), list)


def _screen_with_the_package(out: Path, export: Path) -> list[tuple]:
    con = duckdb.connect()
    con.execute(f"SET VARIABLE export_dir = '{export}'")
    con.execute(f"SET VARIABLE package_dir = '{out}'")
    statements = script_statements((out / "sql" / "duckdb" / "screen.sql").read_text(encoding="utf-8"))
    for sql in statements[:-1]:
        con.execute(sql)
    result = con.execute(statements[-1])
    names = [d[0] for d in result.description]
    return [dict(zip(names, row, strict=True)) for row in result.fetchall()]


def test_the_duckdb_script_screens_as_mildpaths_population_screen(package, tmp_path: Path):
    out, manifest = package
    exported = _screen_with_the_package(out, MINI)
    run(MINI, CRITERIA, dt.date.fromisoformat(AS_OF), out=tmp_path / "screen.csv")
    with (tmp_path / "screen.csv").open(encoding="utf-8", newline="") as handle:
        expected = list(csv.DictReader(handle))
    ids = [c["id"] for c in manifest["criteria"]]
    assert [tuple(r[k] for k in ["patient_id", "status", "criteria_set", *ids]) for r in exported] == [
        tuple(r[k] for k in ["patient_id", "status", "criteria_set", *ids]) for r in expected
    ]
    assert {r["status"] for r in exported} == {"needs_more_information", "not_candidate"}


def test_exporting_again_replaces_an_earlier_package_but_never_touches_other_files(tmp_path: Path):
    out = tmp_path / "pkg"
    write_package(out, CRITERIA, dt.date(2024, 1, 1))
    (out / "views" / "stale.json").write_text("{}")
    manifest = write_package(out, CRITERIA, dt.date.fromisoformat(AS_OF))
    assert manifest["as_of"] == AS_OF and not (out / "views" / "stale.json").exists()
    other = tmp_path / "mine"
    other.mkdir()
    (other / "notes.txt").write_text("keep me")
    done = CliRunner().invoke(app, ["view", "export", "--out", str(other)])
    assert done.exit_code == 2
    assert "holds other files" in done.stderr
    assert (other / "notes.txt").read_text() == "keep me"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--as-of", "2024-13-01"], "--as-of: '2024-13-01' is not a date"),
        (["--criteria-set", "no-such-set"], "--criteria-set no-such-set"),
    ],
    ids=["bad date", "unknown criteria set"],
)
def test_bad_options_exit_2_with_one_line(tmp_path: Path, args, message):
    done = CliRunner().invoke(app, ["view", "export", "--out", str(tmp_path / "pkg"), *args])
    assert done.exit_code == 2
    assert message in done.stderr and len(done.stderr.strip().splitlines()) == 1
