"""Demo procedure days (issue 5), written through the procedure services as the demo clinician.

By stage (demo/__init__.py ``STAGES``):

- ``scheduled``: a procedure on its date with a partly filled checklist (consent and imaging first);
- ``procedure_today``: scheduled today, every checklist item done except the escort home, so that the bedside
  pages (and the browser test) walk it from checklist to discharge; the patient takes apixaban, held as the
  (UNVERIFIED) interval on file says, with the prescriber's agreement;
- ``recovery`` and ``follow_up``: completed on their procedure date: the record, two observations and a same-day
  discharge; one patient was kept overnight (with the reason). The recovery plans themselves come from the
  recovery seeder (seed_50_recovery), with the same procedure dates.

Complications are rare after mild (clinical reference §1.5: 1.3 % related events in ENCORE, none serious), so
the demo carries two minor, non-serious events among 19 completed procedures, and two later interventions
among the patients followed for more than a year (Medicare claims: about 9 % had a subsequent procedure at two
years, §1.4). Deterministic: fixed tables, no randomness. Idempotent: a patient who has any procedure is skipped.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any

from sqlalchemy.orm import Session

from mildpath.demo import CLINICIANS, Demo, DemoPatient, register_seeder
from mildpath.services import procedures as svc
from mildpath.store import procedures as store

# Variety of records, cycled by patient index: (levels with sides, minutes, fluoroscopy s, incisions, tissues).
# Usually bilateral at 1 or 2 levels, under an hour (clinical reference §5).
RECORD_SHAPES: list[tuple[list[tuple[str, str]], int, int, int, list[str]]] = [
    ([("L4-L5", "bilateral")], 42, 95, 2, ["lamina", "ligamentum_flavum"]),
    ([("L3-L4", "bilateral"), ("L4-L5", "bilateral")], 58, 140, 3, ["lamina", "ligamentum_flavum"]),
    ([("L4-L5", "left")], 35, 70, 2, ["ligamentum_flavum"]),
    ([("L4-L5", "bilateral")], 47, 110, 2, ["lamina", "ligamentum_flavum"]),
    ([("L2-L3", "bilateral"), ("L3-L4", "bilateral")], 55, 150, 3, ["lamina", "ligamentum_flavum"]),
]
OVERNIGHT_INDEX = 11
OVERNIGHT_REASON = "Still drowsy after sedation late in the afternoon (modified Aldrete 8): observed overnight."


@dataclass(frozen=True)
class DemoEvent:
    kind: str  # "adverse" | "reintervention"
    days_after: int
    data: dict[str, Any]


EVENTS: dict[int, list[DemoEvent]] = {
    14: [
        DemoEvent(
            "adverse",
            3,
            {
                "type": "ed_visit_or_readmission",
                "severity": "mild",
                "serious": False,
                "outcome": "resolved",
                "description": "ED visit for soreness at the entry site; examined and sent home with analgesia.",
            },
        )
    ],
    17: [
        DemoEvent(
            "adverse",
            9,
            {
                "type": "surgical_site_infection",
                "severity": "mild",
                "serious": False,
                "outcome": "resolved",
                "description": "Superficial redness at the entry site; oral antibiotics, resolved.",
            },
        )
    ],
    19: [DemoEvent("reintervention", 280, {"type": "epidural_injection", "levels": ["L4-L5"]})],
    23: [DemoEvent("reintervention", 430, {"type": "laminectomy", "levels": ["L3-L4", "L4-L5"]})],
}
# Blood thinners of some completed patients: (drug, days held before the procedure).
BLOOD_THINNERS: dict[int, tuple[str, int]] = {13: ("clopidogrel", 7), 20: ("apixaban", 3), 9: ("apixaban", 4)}
CONTRAST_ALLERGY = {16}


def _local(day: date, clock: time) -> datetime:
    """An aware time on ``day`` in the server's time zone (where the clinic is)."""
    return datetime.combine(day, clock).astimezone()


