"""Demo questionnaires: a realistic ODI, ZCQ, NPRS and walking series for every demo patient with a procedure date.

Every response goes through :func:`mildpath.services.proms.record_response` (validated, scored from its answers
and audited like a real one), dated in the past relative to the demo's ``today``: a baseline before the procedure,
then each follow-up timepoint the patient has reached. Patients with a portal login (Pat, Rosa) answered on the
portal; the others on paper, typed in by their clinician.

How the numbers are drawn (deterministic: a seeded RNG of this module's own, so other seeders cannot shift it):

- Baselines in the range the trials enrolled: MOTION excluded ODI < 31 and NPRS < 5 (clinical reference §1.2,
  source: motion-eligibility), so ODI starts between 32 and 72 and pain between 5 and 10. The reference gives no
  baseline means for ZCQ or walking time: ours (ZCQ severity about 3.4, function about 2.7, walking about 7
  minutes, "marked limits on standing or walking > 15 min" in PMID 21102968) are ASSUMPTIONS.
- Improvement on average in line with the published trials (§6; sources: encore-2y, motion-1y, motion-3y):
  ODI about 14 points at 6 weeks rising to about 19 at 1-2 years (ENCORE 2 y: 22.7; MOTION 1 y: about 16, 3 y:
  16.9); NPRS about 3.5 points (ENCORE 2 y: 3.6; MOTION 3 y back 3.0, leg 4.3); ZCQ severity about 1.0 and
  function about 0.8 (ENCORE 2 y); walking time about 3.5 times baseline (MOTION 1 y: +250 %), capped at 30.
  The time course between the published timepoints is an ASSUMPTION.
- Individual variation: each patient has a response factor (about 1 for most, 0.15-0.3 for one in five: the
  non-responders; :data:`FACTORS`) and every score has noise; ZCQ satisfaction follows the response.
- Some follow-ups are missed, and a few open timepoints are left unanswered so that the clinic's follow-up list
  shows overdue patients (Rosa's 3-month questionnaires among them; her ZCQ is half done).

Idempotent: nothing is written when the demo clinic already has questionnaire responses.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from mildpath.content.schedule import follow_up_plan
from mildpath.demo import SEED, Demo, DemoPatient, register_seeder
from mildpath.domain.schedule import Timepoint, place
from mildpath.services.access import Actor
from mildpath.services.proms import ResponseIn, record_response, save_section, start_response
from mildpath.store.models import Patient, User
from mildpath.store.proms import PromResponse

RNG_SEED = SEED + 30

# Full-responder improvement by timepoint (points; ODI, NPRS, ZCQ severity and function) before the patient's
# response factor (mean about 0.84) scales it: the means land near the trial figures in the module docstring.
ODI_GAIN = {"6w": 17.0, "3m": 20.0, "6m": 22.0, "12m": 22.5, "24m": 23.0}
NPRS_GAIN = {"6w": 3.4, "3m": 4.0, "6m": 4.3, "12m": 4.3, "24m": 4.3}
ZCQ_SEVERITY_GAIN = {"6w": 1.0, "3m": 1.15, "6m": 1.2, "12m": 1.2, "24m": 1.2}
ZCQ_FUNCTION_GAIN = {"6w": 0.8, "3m": 0.9, "6m": 0.95, "12m": 0.95, "24m": 0.95}
WALKING_GAIN = {"6w": 2.2, "3m": 2.8, "6m": 3.1, "12m": 3.3, "24m": 3.4}  # times baseline, minus 1

# Demo patients whose open timepoint stays unanswered (overdue in the follow-up list), by index in STAGES.
LEAVE_OPEN = {1: "3m", 16: "3m", 24: "24m"}
# Each patient's response factor, by index in STAGES modulo 10: about one patient in five barely responds (0.15
# to 0.3), the others respond around the trial means. Fixed rather than drawn, so that with a clinic this small
# every follow-up timepoint still shows both, and the means stay near the trials whatever the noise.
FACTORS = (1.1, 1.0, 0.2, 1.25, 0.9, 1.05, 0.15, 1.2, 0.95, 0.3)


@dataclass(frozen=True)
class Profile:
    odi: float
    back: float
    leg: float
    severity: float
    function: float
    walking: float
    factor: float
    skips_odi_8: bool


def _clamp(value: float, low: float, high: float) -> float:
    return max(low, min(high, value))


def _profile(rng: random.Random, index: int) -> Profile:
    factor = max(0.0, FACTORS[index % len(FACTORS)] + rng.gauss(0, 0.08))
    return Profile(
        odi=_clamp(rng.gauss(46, 9), 32, 72),
        back=_clamp(rng.gauss(6.6, 1.3), 5, 10),
        leg=_clamp(rng.gauss(7.2, 1.2), 5, 10),
        severity=_clamp(rng.gauss(3.4, 0.4), 2.4, 4.6),
        function=_clamp(rng.gauss(2.7, 0.35), 1.8, 3.8),
        walking=_clamp(rng.gauss(7, 3.5), 1, 15),
        factor=factor,
        skips_odi_8=rng.random() < 0.15,
    )


def _spread(total: int, n: int, low: int, high: int, rng: random.Random) -> list[int]:
    """``n`` whole answers in ``low..high`` adding up to ``total`` (clamped to what is possible)."""
    total = int(_clamp(total, n * low, n * high))
    values = [low] * n
    for _ in range(total - n * low):
        open_slots = [i for i, v in enumerate(values) if v < high]
        values[rng.choice(open_slots)] += 1
    return values


def _answers(tp: Timepoint, p: Profile, rng: random.Random) -> dict[str, dict[str, Any]]:
    """One timepoint's answers to every instrument, from the profile's targets plus noise."""
    gain = p.factor if tp.after_procedure else 0.0
    key = tp.id
    odi = _clamp(p.odi - gain * ODI_GAIN.get(key, 0) + rng.gauss(0, 4), 0, 100)
    sections = [n for n in range(1, 11) if not (p.skips_odi_8 and n == 8)]
    odi_values = _spread(round(odi * 5 * len(sections) / 100), len(sections), 0, 5, rng)
    nprs_gain = gain * NPRS_GAIN.get(key, 0)
    back = round(_clamp(p.back - 0.85 * nprs_gain + rng.gauss(0, 0.8), 0, 10))
    leg = round(_clamp(p.leg - 1.1 * nprs_gain + rng.gauss(0, 0.8), 0, 10))
    severity = _clamp(p.severity - gain * ZCQ_SEVERITY_GAIN.get(key, 0) + rng.gauss(0, 0.25), 1, 5)
    function = _clamp(p.function - gain * ZCQ_FUNCTION_GAIN.get(key, 0) + rng.gauss(0, 0.2), 1, 4)
    balance = min((1, 3, 5), key=lambda v: abs(v - severity))
    sev_values = [*_spread(round(severity * 7) - balance, 6, 1, 5, rng), balance]
    fun_values = _spread(round(function * 5), 5, 1, 4, rng)
    zcq = {f"zcq-{n}": v for n, v in zip(range(1, 8), sev_values, strict=True)}
    zcq |= {f"zcq-{n}": v for n, v in zip(range(8, 13), fun_values, strict=True)}
    if tp.after_procedure:
        # Satisfaction follows the response: about 1.6 for full responders, about 3 for non-responders.
        satisfaction = _clamp(3.0 - 1.4 * p.factor + rng.gauss(0, 0.3), 1, 4)
        zcq |= {
            f"zcq-{n}": v for n, v in zip(range(13, 19), _spread(round(satisfaction * 6), 6, 1, 4, rng), strict=True)
        }
    walking = _clamp(p.walking * (1 + gain * WALKING_GAIN.get(key, 0)) + rng.gauss(0, 1.5), 0.5, 45)
    return {
        "odi": {f"odi-{n}": v for n, v in zip(sections, odi_values, strict=True)},
        "zcq": zcq,
        "nprs": {"nprs-back": back, "nprs-leg": leg},
        "walking": {"walking-minutes": round(walking)},
    }


def _answer_day(tp: Timepoint, procedure: date, today: date, rng: random.Random) -> date | None:
    """When this patient answered ``tp`` (``None``: not answered, either missed or still open)."""
    placed = place(tp, procedure, today, completed=False)
    if placed.opens > today:
        return None
    if not tp.after_procedure:  # baseline: one to six weeks before the procedure, not before its window opens
        day = max(placed.opens, procedure - timedelta(days=rng.randint(7, 42)))
        return min(day, today)
    if placed.closes < today:  # the window has closed: most answered, some missed
        if rng.random() < (0.25 if tp.optional else 0.1):
            return None
        day = placed.target + timedelta(days=rng.randint(-7, 14))
        return min(max(day, placed.opens), placed.closes)
    if today > placed.target:  # open and past its target: most answered around the target, some overdue
        if rng.random() < 0.85:
            return min(max(placed.target + timedelta(days=rng.randint(-14, 21)), placed.opens), today)
        return None
    if rng.random() < 0.3:  # open, before its target: a few answered already
        return placed.opens + timedelta(days=rng.randint(0, max(0, (today - placed.opens).days)))
    return None


def _portal_actor(session: Session, demo: Demo, patient: DemoPatient) -> Actor | None:
    user = session.scalar(select(User).where(User.patient_id == patient.patient_id, User.role == "patient"))
    return None if user is None else Actor.for_user(user, "demo")


def _record_all(
    session: Session, actor: Actor, patient: DemoPatient, tp: Timepoint, day: date, answers: dict[str, dict[str, Any]]
) -> None:
    moment = datetime.combine(day, time(15, 0), tzinfo=UTC)
    for offset, (instrument, values) in enumerate(answers.items()):
        record_response(
            session,
            actor,
            patient.patient_id,
            ResponseIn(instrument=instrument, timepoint=tp.id, answers=values, answered_on=day),
            today=day,
            now=moment + timedelta(minutes=3 * offset),
            procedure_date=patient.procedure_date,
        )


def _half_done_zcq(
    session: Session, actor: Actor, patient: DemoPatient, tp: Timepoint, today: date, answers: dict[str, Any]
) -> None:
    """Rosa started her 3-month ZCQ on the portal and stopped after two steps (to be resumed)."""
    moment = datetime.combine(today - timedelta(days=2), time(19, 30), tzinfo=UTC)
    view = start_response(
        session, actor, patient.patient_id, "zcq", tp.id, today=today, now=moment, procedure_date=patient.procedure_date
    )
    first, second = [f"zcq-{n}" for n in range(1, 5)], [f"zcq-{n}" for n in range(5, 8)]
    for step, ids in enumerate((first, second)):
        save_section(
            session,
            actor,
            patient.patient_id,
            view.id,
            step,
            {i: answers[i] for i in ids},
            now=moment + timedelta(minutes=2 * (step + 1)),
        )


@register_seeder
def seed(session: Session, demo: Demo) -> None:
    exists = session.scalar(
        select(PromResponse.id)
        .join(Patient, Patient.id == PromResponse.patient_id)
        .where(Patient.clinic_id == demo.clinic_id)
        .limit(1)
    )
    if exists is not None:
        return
    rng = random.Random(RNG_SEED)
    plan = follow_up_plan()
    for patient in demo.patients:
        profile = _profile(rng, patient.index)  # drawn for everyone: the draws do not depend on the stages
        if patient.procedure_date is None:
            continue
        portal = _portal_actor(session, demo, patient)
        actor = portal or demo.actor
        for tp in plan.timepoints:
            answers = _answers(tp, profile, rng)
            day = _answer_day(tp, patient.procedure_date, demo.today, rng)
            if LEAVE_OPEN.get(patient.index) == tp.id:
                if portal is not None:
                    _half_done_zcq(session, portal, patient, tp, demo.today, answers["zcq"])
                continue
            if patient.index == 8 and not tp.after_procedure:
                continue  # a scheduled patient whose baseline is still due (a reminder goes out)
            if day is None:
                continue
            _record_all(session, actor, patient, tp, day, answers)
