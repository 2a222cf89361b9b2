"""mildpath's own screening views: valid ViewDefinitions that run on a real Synthea export and on mildpath's
own resource shapes (PROM answers and scores, medication statements, referrals)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from mildpath.content.view_definitions import VIEWS_DIR, load_view_definition, view_names
from mildpath.population.views import compile_view, run_rows

ROOT = Path(__file__).resolve().parents[2]
SYNTHEA = ROOT.parent / "shared" / "data" / "synthea-bulk-10"
MINI = Path(__file__).resolve().parent / "data" / "mini-export"

# Rows each view gives on the real export: Synthea wrote no Observation, QuestionnaireResponse,
# MedicationStatement or ServiceRequest in this sample.
SYNTHEA_HAS_ROWS = {"patient", "condition", "procedure", "medication_request"}


def test_the_views_folder_holds_only_view_definitions():
    assert view_names()
    for path in VIEWS_DIR.iterdir():
        assert path.suffix == ".json", f"{path.name}: content/views holds only ViewDefinitions"
        assert json.loads(path.read_text())["resourceType"] == "ViewDefinition"


@pytest.mark.parametrize("name", view_names())
def test_shipped_view_compiles_and_names_its_table(name):
    compiled = compile_view(load_view_definition(name))
    assert compiled.view.name == f"mildpath_{name}"
    assert all(c.fhir_type for c in compiled.columns), "every column declares its FHIR type"


@pytest.mark.skipif(not SYNTHEA.is_dir(), reason=f"the real Synthea sample export is not at {SYNTHEA}")
@pytest.mark.parametrize("name", view_names())
def test_shipped_view_runs_on_the_real_synthea_export(name):
    found, stats = run_rows(load_view_definition(name), SYNTHEA)
    assert stats.bad_lines == 0
    assert bool(found) is (name in SYNTHEA_HAS_ROWS)
    key = next(c for c in found[0] if c.endswith("_id")) if found else None
    if key:
        assert all(row[key] for row in found)
    if found and "patient_id" in found[0]:
        assert all(row["patient_id"] for row in found), "every Synthea reference resolves to a patient key"


def test_conditions_come_one_row_per_coding_with_patient_key_from_a_urn_uuid():
    found, _ = run_rows(load_view_definition("condition"), MINI)
    assert [(r["patient_id"], r["system"], r["code"], r["clinical_status"], r["onset_date"]) for r in found] == [
        ("7c1c1f3e-0001", "http://hl7.org/fhir/sid/icd-10-cm", "M48.062", "active", "2023-04-01"),
        ("7c1c1f3e-0001", "http://snomed.info/sct", "18347007", "active", "2023-04-01"),
    ]


def test_questionnaire_answers_are_flattened_at_every_depth():
    found, _ = run_rows(load_view_definition("questionnaire_response_answer"), MINI)
    answers = {r["link_id"]: r for r in found}
    assert sorted(answers) == ["odi-1", "odi-2", "walk", "walk-min"]
    assert answers["odi-1"]["value_integer"] == 3
    assert (answers["odi-2"]["value_system"], answers["odi-2"]["value_code"]) == ("urn:mildpath:odi", "2")
    assert answers["walk"]["value_boolean"] is True
    assert answers["walk-min"]["value_decimal"] == 12.5
    assert {r["patient_id"] for r in found} == {"7c1c1f3e-0001"}


def test_observations_carry_value_unit_and_date():
    found, _ = run_rows(load_view_definition("observation"), MINI)
    odi, nprs = sorted(found, key=lambda r: r["observation_id"])
    assert (odi["system"], odi["code"], odi["value_quantity"], odi["unit"], odi["effective_date"]) == (
        "http://loinc.org",
        "97909-6",
        42.22,
        "%",
        "2024-02-01",
    )
    assert (nprs["patient_id"], nprs["value_integer"], nprs["effective_start"]) == ("p2", 7, "2024-02-02T09:00:00Z")


def test_a_medication_named_by_reference_keeps_one_row_without_a_code():
    found, _ = run_rows(load_view_definition("medication_request"), MINI)
    assert [(r["medication_reference"], r["code"]) for r in found] == [("Medication/m1", None)]
    statements, _ = run_rows(load_view_definition("medication_statement"), MINI)
    assert [(r["code"], r["effective_start"]) for r in statements] == [("855332", "2023-01-01")]


def test_patients_procedures_and_referrals_read_their_dates():
    patients, stats = run_rows(load_view_definition("patient"), MINI)
    assert {(r["patient_id"], r["birth_date"], r["gender"], r["deceased_date"]) for r in patients} == {
        ("7c1c1f3e-0001", "1948-03-02", "female", None),
        ("p2", "1955-11-20", "male", "2024-01-05"),
    }
    assert stats.non_resource_lines == 1  # the exporter log, read because its name names no type
    procedures, _ = run_rows(load_view_definition("procedure"), MINI)
    assert [(r["code"], r["performed_date"]) for r in procedures] == [("0275T", "2024-03-01")]
    referrals, _ = run_rows(load_view_definition("service_request"), MINI)
    assert [(r["code"], r["authored_on"]) for r in referrals] == [("91251008", "2023-05-01")]