def _operator_name(p: DemoPatient, demo: Demo) -> str:
    return CLINICIANS[demo.clinician_user_ids.index(p.operator_user_id)][3]


def _full_checklist(p: DemoPatient, demo: Demo, day: date, *, escort: bool = True) -> dict[str, Any]:
    name = _operator_name(p, demo)
    anticoagulation: dict[str, Any] | None = None
    if p.index in BLOOD_THINNERS:
        drug, held = BLOOD_THINNERS[p.index]
        anticoagulation = {
            "takes_blood_thinner": True,
            "medications": [
                {"drug": drug, "last_dose": (day - timedelta(days=held)).isoformat(), "prescriber_consulted": True}
            ],
            "patient_told_never_stop": True,
            "confirmed_by": name,
        }
    return complete_checklist(
        day, name, anticoagulation=anticoagulation, allergic=p.index in CONTRAST_ALLERGY, escort=escort
    )


def complete_checklist(
    day: date, operator: str, *, anticoagulation: dict[str, Any] | None = None, allergic: bool = False,
    escort: bool = True,
) -> dict[str, Any]:
    """Every pre-procedure item done for a procedure on ``day`` (no blood thinner unless ``anticoagulation``)."""
    return {
        "consent": {"signed_on": (day - timedelta(days=14)).isoformat()},
        "imaging": {
            "study_date": (day - timedelta(days=60)).isoformat(),
            "modality": "MRI",
            "reviewed": True,
            "reviewed_by": operator,
        },
        "anticoagulation": anticoagulation or {"takes_blood_thinner": False, "confirmed_by": operator},
        "allergies": {
            "contrast": "allergic" if allergic else "none_known",
            "latex": "none_known",
            "local_anaesthetic": "none_known",
            "details": "Hives after CT contrast in 2019; premedicated per local protocol." if allergic else "",
        },
        "instructions": {"fasting_given": True, "sedation_given": True},
        "escort": {"arranged": escort, "name": "Family member" if escort else ""},
        "infection": {"active_infection": False},
    }


def _partial_checklist(p: DemoPatient, demo: Demo, today: date, *, far: bool) -> dict[str, Any]:
    """A checklist being filled in: imaging first; consent once signed (not yet for the later procedure)."""
    name = _operator_name(p, demo)
    imaging = {"study_date": (today - timedelta(days=40)).isoformat(), "modality": "MRI", "reviewed": not far}
    if not far:
        imaging["reviewed_by"] = name
    data: dict[str, Any] = {"imaging": imaging}
    if not far:
        data["consent"] = {"signed_on": (today - timedelta(days=3)).isoformat()}
        data["allergies"] = {"contrast": "none_known", "latex": "none_known", "local_anaesthetic": "none_known"}
    return data


def _record(p: DemoPatient, demo: Demo, day: date, start: datetime) -> dict[str, Any]:
    levels, minutes, fluoro, incisions, tissues = RECORD_SHAPES[p.index % len(RECORD_SHAPES)]
    return {
        "procedure_date": day.isoformat(),
        "operator": _operator_name(p, demo),
        "start": start.isoformat(),
        "end": (start + timedelta(minutes=minutes)).isoformat(),
        "levels": [{"level": lv, "side": side} for lv, side in levels],
        "anaesthesia": "local",
        "sedation": "conscious",
        "epidurogram": True,
        "incisions": incisions,
        "fluoroscopy_seconds": fluoro,
        "tissue_removed": tissues,
        "events": [],
        "device_lots": [f"MILD-{day:%y%m}-{p.index + 1:03d}"],
    }


def _legs() -> dict[str, Any]:
    leg = {"strength": "as_before", "sensation": "as_before"}
    return {"left": dict(leg), "right": dict(leg)}


