"""``mildpath procedure validate | note | instructions``: JSON on stdout, exit codes 0 / 2, one stderr line."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from mildpath.cli.procedures import app
from tests.procedure.factories import at, record_data

DATA = Path(__file__).parent / "data"
runner = CliRunner()


def write(tmp_path: Path, data: object, name: str = "record.json") -> Path:
    path = tmp_path / name
    path.write_text(json.dumps(data), encoding="utf-8")
    return path


def test_validate_prints_a_valid_day_as_json_and_exits_0():
    result = runner.invoke(app, ["validate", str(DATA / "day.json"), "--json", "--as-of", "2025-03-10"])
    assert result.exit_code == 0, result.stderr
    assert json.loads(result.stdout) == {
        "file": str(DATA / "day.json"),
        "valid": True,
        "errors": [],
        "warnings": [],
        "duration_minutes": 45,
    }
    assert result.stderr == ""


def test_validate_reports_warnings_but_exits_0(tmp_path):
    levels = [{"level": name, "side": "left"} for name in ("L2-L3", "L3-L4", "L4-L5", "L5-S1")]
    path = write(tmp_path, record_data(levels=levels))
    result = runner.invoke(app, ["validate", str(path), "--json", "--as-of", "2025-03-10"])
    assert result.exit_code == 0
    assert [w["field"] for w in json.loads(result.stdout)["warnings"]] == ["record.levels"]


def test_validate_exits_2_with_every_error_in_json_and_one_line_on_stderr(tmp_path):
    path = write(
        tmp_path,
        record_data(end=at(8, 0).isoformat(), levels=[{"level": "L6-S1", "side": "left"}], tissue_removed=["disc"]),
    )
    result = runner.invoke(app, ["validate", str(path), "--json", "--as-of", "2025-03-10"])
    assert result.exit_code == 2
    report = json.loads(result.stdout)
    assert report["valid"] is False and report["duration_minutes"] is None
    assert [e["field"] for e in report["errors"]] == ["record.end", "record.levels.0.level", "record.tissue_removed.0"]
    [line] = result.stderr.splitlines()
    assert line.startswith(f"error: {path}: record.end: end ") and line.endswith("(and 2 more)")


def test_validate_without_json_prints_a_readable_report(tmp_path):
    path = write(tmp_path, record_data(levels=[{"level": "L6-S1", "side": "left"}]))
    result = runner.invoke(app, ["validate", str(path), "--as-of", "2025-03-10"])
    assert result.exit_code == 2
    assert "error: record.levels.0.level: unknown level 'L6-S1'" in result.stdout
    assert len(result.stderr.splitlines()) == 1


@pytest.mark.parametrize(
    ("content", "fragment"),
    [
        pytest.param('{"record": ', ":1: not valid JSON", id="malformed-json"),
        pytest.param('{"record": {"levels": 3}}', "record.procedure_date: Field required", id="wrong-shape"),
        pytest.param("[1, 2]", "expected a JSON object", id="not-an-object"),
    ],
)
def test_unreadable_files_exit_2_with_one_line(tmp_path, content, fragment):
    path = tmp_path / "bad.json"
    path.write_text(content, encoding="utf-8")
    result = runner.invoke(app, ["validate", str(path)])
    assert result.exit_code == 2
    assert len(result.stderr.splitlines()) == 1 and fragment in result.stderr


def test_a_missing_file_exits_2(tmp_path):
    result = runner.invoke(app, ["validate", str(tmp_path / "absent.json")])
    assert result.exit_code == 2 and "absent.json" in result.stderr


def test_note_writes_a_pdf(tmp_path):
    out = tmp_path / "note.pdf"
    result = runner.invoke(
        app, ["note", str(DATA / "day.json"), "--out", str(out), "--patient", "Pat Example", "--as-of", "2025-03-10"]
    )
    assert result.exit_code == 0, result.stderr
    assert out.read_bytes().startswith(b"%PDF") and result.stdout == ""


def test_note_writes_html_by_extension(tmp_path):
    out = tmp_path / "note.html"
    result = runner.invoke(app, ["note", str(DATA / "day.json"), "--out", str(out), "--as-of", "2025-03-10"])
    assert result.exit_code == 0
    assert "mild procedure note" in out.read_text(encoding="utf-8")


@pytest.mark.parametrize(
    ("data", "out_name", "fragment"),
    [
        pytest.param(record_data(tissue_removed=["disc"]), "note.pdf", "disc material", id="invalid-record"),
        pytest.param(record_data(), "note.docx", "must end in .pdf or .html", id="unknown-format"),
    ],
)
def test_note_exits_2_and_writes_nothing_for_bad_input(tmp_path, data, out_name, fragment):
    out = tmp_path / out_name
    result = runner.invoke(app, ["note", str(write(tmp_path, data)), "--out", str(out), "--as-of", "2025-03-10"])
    assert result.exit_code == 2 and fragment in result.stderr
    assert len(result.stderr.splitlines()) == 1
    assert not out.exists()


def test_instructions_write_the_patient_handout(tmp_path):
    out = tmp_path / "going-home.html"
    result = runner.invoke(
        app, ["instructions", "--out", str(out), "--patient", "Pat", "--procedure-date", "2025-03-10"]
    )
    assert result.exit_code == 0
    assert "Get emergency help now" in out.read_text(encoding="utf-8")
