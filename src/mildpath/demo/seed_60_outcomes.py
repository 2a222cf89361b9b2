"""Demo registry history (issue 8): former patients of the demo clinic, treated two to three years ago and followed
to 24 months, so that every chart of the outcomes dashboard has enough points (the pathway stages of
``demo/__init__.py`` reach 24 months for three patients only, two of them still inside their window).

Sixteen patients (MRN ``DEMO-R01`` ...), each written through the services like a real record: registered, a
completed procedure day (checklist, record, observation, same-day discharge; one stayed overnight), paper
questionnaires at baseline and each follow-up (ODI, ZCQ, NPRS, walking), and a few events: an ED visit, an epidural
injection, a spacer and a laminectomy (clinical reference §1.4-§1.5: later interventions in about 9 % at two years
in Medicare claims; complications rare). Every window has closed, so none of them shows in the follow-up lists.

How the scores are drawn (deterministic: this module's own seeded RNG): baselines in the range the trials enrolled
(ODI >= 31 and NPRS >= 5, MOTION eligibility, source: motion-eligibility); average improvement near the published
figures (ODI about 17-23 points, pain about 3.5, ZCQ severity about 1 and function about 0.8; §6, sources:
encore-2y, motion-1y, motion-3y), one patient in five a non-responder. Between the published timepoints the time
course, and the ZCQ and walking baselines, are ASSUMPTIONS (as in ``seed_30_proms``). About one follow-up in ten is
missed. Idempotent: nothing is written when ``DEMO-R01`` exists.

They are not added to ``demo.patients``: that list mirrors ``STAGES`` one to one, which other subjects' seeders and
tests rely on. Find them by MRN (``DEMO-R%``).
"""

from __future__ import annotations

import random
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from mildpath.content.schedule import follow_up_plan
from mildpath.demo import CLINICIANS, SEED, Demo, register_seeder
from mildpath.demo.seed_40_procedures import complete_checklist
from mildpath.domain.schedule import Timepoint
from mildpath.services import procedures as procedure_svc
from mildpath.services.access import Actor
from mildpath.services.patients import PatientIn, create_patient
from mildpath.services.proms import ResponseIn, record_response
from mildpath.store.models import Patient

RNG_SEED = SEED + 60
# (given, family, sex, age, days since the procedure, levels)
HISTORY: list[tuple[str, str, str, int, int, tuple[str, ...]]] = [
    ("Bernard", "Achebe", "male", 71, 830, ("L4-L5",)),
    ("Clara", "Bianchi", "female", 68, 845, ("L3-L4", "L4-L5")),
    ("Dennis", "Cortez", "male", 77, 862, ("L4-L5",)),
    ("Elaine", "Duarte", "female", 64, 880, ("L4-L5",)),
    ("Franklin", "Eze", "male", 82, 901, ("L2-L3", "L3-L4")),
    ("Gwen", "Fontaine", "female", 73, 925, ("L4-L5",)),
    ("Herbert", "Grant", "male", 69, 948, ("L3-L4", "L4-L5")),
    ("Ida", "Halvorsen", "female", 79, 966, ("L4-L5",)),
    ("Jerome", "Ito", "male", 66, 990, ("L4-L5",)),
    ("Kathleen", "Jovanovic", "female", 75, 1012, ("L3-L4",)),
    ("Leon", "Kaplan", "male", 72, 1035, ("L4-L5",)),
    ("Marion", "Lindqvist", "female", 84, 1060, ("L3-L4", "L4-L5")),
    ("Nelson", "Mbeki", "male", 61, 1083, ("L4-L5",)),
    ("Opal", "Novak", "female", 70, 1101, ("L4-L5",)),
    ("Percy", "Okafor", "male", 78, 1124, ("L2-L3", "L3-L4")),
    ("Rita", "Pereira", "female", 67, 1150, ("L4-L5",)),
]
OVERNIGHT = {6}
# index -> (kind, days after the procedure, data)
EVENTS: dict[int, tuple[str, int, dict[str, Any]]] = {
    3: ("adverse", 2, {"type": "ed_visit_or_readmission", "severity": "mild", "serious": False}),
    5: ("reintervention", 210, {"type": "epidural_injection"}),
    9: ("reintervention", 395, {"type": "spacer"}),
    12: ("reintervention", 610, {"type": "laminectomy"}),
}
# Full-responder improvement by timepoint (as seed_30_proms); walking as a multiple of baseline, minus 1.
ODI_GAIN = {"6w": 17.0, "3m": 20.0, "6m": 22.0, "12m": 22.5, "24m": 22.0}
PAIN_GAIN = {"6w": 3.4, "3m": 4.0, "6m": 4.3, "12m": 4.3, "24m": 4.2}
SEVERITY_GAIN = {"6w": 1.0, "3m": 1.15, "6m": 1.2, "12m": 1.2, "24m": 1.15}
FUNCTION_GAIN = {"6w": 0.8, "3m": 0.9, "6m": 0.95, "12m": 0.95, "24m": 0.9}
WALKING_GAIN = {"6w": 1.6, "3m": 2.2, "6m": 2.5, "12m": 2.5, "24m": 2.4}


