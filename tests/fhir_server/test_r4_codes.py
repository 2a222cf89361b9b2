"""Every coded value mildpath writes in an HL7 terminology code system is a code of that system in FHIR R4 (4.0.1).

The code lists below are copied from the R4 specification's CodeSystem pages (hl7.org/fhir/R4/codesystem-*.html);
codes are case-sensitive there, so they are compared exactly. A system under ``terminology.hl7.org`` the writer
starts using without a list here fails the test, so a new coded element cannot slip in unchecked.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from typing import Any

import pytest

from mildpath.domain.procedure.events import AdverseEvent, EventOutcome, Severity
from mildpath.fhir.procedure import adverse_event_resource
from mildpath.services.access import Actor
from mildpath.services.outcomes_export import bulk_fhir_resources

HL7 = "http://terminology.hl7.org/CodeSystem/"
R4_CODES: dict[str, set[str]] = {
    HL7 + "adverse-event-seriousness": {
        "Non-serious",
        "Serious",
        "SeriousResultsInDeath",
        "SeriousIsLifeThreatening",
        "SeriousResultsInHospitalization",
        "SeriousResultsInPersistentOrSignificantDisability",
        "SeriousResultsInCongenitalAnomolyBirthDefect",
        "SeriousRequiresPreventImpairment",
    },
    HL7 + "adverse-event-severity": {"mild", "moderate", "severe"},
    HL7 + "adverse-event-outcome": {"resolved", "recovering", "ongoing", "resolvedWithSequelae", "fatal", "unknown"},
    HL7 + "observation-category": {
        "social-history",
        "vital-signs",
        "imaging",
        "laboratory",
        "procedure",
        "survey",
        "exam",
        "therapy",
        "activity",
    },
    # v2 table 0203 (identifier type) is large; these are the codes mildpath may use.
    HL7 + "v2-0203": {"MR", "PI", "PN", "PRN", "NPI", "PRN", "TAX"},
}


def _codings(value: Any) -> Iterator[tuple[str, str]]:
    if isinstance(value, dict):
        if "system" in value and "code" in value:
            yield str(value["system"]), str(value["code"])
        for v in value.values():
            yield from _codings(v)
    elif isinstance(value, list):
        for v in value:
            yield from _codings(v)


def _check(resources: list[dict[str, Any]]) -> list[str]:
    wrong = []
    for resource in resources:
        for system, code in _codings(resource):
            if not system.startswith(HL7):
                continue
            if system not in R4_CODES:
                wrong.append(f"{resource['resourceType']}: {system} has no R4 code list in this test")
            elif code not in R4_CODES[system]:
                wrong.append(f"{resource['resourceType']}: {code!r} is not a code of {system}")
    return wrong


@pytest.mark.parametrize("serious", [True, False])
@pytest.mark.parametrize("severity", list(Severity))
@pytest.mark.parametrize("outcome", list(EventOutcome))
def test_every_adverse_event_coding_is_an_r4_code(serious, severity, outcome):
    event = AdverseEvent(
        type="dural_tear_csf_leak", onset=date(2025, 3, 12), severity=severity, serious=serious, outcome=outcome
    )
    resource = adverse_event_resource(event, subject="Patient/1", resource_id="ae-1")
    assert _check([resource]) == []
    expected = "Serious" if serious else "Non-serious"
    assert resource["seriousness"]["coding"][0]["code"] == expected


def test_every_hl7_coding_of_the_demo_export_is_an_r4_code(db):
    resources = list(bulk_fhir_resources(db, Actor.system("tests")))
    assert any(r["resourceType"] == "AdverseEvent" for r in resources)
    assert _check(resources) == []
