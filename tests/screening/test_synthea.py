"""The real Synthea export (../shared/data/synthea-bulk-10), split into one NDJSON file per patient as
`mildpath screen` takes them, screens without error and flags nobody: no one in it has lumbar spinal stenosis
(two have chronic low back pain, which does not open the gate)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from mildpath.domain.screening import screen
from mildpath.fhir.read import read_fhir_file
from tests.screening.vignettes import TODAY

EXPORT = Path(__file__).resolve().parents[2].parent / "shared" / "data" / "synthea-bulk-10"

pytestmark = pytest.mark.skipif(not EXPORT.is_dir(), reason=f"the real sample export is absent ({EXPORT})")


def split_by_patient(export: Path, out: Path) -> list[Path]:
    """One file per Patient: the Patient line and every line whose subject or patient points at it."""
    lines: dict[str, list[str]] = {}
    for path in sorted(export.glob("*.ndjson")):
        for line in path.open(encoding="utf-8"):
            res = json.loads(line)
            if "resourceType" not in res:
                continue
            if res["resourceType"] == "Patient":
                pid = res["id"]
            else:
                ref = (res.get("subject") or res.get("patient") or {}).get("reference", "")
                pid = ref.rsplit("/", 1)[-1].removeprefix("urn:uuid:")
            if pid:
                lines.setdefault(pid, []).append(line)
    files = []
    for pid, chunk in lines.items():
        if any('"resourceType":"Patient"' in line.replace(" ", "") for line in chunk):
            files.append(out / f"{pid}.ndjson")
            files[-1].write_text("".join(chunk), encoding="utf-8")
    return files


@pytest.fixture(scope="module")
def patient_files(tmp_path_factory: pytest.TempPathFactory) -> list[Path]:
    return split_by_patient(EXPORT, tmp_path_factory.mktemp("synthea"))


def test_every_real_patient_is_not_a_candidate(patient_files: list[Path], criteria_set) -> None:
    assert len(patient_files) == 13
    for path in patient_files:
        read = read_fhir_file(path)
        result = screen(criteria_set, read.facts, TODAY)
        assert result.status.value == "not_candidate", path.name
        # contracts §3 as amended: a deceased patient's reason is "deceased", above every other
        expected = "deceased" if read.facts.is_deceased(TODAY) else "no lumbar spinal stenosis on record"
        assert result.reasons == (expected,)
        assert read.facts.patient_id == path.stem and read.facts.birth_date is not None


def test_the_whole_export_log_included_reads_as_skipped_lines_not_errors() -> None:
    read = read_fhir_file(EXPORT / "log.ndjson")
    lines = sum(1 for line in (EXPORT / "log.ndjson").open() if line.strip())
    assert read.resources == 0 and read.skipped == {"lines that are not resources": lines}
