"""``mildpath population screen`` and ``mildpath synth population`` as a script or an EHR calls them."""

from __future__ import annotations

import csv
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.population.conftest import AS_OF, REAL_EXPORT

ROOT = Path(__file__).resolve().parents[2]


def mildpath(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "mildpath", *args], capture_output=True, text=True, cwd=ROOT, timeout=300,
        env={**os.environ},
    )  # fmt: skip


@pytest.fixture(scope="module")
def export(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("cli-export")
    done = mildpath("synth", "population", "--patients", "60", "--out", str(folder), "--seed", "2",
                    "--as-of", AS_OF.isoformat())  # fmt: skip
    assert done.returncode == 0, done.stderr
    return folder


def test_synth_writes_an_export_and_says_so_on_stderr(export):
    assert (export / "Patient.000.ndjson").read_text().count("\n") == 60
    assert (export / "log.ndjson").exists()


def test_screen_writes_one_row_per_patient_and_the_summary_beside_it(export, tmp_path):
    out = tmp_path / "candidates.csv"
    done = mildpath("population", "screen", str(export), "--out", str(out), "--as-of", AS_OF.isoformat())
    assert done.returncode == 0, done.stderr
    assert done.stdout == ""
    rows = list(csv.DictReader(out.open(encoding="utf-8")))
    assert len(rows) == 60
    assert list(rows[0])[:3] == ["patient_id", "status", "criteria_set"]
    # contracts §3/§6 as amended: cautions and not_assessed follow the evidence
    assert list(rows[0])[-5:] == ["reasons", "missing", "evidence", "cautions", "not_assessed"]
    summary = json.loads((tmp_path / "candidates.summary.json").read_text())
    assert json.loads(done.stderr) == summary
    assert sum(summary["statuses"].values()) == 60


def test_parquet_holds_the_same_rows_as_csv(export, tmp_path):
    import pyarrow.parquet as pq

    for suffix in ("csv", "parquet"):
        done = mildpath("population", "screen", str(export), "--out", str(tmp_path / f"c.{suffix}"),
                        "--as-of", AS_OF.isoformat())  # fmt: skip
        assert done.returncode == 0, done.stderr
    table = pq.read_table(tmp_path / "c.parquet").to_pylist()
    assert table == list(csv.DictReader((tmp_path / "c.csv").open(encoding="utf-8")))


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["/no/such/export", "--out", "{tmp}/x.csv"], "no such file or folder"),
        (["{export}", "--out", "{tmp}/x.txt"], ".csv or .parquet"),
        (["{export}", "--out", "{tmp}/missing/x.csv"], "does not exist"),
        (["{export}", "--out", "{tmp}/x.csv", "--as-of", "30/06/2025"], "not a date"),
        (["{export}", "--out", "{tmp}/x.csv", "--master", "local[1]"], "--engine spark"),
    ],
    ids=["missing-export", "bad-suffix", "missing-folder", "bad-date", "master-without-spark"],
)
def test_bad_input_exits_2_with_one_line(export, tmp_path, args, message):
    filled = [a.format(tmp=tmp_path, export=export) for a in args]
    done = mildpath("population", "screen", *filled)
    assert done.returncode == 2
    assert message in done.stderr and len(done.stderr.strip().splitlines()) == 1


@pytest.mark.skipif(not REAL_EXPORT.is_dir(), reason=f"the real sample export is absent ({REAL_EXPORT})")
def test_the_real_export_screens_through_the_cli(tmp_path):
    out = tmp_path / "real.csv"
    done = mildpath("population", "screen", str(REAL_EXPORT), "--out", str(out))
    assert done.returncode == 0, done.stderr
    assert {r["status"] for r in csv.DictReader(out.open(encoding="utf-8"))} == {"not_candidate"}
