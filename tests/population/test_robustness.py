"""Real-world input never stops a run: bad lines are counted with file and line, a gzip cut short is read up to
its last complete line, types nobody needs are skipped, references and dates come in every style."""

from __future__ import annotations

import pytest

from mildpath.population.engine import run
from tests.population.conftest import AS_OF, REAL_EXPORT


def test_a_corrupt_line_is_counted_with_its_file_and_line(engine, screen_with, messy):
    summary = screen_with(engine, messy.folder).summary
    assert any(example.startswith(messy.corrupt) for example in summary.stats.bad_examples), summary.stats.bad_examples


def test_a_patient_line_damaged_inside_is_counted_and_the_others_screened(engine, screen_with, messy):
    screened = screen_with(engine, messy.folder)
    assert any(e.startswith(messy.damaged_patient) for e in screened.summary.stats.bad_examples)
    assert "damaged" not in screened.rows and len(screened.rows) > 250


def test_a_gzip_cut_short_is_reported_and_its_complete_lines_are_read(engine, screen_with, messy):
    summary = screen_with(engine, messy.folder).summary
    notes = [e for e in summary.stats.bad_examples if e.startswith(messy.truncated)]
    assert notes and "compressed data ends early" in notes[0]


def test_a_line_that_is_not_utf8_is_counted_as_bad(engine, screen_with, messy):
    summary = screen_with(engine, messy.folder).summary
    assert any(e.startswith(messy.not_utf8.split(":")[0]) for e in summary.stats.bad_examples)


def test_types_no_criterion_needs_are_never_opened(engine, screen_with, messy):
    summary = screen_with(engine, messy.folder).summary
    assert summary.stats.files_skipped >= 5  # Encounter, DiagnosticReport, DocumentReference, Claim, ...
    assert summary.stats.bytes_read < summary.stats.export_bytes
    assert "Encounter" not in summary.stats.resource_types_read


def test_lines_that_are_not_resources_are_counted(engine, screen_with, messy):
    assert screen_with(engine, messy.folder).summary.stats.non_resource_lines >= 3  # log lines, a message, an array


@pytest.mark.parametrize(
    ("patient", "criterion", "status"),
    [
        ("hand-1", "lumbar_spinal_stenosis", "met"),  # urn:uuid references, a zone near midnight
        ("hand-1", "ligamentum_flavum_thickness", "met"),  # 0.31 cm is 3.1 mm
        ("hand-1", "conservative_care_failed", "met"),  # PT linked to the diagnosis, date without a zone
        ("hand-1", "bleeding_risk", "unknown"),  # rivaroxaban through a Medication resource
        ("hand-2", "lumbar_spinal_stenosis", "met"),  # the clinician's answer, from an Observation
        ("hand-2", "neurogenic_claudication", "met"),  # M48.062 written with a \\u escape
        ("hand-2", "pain_nprs", "met"),  # the clinician's NPRS in a component
        ("hand-3", "lumbar_spinal_stenosis", "met"),  # SNOMED, JSON with spaces, a year for a date
        ("hand-3", "bleeding_risk", "unknown"),  # apixaban contained in a statement
        ("hand-3", "spondylolisthesis_or_instability", "not_met"),  # entered in error: not a fact
    ],
    ids=lambda v: str(v),
)
def test_hand_written_records_are_read_as_the_fhir_reader_reads_them(
    engine, screen_with, messy, patient, criterion, status
):
    assert screen_with(engine, messy.folder).rows[patient][criterion] == status


@pytest.mark.skipif(not REAL_EXPORT.is_dir(), reason=f"the real sample export is absent ({REAL_EXPORT})")
def test_the_real_synthea_patients_are_all_screened_and_none_is_a_candidate(engine, screen_with, messy):
    rows = screen_with(engine, messy.folder).rows
    real = [line.split('"id":"', 1)[1].split('"', 1)[0] for line in (REAL_EXPORT / "Patient.000.ndjson").open()]
    assert len(real) == 13
    assert {rows[pid]["status"] for pid in real} == {"not_candidate"}


def test_a_screen_started_with_too_little_memory_runs_again_and_gives_the_same_file(
    screen_with, messy, criteria_set, tmp_path
):
    from mildpath.population.duckdb import DuckDBEngine

    expected = screen_with("duckdb", messy.folder)
    out = tmp_path / "small.csv"
    summary = run(messy.folder, criteria_set, AS_OF, out=out, engine=DuckDBEngine(memory_limit="8MB"))
    assert out.read_bytes() == expected.out.read_bytes()
    assert summary.stats.to_json() == expected.summary.stats.to_json()
