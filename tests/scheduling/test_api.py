"""The appointments API and its calendars: a coordinator books and moves; the patient reads and subscribes;
the .ics shows clinic time (issue 18). Runs on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import timedelta

from icalendar import Calendar


def _book(client, who, patient_id, **body):  # type: ignore[no-untyped-def]
    return client.post(f"/api/v1/patients/{patient_id}/appointments", headers=who.auth, json=body)


def test_a_coordinator_books_lists_and_moves_an_appointment(client, personas, new_patient_id, in_two_weeks):
    cora = personas["coord_cora"]
    resp = _book(client, cora, new_patient_id, kind="procedure", start=in_two_weeks, duration_minutes=60,
                 place="Suite 2")
    assert resp.status_code == 201, resp.text
    appt = resp.json()
    assert appt["timezone"] == "America/Chicago" and appt["start_local"].startswith(in_two_weeks[:10] + "T09:30")
    assert appt["tasks"]
    listed = client.get(f"/api/v1/patients/{new_patient_id}/appointments", headers=cora.auth).json()
    assert [a["id"] for a in listed] == [appt["id"]]
    later = in_two_weeks.replace("T09:30", "T13:00")
    moved = client.patch(f"/api/v1/appointments/{appt['id']}", headers=cora.auth,
                         json={"action": "move", "start": later})
    assert moved.status_code == 200 and "T13:00" in moved.json()["start_local"]


def test_bad_bookings_answer_problem_json_naming_the_field(client, personas, new_patient_id, in_two_weeks):
    cora = personas["coord_cora"]
    resp = _book(client, cora, new_patient_id, kind="surgery", start=in_two_weeks)
    assert resp.status_code == 422 and resp.headers["content-type"].startswith("application/problem+json")
    assert "kind" in resp.text
    first = _book(client, cora, new_patient_id, kind="procedure", start=in_two_weeks).json()
    again = _book(client, cora, new_patient_id, kind="procedure", start=in_two_weeks)
    assert again.status_code == 409
    cancel = client.patch(f"/api/v1/appointments/{first['id']}", headers=cora.auth, json={"action": "cancel"})
    assert cancel.status_code == 422 and "reason" in cancel.text


def test_another_clinic_gets_404_and_a_patient_may_not_book(client, personas, new_patient_id, pat_id, in_two_weeks):
    appt = _book(client, personas["coord_cora"], new_patient_id, kind="evaluation", start=in_two_weeks).json()
    hal = personas["coord_hal_other_clinic"]
    assert client.get(f"/api/v1/patients/{new_patient_id}/appointments", headers=hal.auth).status_code == 404
    assert client.patch(f"/api/v1/appointments/{appt['id']}", headers=hal.auth,
                        json={"action": "cancel", "reason": "x"}).status_code == 404
    assert client.get(f"/api/v1/appointments/{appt['id']}/calendar.ics", headers=hal.auth).status_code == 404
    pat = personas["patient_pat"]
    assert _book(client, pat, pat_id, kind="evaluation", start=in_two_weeks).status_code == 403


def test_the_ics_is_in_clinic_time_and_names_no_patient(client, personas, new_patient_id, in_two_weeks):
    cora = personas["coord_cora"]
    appt = _book(client, cora, new_patient_id, kind="evaluation", start=in_two_weeks, duration_minutes=45,
                 place="Room 4").json()
    resp = client.get(f"/api/v1/appointments/{appt['id']}/calendar.ics", headers=cora.auth)
    assert resp.status_code == 200 and resp.headers["content-type"].startswith("text/calendar")
    assert "TZID=America/Chicago" in resp.text and "BEGIN:VTIMEZONE" in resp.text
    assert "Sam" not in resp.text and "Reyes" not in resp.text
    event = next(c for c in Calendar.from_ical(resp.content).walk("VEVENT"))
    start = event.decoded("dtstart")
    assert (start.hour, start.minute) == (9, 30) and str(start.tzinfo) == "America/Chicago"
    assert event.decoded("dtend") - start == timedelta(minutes=45)
    assert str(event["location"]) == "Room 4"


def test_the_feed_url_works_without_sign_in_and_shows_cancellations(client, personas, pat_id, in_two_weeks):
    cora, pat = personas["coord_cora"], personas["patient_pat"]
    appt = _book(client, cora, pat_id, kind="follow_up", start=in_two_weeks).json()
    client.patch(f"/api/v1/appointments/{appt['id']}", headers=cora.auth, json={"action": "cancel", "reason": "ill"})
    url = client.get(f"/api/v1/patients/{pat_id}/calendar-feed", headers=pat.auth).json()["url"]
    path = url[url.index("/api/v1/calendar/"):]
    feed = client.get(path)
    assert feed.status_code == 200
    assert f"appointment-{appt['id']}@mildpath" in feed.text and "STATUS:CANCELLED" in feed.text
    assert client.get(path.replace("-", "-0", 1)).status_code == 404


def test_spanish_patients_get_spanish_event_titles(client, personas, db, pat_id, in_two_weeks):
    from mildpath.store.patients import by_ids

    by_ids(db, patient_ids=[pat_id])[pat_id].preferred_language = "es"
    db.flush()
    cora = personas["coord_cora"]
    appt = _book(client, cora, pat_id, kind="follow_up", start=in_two_weeks).json()
    text = client.get(f"/api/v1/appointments/{appt['id']}/calendar.ics", headers=cora.auth).text
    assert "Visita de seguimiento" in text


def test_a_referral_of_another_patient_or_clinic_answers_422_or_404_problem_json(
        client, personas, world, new_patient_id, pat_id, in_two_weeks):
    cora, hal = personas["coord_cora"], personas["coord_hal_other_clinic"]
    made = client.post("/api/v1/referrals", headers=cora.auth,
                       json={"patient_id": new_patient_id, "referrer_name": "Dr. Referrer"})
    assert made.status_code == 201, made.text
    rid = made.json()["id"]
    other = _book(client, cora, pat_id, kind="procedure", start=in_two_weeks, referral_id=rid)
    assert other.status_code == 422 and "referral_id" in other.text
    assert other.headers["content-type"].startswith("application/problem+json")
    hidden = _book(client, hal, world.other_clinic_patient_id, kind="procedure", start=in_two_weeks,
                   referral_id=rid)
    assert hidden.status_code == 404, "another clinic's coordinator never sees the referral"
