"""Demo screenings: a stored candidacy screening for every demo patient, matching their stage of the pathway.

Each one goes through :func:`mildpath.services.screening.screen_patient_from_form` (validated, screened against
the shipped criteria set and audited like a real one):

- patients with a procedure date (scheduled, procedure today, recovery, follow-up) and the ``screened`` stage:
  a clinician assessment three weeks before the procedure (a few days ago for ``screened``) that makes them a
  **likely candidate**: stenosis confirmed, neurogenic claudication, failed conservative care, ligamentum flavum
  3.5-6.0 mm on MRI in the past 1-4 months (hypertrophy measures 4.9-5.3 mm on average, source: imaging; the
  criterion needs >= 2.5 mm, source: motion-eligibility), ODI 32-70 and pain 5-9 (MOTION excluded ODI < 31 and
  NPRS < 5, source: motion-eligibility), no exclusion. Every fourth one takes a blood thinner that its
  prescriber agreed to hold (source: asra-anticoagulation).
- ``needs_information``: an assessment without imaging: **needs more information** (the LF thickness).
- ``not_candidate``: grade II spondylolisthesis: **not a candidate** (source: exclusions).
- ``urgent``: new bladder disturbance and saddle numbness yesterday: **urgent referral** (source: red-flags-ces).
- ``self_check``: the patient's self-check, typed in by the clinician from the paper form, whose guidance is to
  ask a spine specialist about mild. Pat (who has a portal login) also saved a self-check of their own before the
  assessment.

The ODI and pain numbers are drawn here, not read from the demo questionnaires (their seeder runs later): the
assessment stands for the clinic's pre-procedure work-up. Deterministic (a seeded RNG of this module's own);
idempotent: nothing is written when the demo clinic already has screenings.
"""

from __future__ import annotations

import random
from datetime import date, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from mildpath.demo import SEED, Demo, DemoPatient, register_seeder
from mildpath.services.access import Actor
from mildpath.services.screening import screen_patient_from_form
from mildpath.store.models import Patient, User
from mildpath.store.screenings import Screening

RNG_SEED = SEED + 20
WITH_PROCEDURE = ("scheduled", "procedure_today", "recovery", "follow_up")


def _likely(rng: random.Random, day: date, index: int) -> dict[str, Any]:
    """A pre-procedure clinician assessment of a likely candidate (ranges: see the module docstring)."""
    answers: dict[str, Any] = {
        "lss_confirmed": True,
        "neurogenic_claudication": True,
        "symptom_months": rng.randrange(6, 61),
        "conservative_care_failed": True,
        "lf_thickness_mm": round(rng.uniform(3.5, 6.0), 1),
        "imaging_date": (day - timedelta(days=rng.randrange(30, 121))).isoformat(),
        "imaging_modality": "MRI",
        "odi_score": round(rng.uniform(32, 70), 2),
        "odi_date": (day - timedelta(days=rng.randrange(0, 15))).isoformat(),
        "nprs": rng.randrange(5, 10),
        "nprs_date": (day - timedelta(days=rng.randrange(0, 15))).isoformat(),
        "spondylolisthesis": False,
        "instability": False,
        "prior_lumbar_surgery": False,
        "dominant_foraminal_or_disc": False,
        "severe_neurological_deficit": False,
        "infection": False,
        "bleeding_disorder": False,
        "on_anticoagulant": index % 4 == 3,
        "cauda_equina_signs": False,
        "other_red_flags": False,
    }
    if answers["on_anticoagulant"]:
        answers["anticoagulant_can_be_held"] = True
    return answers


SELF_CHECKS: list[dict[str, Any]] = [
    {
        "told_lss": True,
        "leg_symptoms_standing_walking": True,
        "relief_sitting_bending": True,
        "walk_tolerance": "5_to_15_minutes",
        "symptom_duration": "more_than_12_months",
        "treatments_tried": ["physical_therapy", "pain_medicine"],
        "treatment_not_enough": True,
        "blood_thinner": False,
        "bladder_bowel_change": False,
        "saddle_numbness": False,
        "both_legs_weak": False,
        "sexual_dysfunction": False,
        "fever": False,
        "unexplained_weight_loss": False,
        "cancer_history": False,
        "night_pain": False,
        "recent_trauma": False,
    },
    {
        "told_lss": True,
        "leg_symptoms_standing_walking": True,
        "relief_sitting_bending": True,
        "walk_tolerance": "under_5_minutes",
        "symptom_duration": "3_to_12_months",
        "treatments_tried": ["home_exercise", "pain_medicine", "injections"],
        "treatment_not_enough": True,
        "blood_thinner": True,
        "bladder_bowel_change": False,
        "saddle_numbness": False,
        "both_legs_weak": False,
        "fever": False,
        "cancer_history": False,
        "recent_trauma": False,
    },
]


