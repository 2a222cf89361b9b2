"""``synth population``: deterministic, valid FHIR R4 (checked with fhir.resources' R4B models on a sample),
Synthea-like in volume, and a realistic minority with stenosis in every pathway situation."""

from __future__ import annotations

import datetime as dt
import gzip
import importlib
import json
from collections import Counter
from pathlib import Path

import pytest

from mildpath.population.engine import run
from mildpath.population.synth import SCENARIOS, generate, scenario_of
from tests.population.conftest import AS_OF


def contents(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir())}


@pytest.mark.parametrize("compress", [False, True], ids=["ndjson", "gzip"])
def test_the_same_seed_and_date_give_the_same_bytes(tmp_path, compress):
    generate(tmp_path / "a", patients=40, seed=9, as_of=AS_OF, compress=compress)
    generate(tmp_path / "b", patients=40, seed=9, as_of=AS_OF, compress=compress)
    assert contents(tmp_path / "a") == contents(tmp_path / "b")


def test_another_seed_or_date_gives_other_records(tmp_path):
    generate(tmp_path / "a", patients=10, seed=9, as_of=AS_OF)
    generate(tmp_path / "b", patients=10, seed=10, as_of=AS_OF)
    generate(tmp_path / "c", patients=10, seed=9, as_of=AS_OF + dt.timedelta(days=1))
    patients = [(tmp_path / x / "Patient.000.ndjson").read_bytes() for x in "abc"]
    assert len(set(patients)) == 3


def test_chunks_written_in_parallel_hold_the_same_records(tmp_path):
    generate(tmp_path / "one", patients=30, seed=4, as_of=AS_OF)
    generate(tmp_path / "many", patients=30, seed=4, as_of=AS_OF, chunk=7, workers=2)
    for name in ("Patient", "Condition", "Observation"):
        whole = (tmp_path / "one" / f"{name}.000.ndjson").read_bytes()
        parts = b"".join(p.read_bytes() for p in sorted((tmp_path / "many").glob(f"{name}.*.ndjson")))
        assert parts == whole


def _model(resource_type: str):
    module = importlib.import_module(f"fhir.resources.R4B.{resource_type.lower()}")
    return getattr(module, resource_type)


def test_a_sample_of_every_resource_type_is_valid_fhir_r4b(synthetic):
    checked = Counter()
    for path in sorted(synthetic.glob("*.ndjson")):
        if path.name == "log.ndjson":
            continue
        with path.open(encoding="utf-8") as handle:
            for number, line in enumerate(handle):
                if number >= 40:
                    break
                resource = json.loads(line)
                _model(resource["resourceType"]).model_validate(resource)
                checked[resource["resourceType"]] += 1
    assert {"Patient", "Condition", "Observation", "Procedure", "MedicationRequest", "Encounter"} <= set(checked)


def test_every_record_of_the_pathway_situations_is_valid_fhir_r4b(synthetic):
    """The stenosis patients' records (a rarer shape: contained medications, components, assessments)."""
    spine = {p for p in range(300) if scenario_of(3, p)}
    ids = set()
    for number, line in enumerate((synthetic / "Patient.000.ndjson").open(encoding="utf-8")):
        if number in spine:
            ids.add(json.loads(line.lstrip("\ufeff"))["id"])
    for path in sorted(synthetic.glob("*.ndjson")):
        if path.name in ("log.ndjson", "Patient.000.ndjson"):
            continue
        for line in path.open(encoding="utf-8"):
            resource = json.loads(line)
            ref = (resource.get("subject") or resource.get("patient") or {}).get("reference", "")
            if ref.rsplit("/", 1)[-1].removeprefix("urn:uuid:") in ids or resource["resourceType"] == "Medication":
                _model(resource["resourceType"]).model_validate(resource)


def test_patients_weigh_at_least_70_kb_on_average(synthetic):
    size = sum(p.stat().st_size for p in synthetic.iterdir())
    assert size / 300 >= 70_000


def test_a_few_hundred_patients_cover_every_pathway_situation():
    seen = {scenario_of(3, i) for i in range(300)} - {None}
    assert seen == {name for name, _ in SCENARIOS}


def test_the_stenosis_patients_are_a_minority():
    spine = sum(1 for i in range(1000) if scenario_of(3, i))
    assert 0.05 <= spine / 1000 <= 0.2


def test_a_thousand_patients_show_all_four_statuses(tmp_path, criteria_set):
    generate(tmp_path / "export", patients=1000, seed=21, as_of=AS_OF, compress=True)
    summary = run(tmp_path / "export", criteria_set, AS_OF, out=tmp_path / "out.csv")
    assert all(summary.statuses[s] > 0 for s in ("likely_candidate", "not_candidate", "needs_more_information",
                                                  "urgent_referral")), summary.statuses  # fmt: skip


def test_gzip_exports_are_plain_gzip_without_names_or_times(tmp_path):
    generate(tmp_path, patients=3, seed=1, as_of=AS_OF, compress=True)
    data = (tmp_path / "Patient.000.ndjson.gz").read_bytes()
    assert data[:2] == b"\x1f\x8b" and data[4:8] == b"\x00\x00\x00\x00"  # mtime 0
    assert gzip.decompress(data).count(b"\n") == 3
