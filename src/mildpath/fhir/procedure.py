"""Procedure-day records as FHIR R4 resources (plain dicts): the mild Procedure (CPT 0275T) and its AdverseEvents.

Only elements that R4 (4.0.1) and R4B (4.3) share are written (contracts §5); tests validate with
``fhir.resources.R4B``. Choices made here:

- ``bodySite`` is one CodeableConcept per treated level with text only (``"L4-L5, bilateral"``): the clinical
  reference gives no SNOMED codes for lumbar interspaces, and R4 Procedure has no laterality element, so the side
  travels in the text rather than in invented codes.
- ``outcome`` and ``complication`` are text-only CodeableConcepts for the same reason.
- Device lot numbers become contained ``Device`` resources (``lotNumber``) listed in ``usedReference``.
- ``performer.actor`` is a Practitioner reference when the caller has one, else a display-only reference naming
  the operator (valid R4: a Reference needs only one of reference/identifier/display).
- AdverseEvent ``severity``/``seriousness``/``outcome`` use the R4 code systems named in
  :mod:`mildpath.domain.procedure.events`.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from mildpath.content.procedure import policies as load_policies
from mildpath.content.procedure import procedure_code
from mildpath.domain.procedure import (
    AdverseEvent,
    DischargeKind,
    DischargeOutcome,
    ProcedurePolicies,
    ProcedureRecord,
    Reintervention,
    ReinterventionType,
    describe_levels,
)
from mildpath.fhir.meta import stamp

SEVERITY_SYSTEM = "http://terminology.hl7.org/CodeSystem/adverse-event-severity"
SERIOUSNESS_SYSTEM = "http://terminology.hl7.org/CodeSystem/adverse-event-seriousness"
OUTCOME_SYSTEM = "http://terminology.hl7.org/CodeSystem/adverse-event-outcome"

_OUTCOME_DISPLAY = {
    "resolved": "Resolved",
    "recovering": "Recovering",
    "ongoing": "Ongoing",
    "resolvedWithSequelae": "Resolved with Sequelae",
    "fatal": "Fatal",
    "unknown": "Unknown",
}


def _text(text: str) -> dict[str, Any]:
    return {"text": text}


def _outcome(record: ProcedureRecord, discharge: DischargeOutcome | None) -> str | None:
    if record.end is None:
        return None
    if discharge is None:
        return "Procedure completed"
    if discharge.kind is DischargeKind.HOME:
        return "Procedure completed; discharged home the same day"
    return f"Procedure completed; kept overnight: {discharge.reason}"


def _technique_note(record: ProcedureRecord, policies: ProcedurePolicies) -> str:
    rp = policies.record
    parts = [
        f"Anaesthesia: {rp.label('anaesthesia', record.anaesthesia)}",
        f"Sedation: {rp.label('sedation', record.sedation)}"
        + (f" ({record.sedation_detail})" if record.sedation_detail.strip() else ""),
    ]
    if record.epidurogram is not None:
        parts.append(f"Epidurogram: {'yes' if record.epidurogram else 'no'}")
    if record.incisions is not None:
        parts.append(f"Incisions: {record.incisions}")
    if record.fluoroscopy_seconds is not None:
        parts.append(f"Fluoroscopy time: {record.fluoroscopy_seconds:g} s")
    if record.tissue_removed:
        parts.append("Tissue removed: " + ", ".join(rp.label("tissues", t) for t in record.tissue_removed))
    return ". ".join(parts) + "."


def procedure_resource(
    record: ProcedureRecord,
    *,
    subject: str,
    resource_id: str | None = None,
    performer: str | None = None,
    discharge: DischargeOutcome | None = None,
    adverse_events: Sequence[AdverseEvent] = (),
    policies: ProcedurePolicies | None = None,
    last_updated: datetime | None = None,
) -> dict[str, Any]:
    """The mild procedure as a FHIR R4 ``Procedure`` dict.

    ``subject`` is a reference string (``Patient/123`` or ``urn:uuid:...``); ``performer`` an optional
    Practitioner reference. Intra-procedure events and the given adverse events become ``complication`` entries.
    A record without ``end`` is ``in-progress`` with an open ``performedPeriod``.
    """
    pol = policies or load_policies()
    cpt = procedure_code()
    resource: dict[str, Any] = {"resourceType": "Procedure"}
    if resource_id:
        resource["id"] = resource_id
    period = {"start": record.start.isoformat()}
    if record.end is not None:
        period["end"] = record.end.isoformat()
    actor: dict[str, Any] = {"display": record.operator}
    if performer:
        actor["reference"] = performer
    resource |= {
        "status": "in-progress" if record.end is None else "completed",
        # source: procedure-codes (CPT 0275T; contracts §5)
        "code": {"coding": [{"system": cpt.system, "code": cpt.code, "display": cpt.display}], "text": cpt.text},
        "subject": {"reference": subject},
        "performedPeriod": period,
        "performer": [{"actor": actor}],
        "bodySite": [_text(line) for line in describe_levels(record, pol.record)],
    }
    outcome = _outcome(record, discharge)
    if outcome:
        resource["outcome"] = _text(outcome)
    complications = [
        _text(pol.record.label("event_kinds", e.kind) + (f": {e.description}" if e.description else ""))
        for e in record.events
    ]
    complications += [
        _text(pol.events.adverse_event_label(e.type) + (f": {e.description}" if e.description else ""))
        for e in adverse_events
    ]
    if complications:
        resource["complication"] = complications
    if record.device_lots:
        resource["contained"] = [
            {"resourceType": "Device", "id": f"lot-{i + 1}", "lotNumber": lot}
            for i, lot in enumerate(record.device_lots)
        ]
        resource["usedReference"] = [{"reference": f"#lot-{i + 1}"} for i in range(len(record.device_lots))]
    notes = [_technique_note(record, pol)]
    if record.notes.strip():
        notes.append(record.notes.strip())
    resource["note"] = [_text(n) for n in notes]
    return stamp(resource, last_updated)


def adverse_event_resource(
    event: AdverseEvent,
    *,
    subject: str,
    procedure: str | None = None,
    resource_id: str | None = None,
    policies: ProcedurePolicies | None = None,
    last_updated: datetime | None = None,
) -> dict[str, Any]:
    """One adverse event as a FHIR R4 ``AdverseEvent`` dict; ``procedure`` references the suspect Procedure."""
    pol = policies or load_policies()
    label = pol.events.adverse_event_label(event.type)
    resource: dict[str, Any] = {"resourceType": "AdverseEvent"}
    if resource_id:
        resource["id"] = resource_id
    # R4's adverse-event-seriousness codes are case-sensitive: ``Serious`` / ``Non-serious`` (R5 lower-cased them).
    serious, serious_display = ("Serious", "Serious") if event.serious else ("Non-serious", "Non-serious")
    resource |= {
        "actuality": "actual",
        "event": _text(label + (f": {event.description}" if event.description else "")),
        "subject": {"reference": subject},
        "date": event.onset.isoformat(),
        "seriousness": {"coding": [{"system": SERIOUSNESS_SYSTEM, "code": serious, "display": serious_display}]},
        "severity": {
            "coding": [{"system": SEVERITY_SYSTEM, "code": str(event.severity), "display": event.severity.capitalize()}]
        },
        "outcome": {
            "coding": [
                {"system": OUTCOME_SYSTEM, "code": str(event.outcome), "display": _OUTCOME_DISPLAY[str(event.outcome)]}
            ]
        },
    }
    if event.recorded_by.strip():
        resource["recorder"] = {"display": event.recorded_by.strip()}
    if procedure:
        resource["suspectEntity"] = [{"instance": {"reference": procedure}}]
    return stamp(resource, last_updated)


def reintervention_resource(
    item: Reintervention,
    *,
    subject: str,
    resource_id: str | None = None,
    policies: ProcedurePolicies | None = None,
    last_updated: datetime | None = None,
) -> dict[str, Any]:
    """A later intervention as a completed FHIR R4 ``Procedure`` dict.

    A repeat mild carries CPT 0275T; the others are text only, because the reference marks the comparator codes
    for injections and laminectomy UNVERIFIED and gives none for fusion.
    """
    pol = policies or load_policies()
    code: dict[str, Any] = {"text": pol.events.reintervention_label(item.type)}
    if item.type is ReinterventionType.REPEAT_MILD:
        cpt = procedure_code()
        code["coding"] = [{"system": cpt.system, "code": cpt.code, "display": cpt.display}]
    resource: dict[str, Any] = {"resourceType": "Procedure"}
    if resource_id:
        resource["id"] = resource_id
    resource |= {
        "status": "completed",
        "code": code,
        "subject": {"reference": subject},
        "performedDateTime": item.performed_on.isoformat(),
    }
    if item.levels:
        resource["bodySite"] = [_text(pol.record.label("levels", level)) for level in item.levels]
    if item.note.strip():
        resource["note"] = [_text(item.note.strip())]
    return stamp(resource, last_updated)
