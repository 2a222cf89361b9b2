"""Patient education, personalised: the pages for a patient's stage of the pathway, filled in with their own
facts (procedure date, the milestones of their recovery plan, their clinic's name and phone), and their
printable discharge packet (issue 7).

The library itself is public and needs no service (:mod:`mildpath.content.education`). Reading a patient's
facts is a read of patient data, so every function here checks access (another clinic's patient or another
patient is :class:`NotFound`) and writes its audit row in the caller's transaction. The audit detail names the
page or the document, never a date, a phone number or a stage.

Where the facts come from, and what happens when a source has nothing
--------------------------------------------------------------------
- Procedure date: the latest procedure that is not cancelled, scheduled or done
  (:func:`mildpath.services.procedures.procedure_date_for`), else the date on the recovery plan.
- Milestones: the patient's recovery plan (:func:`mildpath.services.recovery.get_plan_view`, which audits its own
  read). No procedure and no plan: no date and no milestones; the pages keep their neutral wording ("your clinic
  will tell you").
- Clinic phone: the patient's clinic (``clinic.phone``), else ``Settings.clinic_phone`` passed in by the caller,
  else nothing (neutral wording on pages; the discharge packet refuses, since it must say whom to call).
- Screening: the latest screening by the clinic (a clinician assessment or a FHIR import, whatever its status;
  :func:`mildpath.services.screening.latest_statuses`). A self-check alone does not count: it is guidance the
  patient gave themselves, not a screening by the care team.
- Stage: from the procedure date and the screening (:func:`stage_for`); with neither, "considering".
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from functools import lru_cache
from typing import Any

from sqlalchemy.orm import Session

from mildpath.content.education import REFERENCE_LANGUAGE, format_date, languages
from mildpath.domain.errors import Conflict
from mildpath.reports import handouts
from mildpath.services import procedures, recovery, screening
from mildpath.services.access import Actor, get_patient_for, record
from mildpath.store import clinics as clinics_store
from mildpath.store.models import Patient

# The language of the recovery plan's milestone wording (content/milestones.yaml is written in English).
PLAN_LANGUAGE = "en"


@dataclass(frozen=True)
class PlannedStep:
    """One milestone of the recovery plan, as the patient reads it."""

    start: date
    end: date | None
    what: str
    follow_up: bool  # a visit, a call or questionnaires (what the "Your check-ups" section lists)


@dataclass(frozen=True)
class LearningProfile:
    """What the education pages may say about one patient. Templates get this plain object, never ORM rows."""

    patient_id: int
    patient_name: str
    preferred_language: str
    stage: str  # one of content.education.STAGES
    procedure_date: date | None
    clinic_name: str
    clinic_phone: str
    steps: tuple[PlannedStep, ...]

    @property
    def has_plan(self) -> bool:
        return bool(self.steps)

    def milestones(self, language: str, *, follow_ups_only: bool = False) -> list[tuple[date | str, str]]:
        """``(when, what)`` pairs for the pages and the packet, dates written out in ``language`` ("March 3,
        2026"; a milestone over several days as a range "March 3, 2026 – March 17, 2026"). The wording of each
        milestone comes from the recovery plan, which is English only today."""
        return [(_when(step, language), step.what) for step in self.steps if step.follow_up or not follow_ups_only]

    def facts(self, language: str) -> dict[str, Any]:
        """The facts :func:`mildpath.content.education.render` fills placeholders with; absent ones are left out
        so the page keeps its neutral wording. The page's "Your check-ups" list shows the follow-ups only, and only
        on a page in the plan's own language: a page cannot mark a part of its text as another language, so a
        Spanish page keeps its neutral wording (the personal page lists the plan, marked as English, instead)."""
        found: dict[str, Any] = {
            "procedure_date": self.procedure_date,
            "clinic_phone": self.clinic_phone,
            "clinic_name": self.clinic_name,
            "milestones": self.milestones(language, follow_ups_only=True) if language == PLAN_LANGUAGE else [],
        }
        return {k: v for k, v in found.items() if v}


def stage_for(procedure_date: date | None, today: date, *, screened: bool = False) -> str:
    """The education stage of a patient: ``scheduled`` up to and including the procedure day (the procedure-day
    page matters most then), ``recovery`` from the day after; without a procedure date ``screened`` once the
    clinic has screened them, else ``considering``."""
    if procedure_date is None:
        return "screened" if screened else "considering"
    return "scheduled" if procedure_date >= today else "recovery"


def preferred_language(session: Session, actor: Actor) -> str | None:
    """The signed-in patient's own preferred language (audited read), or ``None`` for anyone else or a
    language the library does not have."""
    if actor.role != "patient" or actor.patient_id is None:
        return None
    patient = get_patient_for(session, actor, actor.patient_id)
    record(session, actor, "education.language_read", "Patient", patient.id, patient.id)
    return patient.preferred_language if patient.preferred_language in languages() else None


@lru_cache(maxsize=64)
def library_handout_pdf(page_id: str, language: str, *, paper: handouts.Paper = "letter") -> bytes:
    """A public page's handout (no personal facts, so no access check or audit). The content files are read
    once per process, so each (page, language, paper) is printed once and then served from memory."""
    return handouts.page_handout_pdf(page_id, language, paper=paper)


def view_learning(
    session: Session, actor: Actor, patient_id: int, *, today: date, fallback_phone: str = "", page: str = "index"
) -> LearningProfile:
    """The patient's learning profile for a personal page (``page`` is the page id shown, for the audit row)."""
    profile = _profile(session, actor, patient_id, today=today, fallback_phone=fallback_phone)
    record(session, actor, "education.personal_read", "Patient", patient_id, patient_id, {"page": page})
    return profile


def personal_handout_pdf(
    session: Session,
    actor: Actor,
    patient_id: int,
    page_id: str,
    *,
    language: str,
    today: date,
    fallback_phone: str = "",
    paper: handouts.Paper = "letter",
) -> bytes:
    """One education page as a PDF with the patient's own facts filled in."""
    profile = _profile(session, actor, patient_id, today=today, fallback_phone=fallback_phone)
    pdf = handouts.page_handout_pdf(page_id, language, facts=profile.facts(language), paper=paper)
    record(session, actor, "education.handout", "Patient", patient_id, patient_id, {"page": page_id})
    return pdf


def discharge_packet_pdf(
    session: Session,
    actor: Actor,
    patient_id: int,
    *,
    language: str,
    today: date,
    fallback_phone: str = "",
    paper: handouts.Paper = "letter",
) -> bytes:
    """The patient's personalised discharge packet as a PDF.

    Without a procedure date the packet says so in neutral words; without any clinic phone number it is
    refused (:class:`Conflict`): a discharge packet must tell the patient whom to call.
    """
    profile = _profile(session, actor, patient_id, today=today, fallback_phone=fallback_phone)
    if not profile.clinic_phone:
        raise Conflict("the clinic has no phone number yet; set one before printing a discharge packet")
    pdf = handouts.discharge_packet_pdf(
        patient_name=profile.patient_name,
        procedure_date=profile.procedure_date or _NO_DATE.get(language, _NO_DATE[REFERENCE_LANGUAGE]),
        clinic_phone=profile.clinic_phone,
        milestones=profile.milestones(language),
        clinic_name=profile.clinic_name or None,
        language=language,
        paper=paper,
    )
    record(session, actor, "education.discharge_packet", "Patient", patient_id, patient_id, {"language": language})
    return pdf


# Neutral wording where the packet's "Procedure date" line has no date to show.
_NO_DATE = {"en": "Your clinic will tell you the date.", "es": "Su clínica le dirá la fecha."}


def _profile(session: Session, actor: Actor, patient_id: int, *, today: date, fallback_phone: str) -> LearningProfile:
    patient = get_patient_for(session, actor, patient_id)
    plan = recovery.get_plan_view(session, actor, patient_id, today=today)  # audits its own read
    # access is checked above and this read is audited by the caller, as procedure_date_for expects
    procedure_date = procedures.procedure_date_for(session, patient.id) or (plan.procedure_date if plan else None)
    latest = screening.latest_statuses(session, [patient.id]).get(patient.id)
    screened = latest is not None and latest.kind != "self_check"
    steps = _steps(plan.milestones) if plan is not None else ()
    clinic = clinics_store.get_or_none(session, clinic_id=patient.clinic_id)
    return LearningProfile(
        patient_id=patient.id,
        patient_name=_name(patient),
        preferred_language=patient.preferred_language,
        stage=stage_for(procedure_date, today, screened=screened),
        procedure_date=procedure_date,
        clinic_name=clinic.name if clinic is not None else "",
        clinic_phone=(clinic.phone if clinic is not None and clinic.phone else "") or fallback_phone.strip(),
        steps=steps,
    )


def _steps(milestones: Sequence[recovery.MilestoneView]) -> tuple[PlannedStep, ...]:
    return tuple(
        PlannedStep(start=m.start, end=m.end, what=m.title, follow_up=m.kind == "follow_up")
        for m in sorted(milestones, key=lambda m: (m.start, m.end or m.start))
    )


def _name(patient: Patient) -> str:
    return f"{patient.given_name} {patient.family_name}".strip()


def _when(step: PlannedStep, language: str) -> str:
    start = format_date(step.start, language, weekday=False)
    if step.end is None or step.end == step.start:
        return start
    return f"{start} – {format_date(step.end, language, weekday=False)}"
