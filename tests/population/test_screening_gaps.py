"""The screening gaps of the clinical safety issue in the population screen: every engine gives, for charts made
for each gap (deceased, ages outside the trials', exclusions not assessed, blood thinners named only in a display
or a text, accents included), the single-patient engine's status, criteria, cautions and not_assessed."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from tests.population.conftest import AS_OF, oracle
from tests.screening.charts import RXNORM, medication, typical

ENGINES = ["duckdb", pytest.param("spark", marks=pytest.mark.spark)]


def _charts() -> dict[str, list[dict[str, Any]]]:
    product = {"coding": [{"system": RXNORM, "code": "product-code-x", "display": "Apixabán 5 MG Oral Tablet"}]}
    return {
        "typical": typical("typical"),
        "dead-bool": typical("dead-bool", deceased={"deceasedBoolean": True}, ces_days=2),
        "dead-date": typical("dead-date", deceased={"deceasedDateTime": "2025-03-01T09:00:00+02:00"}),
        "dead-later": typical("dead-later", deceased={"deceasedDateTime": "2025-12-01"}),
        "alive-flag": typical("alive-flag", deceased={"deceasedBoolean": False}, ces_days=2),
        "young": typical("young", birth_date="1990-05-05"),
        "fifty": typical("fifty", birth_date="1975-06-30"),
        "eve": typical("eve", birth_date="1975-07-01"),
        "old-mri": typical("old-mri", lf_days=550),
        "answered": typical("answered", assessment={"infection": False, "vascular_claudication": False}),
        "apixaban-product": typical("apixaban-product", extra=(medication("apixaban-product", "ap-m", product),)),
        "heparin-text": typical(
            "heparin-text",
            extra=(
                medication("heparin-text", "hp-m", {"text": "HEPARIN sodium 5000 UNT/ML"}, rtype="MedicationStatement"),
            ),
        ),
        "heparinoid": typical("heparinoid", extra=(medication("heparinoid", "hd-m", {"text": "heparinoid cream"}),)),
        "opioids": typical("opioids", assessment={"opioid_mme_per_day": 120}),
    }


@pytest.fixture(scope="module")
def gaps(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("gaps")
    by_type: dict[str, list[str]] = {}
    for resources in _charts().values():
        for res in resources:
            by_type.setdefault(res["resourceType"], []).append(json.dumps(res, ensure_ascii=False))
    for rtype, lines in by_type.items():
        (folder / f"{rtype}.000.ndjson").write_text("\n".join(lines) + "\n", encoding="utf-8")
    return folder


@pytest.mark.parametrize("engine", ENGINES)
def test_every_gap_chart_gets_the_single_patient_answer(engine, screen_with, gaps, criteria_set):
    expected = oracle(gaps, criteria_set, AS_OF)
    got = screen_with(engine, gaps).rows
    assert set(got) == set(expected) == set(_charts())
    for pid, result in expected.items():
        row = got[pid]
        assert row["status"] == result.status.value, pid
        assert {c: row[c] for c in result.statuses()} == {c: s.value for c, s in result.statuses().items()}, pid
        assert json.loads(row["reasons"]) == list(result.reasons), pid
        assert json.loads(row["cautions"]) == [c.to_json() for c in result.cautions], pid
        assert json.loads(row["not_assessed"]) == list(result.not_assessed), pid


@pytest.mark.parametrize("engine", ENGINES)
def test_the_gap_charts_read_as_the_issue_says(engine, screen_with, gaps):
    rows = screen_with(engine, gaps).rows
    for pid in ("dead-bool", "dead-date"):
        assert (rows[pid]["status"], json.loads(rows[pid]["reasons"])) == ("not_candidate", ["deceased"]), pid
    assert rows["dead-later"]["status"] == "likely_candidate"
    assert rows["alive-flag"]["status"] == "urgent_referral"
    assert [c["id"] for c in json.loads(rows["young"]["cautions"])] == ["outside_studied_ages"]
    assert rows["young"]["status"] == "likely_candidate"
    assert [c["id"] for c in json.loads(rows["eve"]["cautions"])] == ["outside_studied_ages"]
    assert json.loads(rows["fifty"]["cautions"]) == []
    assert "infection" in json.loads(rows["typical"]["not_assessed"])
    assert "infection" not in json.loads(rows["answered"]["not_assessed"])
    assert "vascular_claudication" not in json.loads(rows["answered"]["not_assessed"])
    assert rows["old-mri"]["ligamentum_flavum_thickness"] == "unknown"
    assert rows["apixaban-product"]["bleeding_risk"] == "unknown"
    assert rows["heparin-text"]["bleeding_risk"] == "unknown"
    assert rows["heparinoid"]["bleeding_risk"] == "not_met"
    assert rows["opioids"]["high_opioid_dose"] == "met" and rows["opioids"]["status"] == "not_candidate"


def test_the_summary_counts_the_cautions(screen_with, gaps):
    summary = screen_with("duckdb", gaps).summary.to_json()
    assert summary["cautions"] == {"outside_studied_ages": 2}
    assert summary["statuses"]["not_candidate"] >= 3
