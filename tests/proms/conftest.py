"""Fixtures for the questionnaire suite: a fresh patient of the demo clinic with a procedure date of our choosing,
and answer sets that score to known values (clinical reference §2, worked examples)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, timedelta

import pytest
from sqlalchemy.orm import Session

from mildpath.services.access import Actor
from mildpath.services.clock import now, today
from mildpath.services.patients import PatientIn, create_patient
from mildpath.store.procedures import add_procedure

# 16 of 45 with section 8 unanswered: 35.56 (contracts §4); all ten answered 16 of 50: 32.00.
ODI_3556 = {f"odi-{n}": v for n, v in enumerate([3, 3, 2, 1, 2, 1, 1, None, 1, 2], start=1) if v is not None}
ODI_32 = {f"odi-{n}": v for n, v in enumerate([3, 3, 2, 1, 2, 1, 1, 1, 1, 1], start=1)}
ZCQ_FOLLOW_UP = {f"zcq-{n}": v for n, v in enumerate([2, 3, 3, 2, 2, 1, 3, 2, 2, 1, 1, 1, 1, 2, 2, 1, 2, 2], start=1)}

MakePatient = Callable[..., int]


@pytest.fixture
def make_patient(db: Session, dr_alice) -> MakePatient:  # type: ignore[no-untyped-def]
    """A new patient of the demo clinic; ``days_since_procedure`` (None: no procedure yet) sets the procedure date
    relative to today through the procedure-day records."""
    counter = iter(range(1, 1000))

    def make(days_since_procedure: int | None = 100, *, given: str = "Test") -> int:
        n = next(counter)
        patient = create_patient(
            db,
            dr_alice.actor,
            PatientIn(
                mrn=f"PROMS-{n}", given_name=given, family_name=f"Patient{n}", birth_date="1950-01-01", sex="female"
            ),
            today=today(),
        )
        if days_since_procedure is not None:
            add_procedure(
                db,
                patient_id=patient.id,
                scheduled_date=today() - timedelta(days=days_since_procedure),
                operator_user_id=dr_alice.user_id,
                created_by=dr_alice.user_id,
                now=now(),
            )
        db.flush()
        return patient.id

    return make


def patient_actor(patient_id: int, user_id: int | None = None) -> Actor:
    """The patient themselves (as the portal or a phone app acts for them)."""
    return Actor(user_id, "patient", None, patient_id, "", "testclient")


def days_ago(n: int) -> date:
    return today() - timedelta(days=n)
