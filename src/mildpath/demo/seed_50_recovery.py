"""Demo recovery: a plan for every demo patient who has had (or has today) the procedure, and symptom diaries
across the four triage levels, so that the clinician worklist is alive in the demo.

Entries go through :func:`mildpath.services.recovery.record_diary_entry` (so they are triaged by the shipped
rules, flagged, notified and audited like real ones), dated relative to the demo's ``today``. Which level each
entry gets is the rules' answer, not written here; the vignettes below were chosen to reach every level:
at least one open emergency, open and acknowledged same-day flags, review flags and many expected entries.
Idempotent: a patient who already has a plan or diary entries is left alone.
"""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from mildpath.demo import Demo, DemoPatient, register_seeder
from mildpath.services.access import Actor
from mildpath.services.recovery import (
    PlanIn,
    acknowledge_flag,
    record_diary_entry,
    resolve_flag,
    set_plan,
)
from mildpath.store import recovery as store
from mildpath.store.models import User

PLAN_STAGES = ("recovery", "follow_up", "procedure_today")
FINE: list[str] = ["fine"]

# Day-1 to day-4 soreness with pain falling: the common course (no rule above `expected` fires).
_EARLY = [
    {"pain_back": 4, "pain_leg": 3, "incision": FINE, "temperature_c": 36.9, "activity": "Short walks at home"},
    {"pain_back": 3, "pain_leg": 2, "incision": FINE, "activity": "Walked to the mailbox"},
    {"pain_back": 2, "pain_leg": 2, "incision": FINE, "pain_medicines": ["acetaminophen"]},
    {"pain_back": 2, "pain_leg": 1, "incision": FINE, "pain_compared_with_before": "better"},
]
_NO_SIGNS = {
    "new_numbness": False,
    "new_weakness": False,
    "bilateral_weakness": False,
    "saddle_numbness": False,
    "bladder_bowel_change": False,
    "headache_upright": False,
}

_WOUND_NOTE = "Wound checked in clinic the same day; dressing changed, follow-up call booked."
_ED_NOTE = "Seen in the emergency department the same day; assessed and discharged home."

# (demo patient index, day after the procedure, answers, then: None | "ack" | ("resolve", note)).
# Indices refer to demo/__init__.py STAGES; a day beyond the patient's own day count is skipped.
Vignette = tuple[int, int, dict[str, Any], Any]
VIGNETTES: list[Vignette] = [
    # Pat (day 5): an uneventful first week.
    (0, 1, _EARLY[0], None),
    (0, 2, _EARLY[1], None),
    (0, 3, _EARLY[2], None),
    (0, 4, _EARLY[3], None),
    # Rosa (day 100): early soreness, then better.
    (1, 1, _EARLY[0], None),
    (1, 4, _EARLY[3], None),
    (1, 30, {"pain_back": 1, "pain_leg": 1, "pain_compared_with_before": "better"}, None),
    # Procedure today: soreness on day 0.
    (9, 0, {"pain_back": 3, "pain_leg": 2, "incision": FINE}, None),
    # Day 1: new leg weakness -> emergency, still open.
    (10, 1, {"pain_back": 4, "pain_leg": 6, "new_weakness": True, "incision": FINE}, None),
    # Day 2: positional headache -> same day, open.
    (11, 1, _EARLY[0], None),
    (11, 2, {"pain_back": 3, "pain_leg": 2, "headache_upright": True, "incision": FINE}, None),
    # Day 9: a fever on day 5 -> same day, acknowledged; fine since.
    (12, 1, _EARLY[0], None),
    (12, 3, _EARLY[2], None),
    (12, 5, {"pain_back": 3, "temperature_c": 38.4, "fever_or_chills": True, "incision": ["redness"]}, "ack"),
    (12, 8, {"pain_back": 2, "pain_leg": 1, "temperature_c": 36.8, "incision": FINE}, None),
    # Day 20: pain worse than before on day 14, a long flare on day 18 -> review.
    (13, 1, _EARLY[0], None),
    (13, 2, _EARLY[1], None),
    (13, 5, _EARLY[3], None),
    (13, 14, {"pain_back": 7, "pain_leg": 6, "pain_compared_with_before": "worse"}, None),
    (13, 18, {"pain_back": 6, "pain_leg": 5, "flare_days": 9}, "ack"),
    # Day 45: no improvement at the 6-week mark -> review.
    (14, 2, _EARLY[1], None),
    (14, 7, {"pain_back": 3, "pain_leg": 3, "incision": FINE}, None),
    (14, 43, {"pain_back": 5, "pain_leg": 6, "pain_compared_with_before": "same"}, None),
    # Day 60: wound drainage on day 3 -> same day, resolved; fine since.
    (15, 3, {"pain_back": 3, "incision": ["drainage", "redness"]}, ("resolve", _WOUND_NOTE)),
    (15, 10, {"pain_back": 2, "pain_leg": 1, "incision": FINE}, None),
    (16, 2, _EARLY[1], None),
    # Day 130: a bladder change on day 2 -> emergency, resolved.
    (29, 2, {"bladder_bowel_change": True, "pain_back": 5}, ("resolve", _ED_NOTE)),
    (29, 10, {"pain_back": 2, "pain_leg": 2, "incision": FINE}, None),
]


