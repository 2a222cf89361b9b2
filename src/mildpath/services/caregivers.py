"""Caregivers (issue 20): a patient (or the clinic, on the patient's word or form) invites someone to act for
them, choosing what they may do; either may revoke it at any time, and it holds at once.

What can be shared (store/caregivers.py): ``read`` (the education library and the recovery plan), ``diary``
(fill the symptom diary), ``questionnaires`` (answer them; scores mark the answers as given by a proxy) and
``reminders`` (receive them). A caregiver sees nothing else of the patient, and nothing of anyone else.
Everything a caregiver does is audited as the caregiver (role ``caregiver``) acting for the patient, and the
clinician sees who entered what ("entered by Ana (daughter)").

The caregiver's account is made with the invitation (no password; they open the invitation link and may set
one); someone who already cares for another patient keeps one account.
"""

from __future__ import annotations

import secrets
from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, EmailStr, Field, model_validator
from sqlalchemy.orm import Session

from mildpath.domain.errors import Conflict, InvalidInput, NotFound, PermissionDenied
from mildpath.domain.inputs import EdgeInput
from mildpath.fhir.meta import stamp
from mildpath.services import access_links
from mildpath.services.access import Actor, get_patient_for, record
from mildpath.store import access_links as accounts
from mildpath.store import caregivers as store
from mildpath.store.models import User


class Shared(EdgeInput):
    """What the caregiver may do for the patient."""

    model_config = ConfigDict(extra="forbid", strict=True)
    read: bool = Field(default=True, description="Read the education library and the recovery plan")
    diary: bool = Field(default=False, description="Fill the symptom diary")
    questionnaires: bool = Field(default=False, description="Answer questionnaires (marked as by a proxy)")
    reminders: bool = Field(default=False, description="Receive the reminders")


class CaregiverIn(EdgeInput):
    model_config = ConfigDict(extra="forbid", strict=True, str_strip_whitespace=True)
    name: str = Field(min_length=1, max_length=120)
    relation: str = Field(min_length=1, max_length=60, description="daughter, husband, neighbour...")
    email: EmailStr | None = None
    phone: str = Field(default="", max_length=40)
    channel: Literal["email", "sms"] = "email"
    shared: Shared = Field(default_factory=Shared)
    how: Literal["link", "form", "clinician"] = Field(
        default="link", description="link: the patient themself; form: signed; clinician: on the patient's word")

    @model_validator(mode="after")
    def _reachable(self) -> CaregiverIn:
        if self.channel == "email" and not self.email:
            raise ValueError("email: an invitation by email needs the caregiver's email address")
        if self.channel == "sms" and not self.phone:
            raise ValueError("phone: an invitation by text needs the caregiver's phone number")
        return self


class CaregiverView(BaseModel):
    model_config = ConfigDict(frozen=True)
    id: int
    patient_id: int
    name: str
    relation: str
    shared: list[str]
    how: str
    created_at: datetime
    revoked_at: datetime | None
    invitation_message_id: int | None = None


def _view(row: store.CaregiverGrant, message_id: int | None = None) -> CaregiverView:
    return CaregiverView(id=row.id, patient_id=row.patient_id, name=row.name, relation=row.relation,
                         shared=[p for p in store.PERMISSIONS if getattr(row, f"can_{p}")], how=row.how,
                         created_at=row.created_at, revoked_at=row.revoked_at, invitation_message_id=message_id)


def _may_manage(actor: Actor, patient_id: int, how: str | None = None) -> None:
    if actor.role == "patient":
        if actor.patient_id != patient_id:
            raise NotFound(f"no patient {patient_id}", record_type="Patient", record_id=patient_id)
        if how is not None and how != "link":
            raise PermissionDenied("a patient shares with how='link'")
    elif not actor.is_staff:
        raise PermissionDenied("the patient or their clinic manage caregivers")
    elif how == "link":
        raise InvalidInput("staff record a form ('form') or the patient's word ('clinician')", field="how")


