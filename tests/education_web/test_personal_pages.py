"""Personal education pages: login needed, only one's own record (or one's clinic's patients for staff), the
patient's own facts filled in, neutral wording when a fact is missing, every read audited."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlalchemy import select

from mildpath.content.education import format_date, get_page, pages
from mildpath.services.clock import today
from mildpath.services.education import stage_for
from mildpath.store.models import Clinic, Patient
from tests.education_web.conftest import audit_rows, demo_patient, pdf_text
from tests.helpers import login

NEUTRAL_PLAN = "Your clinic will give you a plan with dates for calls, visits and short forms."


# ------------------------------------------------------------------------------------------ who may see what


@pytest.mark.parametrize(
    "path", ["/patients/{id}/learn", "/patients/{id}/learn/recovery", "/patients/{id}/learn/discharge-packet.pdf"]
)
def test_personal_pages_send_an_anonymous_visitor_to_the_login(client, pat_id, path):
    resp = client.get(path.format(id=pat_id))
    assert resp.status_code == 303 and resp.headers["location"].startswith("/login?next=")


def test_me_learn_takes_a_patient_to_their_own_page(client, patient_pat, pat_id):
    login(client, patient_pat)
    resp = client.get("/me/learn")
    assert resp.status_code == 303 and resp.headers["location"] == f"/patients/{pat_id}/learn"


def test_me_learn_is_for_patients_only(client, dr_alice):
    login(client, dr_alice)
    assert client.get("/me/learn").status_code == 403


@pytest.mark.parametrize(
    "path",
    [
        "/patients/{id}/learn",
        "/patients/{id}/learn/recovery",
        "/patients/{id}/learn/recovery/handout.pdf",
        "/patients/{id}/learn/discharge-packet.pdf",
    ],
)
def test_it_hides_other_clinics_patients(client, dr_bob_other_clinic, pat_id, path):
    login(client, dr_bob_other_clinic)
    assert client.get(path.format(id=pat_id)).status_code == 404


def test_a_patient_cannot_read_another_patients_learning_page(client, patient_rosa, pat_id):
    login(client, patient_rosa)
    assert client.get(f"/patients/{pat_id}/learn").status_code == 404
    assert client.get(f"/patients/{pat_id}/learn/discharge-packet.pdf").status_code == 404


def test_an_unknown_page_is_404_on_the_personal_side_too(client, patient_pat, pat_id):
    login(client, patient_pat)
    assert client.get(f"/patients/{pat_id}/learn/no-such-page").status_code == 404


def test_the_chart_shows_a_learn_tab_to_the_patient_and_to_staff(client, patient_pat, dr_alice, pat_id):
    login(client, patient_pat)
    assert f'href="/patients/{pat_id}/learn"' in client.get(f"/patients/{pat_id}").text
    assert 'href="/me/learn"' in client.get(f"/patients/{pat_id}").text, "the patient's navigation has Learn"
    login(client, dr_alice)
    assert f'href="/patients/{pat_id}/learn"' in client.get(f"/patients/{pat_id}").text


# ------------------------------------------------------------------------------------------ their own facts


def test_the_patients_page_shows_their_stage_their_procedure_date_plan_and_clinic_phone(client, patient_pat, pat_id):
    login(client, patient_pat)
    html = client.get(f"/patients/{pat_id}/learn?lang=en").text
    # Pat is five days after the procedure in the demo (demo/__init__.py STAGES)
    procedure = today() - timedelta(days=5)
    assert format_date(procedure, "en") in html
    assert 'href="tel:+15550100"' in html and "+1 555 0100" in html
    assert "6-week visit" in html and NEUTRAL_PLAN not in html
    for page in pages("en", audience="patient", stage="recovery"):
        assert f'href="/patients/{pat_id}/learn/{page.id}?lang=en"' in html
    assert f'href="/patients/{pat_id}/learn/discharge-packet.pdf?lang=en"' in html


def test_a_personal_page_fills_in_the_phone_and_the_check_ups(client, patient_pat, pat_id):
    login(client, patient_pat)
    html = client.get(f"/patients/{pat_id}/learn/recovery?lang=en").text
    wound = html.split('<section id="wound"', 1)[1].split("</section>", 1)[0]
    assert "+1 555 0100" in wound and "the number your clinic gave you" not in wound
    follow_up = html.split('<section id="follow-up"', 1)[1].split("</section>", 1)[0]
    assert "<li>" in follow_up and "6-week visit" in follow_up and NEUTRAL_PLAN not in follow_up
    assert f'href="/patients/{pat_id}/learn/recovery/handout.pdf?lang=en"' in html


def test_a_patient_without_a_plan_reads_neutral_wording_and_the_considering_pages(client, dr_alice, no_plan_patient_id):
    login(client, dr_alice)
    html = client.get(f"/patients/{no_plan_patient_id}/learn?lang=en").text
    assert "Your clinic will tell you the date." in html
    assert NEUTRAL_PLAN in html
    for page in pages("en", audience="patient", stage="considering"):
        assert f"/learn/{page.id}?lang=en" in html
    page = client.get(f"/patients/{no_plan_patient_id}/learn/recovery?lang=en").text
    assert NEUTRAL_PLAN in page


def test_the_settings_phone_stands_in_when_the_clinic_has_none(app, client, db, dr_alice, no_plan_patient_id):
    clinic = db.scalar(
        select(Clinic).join(Patient, Patient.clinic_id == Clinic.id).where(Patient.id == no_plan_patient_id)
    )
    clinic.phone = ""
    db.flush()
    login(client, dr_alice)
    assert "Use the number your clinic gave you." in client.get(f"/patients/{no_plan_patient_id}/learn").text
    assert client.get(f"/patients/{no_plan_patient_id}/learn/discharge-packet.pdf").status_code == 409
    app.state.settings = app.state.settings.model_copy(update={"clinic_phone": "+1 555 9999"})
    assert 'href="tel:+15559999"' in client.get(f"/patients/{no_plan_patient_id}/learn").text


def test_a_patient_reads_their_pages_in_the_language_of_their_record(client, patient_rosa):
    login(client, patient_rosa)
    html = client.get(f"/patients/{patient_rosa.patient_id}/learn").text
    assert '<html lang="es">' in html and "Fecha del procedimiento" in html
    assert get_page("recovery", "es").title in html
    # the plan's wording is English only: marked as such inside the Spanish page (WCAG 3.1.2)
    assert '<span lang="en">6-week visit</span>' in html
    page = client.get(f"/patients/{patient_rosa.patient_id}/learn/recovery").text
    follow_up = page.split('<section id="follow-up"', 1)[1].split("</section>", 1)[0]
    assert "6-week visit" not in follow_up and "Su clínica le dará un plan" in follow_up


@pytest.mark.parametrize(
    ("offset", "screened", "expected"),
    [
        (None, False, "considering"),
        (None, True, "screened"),
        (7, True, "scheduled"),
        (0, False, "scheduled"),
        (-1, True, "recovery"),
        (-400, False, "recovery"),
    ],
    ids=["nothing yet", "screened", "next week", "procedure day", "the day after", "long after"],
)
def test_the_stage_follows_the_procedure_date_then_the_screening(offset, screened, expected):
    day = date(2026, 3, 3)
    procedure = None if offset is None else day + timedelta(days=offset)
    assert stage_for(procedure, day, screened=screened) == expected


def test_a_patient_screened_by_the_clinic_gets_the_pages_for_after_screening(client, dr_alice, world):
    login(client, dr_alice)
    html = client.get(f"/patients/{demo_patient(world, 'screened')}/learn?lang=en").text
    assert "After your screening" in html
    stage_part = html.split('id="stage-pages"', 1)[1].split("</ul>", 1)[0]
    assert [p.id for p in pages("en", audience="patient", stage="screened")] == [
        link.split("/learn/", 1)[1].split("?", 1)[0] for link in stage_part.split('href="')[1:]
    ]


def test_a_scheduled_patient_sees_the_date_of_their_procedure_and_the_pages_to_get_ready(client, dr_alice, world):
    login(client, dr_alice)
    html = client.get(f"/patients/{demo_patient(world, 'scheduled')}/learn?lang=en").text
    # the first scheduled demo patient has the procedure in a week and no recovery plan yet
    assert format_date(today() + timedelta(days=7), "en") in html
    assert "Getting ready for your procedure" in html and NEUTRAL_PLAN in html
    stage_part = html.split('id="stage-pages"', 1)[1].split("</ul>", 1)[0]
    for page in pages("en", audience="patient", stage="scheduled"):
        assert f"/learn/{page.id}?lang=en" in stage_part


def test_the_demo_patient_on_procedure_day_gets_the_procedure_day_page(client, dr_alice, world):
    login(client, dr_alice)
    html = client.get(f"/patients/{demo_patient(world, 'procedure_today')}/learn?lang=en").text
    stage_part = html.split('id="stage-pages"', 1)[1].split("</ul>", 1)[0]
    assert "/learn/procedure-day?lang=en" in stage_part


# ------------------------------------------------------------------------------------------ PDFs


def test_the_patient_downloads_their_discharge_packet_with_their_own_facts(client, patient_pat, pat_id):
    login(client, patient_pat)
    resp = client.get(f"/patients/{pat_id}/learn/discharge-packet.pdf?lang=en")
    assert resp.status_code == 200 and resp.headers["content-type"] == "application/pdf"
    assert resp.headers["content-disposition"] == 'attachment; filename="discharge-packet-en.pdf"'
    text = pdf_text(resp.content)
    assert "Pat Quinn" in text and "+1 555 0100" in text and "6-week visit" in text
    assert format_date(today() - timedelta(days=5), "en") in text


def test_staff_download_a_patients_discharge_packet_from_the_chart(client, dr_alice, pat_id):
    login(client, dr_alice)
    html = client.get(f"/patients/{pat_id}/learn").text
    assert f'href="/patients/{pat_id}/learn/discharge-packet.pdf?lang=en"' in html
    resp = client.get(f"/patients/{pat_id}/learn/discharge-packet.pdf?lang=es")
    assert resp.status_code == 200 and "Volver a casa" in pdf_text(resp.content)


def test_a_personal_handout_carries_the_clinic_phone(client, patient_pat, pat_id):
    login(client, patient_pat)
    resp = client.get(f"/patients/{pat_id}/learn/recovery/handout.pdf?lang=en")
    assert resp.status_code == 200 and "+1 555 0100" in pdf_text(resp.content)


# ------------------------------------------------------------------------------------------ the audit trail


def test_every_personal_read_leaves_an_audit_row_without_health_data(client, db, patient_pat, dr_alice, pat_id):
    login(client, patient_pat)
    before = len(audit_rows(db, "education.personal_read", pat_id))
    client.get(f"/patients/{pat_id}/learn")
    client.get(f"/patients/{pat_id}/learn/recovery")
    rows = audit_rows(db, "education.personal_read", pat_id)[before:]
    assert [r.detail for r in rows] == [{"page": "index"}, {"page": "recovery"}]
    assert {r.actor_user_id for r in rows} == {patient_pat.user_id}
    assert all(r.record_type == "Patient" and r.record_id == str(pat_id) for r in rows)

    login(client, dr_alice)
    packets = len(audit_rows(db, "education.discharge_packet", pat_id))
    client.get(f"/patients/{pat_id}/learn/discharge-packet.pdf")
    row = audit_rows(db, "education.discharge_packet", pat_id)[-1]
    assert len(audit_rows(db, "education.discharge_packet", pat_id)) == packets + 1
    assert row.actor_user_id == dr_alice.user_id and row.detail == {"language": "en"}


def test_a_refused_read_leaves_no_personal_audit_row(client, db, dr_bob_other_clinic, pat_id):
    login(client, dr_bob_other_clinic)
    before = len(audit_rows(db, "education.personal_read", pat_id))
    assert client.get(f"/patients/{pat_id}/learn").status_code == 404
    assert len(audit_rows(db, "education.personal_read", pat_id)) == before


def test_the_public_library_reads_no_patient_data(client, db):
    before = len(audit_rows(db, "education.personal_read"))
    client.get("/learn/recovery")
    client.get("/learn/search?q=wound")
    assert len(audit_rows(db, "education.personal_read")) == before
