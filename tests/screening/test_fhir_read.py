"""The FHIR reader takes real-world input: any Bundle type, NDJSON with log lines, both reference styles, dates
with and without zones, unknown codes; unreadable input is a FhirInputError naming the file and line."""

from __future__ import annotations

import datetime as dt
import gzip
import json
from pathlib import Path
from typing import Any

import pytest

from mildpath.domain.errors import FhirInputError
from mildpath.domain.screening import screen
from mildpath.fhir.codes import ASSESSMENT_SYSTEM, CPT, ICD10CM, LOINC, RXNORM, SCREENING_SYSTEM, SNOMED
from mildpath.fhir.read import facts_from_fhir, facts_from_resources, read_fhir_file
from tests.screening.vignettes import TODAY

PATIENT = {"resourceType": "Patient", "id": "p1", "birthDate": "1950-04-02", "gender": "male"}


def condition(code: str, system: str = ICD10CM, rid: str = "c1", **extra: Any) -> dict[str, Any]:
    return {
        "resourceType": "Condition",
        "id": rid,
        "clinicalStatus": {"coding": [{"code": "active"}]},
        "code": {"coding": [{"system": system, "code": code}]},
        "subject": {"reference": "Patient/p1"},
        "onsetDateTime": "2023-01-10",
    } | extra


def write_ndjson(path: Path, lines: list[Any]) -> Path:
    path.write_text("\n".join(json.dumps(x) if not isinstance(x, str) else x for x in lines) + "\n")
    return path


def test_ndjson_skips_log_lines_and_unread_types_and_counts_them(tmp_path: Path) -> None:
    log = {"exportId": "export-10", "eventId": "kickoff", "timestamp": "2024-08-06T14:11:57-04:00"}
    encounter = {"resourceType": "Encounter", "id": "e1", "subject": {"reference": "Patient/p1"}}
    read = read_fhir_file(write_ndjson(tmp_path / "p.ndjson", [PATIENT, log, encounter, condition("M48.062")]))
    assert read.facts.patient_id == "p1" and read.facts.birth_date == dt.date(1950, 4, 2)
    assert [d.code for d in read.facts.diagnoses] == ["M48.062"]
    assert read.skipped == {"lines that are not resources": 1, "resource types screening does not read": 1}


@pytest.mark.parametrize(
    ("text", "line"),
    [
        ('{"resourceType": "Bundle", "entry": [', 1),
        ('{"resourceType": "Patient", "id": "p1"}\n{"resourceType": "Condition"}\n{"resourceType": ', 3),
        ('{\n  "resourceType": "Bundle",\n  "entry": [}\n', 3),
    ],
    ids=["truncated bundle", "bad ndjson line", "pretty-printed bundle"],
)
def test_unreadable_json_names_the_file_and_line(tmp_path: Path, text: str, line: int) -> None:
    path = tmp_path / "broken.json"
    path.write_text(text)
    with pytest.raises(FhirInputError) as err:
        read_fhir_file(path)
    assert err.value.line == line and err.value.message.startswith(f"{path}:{line}: ")


