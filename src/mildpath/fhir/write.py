"""A screening result as FHIR R4: ``RiskAssessment`` or ``GuidanceResponse`` (issue 3; contracts §5).

Plain dicts, only elements that R4 (4.0.1) and R4B (4.3) share; the tests validate them with
``fhir.resources.R4B``. Choices made here:

- The screening status is a coding in mildpath's ``screening-status`` code system (``likely_candidate``,
  ``not_candidate``, ``needs_more_information``, ``urgent_referral``) with the plain wording as display/text,
  never "approved".
- The criteria set ``name@version`` is a coding in the ``criteria-set`` code system: ``RiskAssessment.method``,
  ``GuidanceResponse.moduleCodeableConcept`` (R4 ``module[x]`` allows a CodeableConcept).
- Evidence that is a FHIR record (``Condition/123``) is listed in ``RiskAssessment.basis``; form answers
  (``form:...``) are not references and appear only in the per-criterion notes.
- ``needs_more_information`` maps to ``GuidanceResponse.status = data-required``, with one ``dataRequirement``
  per unknown criterion: for an inclusion, the FHIR type and ValueSet its chart evidence would come from; for an
  exclusion or red flag (the clinician's judgement), or when only a form answers it, ``QuestionnaireResponse``
  (the clinician assessment). Every other status is ``success``.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from mildpath.domain.conditions import Select, Tri, selections
from mildpath.domain.criteria import Finding, Role
from mildpath.domain.screening import ScreeningResult, Status
from mildpath.fhir.codes import CRITERIA_SET_SYSTEM, SCREENING_STATUS_SYSTEM, SCREENING_SYSTEM
from mildpath.fhir.meta import stamp

VALUESET_BASE = "https://mildpath.org/fhir/ValueSet"
SCREENING_CODE = {"system": SCREENING_SYSTEM, "code": "mild-candidacy", "display": "mild candidacy screening"}

STATUS_DISPLAY = {
    Status.LIKELY_CANDIDATE: "Likely candidate, refer for specialist evaluation",
    Status.NOT_CANDIDATE: "Not a candidate on the information on record",
    Status.NEEDS_MORE_INFORMATION: "Needs more information",
    Status.URGENT_REFERRAL: "Urgent referral: red flags, seek care now",
}
_FHIR_TYPE = {
    "diagnosis": "Condition",
    "procedure": "Procedure",
    "medication": "MedicationRequest",
    "observation": "Observation",
}


def value_set_url(name: str) -> str:
    """The canonical URL mildpath gives a value set of ``valuesets.yaml``."""
    return f"{VALUESET_BASE}/{name}"


def risk_assessment(
    result: ScreeningResult, *, subject: str | None = None, resource_id: str | None = None,
    last_updated: datetime | None = None,
) -> dict[str, Any]:
    """The result as a FHIR R4 ``RiskAssessment``. ``subject``: ``Patient/ID`` (else an unnamed patient)."""
    res: dict[str, Any] = {"resourceType": "RiskAssessment"}
    if resource_id:
        res["id"] = resource_id
    res |= {
        "status": "final",
        "method": _criteria_set(result),
        "code": {"coding": [SCREENING_CODE], "text": "mild candidacy screening"},
        "subject": _subject(subject),
        "occurrenceDateTime": result.as_of.isoformat(),
    }
    basis = _basis(result)
    if basis:
        res["basis"] = basis
    prediction: dict[str, Any] = {"outcome": _status_concept(result)}
    if result.reasons:
        prediction["rationale"] = "; ".join(result.reasons)
    res["prediction"] = [prediction]
    if result.missing:
        res["mitigation"] = "Collect: " + "; ".join(result.missing)
    res["note"] = [{"text": _finding_line(f)} for f in result.findings]
    return stamp(res, last_updated)


def guidance_response(
    result: ScreeningResult,
    *,
    subject: str | None = None,
    resource_id: str | None = None,
    request_id: str | None = None,
    last_updated: datetime | None = None,
) -> dict[str, Any]:
    """The result as a FHIR R4 ``GuidanceResponse`` (see the module docstring for the status mapping)."""
    res: dict[str, Any] = {"resourceType": "GuidanceResponse"}
    if resource_id:
        res["id"] = resource_id
    if request_id:
        res["requestIdentifier"] = {"value": request_id}
    needs = result.status is Status.NEEDS_MORE_INFORMATION
    res |= {
        "moduleCodeableConcept": _criteria_set(result),
        "status": "data-required" if needs else "success",
        "subject": _subject(subject),
        "occurrenceDateTime": result.as_of.isoformat(),
        "reasonCode": [_status_concept(result)],
        "note": [{"text": f"{result.summary} {'; '.join(result.reasons)}".strip()}]
        + [{"text": _finding_line(f)} for f in result.findings],
    }
    if needs:
        res["dataRequirement"] = [_requirement(f) for f in result.findings if f.status is Tri.UNKNOWN]
    return stamp(res, last_updated)


def screening_status_code_system() -> dict[str, Any]:
    """The ``CodeSystem`` of the four screening statuses (for export packages and validators)."""
    return {
        "resourceType": "CodeSystem",
        "id": "screening-status",
        "url": SCREENING_STATUS_SYSTEM,
        "name": "MildpathScreeningStatus",
        "title": "mildpath screening status",
        "status": "active",
        "content": "complete",
        "concept": [{"code": s.value, "display": STATUS_DISPLAY[s]} for s in Status],
    }


def _criteria_set(result: ScreeningResult) -> dict[str, Any]:
    return {
        "coding": [{"system": CRITERIA_SET_SYSTEM, "code": result.criteria_set}],
        "text": f"mildpath criteria set {result.criteria_set}",
    }


def _status_concept(result: ScreeningResult) -> dict[str, Any]:
    return {
        "coding": [
            {"system": SCREENING_STATUS_SYSTEM, "code": result.status.value, "display": STATUS_DISPLAY[result.status]}
        ],
        "text": result.summary,
    }


def _subject(subject: str | None) -> dict[str, Any]:
    return {"reference": subject} if subject else {"display": "patient (not identified)"}


def _basis(result: ScreeningResult) -> list[dict[str, str]]:
    refs: list[str] = []
    for f in result.findings:
        for e in f.evidence:
            if _is_reference(e.record) and e.record not in refs:
                refs.append(e.record)
    return [{"reference": r} for r in refs]


def _is_reference(record: str) -> bool:
    kind, _, rid = record.partition("/")
    return bool(kind) and kind[0].isupper() and bool(rid) and ":" not in kind


def _finding_line(f: Finding) -> str:
    evidence = ", ".join(f"{e.record} = {e.value}" + (f" ({e.date.isoformat()})" if e.date else "") for e in f.evidence)
    line = f"{f.criterion.id} [{f.criterion.role.value}]: {f.status.value}. {f.criterion.clinician}"
    line += f" (source: {f.criterion.source})"
    return f"{line}. Evidence: {evidence}" if evidence else line


def _requirement(f: Finding) -> dict[str, Any]:
    coded: list[Select] = [s for s in selections(f.criterion.rule) if s.kind != "answer" and s.value_set]
    if not coded or f.criterion.role is not Role.INCLUSION:
        return {"type": "QuestionnaireResponse"}
    first = coded[0]
    return {
        "type": _FHIR_TYPE[first.kind],
        "codeFilter": [{"path": "code", "valueSet": value_set_url(first.value_set or "")}],
    }
