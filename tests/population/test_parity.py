"""One suite for every engine (conventions §10): each engine screens the same exports and must give, for every
patient, what the single-patient engine gives (status, every criterion's status, the same evidence), and
every engine must write the same file."""

from __future__ import annotations

from collections import Counter

import pytest

from tests.population.conftest import evidence_of, oracle, row_evidence

ENGINE_NAMES = ("duckdb", "spark")


def test_every_synthetic_patient_gets_the_single_patient_answer(engine, screen_with, synthetic, criteria_set):
    expected = oracle(synthetic, criteria_set)
    got = screen_with(engine, synthetic).rows
    assert set(got) == set(expected)
    for pid, result in expected.items():
        row = got[pid]
        assert row["status"] == result.status.value, pid
        assert {c: row[c] for c in result.statuses()} == {c: s.value for c, s in result.statuses().items()}, pid


def test_every_synthetic_patient_gets_the_same_evidence(engine, screen_with, synthetic, criteria_set):
    expected = oracle(synthetic, criteria_set)
    got = screen_with(engine, synthetic).rows
    assert all(row_evidence(got[pid]) == evidence_of(result) for pid, result in expected.items())


def test_a_few_hundred_synthetic_patients_show_at_least_three_statuses(engine, screen_with, synthetic):
    statuses = Counter(row["status"] for row in screen_with(engine, synthetic).rows.values())
    assert len(statuses) >= 3, statuses


def test_a_messy_export_gives_every_patient_the_single_patient_answer(engine, screen_with, messy, criteria_set):
    expected = oracle(messy.folder, criteria_set)
    got = screen_with(engine, messy.folder).rows
    assert set(got) == set(expected)
    for pid, result in expected.items():
        row = got[pid]
        assert (row["status"], {c: row[c] for c in result.statuses()}) == (
            result.status.value,
            {c: s.value for c, s in result.statuses().items()},
        ), pid
        assert row_evidence(row) == evidence_of(result), pid


def test_reasons_and_missing_are_the_single_patient_engines(engine, screen_with, synthetic, criteria_set):
    import json

    expected = oracle(synthetic, criteria_set)
    for pid, row in screen_with(engine, synthetic).rows.items():
        assert json.loads(row["reasons"]) == list(expected[pid].reasons)
        assert json.loads(row["missing"]) == list(expected[pid].missing)
        assert row["criteria_set"] == criteria_set.label


@pytest.mark.spark
@pytest.mark.parametrize("export", ["synthetic", "messy"])
def test_every_engine_writes_the_same_file(request, screen_with, export):
    found = request.getfixturevalue(export)
    folder = getattr(found, "folder", found)
    written = {name: screen_with(name, folder).out.read_bytes() for name in ENGINE_NAMES}
    assert written["duckdb"] == written["spark"]
