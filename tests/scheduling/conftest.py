"""A patient of the demo clinic with nothing booked yet, in a clinic whose time zone is America/Chicago."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from mildpath.services import clock
from mildpath.services.access import Actor
from mildpath.services.patients import PatientIn, create_patient
from mildpath.store import clinics

ZONE = "America/Chicago"


@pytest.fixture
def clinic_in_chicago(db, dr_alice):  # type: ignore[no-untyped-def]
    clinic = clinics.get_or_none(db, clinic_id=dr_alice.clinic_id)
    clinic.timezone = ZONE
    db.flush()
    return clinic


@pytest.fixture
def new_patient_id(db, dr_alice, clinic_in_chicago) -> int:  # type: ignore[no-untyped-def]
    patient = create_patient(
        db, Actor.system("tests"),
        PatientIn(mrn="SCHED-1", given_name="Sam", family_name="Reyes", birth_date="1948-05-06", sex="male"),
        today=clock.today(), clinic_id=dr_alice.clinic_id)
    db.flush()
    return patient.id


@pytest.fixture
def now() -> datetime:
    return datetime.now(UTC).replace(microsecond=0)


@pytest.fixture
def in_two_weeks(now: datetime) -> str:
    """A local (clinic) start time two weeks ahead, 09:30, written without an offset."""
    return (now + timedelta(days=14)).date().isoformat() + "T09:30:00"
