"""FHIR export of the procedure day: Procedure (CPT 0275T) and AdverseEvent, valid under fhir.resources R4B."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import pytest
from fhir.resources.R4B.adverseevent import AdverseEvent as FhirAdverseEvent
from fhir.resources.R4B.procedure import Procedure as FhirProcedure

from mildpath.domain.procedure import (
    AdverseEvent,
    DischargeKind,
    DischargeOutcome,
    Reintervention,
    parse_procedure_day,
)
from mildpath.fhir.procedure import adverse_event_resource, procedure_resource, reintervention_resource
from tests.procedure.factories import at, make_record

DAY_FILE = Path(__file__).parent / "data" / "day.json"

# Procedure elements of FHIR R4 4.0.1 (identical in R4B): the export writes nothing outside them.
R4_PROCEDURE = {
    "resourceType",
    "id",
    "meta",
    "implicitRules",
    "language",
    "text",
    "contained",
    "extension",
    "modifierExtension",
    "identifier",
    "instantiatesCanonical",
    "instantiatesUri",
    "basedOn",
    "partOf",
    "status",
    "statusReason",
    "category",
    "code",
    "subject",
    "encounter",
    "performedDateTime",
    "performedPeriod",
    "performedString",
    "performedAge",
    "performedRange",
    "recorder",
    "asserter",
    "performer",
    "location",
    "reasonCode",
    "reasonReference",
    "bodySite",
    "outcome",
    "report",
    "complication",
    "complicationDetail",
    "followUp",
    "note",
    "focalDevice",
    "usedReference",
    "usedCode",
}
R4_ADVERSE_EVENT = {
    "resourceType",
    "id",
    "meta",
    "implicitRules",
    "language",
    "text",
    "contained",
    "extension",
    "modifierExtension",
    "identifier",
    "actuality",
    "category",
    "event",
    "subject",
    "encounter",
    "date",
    "detected",
    "recordedDate",
    "resultingCondition",
    "location",
    "seriousness",
    "severity",
    "outcome",
    "recorder",
    "contributor",
    "suspectEntity",
    "subjectMedicalHistory",
    "referenceDocument",
    "study",
}


def valid_procedure(resource: dict) -> FhirProcedure:
    assert set(resource) <= R4_PROCEDURE
    model = FhirProcedure.model_validate(resource)
    again = FhirProcedure.model_validate(json.loads(model.model_dump_json()))  # parse -> dump -> parse
    assert again == model
    return model


def test_the_procedure_is_cpt_0275t_with_one_body_site_per_level(policies):
    record = make_record(levels=[{"level": "L4-L5", "side": "bilateral"}, {"level": "L3-L4", "side": "left"}])
    resource = procedure_resource(record, subject="Patient/pat-1", resource_id="proc-1", policies=policies)
    model = valid_procedure(resource)
    assert model.status == "completed"
    assert (model.code.coding[0].system, model.code.coding[0].code) == ("http://www.ama-assn.org/go/cpt", "0275T")
    assert [site.text for site in model.bodySite] == ["L4-L5, bilateral", "L3-L4, left"]
    assert resource["performedPeriod"] == {"start": "2025-03-10T08:30:00+01:00", "end": "2025-03-10T09:15:00+01:00"}
    assert model.performer[0].actor.display == "Dr Alice Moreau"
    assert model.subject.reference == "Patient/pat-1"


def test_a_practitioner_reference_names_the_performer(policies):
    resource = procedure_resource(make_record(), subject="Patient/1", performer="Practitioner/dr-alice")
    assert valid_procedure(resource).performer[0].actor.reference == "Practitioner/dr-alice"


def test_a_procedure_in_progress_has_an_open_period_and_no_outcome(policies):
    resource = procedure_resource(make_record(end=None), subject="urn:uuid:0f6e6c2a-0000-4000-8000-000000000001")
    valid_procedure(resource)
    assert resource["status"] == "in-progress" and "end" not in resource["performedPeriod"]
    assert "outcome" not in resource


@pytest.mark.parametrize(
    ("discharge", "outcome"),
    [
        pytest.param(None, "Procedure completed", id="no-discharge-yet"),
        pytest.param(
            DischargeOutcome(kind=DischargeKind.HOME, at=at(11)),
            "Procedure completed; discharged home the same day",
            id="home",
        ),
        pytest.param(
            DischargeOutcome(kind=DischargeKind.OVERNIGHT, at=at(15), reason="nausea"),
            "Procedure completed; kept overnight: nausea",
            id="overnight",
        ),
    ],
)
def test_the_outcome_says_how_the_day_ended(policies, discharge, outcome):
    resource = procedure_resource(make_record(), subject="Patient/1", discharge=discharge)
    assert valid_procedure(resource).outcome.text == outcome


def test_intra_procedure_events_and_adverse_events_are_complications(policies):
    record = make_record(events=[{"kind": "dural_puncture", "description": "small, sealed"}])
    hematoma = AdverseEvent(type="epidural_hematoma", onset=date(2025, 3, 11), severity="severe", serious=True)
    resource = procedure_resource(record, subject="Patient/1", adverse_events=[hematoma])
    assert [c.text for c in valid_procedure(resource).complication] == [
        "Dural puncture: small, sealed",
        "Epidural hematoma",
    ]


def test_device_lot_numbers_travel_as_contained_devices(policies):
    resource = procedure_resource(make_record(device_lots=["VX-1", "VX-2"]), subject="Patient/1")
    model = valid_procedure(resource)
    assert [d.lotNumber for d in model.contained] == ["VX-1", "VX-2"]
    assert [r.reference for r in model.usedReference] == ["#lot-1", "#lot-2"]


def test_the_sample_day_exports_a_valid_procedure(policies):
    day = parse_procedure_day(json.loads(DAY_FILE.read_text(encoding="utf-8")))
    resource = procedure_resource(day.record, subject="Patient/1", discharge=day.discharge, policies=policies)
    note = valid_procedure(resource).note[0].text
    assert "Epidurogram: yes" in note and "Fluoroscopy time: 95 s" in note


@pytest.mark.parametrize("serious", [True, False])
def test_an_adverse_event_exports_severity_seriousness_and_the_suspect_procedure(policies, serious):
    item = AdverseEvent(
        type="dural_tear_csf_leak",
        onset=date(2025, 3, 12),
        severity="moderate",
        serious=serious,
        outcome="resolved",
        description="positional headache",
        recorded_by="RN Chen",
    )
    resource = adverse_event_resource(item, subject="Patient/1", procedure="Procedure/proc-1", resource_id="ae-1")
    assert set(resource) <= R4_ADVERSE_EVENT
    model = FhirAdverseEvent.model_validate(resource)
    assert model.actuality == "actual"
    assert model.event.text == "Dural tear or CSF leak: positional headache"
    assert model.severity.coding[0].code == "moderate"
    assert model.seriousness.coding[0].code == ("Serious" if serious else "Non-serious")
    assert model.outcome.coding[0].code == "resolved"
    assert model.suspectEntity[0].instance.reference == "Procedure/proc-1"
    assert resource["date"] == "2025-03-12"


@pytest.mark.parametrize(
    ("kind", "coded"),
    [pytest.param("repeat_mild", True, id="repeat-mild-is-0275T"), pytest.param("fusion", False, id="fusion-text")],
)
def test_a_reintervention_exports_as_a_completed_procedure(policies, kind, coded):
    item = Reintervention(type=kind, performed_on=date(2025, 10, 1), levels=("L4-L5",))
    resource = reintervention_resource(item, subject="Patient/1")
    assert set(resource) <= R4_PROCEDURE
    model = FhirProcedure.model_validate(resource)
    assert model.status == "completed" and resource["performedDateTime"] == "2025-10-01"
    assert (model.code.coding is not None) is coded
