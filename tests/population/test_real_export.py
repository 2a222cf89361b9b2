"""The real Synthea export (../shared/data/synthea-bulk-10) on its own: 13 rows, nobody a candidate, no crash,
its log and its missing Observation files taken in stride."""

from __future__ import annotations

import csv
import json

import pytest

from mildpath.population.engine import run
from tests.population.conftest import AS_OF, REAL_EXPORT

pytestmark = pytest.mark.skipif(not REAL_EXPORT.is_dir(), reason=f"the real sample export is absent ({REAL_EXPORT})")


def test_the_real_export_gives_thirteen_rows_all_not_candidate(tmp_path, criteria_set):
    out = tmp_path / "real.csv"
    summary = run(REAL_EXPORT, criteria_set, AS_OF, out=out)
    rows = list(csv.DictReader(out.open(encoding="utf-8")))
    assert len(rows) == summary.patients == 13
    assert {r["status"] for r in rows} == {"not_candidate"}
    # contracts §3 as amended: the three patients Synthea wrote a deceasedDateTime for are "deceased"
    reasons = [json.loads(r["reasons"])[0] for r in rows]
    assert sorted(set(reasons)) == ["deceased", "no lumbar spinal stenosis on record"]
    assert reasons.count("deceased") == 3
    assert summary.stats.bad_lines == 0
    assert summary.stats.non_resource_lines == 4  # the exporter's log


def test_the_summary_is_written_beside_the_output(tmp_path, criteria_set):
    out = tmp_path / "real.parquet"
    run(REAL_EXPORT, criteria_set, AS_OF, out=out)
    summary = json.loads((tmp_path / "real.summary.json").read_text())
    assert summary["statuses"] == {
        "likely_candidate": 0,
        "not_candidate": 13,
        "needs_more_information": 0,
        "urgent_referral": 0,
    }
    assert summary["top_reasons"] == [
        {"reason": "no lumbar spinal stenosis on record", "patients": 10},
        {"reason": "deceased", "patients": 3},
    ]
    assert {"seconds", "mb_per_second", "patients_per_second", "peak_rss_mb"} <= set(summary["timing"])
    assert summary["input"]["bytes"] > summary["input"]["bytes_read"] > 0
