"""Reading what exporters write: Bulk folders, gzip, logs, corrupt lines, truncated files, files to skip."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import pytest

from mildpath.population.views import SourceError, discover, run_rows
from mildpath.population.views.source import type_from_name

PATIENTS = {"resource": "Patient", "select": [{"column": [{"name": "id", "path": "id"}]}]}


def ndjson(*resources) -> str:
    return "".join((r if isinstance(r, str) else json.dumps(r)) + "\n" for r in resources)


def patient(pid: str) -> dict:
    return {"resourceType": "Patient", "id": pid}


def ids(source) -> list[str]:
    found, _ = run_rows(PATIENTS, source)
    return sorted(r["id"] for r in found)


NAMES = [
    ("Patient.ndjson", "Patient"),
    ("Condition.000.ndjson", "Condition"),
    ("Observation_2.ndjson.gz", "Observation"),
    ("1.MedicationRequest.ndjson", "MedicationRequest"),
    ("log.ndjson", None),
    ("export.ndjson", None),
    ("patients.ndjson", None),
]


@pytest.mark.parametrize(("name", "resource_type"), NAMES, ids=[n[0] for n in NAMES])
def test_a_bulk_file_name_declares_its_resource_type(name, resource_type):
    assert type_from_name(name) == resource_type


def test_a_bulk_folder_is_read_whole_with_gzip_and_log_lines_counted(tmp_path: Path):
    (tmp_path / "Patient.000.ndjson").write_text(ndjson(patient("a"), patient("b")))
    with gzip.open(tmp_path / "Patient.001.ndjson.gz", "wt") as handle:
        handle.write(ndjson(patient("c")))
    (tmp_path / "log.ndjson").write_text(ndjson({"eventId": "kickoff"}, {"eventId": "export_complete"}))
    found, stats = run_rows(PATIENTS, tmp_path)
    assert sorted(r["id"] for r in found) == ["a", "b", "c"]
    assert stats.non_resource_lines == 2
    assert stats.bad_lines == 0


def test_files_named_after_other_types_are_not_read_at_all(tmp_path: Path):
    (tmp_path / "Patient.ndjson").write_text(ndjson(patient("a")))
    (tmp_path / "Observation.ndjson").write_text("this file is never opened for a Patient view\n")
    found, stats = run_rows(PATIENTS, tmp_path)
    assert found == [{"id": "a"}]
    assert (stats.files_read, stats.files_skipped) == (1, 1)


def test_a_corrupt_line_is_skipped_and_reported_with_file_and_line(tmp_path: Path):
    source = tmp_path / "Patient.ndjson"
    source.write_text(ndjson(patient("a"), '{"resourceType": "Patient", "id": "broken"', patient("b")))
    found, stats = run_rows(PATIENTS, source)
    assert sorted(r["id"] for r in found) == ["a", "b"]
    assert stats.bad_lines == 1
    assert stats.bad_examples[0].startswith("Patient.ndjson:2")


def test_a_truncated_gzip_keeps_every_complete_line_before_the_cut(tmp_path: Path):
    whole = gzip.compress(ndjson(*(patient(f"p{i:04d}") for i in range(2000))).encode())
    source = tmp_path / "Patient.ndjson.gz"
    source.write_bytes(whole[: len(whole) * 2 // 3])
    found, stats = run_rows(PATIENTS, source)
    assert 0 < len(found) < 2000
    assert [r["id"] for r in found] == [f"p{i:04d}" for i in range(len(found))]
    assert stats.bad_lines == 1
    assert "ends early" in stats.bad_examples[0]


def test_windows_line_ends_blank_lines_and_a_byte_order_mark_are_read(tmp_path: Path):
    source = tmp_path / "mixed.ndjson"
    source.write_bytes(
        b"\xef\xbb\xbf" + json.dumps(patient("a")).encode() + b"\r\n\r\n" + json.dumps(patient("b")).encode()
    )
    assert ids(source) == ["a", "b"]


UNREADABLE = [
    ("missing path", None, "no such file"),
    ("folder without NDJSON", "empty", "no NDJSON files"),
    ("a pretty-printed JSON file", "pretty", "not NDJSON"),
    ("not gzip at all", "fakegz", "cannot read"),
]


@pytest.mark.parametrize(("case", "kind", "message"), UNREADABLE, ids=[u[0] for u in UNREADABLE])
def test_unreadable_input_is_a_source_error(tmp_path: Path, case, kind, message):
    if kind is None:
        source = tmp_path / "nothing-here"
    elif kind == "empty":
        source = tmp_path / "export"
        source.mkdir()
        (source / "notes.txt").write_text("hello")
    elif kind == "pretty":
        source = tmp_path / "bundle.ndjson"
        source.write_text(json.dumps({"resourceType": "Bundle", "entry": [{"resource": patient("a")}]}, indent=2))
    else:
        source = tmp_path / "Patient.ndjson.gz"
        source.write_text(ndjson(patient("a")))
    with pytest.raises(SourceError, match=message):
        ids(source)


def test_discover_lists_nested_folders_in_name_order(tmp_path: Path):
    (tmp_path / "b").mkdir()
    (tmp_path / "b" / "Patient.ndjson").write_text(ndjson(patient("x")))
    (tmp_path / "Condition.ndjson").write_text("")
    assert [f.path.name for f in discover(tmp_path)] == ["Condition.ndjson", "Patient.ndjson"]
