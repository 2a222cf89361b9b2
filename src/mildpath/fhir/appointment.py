"""A mildpath appointment as a FHIR R4 ``Appointment`` (issue 18), pure: plain values in, a resource dict out.

- ``status``: booked -> ``booked``, cancelled -> ``cancelled`` (with ``cancelationReason``, R4's spelling),
  done -> ``fulfilled`` (R4 AppointmentStatus).
- ``appointmentType``: follow-up visits carry v2-0276 ``FOLLOWUP``; every kind also carries mildpath's own code
  (``evaluation``, ``procedure``, ``follow_up``) in :data:`KIND_SYSTEM`, so no meaning is forced onto HL7 codes.
- ``start``/``end`` are instants with the clinic's offset; ``participant`` names the patient and, when known,
  the clinician (``Practitioner/<user id>``), each ``accepted`` (``participant.status`` is required in R4).
- The place is free text in ``comment``: mildpath keeps no ``Location`` resources.
Elements are the ones R4 and R4B share (contracts §5).
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from mildpath.fhir.meta import stamp

KIND_SYSTEM = "https://mildpath.org/fhir/CodeSystem/appointment-kind"
V2_0276 = "http://terminology.hl7.org/CodeSystem/v2-0276"
STATUS = {"booked": "booked", "cancelled": "cancelled", "done": "fulfilled"}
KIND_TEXT = {"evaluation": "Specialist evaluation", "procedure": "mild procedure", "follow_up": "Follow-up visit"}


def appointment_resource(
    *,
    appointment_id: int,
    patient_id: int,
    kind: str,
    start: datetime,
    duration_minutes: int,
    status: str,
    place: str = "",
    clinician_user_id: int | None = None,
    cancel_reason: str = "",
    last_updated: datetime | None = None,
) -> dict[str, Any]:
    """``start`` must carry its zone (the clinic's); it is written with that offset."""
    codings = [{"system": KIND_SYSTEM, "code": kind, "display": KIND_TEXT.get(kind, kind)}]
    if kind == "follow_up":
        codings.append({"system": V2_0276, "code": "FOLLOWUP",
                        "display": "A follow up visit from a previous appointment"})
    resource: dict[str, Any] = {
        "resourceType": "Appointment",
        "id": str(appointment_id),
        "status": STATUS.get(status, "booked"),
        "appointmentType": {"coding": codings, "text": KIND_TEXT.get(kind, kind)},
        "start": start.isoformat(),
        "end": (start + timedelta(minutes=duration_minutes)).isoformat(),
        "minutesDuration": duration_minutes,
        "participant": [{"actor": {"reference": f"Patient/{patient_id}"}, "status": "accepted"}],
    }
    if clinician_user_id is not None:
        resource["participant"].append(
            {"actor": {"reference": f"Practitioner/{clinician_user_id}"}, "status": "accepted"})
    if place:
        resource["comment"] = f"Place: {place}"
    if status == "cancelled" and cancel_reason:
        resource["cancelationReason"] = {"text": cancel_reason}
    return stamp(resource, last_updated)
