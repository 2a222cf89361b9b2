"""Plain builders for procedure-day tests: a valid record, a complete checklist, timed observations.

Each returns a valid object; tests change only what they are about with ``**overrides``.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone
from typing import Any

from mildpath.domain.procedure import (
    ObservationEntry,
    PreProcedureChecklist,
    ProcedureRecord,
)

TZ = timezone(timedelta(hours=1))
PROCEDURE_DATE = date(2025, 3, 10)


def at(hour: int, minute: int = 0, day: date = PROCEDURE_DATE) -> datetime:
    """An aware time on the procedure day (UTC+1)."""
    return datetime(day.year, day.month, day.day, hour, minute, tzinfo=TZ)


def record_data(**overrides: Any) -> dict[str, Any]:
    """A valid procedure record as JSON-like data: L4-L5 bilateral, 08:30-09:15, lamina and ligament removed."""
    data: dict[str, Any] = {
        "procedure_date": PROCEDURE_DATE.isoformat(),
        "operator": "Dr Alice Moreau",
        "start": at(8, 30).isoformat(),
        "end": at(9, 15).isoformat(),
        "levels": [{"level": "L4-L5", "side": "bilateral"}],
        "anaesthesia": "local",
        "sedation": "conscious",
        "epidurogram": True,
        "incisions": 2,
        "fluoroscopy_seconds": 80,
        "tissue_removed": ["lamina", "ligamentum_flavum"],
        "events": [],
        "device_lots": ["VX-0042"],
    }
    data.update(overrides)
    return data


def make_record(**overrides: Any) -> ProcedureRecord:
    return ProcedureRecord.model_validate(record_data(**overrides))


def checklist_data(**overrides: Any) -> dict[str, Any]:
    """Every item done: consent, imaging of 2024-11-02 reviewed, no blood thinner (confirmed), no allergy ..."""
    data: dict[str, Any] = {
        "consent": {"signed_on": "2025-02-20"},
        "imaging": {"study_date": "2024-11-02", "modality": "MRI", "reviewed": True, "reviewed_by": "Dr Moreau"},
        "anticoagulation": {"takes_blood_thinner": False, "confirmed_by": "Dr Moreau"},
        "allergies": {"contrast": "none_known", "latex": "none_known", "local_anaesthetic": "none_known"},
        "instructions": {"fasting_given": True, "sedation_given": True},
        "escort": {"arranged": True, "name": "Paul"},
        "infection": {"active_infection": False},
    }
    data.update(overrides)
    return data


def make_checklist(**overrides: Any) -> PreProcedureChecklist:
    return PreProcedureChecklist.model_validate(checklist_data(**overrides))


def normal_legs() -> dict[str, Any]:
    leg = {"strength": "as_before", "sensation": "as_before"}
    return {"left": dict(leg), "right": dict(leg)}


def observation(hour: int, minute: int = 0, **fields: Any) -> ObservationEntry:
    return ObservationEntry.model_validate({"at": at(hour, minute).isoformat(), **fields})


def ready_observations() -> list[ObservationEntry]:
    """Aldrete 9 at 09:30 with normal legs and no fever, then PADSS 10 at 10:30."""
    return [
        observation(9, 30, aldrete=9, neuro=normal_legs(), vitals={"temperature_c": 36.8}, pain=3),
        observation(10, 30, padss=10, walking="as_before", voided=True),
    ]
