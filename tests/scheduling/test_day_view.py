"""The coordinator's day view `/schedule?date=` (issue 18): who is coming, in clinic time, and what is still open
for each procedure (checklist items, the blood-thinner hold and restart, UNVERIFIED where the content says so).
Runs on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import date, timedelta

from mildpath.services import scheduling as svc
from mildpath.services.schedule_day import day_view
from mildpath.store import procedures as procedures_store
from tests.helpers import login


def _book_day(db, personas, patient_id, other_id, in_two_weeks, now):  # type: ignore[no-untyped-def]
    cora = personas["coord_cora"].actor
    procedure = svc.book(db, cora, patient_id, svc.AppointmentIn(kind="procedure", start=in_two_weeks,
                                                                 duration_minutes=60, place="Suite 2"), now=now)
    svc.book(db, cora, other_id, svc.AppointmentIn(kind="evaluation", start=in_two_weeks.replace("09:30", "07:15"),
                                                   place="Room 4"), now=now)
    return procedure


def test_the_day_lists_the_clinics_visits_in_order_with_whats_open(db, personas, new_patient_id, pat_id,
                                                                    in_two_weeks, now):
    appt = _book_day(db, personas, new_patient_id, pat_id, in_two_weeks, now)
    row = procedures_store.get_procedure(db, procedure_id=appt.procedure_id)
    row.checklist = {"anticoagulation": {"takes_blood_thinner": True, "medications": [
        {"drug": "clopidogrel", "last_dose": (appt.local_date - timedelta(days=3)).isoformat()}]},
        "escort": {"arranged": True, "name": "Maria"}}
    db.flush()
    view = day_view(db, personas["coord_cora"].actor, appt.local_date, today=now.date())
    assert view.timezone == "America/Chicago"
    assert [(r.appointment.kind, r.appointment.start_local.strftime("%H:%M")) for r in view.rows] == [
        ("evaluation", "07:15"), ("procedure", "09:30")]
    procedure = view.rows[1]
    open_ids = {i.item for i in procedure.open_items}
    assert "consent_signed" in open_ids and "escort_arranged" not in open_ids
    assert procedure.ready is False
    [thinner] = procedure.blood_thinners
    assert thinner.drug == "Clopidogrel" and thinner.hold_ok is False
    assert "UNVERIFIED" in thinner.hold and thinner.restart.startswith("24 h after the procedure")
    assert view.rows[0].open_items == [] and view.rows[0].ready is None


def test_another_clinic_sees_nothing_of_the_day(db, personas, new_patient_id, pat_id, in_two_weeks, now):
    appt = _book_day(db, personas, new_patient_id, pat_id, in_two_weeks, now)
    assert day_view(db, personas["coord_hal_other_clinic"].actor, appt.local_date, today=now.date()).rows == []


def test_the_page_shows_the_day_and_refuses_patients(client, db, personas, new_patient_id, pat_id, in_two_weeks,
                                                     now):
    appt = _book_day(db, personas, new_patient_id, pat_id, in_two_weeks, now)
    login(client, personas["coord_cora"])
    page = client.get(f"/schedule?date={appt.local_date.isoformat()}")
    assert page.status_code == 200
    assert page.text.index("07:15") < page.text.index("09:30")
    assert "Sam Reyes" in page.text and 'data-item="consent_signed"' in page.text
    assert "unsafe-inline" not in page.headers["content-security-policy"].split("script-src")[1].split(";")[0]
    empty = client.get(f"/schedule?date={(appt.local_date + timedelta(days=1)).isoformat()}")
    assert 'id="nobody"' in empty.text
    assert client.get("/schedule?date=2026-13-40").status_code in (400, 422)
    client.cookies.clear()
    login(client, personas["patient_pat"])
    assert client.get(f"/schedule?date={date.today().isoformat()}").status_code == 403
