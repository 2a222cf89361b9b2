"""Patient rights (issue 10): export everything about one patient as a FHIR R4 Bundle, erase a patient, or
anonymise one. Admins only; each is confirmed with a reason (and, for the irreversible two, the patient's MRN
typed back), and audited in the caller's transaction. Nothing here commits.

The export registry
-------------------
The Bundle (type ``collection``) holds the ``Patient`` and whatever each subject can say about the patient.
A subject joins by exposing, in its ``mildpath.services.<subject>`` module::

    def fhir_resources_for_patient(session: Session, patient_id: int) -> list[dict[str, Any]]: ...

returning plain R4 resource dicts that reference the patient as ``Patient/<id>`` (no access check and no
audit inside: :func:`export_patient` has done both). :func:`fhir_providers` finds those functions by
importing the service modules; subjects written before the registry are wired here by small adapters
(:data:`ADAPTERS`) until they expose the function themselves (a module's own function wins).

Erasure and anonymisation
-------------------------
- **Erase** deletes every row about the patient in every table that references ``patients`` (directly or
  through another such row), found from the foreign keys (:mod:`mildpath.store.erasure`): new subject tables
  are covered by themselves. The audit trail stays: it holds ids, actions and times, no personal data.
- **Anonymise** keeps the clinical data for the registry and replaces what identifies the person: names, MRN,
  phone, email and address; the birth date keeps its year only (moved to 1 January), and a birth year that
  would make the patient 90 or older is set to 90 years ago (HIPAA Safe Harbor groups ages over 89; an
  assumption: the clinical reference is silent on anonymisation). The patient's login is disabled and scrubbed
  (tokens and sessions revoked) but kept, because clinical rows (a diary entry they typed) refer to it.
  A subject that keeps free text which might name the person may expose
  ``anonymise_patient(session, patient_id) -> int`` (rows changed); it is called the same way.
"""

from __future__ import annotations

import importlib
import logging
import pkgutil
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from enum import StrEnum
from typing import Any

from pydantic import ConfigDict, Field
from sqlalchemy.orm import Session

from mildpath.domain.errors import Conflict, InvalidInput, NotFound
from mildpath.domain.inputs import EdgeInput
from mildpath.fhir.patient import collection_bundle, patient_resource
from mildpath.services.access import Actor, get_patient_for, record, require_role
from mildpath.store import clinics as clinics_store
from mildpath.store import erasure
from mildpath.store import patients as patients_store
from mildpath.store import users as users_store
from mildpath.store.models import Patient, User

log = logging.getLogger("mildpath.patient_rights")

PROVIDER = "fhir_resources_for_patient"
ANONYMISER = "anonymise_patient"
FhirProvider = Callable[[Session, int], list[dict[str, Any]]]
Anonymiser = Callable[[Session, int], int]
ANONYMISED_GIVEN = "Anonymised"
OLDEST_AGE = 90


class Reason(StrEnum):
    """Why an admin exports, erases or anonymises a record (the audit keeps the code, never free text)."""

    PATIENT_REQUEST = "patient_request"  # the patient asked (access, erasure, restriction)
    LEGAL_OBLIGATION = "legal_obligation"  # a court, regulator or retention rule requires it
    DUPLICATE_RECORD = "duplicate_record"  # the same person was registered twice
    ENTERED_IN_ERROR = "entered_in_error"  # a record made by mistake (a test patient, a wrong person)
    RESEARCH_REGISTRY = "research_registry"  # anonymised for the outcomes registry


REASON_LABELS = {
    Reason.PATIENT_REQUEST: "The patient asked",
    Reason.LEGAL_OBLIGATION: "A legal obligation",
    Reason.DUPLICATE_RECORD: "A duplicate record",
    Reason.ENTERED_IN_ERROR: "Entered in error",
    Reason.RESEARCH_REGISTRY: "For the outcomes registry",
}


class RightsRequest(EdgeInput):
    """The reason for an export; ``reference`` is the request's ticket or letter number (no names: it is
    kept in the audit trail, which outlives erasure)."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    reason: Reason
    reference: str = Field(default="", max_length=64, pattern=r"^[A-Za-z0-9._:/#-]*$")


class ConfirmedRightsRequest(RightsRequest):
    """An irreversible change: the reason, plus the patient's MRN typed back as confirmation."""

    confirm_mrn: str = Field(min_length=1, max_length=64, description="The patient's MRN, typed back")