def _clamp(value: float, low: float, high: float) -> float:
    return max(low, min(high, value))


def _spread(total: int, n: int, low: int, high: int, rng: random.Random) -> list[int]:
    """``n`` whole answers in ``low..high`` adding up to ``total`` (clamped to what is possible)."""
    total = int(_clamp(total, n * low, n * high))
    values = [low] * n
    for _ in range(total - n * low):
        values[rng.choice([i for i, v in enumerate(values) if v < high])] += 1
    return values


def _answers(
    tp: Timepoint, base: dict[str, float], factor: float, rng: random.Random
) -> dict[str, dict[str, Any]]:
    g = factor if tp.after_procedure else 0.0
    odi = _clamp(base["odi"] - g * ODI_GAIN.get(tp.id, 0) + rng.gauss(0, 4), 0, 100)
    pain = g * PAIN_GAIN.get(tp.id, 0)
    severity = _clamp(base["severity"] - g * SEVERITY_GAIN.get(tp.id, 0) + rng.gauss(0, 0.25), 1, 5)
    function = _clamp(base["function"] - g * FUNCTION_GAIN.get(tp.id, 0) + rng.gauss(0, 0.2), 1, 4)
    balance = min((1, 3, 5), key=lambda v: abs(v - severity))
    zcq = {
        f"zcq-{n}": v
        for n, v in zip(range(1, 7), _spread(round(severity * 7) - balance, 6, 1, 5, rng), strict=True)
    }
    zcq["zcq-7"] = balance
    zcq |= {
        f"zcq-{n}": v for n, v in zip(range(8, 13), _spread(round(function * 5), 5, 1, 4, rng), strict=True)
    }
    if tp.after_procedure:
        satisfaction = _clamp(3.0 - 1.4 * factor + rng.gauss(0, 0.3), 1, 4)
        zcq |= {
            f"zcq-{n}": v
            for n, v in zip(range(13, 19), _spread(round(satisfaction * 6), 6, 1, 4, rng), strict=True)
        }
    walking = _clamp(base["walking"] * (1 + g * WALKING_GAIN.get(tp.id, 0)) + rng.gauss(0, 1.5), 0.5, 45)
    return {
        "odi": {f"odi-{n}": v for n, v in enumerate(_spread(round(odi / 2), 10, 0, 5, rng), start=1)},
        "zcq": zcq,
        "nprs": {
            "nprs-back": round(_clamp(base["back"] - 0.85 * pain + rng.gauss(0, 0.8), 0, 10)),
            "nprs-leg": round(_clamp(base["leg"] - 1.1 * pain + rng.gauss(0, 0.8), 0, 10)),
        },
        "walking": {"walking-minutes": round(walking)},
    }


def _procedure_day(
    session: Session, demo: Demo, index: int, patient_id: int, day: date, levels: tuple[str, ...]
) -> int:
    operator_id = demo.clinician_user_ids[index % 2]
    operator = CLINICIANS[index % 2][3]
    actor = demo.actor
    start = datetime.combine(day, time(8 + index % 4, 15 * (index % 3))).astimezone()
    end = start + timedelta(minutes=38 + 6 * len(levels) + index % 9)
    view = procedure_svc.schedule_procedure(
        session,
        actor,
        patient_id,
        procedure_svc.ProcedureSchedule(scheduled_date=day, operator_user_id=operator_id),
        today=demo.today,
        now=start - timedelta(days=21),
    )
    procedure_svc.update_checklist(
        session,
        actor,
        patient_id,
        view.id,
        complete_checklist(day, operator),
        today=day,
        now=start - timedelta(hours=1),
    )
    procedure_svc.start_procedure(session, actor, patient_id, view.id, now=start)
    record = {
        "procedure_date": day.isoformat(),
        "operator": operator,
        "start": start.isoformat(),
        "end": end.isoformat(),
        "levels": [{"level": lv, "side": "bilateral"} for lv in levels],
        "anaesthesia": "local",
        "sedation": "conscious",
        "epidurogram": True,
        "incisions": 1 + len(levels),
        "fluoroscopy_seconds": 80 + 30 * len(levels),
        "tissue_removed": ["lamina", "ligamentum_flavum"],
        "device_lots": [f"MILD-{day:%y%m}-R{index + 1:02d}"],
    }
    procedure_svc.save_record(
        session, actor, patient_id, view.id, record, now=end + timedelta(minutes=10), sync_recovery_plan=False
    )
    leg = {"strength": "as_before", "sensation": "as_before"}
    seen = end + timedelta(minutes=75)
    observation = {
        "at": seen.isoformat(),
        "aldrete": 10,
        "padss": 10,
        "neuro": {"left": dict(leg), "right": dict(leg)},
        "vitals": {"temperature_c": 36.7},
        "pain": 2,
        "walking": "as_before",
        "voided": True,
    }
    procedure_svc.add_observation(session, actor, patient_id, view.id, observation, now=seen)
    leave = end + timedelta(hours=2)
    if index in OVERNIGHT:
        procedure_svc.keep_overnight(
            session,
            actor,
            patient_id,
            view.id,
            "Lives alone and the escort fell through: observed overnight.",
            at=leave,
            now=leave,
        )
    else:
        readiness = {
            "escort_present": True,
            "escort_name": "Family member",
            "written_instructions_given": True,
        }
        procedure_svc.discharge(session, actor, patient_id, view.id, readiness, at=leave, now=leave)
    return view.id