def _complete(session: Session, demo: Demo, p: DemoPatient, day: date) -> None:
    actor = demo.actor
    start = _local(day, time(8 + (p.index % 4), 15 * (p.index % 3)))
    view = svc.schedule_procedure(
        session,
        actor,
        p.patient_id,
        svc.ProcedureSchedule(scheduled_date=day, operator_user_id=p.operator_user_id),
        today=demo.today,
        now=start - timedelta(days=21),
    )
    svc.update_checklist(
        session, actor, p.patient_id, view.id, _full_checklist(p, demo, day), today=day, now=start - timedelta(hours=1)
    )
    svc.start_procedure(session, actor, p.patient_id, view.id, now=start)
    rec = _record(p, demo, day, start)
    end = datetime.fromisoformat(rec["end"])
    # The recovery seeder (seed_50_recovery) sets the plans and seeds a diary only for patients it gave a plan, so the
    # demo leaves the plan to it (the same procedure date either way).
    svc.save_record(
        session, actor, p.patient_id, view.id, rec, now=end + timedelta(minutes=10), sync_recovery_plan=False
    )
    overnight = p.index == OVERNIGHT_INDEX
    first = {
        "at": (end + timedelta(minutes=30)).isoformat(),
        "vitals": {"heart_rate": 72, "systolic_bp": 134, "diastolic_bp": 78, "spo2": 97, "temperature_c": 36.7},
        "neuro": _legs(),
        "pain": 3,
        "aldrete": 8 if overnight else 9,
    }
    second = {
        "at": (end + timedelta(minutes=90)).isoformat(),
        "vitals": {"heart_rate": 68, "systolic_bp": 128, "diastolic_bp": 76, "spo2": 98, "temperature_c": 36.8},
        "neuro": _legs(),
        "pain": 2,
        "walking": "with_help" if overnight else "as_before",
        "voided": True,
        "aldrete": 8 if overnight else 10,
    }
    if not overnight:
        second["padss"] = 10
    for entry in (first, second):
        svc.add_observation(session, actor, p.patient_id, view.id, entry, now=end + timedelta(hours=3))
    leave = end + timedelta(hours=2)
    if overnight:
        svc.keep_overnight(session, actor, p.patient_id, view.id, OVERNIGHT_REASON, at=leave, now=leave)
    else:
        readiness = {"escort_present": True, "escort_name": "Family member", "written_instructions_given": True}
        svc.discharge(session, actor, p.patient_id, view.id, readiness, at=leave, now=leave)
    for event in EVENTS.get(p.index, []):
        when = day + timedelta(days=event.days_after)
        if event.kind == "adverse":
            data = {**event.data, "onset": when.isoformat(), "recorded_by": _operator_name(p, demo)}
            svc.record_adverse_event(
                session, actor, p.patient_id, view.id, data, today=demo.today, now=_local(when, time(12))
            )
        else:
            data = {**event.data, "performed_on": when.isoformat()}
            svc.record_reintervention(
                session, actor, p.patient_id, view.id, data, today=demo.today, now=_local(when, time(12))
            )


def _schedule(session: Session, demo: Demo, p: DemoPatient, day: date, checklist: dict[str, Any]) -> None:
    now = _local(demo.today, time(7, 30)) - timedelta(days=10)
    view = svc.schedule_procedure(
        session,
        demo.actor,
        p.patient_id,
        svc.ProcedureSchedule(scheduled_date=day, operator_user_id=p.operator_user_id),
        today=demo.today,
        now=now,
    )
    svc.update_checklist(session, demo.actor, p.patient_id, view.id, checklist, today=demo.today, now=now)


@register_seeder
def seed(session: Session, demo: Demo) -> None:
    """Add the demo procedure days (see the module docstring); skip patients who already have one."""
    for p in demo.patients:
        if p.procedure_date is None or store.list_for_patient(session, patient_id=p.patient_id):
            continue
        if p.stage in ("recovery", "follow_up"):
            _complete(session, demo, p, p.procedure_date)
        elif p.stage == "procedure_today":
            _schedule(session, demo, p, p.procedure_date, _full_checklist(p, demo, p.procedure_date, escort=False))
        elif p.stage == "scheduled":
            far = p.procedure_date - demo.today > timedelta(days=10)
            _schedule(session, demo, p, p.procedure_date, _partial_checklist(p, demo, demo.today, far=far))