def test_gzip_input_is_read_and_a_truncated_gzip_is_an_input_error(tmp_path: Path) -> None:
    data = gzip.compress((json.dumps(PATIENT) + "\n" + json.dumps(condition("M48.062")) + "\n").encode())
    (tmp_path / "p.ndjson.gz").write_bytes(data)
    assert len(read_fhir_file(tmp_path / "p.ndjson.gz").facts.diagnoses) == 1
    (tmp_path / "cut.ndjson.gz").write_bytes(data[: len(data) // 2])
    with pytest.raises(FhirInputError, match="gzip"):
        read_fhir_file(tmp_path / "cut.ndjson.gz")


def test_empty_or_missing_files_are_input_errors(tmp_path: Path) -> None:
    (tmp_path / "empty.json").write_text("  \n")
    for path, message in ((tmp_path / "empty.json", "empty"), (tmp_path / "none.json", "no such file")):
        with pytest.raises(FhirInputError, match=message):
            read_fhir_file(path)


def test_two_patients_in_one_file_are_refused(tmp_path: Path) -> None:
    other = PATIENT | {"id": "p2"}
    with pytest.raises(FhirInputError, match="2 patients"):
        read_fhir_file(write_ndjson(tmp_path / "two.ndjson", [PATIENT, other]))


def test_resources_of_another_patient_are_skipped() -> None:
    foreign = condition("M48.062", rid="c2", subject={"reference": "Patient/p2"})
    read = facts_from_resources([PATIENT, condition("M48.061"), foreign])
    assert [d.code for d in read.facts.diagnoses] == ["M48.061"]
    assert read.skipped == {"resources of another patient": 1}


def test_urn_uuid_references_of_a_transaction_bundle_resolve_to_the_patient() -> None:
    bundle = {
        "resourceType": "Bundle",
        "type": "transaction",
        "entry": [
            {"fullUrl": "urn:uuid:aa-11", "resource": {"resourceType": "Patient"}},
            {
                "fullUrl": "urn:uuid:bb-22",
                "resource": condition("M48.062", rid=None, subject={"reference": "urn:uuid:aa-11"}),
            },
            {"resource": condition("M48.061", rid="x", subject={"reference": "urn:uuid:someone-else"})},
        ],
    }
    facts = facts_from_fhir(bundle)
    assert [d.code for d in facts.diagnoses] == ["M48.062"]


def test_dates_read_as_written_with_or_without_zones_and_partial_dates_as_first_day() -> None:
    resources = [
        PATIENT,
        condition("M48.062", rid="a", onsetDateTime="2020-05-06T23:30:00-04:00"),
        condition("M48.061", rid="b", onsetDateTime="2021-02-03T01:00:00Z"),
        condition("M48.06", rid="c", onsetDateTime="2016-07"),
        condition("18347007", system=SNOMED, rid="d", onsetDateTime="2015"),
    ]
    onsets = {d.code: d.onset for d in facts_from_fhir(resources).diagnoses}
    assert onsets == {
        "M48.062": dt.date(2020, 5, 6),
        "M48.061": dt.date(2021, 2, 3),
        "M48.06": dt.date(2016, 7, 1),
        "18347007": dt.date(2015, 1, 1),
    }


def test_unknown_codes_are_ignored_and_both_codings_of_a_condition_are_kept() -> None:
    both = condition("M48.062")
    both["code"]["coding"] += [{"system": SNOMED, "code": "18347007"}, {"system": SNOMED, "code": "278860009"}]
    facts = facts_from_fhir([PATIENT, both, condition("J45.909", rid="asthma")])
    assert sorted(d.code for d in facts.diagnoses) == ["18347007", "M48.062"]
    assert {d.record for d in facts.diagnoses} == {"Condition/c1"}


def test_entered_in_error_and_refuted_conditions_are_skipped() -> None:
    refuted = condition("M48.062", verificationStatus={"coding": [{"code": "refuted"}]})
    read = facts_from_resources([PATIENT, refuted])
    assert read.facts.diagnoses == () and read.skipped == {"entered in error or refuted": 1}


def observation(code: tuple[str, str], **value: Any) -> dict[str, Any]:
    return {
        "resourceType": "Observation",
        "id": "o1",
        "status": "final",
        "code": {"coding": [{"system": code[0], "code": code[1]}]},
        "subject": {"reference": "Patient/p1"},
        "effectiveDateTime": "2025-03-01T10:00:00+01:00",
    } | value


LF = (SCREENING_SYSTEM, "ligamentum-flavum-thickness")


@pytest.mark.parametrize(
    ("quantity", "expected"),
    [({"value": 3.1, "code": "mm"}, 3.1), ({"value": 0.31, "code": "cm"}, 3.1), ({"value": 3.1, "code": "in"}, None)],
    ids=["mm", "cm converted", "unknown unit is unknown"],
)
def test_ligamentum_flavum_thickness_is_read_in_millimetres(quantity: dict, expected: float | None) -> None:
    facts = facts_from_fhir([PATIENT, observation(LF, valueQuantity=quantity)])
    assert facts.observations[0].value == expected


def test_observation_components_are_read_like_observations() -> None:
    panel = observation(("http://loinc.org", "24558-9"))
    panel["component"] = [
        {"code": {"coding": [{"system": LF[0], "code": LF[1]}]}, "valueQuantity": {"value": 2.2, "code": "mm"}},
        {"code": {"coding": [{"system": LF[0], "code": LF[1]}]}, "valueQuantity": {"value": 2.9, "code": "mm"}},
    ]
    assert sorted(o.value for o in facts_from_fhir([PATIENT, panel]).observations) == [2.2, 2.9]  # type: ignore[type-var]


def test_assessment_observations_become_clinician_answers() -> None:
    facts = facts_from_fhir(
        [
            PATIENT,
            observation((ASSESSMENT_SYSTEM, "infection"), valueBoolean=True),
            observation((ASSESSMENT_SYSTEM, "spondylolisthesis_grade"), id="o2", valueInteger=2),
            observation((ASSESSMENT_SYSTEM, "shoe_size"), id="o3", valueInteger=44),
        ]
    )
    assert {(a.field, a.value, a.record) for a in facts.answers} == {
        ("clinician.infection", True, "Observation/o1"),
        ("clinician.spondylolisthesis_grade", 2, "Observation/o2"),
    }


def test_medication_references_resolve_to_bundle_and_contained_medications() -> None:
    med = {"resourceType": "Medication", "id": "m1", "code": {"coding": [{"system": RXNORM, "code": "1364430"}]}}
    by_ref = {
        "resourceType": "MedicationRequest",
        "id": "r1",
        "status": "active",
        "intent": "order",
        "subject": {"reference": "Patient/p1"},
        "medicationReference": {"reference": "Medication/m1"},
        "authoredOn": "2024-01-01",
    }
    contained = by_ref | {
        "id": "r2",
        "contained": [
            {"resourceType": "Medication", "id": "x", "code": {"coding": [{"system": RXNORM, "code": "32968"}]}}
        ],
        "medicationReference": {"reference": "#x"},
    }
    statement = {
        "resourceType": "MedicationStatement",
        "id": "s1",
        "status": "completed",
        "subject": {"reference": "Patient/p1"},
        "medicationCodeableConcept": {"coding": [{"system": RXNORM, "code": "11289"}]},
        "effectivePeriod": {"start": "2019-01-01", "end": "2020-01-01"},
    }
    meds = facts_from_fhir([PATIENT, med, by_ref, contained, statement]).medications
    assert {(m.code, m.record, m.period_end) for m in meds} == {
        ("1364430", "MedicationRequest/r1", None),
        ("32968", "MedicationRequest/r2", None),
        ("11289", "MedicationStatement/s1", dt.date(2020, 1, 1)),
    }


def test_reason_references_carry_the_condition_codes_to_the_procedure() -> None:
    pt = {
        "resourceType": "Procedure",
        "id": "pr1",
        "status": "completed",
        "code": {"coding": [{"system": CPT, "code": "62323"}]},
        "subject": {"reference": "Patient/p1"},
        "performedPeriod": {"start": "2022-01-05", "end": "2022-01-05"},
        "reasonReference": [{"reference": "Condition/c1"}],
    }
    (proc,) = facts_from_fhir([PATIENT, condition("M48.062"), pt]).procedures
    assert proc.reasons == frozenset({(ICD10CM, "M48.062")}) and proc.performed == dt.date(2022, 1, 5)


def test_an_undated_cauda_equina_condition_asks_for_its_date(criteria_set) -> None:
    ces = condition("192970008", system=SNOMED, rid="ces")
    del ces["onsetDateTime"]
    result = screen(criteria_set, facts_from_fhir([PATIENT, condition("M48.062"), ces]), TODAY)
    assert result.finding("cauda_equina_red_flags").status.value == "unknown"
    assert result.status.value == "needs_more_information"
    assert "The onset date of the cauda equina syndrome on record" in result.missing


def test_screening_as_of_an_earlier_date_does_not_see_later_records(criteria_set) -> None:
    facts = facts_from_fhir([PATIENT, condition("M48.062")])
    assert (
        screen(criteria_set, facts, dt.date(2022, 12, 31)).finding("lumbar_spinal_stenosis").status.value == "not_met"
    )
    assert screen(criteria_set, facts, TODAY).finding("lumbar_spinal_stenosis").status.value == "met"


def test_odi_and_nprs_observations_are_read_as_numbers() -> None:
    facts = facts_from_fhir(
        [
            PATIENT,
            observation((LOINC, "97909-6"), valueQuantity={"value": 35.56, "unit": "%"}),
            observation((LOINC, "72514-3"), id="o2", valueInteger=6),
        ]
    )
    assert sorted((o.code, o.value) for o in facts.observations) == [("72514-3", 6), ("97909-6", 35.56)]