@dataclass(frozen=True)
class RightsOutcome:
    """What an erasure or anonymisation did: rows per table (counts only)."""

    patient_id: int
    action: str
    rows: dict[str, int]


# ------------------------------------------------------------------------------------------ the registry


def fhir_resources_for_patient(session: Session, patient_id: int) -> list[dict[str, Any]]:
    """The core provider: the ``Patient`` resource (no access check; callers made one)."""
    patient = patients_store.get_or_none(session, patient_id=patient_id)
    if patient is None:
        raise NotFound(f"no patient {patient_id}", record_type="Patient", record_id=patient_id)
    clinic = clinics_store.get_or_none(session, clinic_id=patient.clinic_id)
    return [
        patient_resource(
            patient_id=patient.id,
            clinic_id=patient.clinic_id,
            mrn=patient.mrn,
            given_name=patient.given_name,
            family_name=patient.family_name,
            birth_date=patient.birth_date,
            sex=patient.sex,
            phone=patient.phone,
            email=patient.email,
            address=patient.address,
            preferred_language=patient.preferred_language,
            clinic_name=clinic.name if clinic else "",
            last_updated=patient.updated_at,
        )
    ]


def _recovery_resources(session: Session, patient_id: int) -> list[dict[str, Any]]:
    """Adapter: the recovery plan as a CarePlan (the diary has no FHIR form yet)."""
    from mildpath.services import clock, recovery

    try:
        return [recovery.export_careplan(session, _SYSTEM, patient_id, today=clock.today())]
    except NotFound:
        return []


def _procedure_resources(session: Session, patient_id: int) -> list[dict[str, Any]]:
    """Adapter: recorded procedures, their adverse events and later interventions."""
    from mildpath.fhir import procedure as fhir_procedure
    from mildpath.services import procedure_exports, procedures
    from mildpath.store import procedures as store

    out: list[dict[str, Any]] = []
    for row in store.list_for_patient(session, patient_id=patient_id):
        if row.status in ("in_progress", "completed") and row.record:
            out.append(procedure_exports.procedure_fhir(session, _SYSTEM, row.id))
        out.extend(e["resource"] for e in procedure_exports.adverse_events_fhir(session, _SYSTEM, row.id)["entry"])
        for item in store.reinterventions_for(session, procedure_id=row.id):
            out.append(
                fhir_procedure.reintervention_resource(
                    procedures.reintervention_view(item).item,
                    subject=f"Patient/{patient_id}",
                    resource_id=f"reintervention-{item.id}",
                    last_updated=item.created_at,
                )
            )
    return out


def _prom_resources(session: Session, patient_id: int) -> list[dict[str, Any]]:
    """Adapter: completed questionnaire responses (QuestionnaireResponse) and their scores (Observation)."""
    from mildpath.services import proms

    found = proms.bulk_fhir(session, _SYSTEM, patient_ids=[patient_id])
    return [*found["QuestionnaireResponse"], *found["Observation"]]


_SYSTEM = Actor.system("patient-rights")
# Subjects written before the registry existed, wired here; a module's own PROVIDER replaces its adapter.
ADAPTERS: dict[str, FhirProvider] = {
    "recovery": _recovery_resources,
    "procedures": _procedure_resources,
    "proms": _prom_resources,
}
_SKIP_MODULES = {"patient_rights", "procedure_exports"}


def _service_modules() -> list[tuple[str, Any]]:
    import mildpath.services as pkg

    out = []
    for info in sorted(pkgutil.iter_modules(pkg.__path__), key=lambda m: m.name):
        if info.name.startswith(("_", "demo")) or info.name in _SKIP_MODULES:
            continue
        out.append((info.name, importlib.import_module(f"mildpath.services.{info.name}")))
    return out


def fhir_providers() -> list[tuple[str, FhirProvider]]:
    """(subject, provider) in export order: the Patient first, then each subject by module name."""
    found: list[tuple[str, FhirProvider]] = [("patients", fhir_resources_for_patient)]
    for name, module in _service_modules():
        provider = getattr(module, PROVIDER, None)
        if callable(provider):
            found.append((name, provider))
        elif name in ADAPTERS:
            found.append((name, ADAPTERS[name]))
    return found


def anonymisers() -> list[tuple[str, Anonymiser]]:
    return [(n, getattr(m, ANONYMISER)) for n, m in _service_modules() if callable(getattr(m, ANONYMISER, None))]


