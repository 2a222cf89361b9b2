"""Fixtures for the procedure-day web suite: a fresh procedure scheduled today for a demo patient who has none,
and the JSON of a complete checklist, a valid record and observations that meet the discharge criteria."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any

import pytest

from mildpath.services import clock
from mildpath.services import procedures as svc

# Demo patients by index (demo/__init__.py STAGES): 2 is at the self-check stage (no procedure yet),
# 0 is Pat (recovery, completed procedure), 9 has the procedure today.
FRESH_INDEX = 2
TODAY_INDEX = 9


@pytest.fixture
def fresh_patient_id(world) -> int:  # type: ignore[no-untyped-def]
    return world.demo_patient_ids[FRESH_INDEX]


@pytest.fixture
def today_patient_id(world) -> int:  # type: ignore[no-untyped-def]
    return world.demo_patient_ids[TODAY_INDEX]


@pytest.fixture
def scheduled(db, dr_alice, fresh_patient_id) -> svc.ProcedureView:  # type: ignore[no-untyped-def]
    """A procedure scheduled today (nothing on its checklist yet) for a patient without one."""
    data = svc.ProcedureSchedule(scheduled_date=clock.today())
    return svc.schedule_procedure(db, dr_alice.actor, fresh_patient_id, data, today=clock.today(), now=clock.now())


def complete_checklist(day: date | None = None) -> dict[str, Any]:
    day = day or clock.today()
    return {
        "consent": {"signed_on": (day - timedelta(days=7)).isoformat()},
        "imaging": {"study_date": (day - timedelta(days=30)).isoformat(), "modality": "MRI", "reviewed": True},
        "anticoagulation": {"takes_blood_thinner": False, "confirmed_by": "Dr Alice Moreno"},
        "allergies": {"contrast": "none_known", "latex": "none_known", "local_anaesthetic": "none_known"},
        "instructions": {"fasting_given": True, "sedation_given": True},
        "escort": {"arranged": True, "name": "Sam"},
        "infection": {"active_infection": False},
    }


def recent_times(minutes: int = 40) -> tuple[datetime, datetime]:
    """A start and an end that lie today and not in the future (start at most ``minutes`` ago, never before
    midnight)."""
    now = clock.now().astimezone().replace(second=0, microsecond=0)
    midnight = now.replace(hour=0, minute=0)
    start = max(now - timedelta(minutes=minutes), midnight)
    return start, now if now > start else start + timedelta(minutes=1)


def record_data(day: date | None = None, **overrides: Any) -> dict[str, Any]:
    start, end = recent_times()
    data: dict[str, Any] = {
        "procedure_date": (day or start.date()).isoformat(),
        "operator": "Dr Alice Moreno",
        "start": start.isoformat(),
        "end": end.isoformat(),
        "levels": [{"level": "L4-L5", "side": "bilateral"}],
        "anaesthesia": "local",
        "sedation": "conscious",
        "epidurogram": True,
        "incisions": 2,
        "fluoroscopy_seconds": 90,
        "tissue_removed": ["lamina", "ligamentum_flavum"],
        "device_lots": ["LOT-1"],
    }
    data.update(overrides)
    return data


def ready_observation(at: datetime | None = None) -> dict[str, Any]:
    leg = {"strength": "as_before", "sensation": "as_before"}
    return {
        "at": (at or clock.now()).isoformat(),
        "aldrete": 10,
        "padss": 10,
        "neuro": {"left": dict(leg), "right": dict(leg)},
        "vitals": {"temperature_c": 36.8},
        "pain": 2,
        "walking": "as_before",
        "voided": True,
    }


READINESS = {"escort_present": True, "escort_name": "Sam", "written_instructions_given": True}
