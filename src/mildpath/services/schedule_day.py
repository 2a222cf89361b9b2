"""The coordinator's day (issue 18): who is coming on one day of one clinic, and what is still open for each.

For a procedure: every checklist item not done (consent, escort and the rest, with the checklist's own reasons,
``domain/procedure/checklist.py``) and the blood-thinner plan, each drug with its last dose, the reference hold
and restart (``content/anticoagulants.yaml``, UNVERIFIED where the content says so) and whether the hold is long
enough for this procedure day; for an evaluation or follow-up visit, just the visit. The day is the clinic's local
day (``Clinic.timezone``). Each patient shown is one audit row (``schedule.day``).
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

from sqlalchemy.orm import Session

from mildpath.content.procedure import policies
from mildpath.domain.errors import InvalidInput
from mildpath.domain.procedure.checklist import ItemStatus, PreProcedureChecklist, evaluate_checklist
from mildpath.services.access import Actor, record, require_role
from mildpath.services.read_models import ReadModel
from mildpath.services.scheduling import SCHEDULERS, AppointmentView, clinic_zone, views_of
from mildpath.store import clinics as clinics_store
from mildpath.store import patients as patients_store
from mildpath.store import procedures as procedures_store
from mildpath.store import scheduling as store


class OpenItem(ReadModel):
    item: str
    label: str
    reasons: list[str]


class BloodThinnerLine(ReadModel):
    drug: str
    last_dose: date | None
    hold: str  # the reference hold and restart, with its UNVERIFIED label where the content has one
    hold_ok: bool | None  # None: no interval on file or no last dose recorded
    restart: str


class DayRow(ReadModel):
    appointment: AppointmentView
    patient_name: str
    mrn: str
    open_items: list[OpenItem]
    blood_thinners: list[BloodThinnerLine]
    ready: bool | None  # procedures only: no required checklist item open


class DayView(ReadModel):
    clinic_id: int
    clinic_name: str
    day: date
    timezone: str
    rows: list[DayRow]


def _clinic_for(session: Session, actor: Actor, clinic_id: int | None) -> int:
    admin = actor.role in ("admin", "system")
    chosen = (clinic_id or clinics_store.first_id(session)) if admin else actor.clinic_id
    if chosen is None or clinics_store.get_or_none(session, clinic_id=chosen) is None:
        raise InvalidInput("clinic: no such clinic", field="clinic", value=clinic_id)
    return chosen


def _blood_thinners(checklist: PreProcedureChecklist, day: date) -> list[BloodThinnerLine]:
    policy = policies().checklist
    lines = []
    for med in checklist.anticoagulation.medications:
        interval = policy.hold_interval(med.drug)
        if interval is None:
            lines.append(BloodThinnerLine(drug=med.drug, last_dose=med.last_dose, hold="no hold interval on file",
                                          hold_ok=None, restart=""))
            continue
        ok = None if med.last_dose is None else (day - med.last_dose).days >= interval.max_days
        restart = ""
        if interval.restart:
            label = interval.status_label(interval.restart_status or interval.status)
            restart = f"{interval.restart} after the procedure" + (f" ({label})" if label else "")
        lines.append(BloodThinnerLine(drug=interval.label, last_dose=med.last_dose, hold=interval.describe(),
                                      hold_ok=ok, restart=restart))
    return lines


def day_view(session: Session, actor: Actor, day: date, *, today: date, clinic_id: int | None = None) -> DayView:
    """The clinic's appointments on ``day`` (local), earliest first, each with what is still open."""
    require_role(actor, *SCHEDULERS)
    cid = _clinic_for(session, actor, clinic_id)
    zone = clinic_zone(session, cid)
    start = datetime.combine(day, time(0), zone)
    end = datetime.combine(day + timedelta(days=1), time(0), zone)
    rows = store.between(session, clinic_id=cid, start=start, end=end)
    patients = patients_store.by_ids(session, patient_ids=[r.patient_id for r in rows])
    out = []
    for view in views_of(session, rows):
        patient = patients[view.patient_id]
        open_items: list[OpenItem] = []
        thinners: list[BloodThinnerLine] = []
        ready = None
        procedure = (procedures_store.get_procedure(session, procedure_id=view.procedure_id)
                     if view.procedure_id else None)
        if procedure is not None:
            checklist = PreProcedureChecklist.model_validate(procedure.checklist or {})
            evaluation = evaluate_checklist(checklist, view.local_date, today, policy=policies().checklist)
            open_items = [OpenItem(item=str(i.item_id), label=i.label, reasons=list(i.reasons))
                          for i in evaluation.items if i.status is ItemStatus.OPEN]
            thinners = _blood_thinners(checklist, view.local_date)
            ready = evaluation.ready
        record(session, actor, "schedule.day", "Appointment", view.id, patient.id, {"date": day.isoformat()})
        out.append(DayRow(appointment=view, patient_name=f"{patient.given_name} {patient.family_name}",
                          mrn=patient.mrn, open_items=open_items, blood_thinners=thinners, ready=ready))
    clinic = clinics_store.get_or_none(session, clinic_id=cid)
    return DayView(clinic_id=cid, clinic_name=clinic.name if clinic else "", day=day, timezone=zone.key, rows=out)
