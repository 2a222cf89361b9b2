"""Reading an EHR's enrolment request (issue 20): a FHIR R4 ``ServiceRequest`` for the mild procedure (CPT
0275T) or an ``Appointment``, into plain facts. Pure: dicts in, a dataclass out, :class:`InvalidInput` naming
the element for anything that cannot be used.

The patient is either a contained ``Patient`` (``subject``/``participant.actor`` ``{"reference": "#id"}``), whose
name, birth date, sex, phone, email and language come along, or a reference by identifier (the MRN) to a patient
the clinic already has.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from mildpath.domain.errors import InvalidInput
from mildpath.fhir.codes import CPT

MILD_CPT = "0275T"  # clinical reference: "CPT 0275T (Category III) ... lumbar" (UNVERIFIED that no successor code)


@dataclass(frozen=True)
class PatientFacts:
    mrn: str
    given_name: str = ""
    family_name: str = ""
    birth_date: str = ""
    sex: str = "unknown"
    phone: str = ""
    email: str = ""
    language: str = "en"
    complete: bool = False  # a contained Patient with what a new mildpath patient needs


@dataclass(frozen=True)
class EnrolmentRequest:
    resource_type: str  # ServiceRequest | Appointment
    identifier_system: str
    identifier_value: str
    patient: PatientFacts
    procedure_date: date | None  # the Appointment's start, or the ServiceRequest's occurrenceDateTime


def _first_identifier(resource: dict[str, Any], where: str) -> tuple[str, str]:
    for ident in resource.get("identifier") or []:
        if isinstance(ident, dict) and isinstance(ident.get("value"), str) and ident["value"].strip():
            return str(ident.get("system") or ""), ident["value"].strip()
    raise InvalidInput(f"{where}.identifier: an identifier with a value is needed (it makes enrolment idempotent)",
                       field=f"{where}.identifier")


def _date_of(value: Any, where: str) -> date | None:
    if value in (None, ""):
        return None
    if not isinstance(value, str) or len(value) < 10:
        raise InvalidInput(f"{where}: expected a FHIR date or dateTime", field=where)
    try:
        return date.fromisoformat(value[:10])
    except ValueError:
        raise InvalidInput(f"{where}: expected a FHIR date or dateTime", field=where) from None


def _patient(resource: dict[str, Any], ref: Any, where: str) -> PatientFacts:
    if not isinstance(ref, dict):
        raise InvalidInput(f"{where}: a reference to the patient is needed", field=where)
    reference = ref.get("reference")
    if isinstance(reference, str) and reference.startswith("#"):
        for contained in resource.get("contained") or []:
            if isinstance(contained, dict) and contained.get("resourceType") == "Patient" \
                    and contained.get("id") == reference[1:]:
                return _contained_patient(contained, f"contained[{reference}]")
        raise InvalidInput(f"{where}.reference: no contained Patient {reference}", field=f"{where}.reference")
    ident = ref.get("identifier")
    if isinstance(ident, dict) and isinstance(ident.get("value"), str) and ident["value"].strip():
        return PatientFacts(mrn=ident["value"].strip())
    raise InvalidInput(f"{where}: give the patient as a contained Patient ('#id') or by identifier (the MRN)",
                       field=where)


def _contained_patient(p: dict[str, Any], where: str) -> PatientFacts:
    try:
        system_, mrn = _first_identifier(p, where)
    except InvalidInput:
        raise InvalidInput(f"{where}.identifier: the patient's MRN is needed", field=f"{where}.identifier") from None
    names = [n for n in p.get("name") or [] if isinstance(n, dict)]
    name = next((n for n in names if n.get("use") == "official"), names[0] if names else {})
    given = " ".join(g for g in name.get("given") or [] if isinstance(g, str)).strip()
    family = str(name["family"]) if isinstance(name.get("family"), str) else ""
    birth = str(p["birthDate"]) if isinstance(p.get("birthDate"), str) else ""
    if birth:
        _date_of(birth, f"{where}.birthDate")
    gender = str(p["gender"]) if p.get("gender") in ("female", "male", "other", "unknown") else "unknown"
    phone = email = ""
    for t in p.get("telecom") or []:
        if isinstance(t, dict) and isinstance(t.get("value"), str):
            if t.get("system") in ("phone", "sms") and not phone:
                phone = t["value"].strip()[:40]
            elif t.get("system") == "email" and not email:
                email = t["value"].strip()[:254]
    language = "en"
    for c in p.get("communication") or []:
        for coding in ((c or {}).get("language") or {}).get("coding") or []:
            if isinstance(coding, dict) and str(coding.get("code", "")).lower().startswith("es"):
                language = "es"
    return PatientFacts(mrn=mrn, given_name=given[:120], family_name=family[:120], birth_date=birth[:10],
                        sex=gender, phone=phone, email=email, language=language,
                        complete=bool(given and family and birth))


def read_enrolment(resource: Any) -> EnrolmentRequest:
    """The facts of a ServiceRequest (for CPT 0275T) or an Appointment that enrols a patient."""
    if not isinstance(resource, dict):
        raise InvalidInput("expected a FHIR resource (a JSON object)", field="resourceType")
    kind = resource.get("resourceType")
    if kind == "ServiceRequest":
        codings = ((resource.get("code") or {}).get("coding")) or []
        if not any(isinstance(c, dict) and c.get("system") == CPT and c.get("code") == MILD_CPT for c in codings):
            raise InvalidInput(f"ServiceRequest.code: expected CPT {MILD_CPT} (system {CPT})", field="code")
        if resource.get("status") not in ("active", "draft", "on-hold"):
            raise InvalidInput("ServiceRequest.status: only an active, draft or on-hold request enrols",
                               field="status")
        system_, value = _first_identifier(resource, "ServiceRequest")
        patient = _patient(resource, resource.get("subject"), "ServiceRequest.subject")
        when = _date_of(resource.get("occurrenceDateTime"), "ServiceRequest.occurrenceDateTime")
        return EnrolmentRequest(kind, system_, value, patient, when)
    if kind == "Appointment":
        if resource.get("status") in ("cancelled", "noshow", "entered-in-error"):
            raise InvalidInput("Appointment.status: a cancelled appointment does not enrol", field="status")
        system_, value = _first_identifier(resource, "Appointment")
        actors = [p.get("actor") for p in resource.get("participant") or [] if isinstance(p, dict)]
        ref = next((a for a in actors if isinstance(a, dict) and (
            str(a.get("reference", "")).startswith("#") or a.get("identifier")) and (
            a.get("type") in (None, "Patient"))), None)
        patient = _patient(resource, ref, "Appointment.participant.actor")
        when = _date_of(resource.get("start"), "Appointment.start")
        if when is None:
            raise InvalidInput("Appointment.start: the appointment's date is needed", field="start")
        return EnrolmentRequest(kind, system_, value, patient, when)
    raise InvalidInput("resourceType: expected ServiceRequest or Appointment", field="resourceType")
