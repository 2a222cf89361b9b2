"""Small population-screen outputs and Bulk exports for the referral tests, written the way the real tools write
them (the CSV's columns are `mildpath population screen`'s; the Patient lines are FHIR R4 Bulk NDJSON)."""

from __future__ import annotations

import csv
import io
import json
import zipfile
from pathlib import Path

CRITERIA = ("lumbar_spinal_stenosis", "neurogenic_claudication", "conservative_care_failed", "disability_odi")
COLUMNS = ("patient_id", "status", "criteria_set", *CRITERIA, "reasons", "missing", "evidence", "cautions",
           "not_assessed")


def screen_row(fhir_id: str, status: str, **criteria: str) -> dict[str, str]:
    statuses = dict.fromkeys(CRITERIA, "met") | criteria
    return {"patient_id": fhir_id, "status": status, "criteria_set": "mild-default@1.0.0", **statuses,
            "reasons": json.dumps([f"{status} for {fhir_id}"]), "missing": json.dumps(
                ["conservative care"] if status == "needs_more_information" else []),
            "evidence": "{}", "cautions": "[]", "not_assessed": "[]"}


def screen_csv(rows: list[dict[str, str]]) -> bytes:
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=COLUMNS, quoting=csv.QUOTE_ALL)
    writer.writeheader()
    writer.writerows(rows)
    return buf.getvalue().encode()


def fhir_patient(fhir_id: str, given: str, family: str, *, mrn: str = "", phone: str = "555-0101") -> dict:
    idents = [{"system": "https://github.com/synthetichealth/synthea", "value": fhir_id}]
    if mrn:
        idents.append({"type": {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/v2-0203",
                                            "code": "MR"}]}, "system": "http://hospital.example.org", "value": mrn})
    return {"resourceType": "Patient", "id": fhir_id, "identifier": idents,
            "name": [{"family": family, "given": [given]}], "telecom": [{"system": "phone", "value": phone}],
            "gender": "female", "birthDate": "1950-02-03",
            "address": [{"line": ["1 Main St"], "city": "Fresno", "state": "CA", "postalCode": "93721"}]}


def export_folder(folder: Path, patients: list[dict]) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "Patient.000.ndjson").write_text("".join(json.dumps(p) + "\n" for p in patients))
    return folder


def export_zip(patients: list[dict]) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr("Patient.000.ndjson", "".join(json.dumps(p) + "\n" for p in patients))
    return buf.getvalue()