def _event(
    session: Session,
    demo: Demo,
    index: int,
    patient_id: int,
    procedure_id: int,
    day: date,
    levels: tuple[str, ...],
) -> None:
    if index not in EVENTS:
        return
    kind, after, data = EVENTS[index]
    when = day + timedelta(days=after)
    now = datetime.combine(when, time(12)).astimezone()
    if kind == "adverse":
        payload = {
            **data,
            "onset": when.isoformat(),
            "outcome": "resolved",
            "recorded_by": CLINICIANS[index % 2][3],
            "description": "Seen in the emergency department for soreness at the entry site; sent home.",
        }
        procedure_svc.record_adverse_event(
            session, demo.actor, patient_id, procedure_id, payload, today=demo.today, now=now
        )
    else:
        payload = {**data, "performed_on": when.isoformat(), "levels": list(levels)}
        procedure_svc.record_reintervention(
            session, demo.actor, patient_id, procedure_id, payload, today=demo.today, now=now
        )


@register_seeder
def seed(session: Session, demo: Demo) -> None:
    """Add the registry history (see the module docstring) once."""
    exists = session.scalar(
        select(Patient.id).where(Patient.clinic_id == demo.clinic_id, Patient.mrn == "DEMO-R01").limit(1)
    )
    if exists is not None:
        return
    rng = random.Random(RNG_SEED)
    plan = follow_up_plan()
    system = Actor.system("demo")
    for index, (given, family, sex, age, days_since, levels) in enumerate(HISTORY):
        day = demo.today - timedelta(days=days_since)
        mrn = f"DEMO-R{index + 1:02d}"
        month, dom = 1 + rng.randrange(12), 1 + rng.randrange(28)
        birth = date(day.year - age - ((month, dom) > (day.month, day.day)), month, dom)  # `age` on the day
        patient = create_patient(
            session,
            system,
            PatientIn(
                mrn=mrn,
                given_name=given,
                family_name=family,
                birth_date=birth,
                sex=sex,
                phone=f"+1 555 02{index:02d}",
                email=f"{given.lower()}.{family.lower()}@example.org",
                address=f"{40 + index} Oak Avenue, Springfield",
            ),
            today=demo.today,
            clinic_id=demo.clinic_id,
        )
        procedure_id = _procedure_day(session, demo, index, patient.id, day, levels)
        _event(session, demo, index, patient.id, procedure_id, day, levels)
        _questionnaires(session, demo, patient.id, day, plan.timepoints, random.Random(RNG_SEED + index))


def _questionnaires(
    session: Session,
    demo: Demo,
    patient_id: int,
    day: date,
    timepoints: tuple[Timepoint, ...],
    rng: random.Random,
) -> None:
    """Baseline and follow-up answers of one patient (their own RNG: one patient's draws never shift another's)."""
    responder = rng.random() >= 0.2
    factor = _clamp(rng.gauss(1.0, 0.28), 0.5, 1.5) if responder else rng.uniform(0.0, 0.35)
    base = {
        "odi": _clamp(rng.gauss(46, 9), 32, 72),
        "back": _clamp(rng.gauss(6.6, 1.3), 5, 10),
        "leg": _clamp(rng.gauss(7.2, 1.2), 5, 10),
        "severity": _clamp(rng.gauss(3.4, 0.4), 2.4, 4.6),
        "function": _clamp(rng.gauss(2.7, 0.35), 1.8, 3.8),
        "walking": _clamp(rng.gauss(7, 3.5), 1, 15),
    }
    for tp in timepoints:
        answers = _answers(tp, base, factor, rng)  # drawn for every timepoint, so a miss shifts nothing
        if tp.after_procedure and rng.random() < (0.25 if tp.optional else 0.1):
            continue  # missed
        if tp.after_procedure:
            answered = tp.target(day) + timedelta(days=rng.randint(-7, 10))
        else:
            answered = day - timedelta(days=rng.randint(7, 35))
        moment = datetime.combine(answered, time(14, 0), tzinfo=UTC)
        for offset, (instrument, values) in enumerate(answers.items()):
            record_response(
                session,
                demo.actor,
                patient_id,
                ResponseIn(instrument=instrument, timepoint=tp.id, answers=values, answered_on=answered),
                today=answered,
                now=moment + timedelta(minutes=3 * offset),
                procedure_date=day,
            )
