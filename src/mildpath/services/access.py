"""Who is asking, and which patients they may see.

One access function per record type; anything not visible is :class:`NotFound` (404), never 403, so that the
existence of another clinic's patient does not leak (conventions §4).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol

from sqlalchemy import Select
from sqlalchemy.orm import Session

from mildpath.domain.errors import NotFound, PermissionDenied
from mildpath.store import audit, caregivers
from mildpath.store import patients as patients_store
from mildpath.store.models import Patient


class Account(Protocol):
    """What an actor is made from: an account (``services.auth.UserView``, or the row inside a service)."""

    @property
    def id(self) -> int: ...
    @property
    def role(self) -> str: ...
    @property
    def clinic_id(self) -> int | None: ...
    @property
    def patient_id(self) -> int | None: ...
    @property
    def email(self) -> str: ...


@dataclass(frozen=True)
class Actor:
    """The person (or the system) behind a request or a command."""

    user_id: int | None
    role: str  # patient | clinician | admin | caregiver | system
    clinic_id: int | None = None
    patient_id: int | None = None
    email: str = ""
    address: str = ""
    # For a caregiver: what the route they called lets them do for a patient (read, diary, questionnaires);
    # set by the route's policy (web/deps.py), checked against what the patient shared (get_patient_for).
    scope: str = ""
    # For a SMART backend client (role ``backend``, services/smart.py): the scopes its access token carries;
    # ``email`` holds its client id, ``clinic_id`` the clinic it is bound to (None: every clinic).
    scopes: tuple[str, ...] = ()

    @classmethod
    def for_user(cls, user: Account, address: str = "") -> Actor:
        return cls(user.id, user.role, user.clinic_id, user.patient_id, user.email, address)

    @classmethod
    def system(cls, what: str = "cli") -> Actor:
        """The operator at the command line or a background job: full access, audited as 'system'."""
        return cls(None, "system", None, None, what, "local")

    @classmethod
    def backend(cls, client_id: str, clinic_id: int | None, scopes: tuple[str, ...], address: str = "") -> Actor:
        """A registered SMART backend or CDS Hooks client (services/smart.py), audited as ``backend`` + its id."""
        return cls(None, "backend", clinic_id, None, client_id, address, scopes=scopes)

    @property
    def is_staff(self) -> bool:
        return self.role in ("clinician", "admin", "system")


def visible_patients(actor: Actor) -> Select[Patient]:
    """The patients this actor may see, as a query to refine (store/patients.py builds it)."""
    return patients_store.visible(role=actor.role, clinic_id=actor.clinic_id, patient_id=actor.patient_id)


def get_patient_for(session: Session, actor: Actor, patient_id: int, *, permission: str | None = None) -> Patient:
    """The patient if the actor may see them; :class:`NotFound` otherwise (the same answer as no such id).

    A caregiver sees a patient only for what the patient shared with them (``permission``: ``read``, ``diary``,
    ``questionnaires``; store/caregivers.py), and only where the service names it: nowhere else."""
    if actor.role == "caregiver":
        grant = caregivers.active(session, user_id=actor.user_id or 0, patient_id=patient_id)
        wanted = permission or actor.scope
        found = patients_store.by_ids(session, patient_ids=[patient_id]).get(patient_id) if (
            grant and wanted and grant.allows(wanted)) else None
        if found is None:
            raise NotFound(f"no patient {patient_id}", record_type="Patient", record_id=patient_id)
        return found
    patient = patients_store.get_visible(
        session, role=actor.role, clinic_id=actor.clinic_id, own_patient_id=actor.patient_id, patient_id=patient_id
    )
    if patient is None:
        raise NotFound(f"no patient {patient_id}", record_type="Patient", record_id=patient_id)
    return patient


def require_role(actor: Actor, *roles: str) -> None:
    if actor.role not in roles and actor.role != "system":
        raise PermissionDenied(f"this needs the role {' or '.join(roles)}")


#: ``Actor.scope`` of a coordinator or an EHR's backend client while services/enrolments.py enrols a patient: the
#: services it calls (registering the patient, scheduling, the invitation) then admit it as staff of its clinic.
ENROLMENT = "enrolment"


def enrolling(actor: Actor) -> bool:
    """Whether the actor is a coordinator or a backend client acting inside an enrolment (see ``ENROLMENT``)."""
    return actor.scope == ENROLMENT and actor.role in ("coordinator", "backend") and actor.clinic_id is not None


def require_staff(actor: Actor) -> None:
    if enrolling(actor):
        return
    require_role(actor, "clinician", "admin")


def record(
    session: Session,
    actor: Actor,
    action: str,
    record_type: str,
    record_id: str | int | None,
    patient_id: int | None,
    detail: dict[str, Any] | None = None,
) -> None:
    """Write the audit row for what ``actor`` just did, in the same transaction (a backend client's row names
    its client id in ``detail``)."""
    if actor.role == "backend":
        detail = {**(detail or {}), "client_id": actor.email}
    audit.add_event(
        session,
        actor_user_id=actor.user_id,
        actor_role=actor.role,
        action=action,
        record_type=record_type,
        record_id=record_id,
        patient_id=patient_id,
        address=actor.address,
        detail=detail,
    )
