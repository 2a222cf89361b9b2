"""Appointments as FHIR R4 (validated with the R4B models, contracts §5): in the FHIR server's read and search
and in the patient's export; another clinic finds nothing (issue 18). Runs on SQLite and PostgreSQL."""

from __future__ import annotations

from fhir.resources.R4B.appointment import Appointment
from fhir.resources.R4B.bundle import Bundle

from mildpath.services.patient_rights import fhir_providers


def _booked(client, personas, patient_id, start, **extra):  # type: ignore[no-untyped-def]
    body = {"kind": "follow_up", "start": start, "place": "Room 4", **extra}
    resp = client.post(f"/api/v1/patients/{patient_id}/appointments", headers=personas["coord_cora"].auth, json=body)
    assert resp.status_code == 201, resp.text
    return resp.json()


def test_an_appointment_reads_as_a_valid_r4_appointment_in_clinic_time(client, personas, dr_alice, new_patient_id,
                                                                        in_two_weeks):
    appt = _booked(client, personas, new_patient_id, in_two_weeks, clinician_user_id=dr_alice.user_id)
    resp = client.get(f"/fhir/Appointment/{appt['id']}", headers=dr_alice.auth)
    assert resp.status_code == 200 and resp.headers["content-type"].startswith("application/fhir+json")
    body = resp.json()
    Appointment.model_validate(body)
    assert body["status"] == "booked" and body["start"] == appt["start_local"]
    actors = [p["actor"]["reference"] for p in body["participant"]]
    assert actors == [f"Patient/{new_patient_id}", f"Practitioner/{dr_alice.user_id}"]
    assert "FOLLOWUP" in {c["code"] for c in body["appointmentType"]["coding"]}


def test_appointments_are_searched_by_patient_and_cancelled_ones_say_so(client, personas, dr_alice, new_patient_id,
                                                                         in_two_weeks):
    appt = _booked(client, personas, new_patient_id, in_two_weeks)
    client.patch(f"/api/v1/appointments/{appt['id']}", headers=personas["coord_cora"].auth,
                 json={"action": "cancel", "reason": "patient unwell"})
    resp = client.get("/fhir/Appointment", params={"patient": new_patient_id}, headers=dr_alice.auth)
    bundle = resp.json()
    Bundle.model_validate(bundle)
    found = [e["resource"] for e in bundle["entry"]]
    assert [r["id"] for r in found] == [str(appt["id"])]
    assert found[0]["status"] == "cancelled" and found[0]["cancelationReason"]["text"] == "patient unwell"


def test_another_clinic_neither_reads_nor_finds_the_appointment(client, personas, new_patient_id, in_two_weeks):
    appt = _booked(client, personas, new_patient_id, in_two_weeks)
    bob = personas["dr_bob_other_clinic"]
    assert client.get(f"/fhir/Appointment/{appt['id']}", headers=bob.auth).status_code == 404
    search = client.get("/fhir/Appointment", params={"patient": new_patient_id}, headers=bob.auth).json()
    assert search["total"] == 0


def test_the_patient_export_carries_the_appointments(client, db, personas, new_patient_id, in_two_weeks):
    _booked(client, personas, new_patient_id, in_two_weeks)
    resources = [r for _name, provider in fhir_providers() for r in provider(db, new_patient_id)]
    appointments = [r for r in resources if r["resourceType"] == "Appointment"]
    assert len(appointments) == 1
    Appointment.model_validate(appointments[0])
