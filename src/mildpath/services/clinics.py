"""Clinic management for admins (issue 18): create a clinic with its phone, address, emergency number and zone.

Only an admin (or the CLI operator) creates or edits a clinic; every change writes an audit row. The time zone
is an IANA name checked against the zone database (``zoneinfo``); empty means UTC.
"""

from __future__ import annotations

from dataclasses import dataclass
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from sqlalchemy import select
from sqlalchemy.orm import Session

from mildpath.domain.errors import Conflict, InvalidInput, NotFound
from mildpath.services.access import Actor, record, require_role
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

    def to_json(self) -> dict[str, object]:
        return {
            "id": self.id,
            "name": self.name,
            "phone": self.phone,
            "address": self.address,
            "emergency_number": self.emergency_number,
            "timezone": self.timezone,
        }

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone or "UTC")


def _view(clinic: Clinic) -> ClinicView:
    return ClinicView(
        clinic.id, clinic.name, clinic.phone, clinic.address, clinic.emergency_number, clinic.timezone or "",
        bool(clinic.staff_mfa_required),
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
    if session.scalar(select(Clinic.id).where(Clinic.name == name)) is not None:
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
    stmt = select(Clinic).order_by(Clinic.id)
    if actor.role not in ("admin", "system"):
        stmt = stmt.where(Clinic.id == actor.clinic_id)
    return [_view(c) for c in session.scalars(stmt)]


def set_staff_mfa_required(session: Session, actor: Actor, clinic_id: int, required: bool) -> ClinicView:
    """An admin asks (or stops asking) a clinic's clinicians and coordinators for a second factor; those without
    one reach only its set-up page from their next request (services/mfa.py). Audited."""
    require_role(actor, "admin")
    clinic = session.get(Clinic, clinic_id)
    if clinic is None:
        raise NotFound(f"no clinic {clinic_id}", record_type="Clinic", record_id=clinic_id)
    if bool(clinic.staff_mfa_required) != required:
        clinic.staff_mfa_required = required
        record(session, actor, "clinic.staff_mfa", "Clinic", clinic.id, None, {"required": required})
    return _view(clinic)
