"""CDS Hooks 2.0: the discovery document and the ``patient-view`` answer of the mild-candidacy service.

Pure functions over dicts (no web framework here): the web layer serves ``GET /cds-services`` with
:func:`discovery` and ``POST /cds-services/mild-candidacy`` with :func:`patient_view`.
Spec: https://cds-hooks.hl7.org/2.0/ (sections cited below).

Cards (https://cds-hooks.hl7.org/2.0/#card-attributes): ``summary`` (< 140 characters), ``indicator``
(``info``/``warning``/``critical``) and ``source.label`` are required; ``uuid`` is optional and given here,
derived from the result so the same answer keeps the same id.

- ``likely_candidate``: one ``info`` card, "Possible mild candidate: refer for specialist evaluation".
- ``needs_more_information``: one ``info`` card naming what to collect.
- ``urgent_referral``: one ``critical`` card: red flags, seek care now.
- ``not_candidate``: no card. "If your service has no decision support for the user, your service should
  return a 200 HTTP response with an empty array of cards" (https://cds-hooks.hl7.org/2.0/#cds-service-response);
  a card for every patient without stenosis would only add alert fatigue.

Prefetch (https://cds-hooks.hl7.org/2.0/#prefetch-template): the service asks for the patient, Conditions,
Procedures, ServiceRequests, medications and the screening Observations. "If the CDS Client has no data to
populate a template prefetch key, the prefetch template key MUST have a value of null": such a key is read as
"nothing recorded". A key that is absent, or holds an ``OperationOutcome`` (2.0 lets a client send one when a
prefetch fails), was not satisfied. The spec then expects the service to fetch the data itself from
``fhirServer``; these functions do no I/O, so :func:`patient_view` raises :class:`MissingPrefetch` naming the
keys. The caller either fetches them and calls again, or answers as the spec says: "If the CDS Service is unable
to obtain required data because it cannot access the FHIR server and the request did not contain the necessary
prefetch keys, the service SHALL respond with an HTTP 412 Precondition Failed status code."
"""

from __future__ import annotations

import datetime as dt
import urllib.parse
import uuid
from collections.abc import Mapping
from typing import Any

from mildpath.domain.criteria import CriteriaSet
from mildpath.domain.errors import InvalidInput
from mildpath.domain.facts import PatientFacts
from mildpath.domain.screening import ScreeningResult, Status, screen
from mildpath.fhir.codes import ASSESSMENT_SYSTEM, LOINC, SCREENING_STATUS_SYSTEM, SCREENING_SYSTEM
from mildpath.fhir.read import facts_from_resources

SERVICE_ID = "mild-candidacy"
HOOK = "patient-view"

#: Prefetch templates (https://cds-hooks.hl7.org/2.0/#prefetch-template). The Observation query asks for the
#: screening scores and the local codes only (a token with an empty code matches the whole system).
PREFETCH: dict[str, str] = {
    "patient": "Patient/{{context.patientId}}",
    "conditions": "Condition?patient={{context.patientId}}",
    "procedures": "Procedure?patient={{context.patientId}}",
    "serviceRequests": "ServiceRequest?patient={{context.patientId}}",
    "medicationRequests": "MedicationRequest?patient={{context.patientId}}",
    "medicationStatements": "MedicationStatement?patient={{context.patientId}}",
    "observations": (
        "Observation?patient={{context.patientId}}"
        f"&code={LOINC}|97909-6,{LOINC}|72514-3,{SCREENING_SYSTEM}|,{ASSESSMENT_SYSTEM}|"
    ),
}

_NAMESPACE = uuid.UUID("5b0a4d0e-2a59-4b8e-9a51-6d1c9f0a7e11")  # fixed: card ids are stable per result


class MissingPrefetch(InvalidInput):
    """Prefetch keys the client did not satisfy; the caller fetches them or answers 412 (see the module doc)."""

    def __init__(self, keys: list[str]) -> None:
        super().__init__(
            f"prefetch not provided for {', '.join(keys)}: fetch from fhirServer or answer 412 Precondition Failed",
            field="prefetch",
            value=keys,
        )
        self.keys = keys


def discovery() -> dict[str, Any]:
    """The discovery document (https://cds-hooks.hl7.org/2.0/#discovery): one ``patient-view`` service."""
    return {
        "services": [
            {
                "hook": HOOK,
                "id": SERVICE_ID,
                "title": "mild candidacy screening",
                "description": (
                    "Screens the patient's chart for lumbar spinal stenosis that may suit the mild procedure "
                    "(Minimally Invasive Lumbar Decompression), with every criterion explained and cited. It "
                    "supports a referral decision; a spine specialist's evaluation decides."
                ),
                "prefetch": dict(PREFETCH),
                "usageRequirements": "Read access to the patient's Conditions, Procedures, ServiceRequests, "
                "MedicationRequests, MedicationStatements and Observations.",
            }
        ]
    }


