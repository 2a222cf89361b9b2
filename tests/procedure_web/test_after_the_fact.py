"""A procedure entered after the fact (issue 15 §6): the start and end times the clinician types are the truth for
the later steps (observations, discharge); the moment the Start button was pressed never contradicts them."""

from __future__ import annotations

from datetime import timedelta

import pytest

from mildpath.domain.errors import InvalidRecord
from mildpath.services import clock
from mildpath.services import procedures as svc
from mildpath.store import procedures as store
from tests.procedure_web.conftest import READINESS, complete_checklist, ready_observation, record_data


def _typed_times():  # type: ignore[no-untyped-def]
    now = clock.now().astimezone().replace(second=0, microsecond=0)
    midnight = now.replace(hour=0, minute=0)
    if now - midnight < timedelta(minutes=20):
        pytest.skip("needs 20 minutes of today behind the typed times")
    start = max(now - timedelta(minutes=50), midnight)
    return start, start + timedelta(minutes=10), now


def test_the_typed_start_and_end_are_the_truth_for_observations_and_discharge(db, dr_alice, scheduled):
    start, end, _now = _typed_times()
    svc.update_checklist(
        db,
        dr_alice.actor,
        scheduled.patient_id,
        scheduled.id,
        complete_checklist(),
        today=clock.today(),
        now=clock.now(),
    )
    # The Start button is pressed only now, after the procedure: its time is later than the typed one.
    svc.start_procedure(db, dr_alice.actor, scheduled.patient_id, scheduled.id, now=clock.now())
    view, _warnings = svc.save_record(
        db,
        dr_alice.actor,
        scheduled.patient_id,
        scheduled.id,
        record_data(start=start.isoformat(), end=end.isoformat()),
        now=clock.now(),
    )
    assert view.started_at == start  # the view shows the typed start, not the button's
    row = store.get_procedure(db, procedure_id=scheduled.id)
    assert row.started_at == start and row.ended_at == end
    # An observation between the typed end and the button's time is after the procedure: accepted.
    svc.add_observation(
        db,
        dr_alice.actor,
        scheduled.patient_id,
        scheduled.id,
        ready_observation(at=end + timedelta(minutes=2)),
        now=clock.now(),
    )
    # One before the typed start is refused.
    with pytest.raises(InvalidRecord):
        svc.add_observation(
            db,
            dr_alice.actor,
            scheduled.patient_id,
            scheduled.id,
            ready_observation(at=start - timedelta(minutes=1)),
            now=clock.now(),
        )
    done = svc.discharge(
        db,
        dr_alice.actor,
        scheduled.patient_id,
        scheduled.id,
        READINESS,
        now=clock.now(),
        at=end + timedelta(minutes=5),
    )
    assert done.discharge is not None and done.discharge.at == end + timedelta(minutes=5)
