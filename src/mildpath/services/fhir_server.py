"""The FHIR REST server's access to patient data (issue 19; contracts §11): read and search, access-checked
and audited, returning typed results.

Resources come from the same per-subject providers the patient export uses (patient-rights registry), for the
patients the actor may see (``visible_patients``: a clinician their clinic, a patient their own record, an admin
everyone; a SMART backend client its clinic or everyone, only the types its scopes name: services/smart.py).
``Practitioner`` and ``Organization`` are served for the people and clinics those resources reference, so every
reference in an answer resolves; ``Questionnaire`` definitions are not patient data and are served to
every signed-in caller. A resource outside the actor's reach is :class:`NotFound`, the same as no such id.

Each read or search is one audit row (``fhir.read`` / ``fhir.search``) with the type and counts, never contents.
Searching scans the actor's visible patients (narrowed first to the ``patient``/``subject`` of the query): fine
for a clinic, not tuned for a large registry.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from sqlalchemy.orm import Session

from mildpath.domain.errors import NotFound, PermissionDenied
from mildpath.fhir import server as fhir
from mildpath.fhir.questionnaires import questionnaires
from mildpath.services.access import Actor, record, visible_patients
from mildpath.services.smart import may_read
from mildpath.store import clinics as clinics_store
from mildpath.store import patients as patients_store
from mildpath.store import referrals as referrals_store
from mildpath.store import users as users_store
from mildpath.store.models import Patient

PATIENT_TYPES = frozenset(fhir.TYPES) - {"Questionnaire", "Practitioner", "Organization", "Group"}


@dataclass(frozen=True)
class FhirResource:
    resource: dict[str, Any]
    etag: str


@dataclass(frozen=True)
class FhirSearchResult:
    query: fhir.SearchQuery
    matches: list[dict[str, Any]]

    @property
    def total(self) -> int:
        return len(self.matches)


def _patient_rows(session: Session, actor: Actor, only: set[str] | None) -> list[Patient]:
    ids = None if only is None else [int(i) for i in only if i.isdigit()]
    return patients_store.list_in(session, visible_patients(actor), patient_ids=ids)


def _patient_resources(session: Session, patients: list[Patient]) -> Iterator[dict[str, Any]]:
    from mildpath.services.patient_rights import fhir_providers

    providers = fhir_providers()
    seen: set[tuple[str, str]] = set()
    for patient in patients:
        for _name, provider in providers:
            for resource in provider(session, patient.id):
                key = (str(resource.get("resourceType")), str(resource.get("id", "")))
                if key in seen:
                    continue
                seen.add(key)
                yield resource


def _support(
    session: Session, rtype: str, patients: list[Patient], resources: list[dict[str, Any]]
) -> list[dict[str, Any]]:
    if rtype == "Questionnaire":
        return questionnaires()
    if rtype == "Organization":
        clinic_ids = sorted(
            {p.clinic_id for p in patients} | {int(i) for i in fhir.referenced(resources, rtype) if i.isdigit()}
        )
        clinics = clinics_store.with_ids(session, clinic_ids=clinic_ids)
        return [fhir.organization_resource(c.id, c.name, c.phone) for c in clinics]
    if rtype == "Practitioner":
        return practitioners(session, fhir.referenced(resources, rtype))
    if rtype == "Group":
        return groups(session, patients)
    return []


def groups(session: Session, patients: list[Patient]) -> list[dict[str, Any]]:
    """One ``Group`` per clinic of these patients, listing them, and one per clinic's open referral list (id
    ``referrals-<clinic id>``: those of them with an open referral there); a patient is never shown either."""
    members: dict[int, list[int]] = {}
    for p in patients:
        members.setdefault(p.clinic_id, []).append(p.id)
    referred = referrals_store.open_patient_ids(session, patient_ids=[p.id for p in patients])
    clinics = clinics_store.with_ids(session, clinic_ids=members)
    out = []
    for c in clinics:
        out.append(fhir.group_resource(c.id, c.name, members[c.id]))
        out.append(fhir.referral_group_resource(c.id, c.name, referred.get(c.id, [])))
    return out


def practitioners(session: Session, ids: set[str]) -> list[dict[str, Any]]:
    """``Practitioner`` resources for the staff accounts with these ids (what ``Practitioner/<id>`` points at)."""
    user_ids = sorted(int(i) for i in ids if i.isdigit())
    users = users_store.with_ids(session, user_ids=user_ids)
    return [fhir.practitioner_resource(u.id, u.display_name) for u in users if u.role != "patient"]


def _resources(session: Session, actor: Actor, rtype: str, only: set[str] | None) -> list[dict[str, Any]]:
    patients = _patient_rows(session, actor, only if rtype in PATIENT_TYPES else None)
    if rtype in PATIENT_TYPES:
        return [r for r in _patient_resources(session, patients) if r.get("resourceType") == rtype]
    if rtype == "Questionnaire":
        return _support(session, rtype, patients, [])
    if rtype == "Group":
        staff = actor.role in ("clinician", "coordinator", "admin", "backend")  # never a patient: the clinic's list
        return _support(session, rtype, patients, []) if staff else []
    return _support(session, rtype, patients, list(_patient_resources(session, patients)))


def read(session: Session, actor: Actor, rtype: str, rid: str) -> FhirResource:
    """``GET /fhir/{rtype}/{rid}``: the resource if the actor may see it (:class:`NotFound` otherwise)."""
    if rtype not in fhir.SEARCH:
        raise NotFound(f"mildpath does not serve {rtype}", record_type=rtype)
    _check_scope(actor, rtype, "read")
    only = {rid} if rtype == "Patient" else None
    for resource in _resources(session, actor, rtype, only):
        if str(resource.get("id")) == rid:
            patient_id = _patient_of(resource)
            record(session, actor, "fhir.read", rtype, rid, patient_id)
            return FhirResource(resource, fhir.etag(resource))
    raise NotFound(f"no {rtype}/{rid}", record_type=rtype)


def search(session: Session, actor: Actor, query: fhir.SearchQuery) -> FhirSearchResult:
    """``GET /fhir/{type}?...``: every match the actor may see, in a stable order (the page is the caller's)."""
    _check_scope(actor, query.resource_type, "search")
    found = [r for r in _resources(session, actor, query.resource_type, query.patient_ids()) if fhir.matches(r, query)]
    record(session, actor, "fhir.search", query.resource_type, None, None, {"matches": len(found)})
    return FhirSearchResult(query, found)


def _check_scope(actor: Actor, rtype: str, interaction: str) -> None:
    """A SMART backend client reads only the types its token's scopes name (403, as SMART says)."""
    if not may_read(actor, rtype, interaction):
        raise PermissionDenied(f"the access token's scopes do not allow {interaction} on {rtype}")


def _patient_of(resource: dict[str, Any]) -> int | None:
    if resource.get("resourceType") == "Patient":
        rid = str(resource.get("id", ""))
        return int(rid) if rid.isdigit() else None
    ref = str((resource.get("subject") or resource.get("patient") or resource.get("for") or {}).get("reference", ""))
    if resource.get("resourceType") == "Appointment":  # an Appointment names its patient among its participants
        refs = [str((p.get("actor") or {}).get("reference", "")) for p in resource.get("participant", [])]
        ref = next((r for r in refs if r.startswith("Patient/")), "")
    tail = ref.removeprefix("Patient/")
    return int(tail) if ref.startswith("Patient/") and tail.isdigit() else None
