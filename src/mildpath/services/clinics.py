"""Clinic management for admins (issue 18): create a clinic with its phone, address, emergency number and zone.

Only an admin (or the CLI operator) creates or edits a clinic; every change writes an audit row. The time zone
is an IANA name checked against the zone database (``zoneinfo``); empty means UTC.
"""

from __future__ import annotations

from dataclasses import dataclass
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from pydantic import ConfigDict, Field
from sqlalchemy.orm import Session

from mildpath.domain.errors import Conflict, InvalidInput, NotFound
from mildpath.domain.inputs import EdgeInput
from mildpath.services.access import Actor, record, require_role
from mildpath.store import clinics as store
from mildpath.store.models import Clinic


@dataclass(frozen=True)
class ClinicView:
    id: int
    name: str
    phone: str
    address: str
    emergency_number: str
    timezone: str
    staff_mfa_required: bool = False  # its clinicians and coordinators must have a second factor (admins always)
    oncall_name: str = ""
    oncall_email: str = ""
    oncall_phone: str = ""
    escalate_emergency_minutes: int = 30
    escalate_same_day_minutes: int = 240

    def to_json(self) -> dict[str, object]:
        return {
            "id": self.id,
            "name": self.name,
            "phone": self.phone,
            "address": self.address,
            "emergency_number": self.emergency_number,
            "timezone": self.timezone,
            "oncall": {"name": self.oncall_name, "email": self.oncall_email, "phone": self.oncall_phone},
            "escalate_minutes": {"emergency": self.escalate_emergency_minutes,
                                 "same_day": self.escalate_same_day_minutes},
        }

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone or "UTC")


def _view(clinic: Clinic) -> ClinicView:
    return ClinicView(
        clinic.id, clinic.name, clinic.phone, clinic.address, clinic.emergency_number, clinic.timezone or "",
        staff_mfa_required=bool(clinic.staff_mfa_required),
        oncall_name=clinic.oncall_name, oncall_email=clinic.oncall_email, oncall_phone=clinic.oncall_phone,
        escalate_emergency_minutes=clinic.escalate_emergency_minutes,
        escalate_same_day_minutes=clinic.escalate_same_day_minutes,
    )


def check_timezone(name: str) -> str:
    name = name.strip()
    if not name:
        return ""
    if name not in available_timezones():
        raise InvalidInput(f"unknown time zone {name!r} (an IANA name such as America/Chicago)", field="timezone")
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise InvalidInput(f"unknown time zone {name!r}", field="timezone") from None
    return name


def add_clinic(
    session: Session,
    actor: Actor,
    *,
    name: str,
    phone: str = "",
    address: str = "",
    emergency_number: str = "",
    timezone: str = "",
) -> ClinicView:
    """Create a clinic; a second clinic of the same name is a :class:`Conflict`."""
    require_role(actor, "admin")
    name = " ".join(name.split())
    if not name or len(name) > 200:
        raise InvalidInput("a clinic needs a name (up to 200 characters)", field="name", value=name)
    if store.id_named(session, name=name) is not None:
        raise Conflict(f"a clinic named {name} exists already")
    clinic = Clinic(
        name=name,
        phone=phone.strip(),
        address=address.strip(),
        emergency_number=emergency_number.strip(),
        timezone=check_timezone(timezone),
    )
    session.add(clinic)
    session.flush()
    record(session, actor, "clinic.create", "Clinic", clinic.id, None, {"name": name})
    return _view(clinic)


def list_clinics(session: Session, actor: Actor) -> list[ClinicView]:
    """Every clinic for an admin; a staff member sees only their own."""
    require_role(actor, "admin", "clinician", "coordinator")
    only = None if actor.role in ("admin", "system") else actor.clinic_id
    if only is None and actor.role not in ("admin", "system"):
        return []
    return [_view(c) for c in store.all_clinics(session, only=only)]


def get_clinic(session: Session, actor: Actor, clinic_id: int) -> ClinicView:
    """One clinic (admins; staff their own): :class:`NotFound` otherwise."""
    require_role(actor, "admin", "clinician", "coordinator")
    clinic = store.get_or_none(session, clinic_id=clinic_id)
    if clinic is None or (actor.role not in ("admin", "system") and actor.clinic_id != clinic_id):
        raise NotFound(f"no clinic {clinic_id}", record_type="Clinic", record_id=clinic_id)
    return _view(clinic)


class ClinicUpdate(EdgeInput):
    """What an admin may change; a field left out (None) keeps its value, an empty string clears it."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)
    name: str | None = Field(default=None, min_length=1, max_length=200)
    phone: str | None = Field(default=None, max_length=40)
    address: str | None = Field(default=None, max_length=400)
    emergency_number: str | None = Field(default=None, max_length=40)
    timezone: str | None = Field(default=None, max_length=64)
    oncall_name: str | None = Field(default=None, max_length=200)
    oncall_email: str | None = Field(default=None, max_length=254)
    oncall_phone: str | None = Field(default=None, max_length=40)
    escalate_emergency_minutes: int | None = Field(default=None, ge=1, le=24 * 60)
    escalate_same_day_minutes: int | None = Field(default=None, ge=1, le=7 * 24 * 60)


def update_clinic(session: Session, actor: Actor, clinic_id: int, data: ClinicUpdate) -> ClinicView:
    """Change a clinic's details (admins); the audit row names the fields changed, not their values."""
    require_role(actor, "admin")
    clinic = store.get_or_none(session, clinic_id=clinic_id)
    if clinic is None:
        raise NotFound(f"no clinic {clinic_id}", record_type="Clinic", record_id=clinic_id)
    changes = data.model_dump(exclude_none=True)
    if "name" in changes:
        changes["name"] = " ".join(changes["name"].split())
        other = store.id_named(session, name=changes["name"])
        if other is not None and other != clinic_id:
            raise Conflict(f"a clinic named {changes['name']} exists already")
    if "timezone" in changes:
        changes["timezone"] = check_timezone(changes["timezone"])
    if changes.get("oncall_email") and "@" not in changes["oncall_email"]:
        raise InvalidInput("oncall_email: not an email address", field="oncall_email")
    changed = sorted(k for k, v in changes.items() if getattr(clinic, k) != v)
    for key in changed:
        setattr(clinic, key, changes[key])
    session.flush()
    if changed:
        record(session, actor, "clinic.update", "Clinic", clinic.id, None, {"fields": changed})
    return _view(clinic)


def set_staff_mfa_required(session: Session, actor: Actor, clinic_id: int, required: bool) -> ClinicView:
    """An admin asks (or stops asking) a clinic's clinicians and coordinators for a second factor; those without
    one reach only its set-up page from their next request (services/mfa.py). Audited."""
    require_role(actor, "admin")
    clinic = store.get_or_none(session, clinic_id=clinic_id)
    if clinic is None:
        raise NotFound(f"no clinic {clinic_id}", record_type="Clinic", record_id=clinic_id)
    if bool(clinic.staff_mfa_required) != required:
        clinic.staff_mfa_required = required
        record(session, actor, "clinic.staff_mfa", "Clinic", clinic.id, None, {"required": required})
    return _view(clinic)
