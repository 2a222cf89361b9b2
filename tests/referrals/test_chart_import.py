"""The chart import (issue 18: a person not yet in mildpath is created from the imported facts, "the patient's
FHIR Bundle or Bulk rows become a mildpath patient with the facts screening needs; idempotent; provenance kept"):
importing a population screen with its Bulk export creates each new patient with a screening of their chart, and
that screening reaches the status the population screen gave the row."""

from __future__ import annotations

import csv
import subprocess
import sys
from pathlib import Path

import pytest

from mildpath.services import referrals as svc
from mildpath.services import screening
from mildpath.services.clock import now, today
from mildpath.services.referral_import import import_screen


@pytest.fixture(scope="module")
def screened(tmp_path_factory) -> tuple[Path, bytes]:  # type: ignore[no-untyped-def]
    """A small synthetic Bulk export and its population screen (the real commands)."""
    work = tmp_path_factory.mktemp("chart-import")
    export, out = work / "export", work / "screen.csv"
    for args in (["synth", "population", "--patients", "30", "--out", str(export), "--seed", "11"],
                 ["population", "screen", str(export), "--out", str(out), "--as-of", today().isoformat()]):
        done = subprocess.run([sys.executable, "-m", "mildpath", *args], capture_output=True, text=True, timeout=600)
        assert done.returncode == 0, done.stderr
    return export, out.read_bytes()


def test_each_new_patient_comes_with_a_screening_of_their_chart_at_the_screens_status(db, personas, screened):
    export, data = screened
    rows = {r["patient_id"]: r["status"] for r in csv.DictReader(data.decode().splitlines())}
    cora, alice = personas["coord_cora"].actor, personas["dr_alice"].actor
    result = import_screen(db, cora, name="screen.csv", data=data, now=now(), today=today(), export=export)
    assert result.created >= 1
    imported = [r for r in svc.list_referrals(db, cora, source="population_screen") if r.patient_id]
    assert imported
    for referral in imported:
        (chart,) = screening.list_screenings(db, alice, referral.patient_id, kind="fhir_import")
        assert chart.status == rows[referral.subject_ref], referral.subject_ref
    again = import_screen(db, cora, name="screen.csv", data=data, now=now(), today=today(), export=export)
    assert again.created == 0
    for referral in imported:  # idempotent: the second import screens nobody again
        assert len(screening.list_screenings(db, alice, referral.patient_id, kind="fhir_import")) == 1