# ------------------------------------------------------------------------------------------ the actions


def _reason_detail(request: RightsRequest) -> dict[str, Any]:
    return {"reason": request.reason.value, "reference": request.reference}


def _confirm(patient: Patient, request: ConfirmedRightsRequest) -> None:
    if request.confirm_mrn.strip() != patient.mrn:
        raise InvalidInput("the MRN typed back does not match this patient's", field="confirm_mrn")


def export_patient(
    session: Session, actor: Actor, patient_id: int, request: RightsRequest, *, now: datetime
) -> dict[str, Any]:
    """Everything about the patient as an R4 Bundle (type ``collection``), Patient first (admins only)."""
    require_role(actor, "admin")
    get_patient_for(session, actor, patient_id)
    resources: list[dict[str, Any]] = []
    counts: dict[str, int] = {}
    for _subject, provider in fhir_providers():
        found = provider(session, patient_id)
        resources.extend(found)
        for resource in found:
            counts[resource["resourceType"]] = counts.get(resource["resourceType"], 0) + 1
    bundle = collection_bundle(resources, timestamp=now, bundle_id=f"patient-{patient_id}-export")
    record(
        session,
        actor,
        "patient.export",
        "Patient",
        patient_id,
        patient_id,
        {**_reason_detail(request), "resources": counts},
    )
    return bundle


def erase_patient(session: Session, actor: Actor, patient_id: int, request: ConfirmedRightsRequest) -> RightsOutcome:
    """Delete every row about the patient (see the module docstring); the audit trail keeps the fact."""
    require_role(actor, "admin")
    patient = get_patient_for(session, actor, patient_id)
    _confirm(patient, request)
    session.flush()
    rows = erasure.delete_patient_rows(session, patient_id=patient_id)
    session.expunge(patient)
    record(
        session, actor, "patient.erase", "Patient", patient_id, patient_id, {**_reason_detail(request), "rows": rows}
    )
    log.info("patient record %s erased (%s rows)", patient_id, sum(rows.values()))
    return RightsOutcome(patient_id, "erased", rows)


def anonymised_birth_date(birth_date: date, today: date) -> date:
    """1 January of the birth year, or of the year 90 years ago for anyone older (see the module docstring)."""
    year = min(birth_date.year, today.year) if today.year - birth_date.year < OLDEST_AGE else today.year - OLDEST_AGE
    return date(year, 1, 1)


def anonymise_patient(
    session: Session, actor: Actor, patient_id: int, request: ConfirmedRightsRequest, *, now: datetime
) -> RightsOutcome:
    """Replace what identifies the patient, keep the clinical record (see the module docstring)."""
    require_role(actor, "admin")
    patient = get_patient_for(session, actor, patient_id)
    _confirm(patient, request)
    if patient.anonymised_at is not None:
        raise Conflict(f"patient {patient_id} is anonymised already")
    rows: dict[str, int] = dict(erasure.delete_unlinked_copies(session, patient_id=patient_id))
    patient.mrn = f"ANON-{patient.id}"
    patient.given_name = ANONYMISED_GIVEN
    patient.family_name = f"Patient {patient.id}"
    patient.birth_date = anonymised_birth_date(patient.birth_date, now.date())
    patient.phone = patient.email = patient.address = ""
    patient.anonymised_at = now
    rows["patients"] = 1
    for table, n in _scrub_accounts(session, patient_id, now).items():
        rows[table] = rows.get(table, 0) + n
    for subject, anonymiser in anonymisers():
        rows[subject] = anonymiser(session, patient_id)
    session.flush()
    rows = {k: v for k, v in rows.items() if v}
    record(
        session,
        actor,
        "patient.anonymise",
        "Patient",
        patient_id,
        patient_id,
        {**_reason_detail(request), "rows": rows},
    )
    return RightsOutcome(patient_id, "anonymised", rows)


def _scrub_accounts(session: Session, patient_id: int, now: datetime) -> dict[str, int]:
    users: Sequence[User] = users_store.for_patient(session, patient_id=patient_id)
    ids = [u.id for u in users]
    for user in users:
        user.email = f"anonymised-{user.id}@invalid"
        user.display_name = ANONYMISED_GIVEN
        user.password_hash = ""
        user.active = False
    if not ids:
        return {}
    return {"users": len(ids), **users_store.end_credentials(session, user_ids=ids, now=now)}