@register_seeder
def seed(session: Session, demo: Demo) -> None:
    """Plans, then diaries, for the demo patients with a procedure date; a second run changes nothing."""
    by_index = {p.index: p for p in demo.patients}
    seeded: set[int] = set()
    for patient in demo.patients:
        planned = patient.stage in PLAN_STAGES and patient.procedure_date is not None
        if not planned:
            continue
        _seed_plan(session, demo, patient)
        # Diaries are seeded for every planned patient who has none yet, whoever made the plan (the
        # procedure-day seeder may run first): a second run finds the entries and adds nothing.
        if not store.has_entries(session, patient_id=patient.patient_id):
            seeded.add(patient.index)
    for index, day, answers, then in VIGNETTES:
        vignette_patient = by_index.get(index)
        if vignette_patient is None or index not in seeded or vignette_patient.procedure_date is None:
            continue
        if day > (demo.today - vignette_patient.procedure_date).days:
            continue
        _seed_entry(session, demo, vignette_patient, day, answers, then)


def _seed_plan(session: Session, demo: Demo, patient: DemoPatient) -> bool:
    """Set the plan unless one exists; True when this run created it."""
    assert patient.procedure_date is not None
    if store.get_plan(session, patient_id=patient.patient_id) is not None:
        return False
    # Every third patient has physical therapy prescribed and a shorter lifting pause, for variety.
    therapy = patient.index % 3 == 0
    data = PlanIn(
        procedure_date=patient.procedure_date,
        no_lifting_weeks=4 if therapy else None,
        physical_therapy=therapy,
    )
    set_plan(session, demo.actor, patient.patient_id, data, today=demo.today)
    return True


def _seed_entry(
    session: Session, demo: Demo, patient: DemoPatient, day: int, answers: dict[str, Any], then: Any
) -> None:
    assert patient.procedure_date is not None
    when = datetime.combine(patient.procedure_date + timedelta(days=day), time(9, 30), tzinfo=UTC)
    # A patient with a login enters their own diary; the others' entries stand for the clinic's phone checks,
    # entered by the first clinician.
    user = session.scalar(select(User).where(User.patient_id == patient.patient_id))
    actor = Actor.for_user(user, "demo") if user is not None else demo.actor
    data = {**_NO_SIGNS, **answers, "days_since_procedure": day}
    view = record_diary_entry(session, actor, patient.patient_id, data, now=when)
    if view.flag_id is None or then is None:
        return
    handled = when + timedelta(hours=2)
    if then == "ack":
        acknowledge_flag(session, demo.actor, view.flag_id, now=handled)
    else:
        resolve_flag(session, demo.actor, view.flag_id, then[1], now=handled)