def facts_from_prefetch(prefetch: Mapping[str, Any] | None) -> tuple[PatientFacts, list[str]]:
    """Facts from a request's prefetch, and the template keys that were not satisfied.

    A value may be one resource or a Bundle (a search result); ``null`` means the client had no data.
    """
    prefetch = prefetch or {}
    unsatisfied: list[str] = []
    resources: list[Mapping[str, Any]] = []
    for key in PREFETCH:
        if key not in prefetch:
            unsatisfied.append(key)
            continue
        value = prefetch[key]
        if value is None:
            continue
        if not isinstance(value, Mapping) or value.get("resourceType") == "OperationOutcome":
            unsatisfied.append(key)
            continue
        resources.append(value)
    return facts_from_resources(resources, where="prefetch").facts, unsatisfied


def patient_view(request: Mapping[str, Any], criteria_set: CriteriaSet, today: dt.date) -> dict[str, Any]:
    """The CDS Service response for a ``patient-view`` request (https://cds-hooks.hl7.org/2.0/#http-request_1).

    Raises :class:`~mildpath.domain.errors.InvalidInput` for a request that is not a ``patient-view`` call
    with ``context.patientId``, and :class:`MissingPrefetch` when prefetch keys were not satisfied.
    """
    return patient_view_result(request, criteria_set, today)[0]


def patient_view_result(
    request: Mapping[str, Any], criteria_set: CriteriaSet, today: dt.date
) -> tuple[dict[str, Any], ScreeningResult]:
    """:func:`patient_view`, with the screening result the cards rest on (for storing the cards' criteria)."""
    if request.get("hook") != HOOK:
        raise InvalidInput(f"this service answers the {HOOK} hook, not {request.get('hook')!r}", field="hook")
    context = request.get("context")
    patient_id = context.get("patientId") if isinstance(context, Mapping) else None
    if not isinstance(patient_id, str) or not patient_id:
        raise InvalidInput("context.patientId is required", field="context.patientId")
    facts, unsatisfied = facts_from_prefetch(request.get("prefetch"))
    if unsatisfied:
        raise MissingPrefetch(unsatisfied)
    result = screen(criteria_set, facts, today)
    return cards_for(result, patient_id=patient_id), result


def prefetch_queries(request: Mapping[str, Any], keys: list[str]) -> dict[str, str]:
    """The FHIR queries (relative to ``fhirServer``) of the prefetch ``keys``, with ``{{context.patientId}}``
    filled in (https://cds-hooks.hl7.org/2.0/#prefetch-tokens); the id is URL-quoted."""
    context = request.get("context")
    patient_id = context.get("patientId") if isinstance(context, Mapping) else None
    if not isinstance(patient_id, str) or not patient_id:
        raise InvalidInput("context.patientId is required", field="context.patientId")
    quoted = urllib.parse.quote(patient_id, safe="")
    return {k: PREFETCH[k].replace("{{context.patientId}}", quoted) for k in keys if k in PREFETCH}


def criteria_of(result: ScreeningResult) -> list[str]:
    """The criteria a card rests on: those met, and those still unknown (what the card asks to collect)."""
    return [f.id for f in result.findings if f.status.value in ("met", "unknown")]


def cards_for(result: ScreeningResult, *, patient_id: str | None = None) -> dict[str, Any]:
    """``{"cards": [...]}`` for a screening result (see the module docstring)."""
    if result.status is Status.NOT_CANDIDATE:
        return {"cards": []}
    card: dict[str, Any] = {
        "uuid": str(uuid.uuid5(_NAMESPACE, f"{patient_id}|{result.criteria_set}|{result.as_of}|{result.status}")),
        "summary": _summary(result),
        "indicator": "critical" if result.status is Status.URGENT_REFERRAL else "info",
        "detail": _detail(result),
        "source": {
            "label": f"mildpath screening ({result.criteria_set})",
            "topic": {"system": SCREENING_STATUS_SYSTEM, "code": result.status.value},
        },
    }
    return {"cards": [card]}


def _summary(result: ScreeningResult) -> str:
    text = {
        Status.LIKELY_CANDIDATE: "Possible mild candidate: refer for specialist evaluation",
        Status.NEEDS_MORE_INFORMATION: "Possible mild candidate: more information needed",
        Status.URGENT_REFERRAL: "Red flags on record: seek care now (not a mild referral)",
    }[result.status]
    return text[:139]


def _detail(result: ScreeningResult) -> str:
    lines = [f"**{result.summary}**", ""]
    if result.reasons and result.status is Status.URGENT_REFERRAL:
        lines += [f"- {r}" for r in result.reasons]
    if result.missing:
        lines += ["To collect:", *[f"- {m}" for m in result.missing]]
    met = [f for f in result.findings if f.status.value == "met" and f.role.value in ("gate", "inclusion")]
    if met:
        lines += ["", "Criteria met:", *[f"- {f.criterion.clinician} (source: {f.criterion.source})" for f in met]]
    lines += ["", f"Criteria set {result.criteria_set}, as of {result.as_of.isoformat()}."]
    return "\n".join(lines)