def invite(
    session: Session, actor: Actor, patient_id: int, data: CaregiverIn, *, now: datetime, secret_key: str,
    public_url: str,
) -> CaregiverView:
    _may_manage(actor, patient_id)
    patient = get_patient_for(session, actor, patient_id)  # another clinic's patient: 404 before anything else
    _may_manage(actor, patient_id, data.how)
    # Invited by phone only: a login name of its own (two such caregivers never share an account).
    phone_only = f"caregiver-{secrets.token_hex(8)}@{access_links.NO_EMAIL_DOMAIN}"
    email = str(data.email).lower() if data.email else phone_only
    user = accounts.account_by_email(session, email=email)
    if user is not None and user.role != "caregiver":
        raise Conflict("this email belongs to another kind of account; use another address")
    if user is None:
        user = accounts.add_account(session, User(email=email, role="caregiver", password_hash="",
                                                  display_name=data.name, clinic_id=patient.clinic_id))
        record(session, actor, "user.invite", "User", user.id, patient_id, {"role": "caregiver"})
    if store.active(session, user_id=user.id, patient_id=patient_id) is not None:
        raise Conflict("this caregiver already acts for the patient: revoke first to change what is shared")
    row = store.add(session, store.CaregiverGrant(
        patient_id=patient_id, user_id=user.id, name=data.name, relation=data.relation,
        can_read=data.shared.read, can_diary=data.shared.diary, can_questionnaires=data.shared.questionnaires,
        can_reminders=data.shared.reminders, how=data.how, granted_by_user_id=actor.user_id, created_at=now,
        channel=data.channel, phone=data.phone))
    record(session, actor, "caregiver.grant", "CaregiverGrant", row.id, patient_id,
           {"shared": _view(row).shared, "how": data.how})
    message_id = None
    if not user.password_hash:
        address = str(data.email) if data.channel == "email" else data.phone
        message_id = access_links.invite_account(
            session, user, channel=data.channel, address=address, language=patient.preferred_language,
            created_by=actor.user_id, now=now, secret_key=secret_key, public_url=public_url)
    return _view(row, message_id)


def list_caregivers(session: Session, actor: Actor, patient_id: int) -> list[CaregiverView]:
    _may_manage(actor, patient_id)
    get_patient_for(session, actor, patient_id)
    return [_view(r) for r in store.for_patient(session, patient_id=patient_id)]


def revoke(session: Session, actor: Actor, patient_id: int, grant_id: int, *, now: datetime) -> CaregiverView:
    """The patient or the clinic end a caregiver's access; it holds from the next request on."""
    _may_manage(actor, patient_id)
    get_patient_for(session, actor, patient_id)
    row = store.get(session, grant_id=grant_id, patient_id=patient_id)
    if row is None:
        raise NotFound(f"no caregiver {grant_id}", record_type="CaregiverGrant", record_id=grant_id)
    if row.revoked_at is None:
        row.revoked_at, row.revoked_by_user_id = now, actor.user_id
        record(session, actor, "caregiver.revoke", "CaregiverGrant", row.id, patient_id)
    return _view(row)


class CaredFor(BaseModel):
    model_config = ConfigDict(frozen=True)
    patient_id: int
    given_name: str
    shared: list[str]


def cared_for(session: Session, actor: Actor) -> list[CaredFor]:
    """The patients a caregiver acts for, with what each shared (the caregiver's home page)."""
    if actor.role != "caregiver" or actor.user_id is None:
        raise PermissionDenied("this page is for caregivers")
    out = []
    for row in store.for_caregiver(session, user_id=actor.user_id):
        patient = accounts.patient_by_id(session, patient_id=row.patient_id)
        if patient is not None:
            out.append(CaredFor(patient_id=row.patient_id, given_name=patient.given_name,
                                shared=[p for p in store.PERMISSIONS if getattr(row, f"can_{p}")]))
    return out


def entered_by_names(session: Session, patient_id: int, user_ids: set[int | None]) -> dict[int, str]:
    """Who among ``user_ids`` is (or was) a caregiver of the patient: ``{user id: "Ana (daughter)"}``."""
    return store.names(session, patient_id=patient_id, user_ids=user_ids)


def fhir_resources_for_patient(session: Session, patient_id: int) -> list[dict[str, Any]]:
    """Each caregiver of the patient (current or revoked) as an R4 ``RelatedPerson`` (id: the grant), so that a
    questionnaire answered by a proxy (``QuestionnaireResponse.source``) resolves (patient-rights registry)."""
    return [related_person(row) for row in store.for_patient(session, patient_id=patient_id)]


def related_person(row: store.CaregiverGrant) -> dict[str, Any]:
    """The grant as a ``RelatedPerson``; last changed when revoked, else when given."""
    return stamp({"resourceType": "RelatedPerson", "id": str(row.id), "active": row.revoked_at is None,
                  "patient": {"reference": f"Patient/{row.patient_id}"}, "name": [{"text": row.name}],
                  "relationship": [{"text": row.relation}]}, row.revoked_at or row.created_at)


def acting_for(session: Session, actor: Actor, patient_id: int) -> str:
    """The given name of the patient a caregiver acts for on a page of that patient's (the banner "You are
    helping Ana"); empty for anyone else, or without a grant in force (the page's own check then refuses)."""
    if actor.role != "caregiver" or actor.user_id is None:
        return ""
    if store.active(session, user_id=actor.user_id, patient_id=patient_id) is None:
        return ""
    patient = accounts.patient_by_id(session, patient_id=patient_id)
    return patient.given_name if patient is not None else ""
