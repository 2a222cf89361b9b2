"""Enrolment from the EHR (issue 20, contracts §10): a FHIR ``ServiceRequest`` for the mild procedure (CPT
0275T) or an ``Appointment`` enrols the patient: matched by MRN in the caller's clinic or created from the
contained Patient; the pathway is a scheduled procedure when the request has a date (the Appointment's start,
the ServiceRequest's occurrence), else a referral; and an invitation goes out on the patient's channel (email,
else a text when consent to texts is on record or the caller records it). Idempotent on the resource's
identifier: the same request again answers the stored resource and changes nothing.
"""

from __future__ import annotations

import copy
import dataclasses
import json
from datetime import date, datetime
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy.orm import Session

from mildpath.domain.errors import Conflict, InvalidInput, PermissionDenied
from mildpath.fhir.enrolment import EnrolmentRequest, PatientFacts, read_enrolment
from mildpath.services import access_links, consent, patients, procedures, smart
from mildpath.services.access import ENROLMENT, Actor, record
from mildpath.store import access_links as links_store
from mildpath.store import enrolments as store
from mildpath.store import messaging as messaging_store
from mildpath.store.models import Patient


class EnrolmentOut(BaseModel):
    """The answer of ``POST /api/v1/enrolments`` (contracts §10: ``patient_id`` and ``pathway``)."""

    model_config = ConfigDict(frozen=True)
    patient_id: int
    pathway: Literal["scheduled", "referral"]
    created: bool = Field(description="false: this request enrolled the patient before; nothing changed")
    procedure_id: int | None = None
    invitation_message_id: int | None = Field(default=None, description="The outbox message of the invitation")
    enrolment_id: int
    resource: dict[str, Any] = Field(description="The resource as stored: its subject is the mildpath Patient")


def _out(row: store.Enrolment, created: bool, invitation: int | None = None) -> EnrolmentOut:
    return EnrolmentOut(patient_id=row.patient_id, pathway=row.pathway, created=created,
                        procedure_id=row.procedure_id, invitation_message_id=invitation, enrolment_id=row.id,
                        resource=row.resource)


def _patient(
    session: Session, actor: Actor, clinic_id: int, facts: PatientFacts, today: date
) -> Patient | patients.PatientView:
    found = store.patient_by_mrn(session, clinic_id=clinic_id, mrn=facts.mrn)
    if found is not None:
        return found
    if not facts.complete:
        raise InvalidInput(f"no patient with MRN {facts.mrn} in this clinic: contain the Patient (name, birth "
                           "date) so that mildpath can register them", field="subject")
    data = patients.PatientIn(mrn=facts.mrn, given_name=facts.given_name, family_name=facts.family_name,
                              birth_date=facts.birth_date, sex=facts.sex, phone=facts.phone,
                              email=facts.email or None, preferred_language=facts.language)
    patients.create_patient(session, actor, data, today=today, clinic_id=clinic_id)
    created = store.patient_by_mrn(session, clinic_id=clinic_id, mrn=facts.mrn)
    assert created is not None
    return created


def _stored(resource: dict[str, Any], req: EnrolmentRequest, patient_id: int, enrolment_id: int) -> dict[str, Any]:
    stored = copy.deepcopy(resource)
    stored["id"] = str(enrolment_id)
    ref = {"reference": f"Patient/{patient_id}", "type": "Patient"}
    if req.resource_type == "ServiceRequest":
        stored["subject"] = ref
    else:
        for participant in stored.get("participant") or []:
            actor = participant.get("actor") if isinstance(participant, dict) else None
            if isinstance(actor, dict) and (str(actor.get("reference", "")).startswith("#") or actor.get("identifier")):
                participant["actor"] = ref
    stored.pop("contained", None)  # the patient now lives in mildpath
    return stored


