"""A patient as a FHIR R4 ``Patient`` resource, and resources gathered into a ``collection`` Bundle (plain dicts;
tests validate both with ``fhir.resources.R4B``).

Only elements that R4 (4.0.1) and R4B (4.3) share are written (contracts §5). Choices made here:

- The medical record number is an ``identifier`` typed ``MR`` (HL7 v2 table 0203) in a local system per clinic,
  ``urn:mildpath:clinic:<clinic id>:mrn``, because MRNs are unique within a clinic only.
- ``address`` is free text (``Address.text``): mildpath keeps one address line as the clinician typed it.
- Empty fields are left out rather than written as empty strings (FHIR forbids empty values).
- The Bundle's entries carry no ``fullUrl`` (0..1 in R4): the resources reference each other as
  ``Patient/<id>``, which readers resolve by type and id within the Bundle; ``urn:uuid:`` full URLs would not
  match those references.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import date, datetime
from typing import Any

from mildpath.domain.errors import InvalidInput
from mildpath.fhir.meta import stamp

V2_0203 = "http://terminology.hl7.org/CodeSystem/v2-0203"
MR_TYPE = {"coding": [{"system": V2_0203, "code": "MR", "display": "Medical record number"}]}
LANGUAGE_SYSTEM = "urn:ietf:bcp:47"
GENDERS = ("male", "female", "other", "unknown")  # R4 AdministrativeGender


def mrn_system(clinic_id: int) -> str:
    return f"urn:mildpath:clinic:{clinic_id}:mrn"


def patient_resource(
    *,
    patient_id: int,
    clinic_id: int,
    mrn: str,
    given_name: str,
    family_name: str,
    birth_date: date,
    sex: str,
    phone: str = "",
    email: str = "",
    address: str = "",
    preferred_language: str = "",
    clinic_name: str = "",
    last_updated: datetime | None = None,
) -> dict[str, Any]:
    """The patient as an R4 ``Patient`` dict with ``id`` ``str(patient_id)`` (``meta.lastUpdated`` when given: the
    record's last change, what ``_lastUpdated`` and ``_since`` look at)."""
    resource: dict[str, Any] = {"resourceType": "Patient", "id": str(patient_id)}
    stamp(resource, last_updated)
    if mrn:
        resource["identifier"] = [{"use": "usual", "type": MR_TYPE, "system": mrn_system(clinic_id), "value": mrn}]
    name: dict[str, Any] = {}
    if family_name:
        name["family"] = family_name
    if given_name:
        name["given"] = [given_name]
    if name:
        resource["name"] = [{"use": "official", **name}]
    telecom = [{"system": "phone", "value": phone}] if phone else []
    if email:
        telecom.append({"system": "email", "value": email})
    if telecom:
        resource["telecom"] = telecom
    resource["gender"] = sex if sex in GENDERS else "unknown"
    resource["birthDate"] = birth_date.isoformat()
    if address:
        resource["address"] = [{"text": address}]
    if preferred_language:
        resource["communication"] = [
            {"language": {"coding": [{"system": LANGUAGE_SYSTEM, "code": preferred_language}]}, "preferred": True}
        ]
    if clinic_name:
        resource["managingOrganization"] = {"display": clinic_name}
    return resource


def collection_bundle(
    resources: Iterable[Mapping[str, Any]], *, timestamp: datetime, bundle_id: str | None = None
) -> dict[str, Any]:
    """An R4 ``Bundle`` of type ``collection`` holding ``resources`` in the given order.

    ``timestamp`` must be time-zone aware (an instant); ``total`` is not written because R4 allows it only in
    search and history Bundles (bdl-1).
    """
    if timestamp.tzinfo is None:
        raise InvalidInput("a Bundle's timestamp is an instant: pass an aware datetime", field="timestamp")
    bundle: dict[str, Any] = {"resourceType": "Bundle"}
    if bundle_id:
        bundle["id"] = bundle_id
    bundle["type"] = "collection"
    bundle["timestamp"] = timestamp.isoformat(timespec="seconds")
    bundle["entry"] = [{"resource": dict(r)} for r in resources]
    return bundle