@register_seeder
def seed(session: Session, demo: Demo) -> None:
    exists = session.scalar(
        select(Screening.id)
        .join(Patient, Patient.id == Screening.patient_id)
        .where(Patient.clinic_id == demo.clinic_id)
    )
    if exists is not None:
        return
    rng = random.Random(RNG_SEED)
    self_checks = 0
    for patient in demo.patients:
        draw = _likely(rng, demo.today, patient.index)  # drawn for everyone: each patient's numbers stay put
        day, kind, answers = _plan(patient, demo, draw, self_checks)
        if kind == "self_check":
            self_checks += 1
        if patient.index == 0 and patient.procedure_date is not None:
            _pat_own_self_check(session, demo, patient)
        # Only people not yet treated become referrals (issue 18): the others' screenings are history.
        screen_patient_from_form(
            session, _actor(demo, patient), patient.patient_id, kind, answers, today=demo.today, as_of=day,
            refer=patient.procedure_date is None,
        )


def _plan(patient: DemoPatient, demo: Demo, draw: dict[str, Any], self_checks: int) -> tuple[date, str, dict[str, Any]]:
    """(as-of date, kind, answers) of the patient's screening, by stage."""
    stage = patient.stage
    if stage in WITH_PROCEDURE and patient.procedure_date is not None:
        day = min(patient.procedure_date - timedelta(days=21), demo.today)
        return day, "clinician_assessment", _redate(draw, demo.today, day)
    day = demo.today - timedelta(days=3 + patient.index % 5)
    if stage == "needs_information":
        no_imaging = {k: v for k, v in _redate(draw, demo.today, day).items() if not k.startswith(("lf_", "imaging"))}
        return day, "clinician_assessment", no_imaging
    if stage == "not_candidate":
        # source: exclusions (spondylolisthesis above grade I)
        answers = _redate(draw, demo.today, day) | {"spondylolisthesis": True, "spondylolisthesis_grade": 2}
        return day, "clinician_assessment", answers
    if stage == "urgent":
        day = demo.today - timedelta(days=1)
        # source: red-flags-ces (new bladder disturbance, saddle numbness)
        return day, "clinician_assessment", _redate(draw, demo.today, day) | {"cauda_equina_signs": True}
    if stage == "self_check":
        return day, "self_check", dict(SELF_CHECKS[self_checks % len(SELF_CHECKS)])
    return day, "clinician_assessment", _redate(draw, demo.today, day)  # screened


def _redate(answers: dict[str, Any], drawn_on: date, day: date) -> dict[str, Any]:
    """The drawn answers with their dates moved from the draw day to the assessment day (same intervals)."""
    shift = drawn_on - day
    out = dict(answers)
    for key in ("imaging_date", "odi_date", "nprs_date"):
        if key in out:
            out[key] = (date.fromisoformat(out[key]) - shift).isoformat()
    return out


def _actor(demo: Demo, patient: DemoPatient) -> Actor:
    """The patient's own clinician (the demo's two clinicians share the clinic)."""
    return Actor(patient.operator_user_id, "clinician", demo.clinic_id, None, "", "demo")


def _pat_own_self_check(session: Session, demo: Demo, patient: DemoPatient) -> None:
    """Pat saved a self-check on the portal a month before the assessment."""
    user = session.scalar(select(User).where(User.patient_id == patient.patient_id, User.role == "patient"))
    if user is None or patient.procedure_date is None:
        return
    day = min(patient.procedure_date - timedelta(days=51), demo.today)
    screen_patient_from_form(
        session,
        Actor.for_user(user, "demo"),
        patient.patient_id,
        "self_check",
        SELF_CHECKS[0],
        today=demo.today,
        as_of=day,
        refer=False,
    )