def enrol(
    session: Session, actor: Actor, resource: Any, *, today: date, now: datetime, secret_key: str, public_url: str,
    record_sms_consent: bool = False, clinic_id: int | None = None,
) -> EnrolmentOut:
    """Enrol the patient a ServiceRequest or Appointment names (see the module's docstring). Staff of a clinic
    enrol into their clinic; the operator (``Actor.system``, the CLI) names the clinic with ``clinic_id``."""
    req = read_enrolment(resource)
    clinic_id = _enrolling_clinic(actor, clinic_id, req.resource_type)
    actor = dataclasses.replace(actor, clinic_id=clinic_id, scope=ENROLMENT) if actor.role != "system" else actor
    existing = store.find(session, clinic_id=clinic_id, resource_type=req.resource_type,
                          system=req.identifier_system, value=req.identifier_value)
    if existing is not None:
        return _out(existing, created=False)
    patient = _patient(session, actor, clinic_id, req.patient, today)
    procedure_id = None
    pathway: Literal["scheduled", "referral"] = "referral"
    if req.procedure_date is not None:
        try:
            view = procedures.schedule_procedure(
                session, actor, patient.id, procedures.ProcedureSchedule(scheduled_date=req.procedure_date),
                today=today, now=now)
        except Conflict:
            raise Conflict("the patient has a scheduled procedure already: move it in mildpath") from None
        procedure_id, pathway = view.id, "scheduled"
    row = store.add(session, store.Enrolment(
        clinic_id=clinic_id, resource_type=req.resource_type, identifier_system=req.identifier_system,
        identifier_value=req.identifier_value, patient_id=patient.id, pathway=pathway, procedure_id=procedure_id,
        resource={}, created_by_user_id=actor.user_id, created_at=now))
    row.resource = _stored(resource, req, patient.id, row.id)
    if record_sms_consent and patient.phone:
        consent.record_consent(session, actor, patient.id,
                               consent.ConsentIn(channel="sms", granted=True, how="clinician"), now=now)
    invitation = _invite(session, actor, patient, now=now, secret_key=secret_key, public_url=public_url)
    record(session, actor, "enrolment.create", req.resource_type, row.id, patient.id,
           {"pathway": pathway, "invited": invitation is not None})
    return _out(row, created=True, invitation=invitation)


def _enrolling_clinic(actor: Actor, clinic_id: int | None, resource_type: str) -> int:
    """The clinic the patient is enrolled into: the caller's own (a clinician or coordinator, or a backend client
    bound to a clinic whose token may create the resource type); the operator names it."""
    if actor.role == "backend":
        if actor.clinic_id is None:
            raise PermissionDenied("a backend client enrols patients only when it is registered for one clinic "
                                   "(mildpath fhir-client add ... --clinic ID)")
        if not smart.may_create(actor, resource_type):
            raise PermissionDenied(f"this client's token may not create {resource_type}: register it with "
                                   f"system/{resource_type}.c and ask for that scope")
        return actor.clinic_id
    if actor.role in ("clinician", "coordinator") and actor.clinic_id is not None:
        return actor.clinic_id
    if actor.role == "system" and clinic_id is not None:
        return clinic_id
    raise PermissionDenied("enrolment is done by the clinic's clinicians and coordinators, or by its EHR as a "
                           "registered backend client")


class ExportSkip(BaseModel):
    model_config = ConfigDict(frozen=True)
    file: str
    line: int
    reason: str


class ExportEnrolmentOut(BaseModel):
    """What :func:`enrol_from_export` did: patients enrolled now, requests that had enrolled them before, and
    the mild requests it could not use, each with its place and why."""

    model_config = ConfigDict(frozen=True)
    enrolled: int
    already: int
    skipped: list[ExportSkip]


# A ServiceRequest line is parsed only when it names the mild procedure's code (cheap test before JSON).
_MILD_CODE = b'"0275T"'


def enrol_from_export(
    session: Session, actor: Actor, export: Path, *, clinic_id: int | None, today: date, now: datetime,
    secret_key: str, public_url: str,
) -> ExportEnrolmentOut:
    """Enrol every patient a FHIR Bulk export's ``ServiceRequest`` for the mild procedure (CPT 0275T) names,
    exactly as ``POST /fhir/ServiceRequest`` would: the request's ``subject`` (``Patient/<id>`` or
    ``urn:uuid:<id>``) is found among the export's Patient resources and comes along as the contained Patient.
    Idempotent on the request's identifier: a second run enrols no one again. A request that cannot be used
    (no identifier, its patient not in the export, a cancelled request...) is listed with its file, line and why;
    the others still enrol. Appointments in an export do not say which procedure they are for, so only
    ServiceRequests enrol from an export."""
    from mildpath.services.referral_import import export_patients, folder_lines  # the same export reading

    if not export.is_dir():
        raise InvalidInput(f"{export}: the export must be a folder of NDJSON files", field="export")
    wanted: list[tuple[str, int, dict[str, Any], str]] = []
    skipped: list[ExportSkip] = []
    for path in sorted(export.glob("ServiceRequest*.ndjson*")):
        for number, line in enumerate(folder_lines(path), start=1):
            if _MILD_CODE not in line:
                continue
            try:
                resource = json.loads(line)
            except ValueError:
                skipped.append(ExportSkip(file=path.name, line=number, reason="not JSON"))
                continue
            ref = (resource.get("subject") or {}).get("reference") if isinstance(resource, dict) else None
            pid = _ref_id(ref)
            if pid is None:
                skipped.append(ExportSkip(file=path.name, line=number,
                                          reason="ServiceRequest.subject: a Patient reference is needed"))
                continue
            wanted.append((path.name, number, resource, pid))
    people = export_patients((ln for p in sorted(export.glob("Patient*.ndjson*")) for ln in folder_lines(p)),
                             {pid for *_, pid in wanted})
    enrolled = already = 0
    for name, number, resource, pid in wanted:
        patient = people.get(pid)
        if patient is None:
            skipped.append(ExportSkip(file=name, line=number, reason=f"Patient/{pid} is not in the export"))
            continue
        request = {**resource, "contained": [{**patient, "id": "patient"}], "subject": {"reference": "#patient"}}
        try:
            with session.begin_nested():
                out = enrol(session, actor, request, today=today, now=now, secret_key=secret_key,
                            public_url=public_url, clinic_id=clinic_id)
        except (InvalidInput, Conflict) as exc:
            skipped.append(ExportSkip(file=name, line=number, reason=exc.message))
            continue
        enrolled, already = (enrolled + 1, already) if out.created else (enrolled, already + 1)
    return ExportEnrolmentOut(enrolled=enrolled, already=already, skipped=skipped)


def _ref_id(reference: Any) -> str | None:
    if not isinstance(reference, str):
        return None
    for prefix in ("Patient/", "urn:uuid:"):
        if reference.startswith(prefix) and reference[len(prefix):]:
            return reference[len(prefix):]
    return None


def _invite(
    session: Session,
    actor: Actor,
    patient: Patient | patients.PatientView,
    *,
    now: datetime,
    secret_key: str,
    public_url: str,
) -> int | None:
    """The invitation on the patient's channel: a text when they agreed to texts, else email, else a text (held
    until consent is recorded). None when the patient has an account already, or no way to be reached."""
    account = links_store.patient_account(session, patient_id=patient.id)
    if account is not None and (account.password_hash or not account.active):
        return None
    texts = messaging_store.consent_in_force(session, patient_id=patient.id, channel="sms")
    channel: Literal["email", "sms"] | None
    if patient.phone and texts is not None and texts.granted:
        channel = "sms"
    else:
        channel = "email" if patient.email else ("sms" if patient.phone else None)
    if channel is None:
        return None
    sent = access_links.invite_patient(session, actor, access_links.InvitationIn(patient_id=patient.id,
                                                                                 channel=channel),
                                       now=now, secret_key=secret_key, public_url=public_url)
    return sent.message_id


#: R4 RequestIntent (ServiceRequest.intent, 1..1, required binding): https://hl7.org/fhir/R4/valueset-request-intent.html
REQUEST_INTENTS = frozenset({"proposal", "plan", "directive", "order", "original-order", "reflex-order",
                             "filler-order", "instance-order", "option"})


def create_service_request(
    session: Session, actor: Actor, resource: Any, *, today: date, now: datetime, secret_key: str, public_url: str,
    record_sms_consent: bool = False,
) -> EnrolmentOut:
    """``POST /fhir/ServiceRequest`` (the FHIR create interaction): :func:`enrol`, for a ServiceRequest only, with
    R4's required ``intent``. ``created`` false: the same identifier enrolled before and nothing changed."""
    if not isinstance(resource, dict) or resource.get("resourceType") != "ServiceRequest":
        raise InvalidInput("resourceType: this endpoint creates ServiceRequest resources", field="resourceType")
    if resource.get("intent") not in REQUEST_INTENTS:
        raise InvalidInput("ServiceRequest.intent: a RequestIntent code is needed (e.g. order)", field="intent")
    return enrol(session, actor, resource, today=today, now=now, secret_key=secret_key, public_url=public_url,
                 record_sms_consent=record_sms_consent)


def fhir_resources_for_patient(session: Session, patient_id: int) -> list[dict[str, Any]]:
    """The ServiceRequests that enrolled the patient, as stored (patient-rights registry; the FHIR server's read
    and search of ``ServiceRequest``)."""
    return [row.resource for row in store.for_patient(session, patient_id=patient_id, resource_type="ServiceRequest")]
