"""`/admin/clinics` (issue 18): an admin lists, creates and edits clinics, with form errors naming the field;
nobody else opens it. Runs on SQLite and PostgreSQL."""

from __future__ import annotations

from tests.helpers import login, page_csrf


def test_an_admin_creates_a_clinic_and_sets_its_on_call_contact(client, admin_ada):
    login(client, admin_ada)
    listing = client.get("/admin/clinics")
    assert listing.status_code == 200 and "Hillside Spine Center" in listing.text
    made = client.post("/admin/clinics", data={"csrf_token": page_csrf(client, "/admin/clinics"),
                                              "name": "Riverside Pain Clinic", "timezone": "America/New_York"})
    assert made.status_code == 303
    url = made.headers["location"]
    saved = client.post(url, data={
        "csrf_token": page_csrf(client, url), "name": "Riverside Pain Clinic", "phone": "+1 555 0300",
        "address": "1 River Rd", "emergency_number": "911", "timezone": "America/New_York",
        "oncall_name": "Dr Owl", "oncall_email": "owl@riverside.example", "oncall_phone": "+1 555 0399",
        "escalate_emergency_minutes": "20", "escalate_same_day_minutes": "180"})
    assert saved.status_code == 303 and saved.headers["location"].endswith("?saved=1")
    page = client.get(url)
    assert "Dr Owl" in page.text and 'value="20"' in page.text and "America/New_York" in page.text


def test_a_bad_time_zone_is_shown_next_to_the_form_and_nothing_changes(client, admin_ada, dr_alice):
    login(client, admin_ada)
    url = f"/admin/clinics/{dr_alice.clinic_id}"
    before = client.get(url).text
    bad = client.post(url, data={"csrf_token": page_csrf(client, url), "name": "Demo", "timezone": "Mars/Base",
                                 "escalate_emergency_minutes": "30", "escalate_same_day_minutes": "240"})
    assert bad.status_code == 422 and "time zone" in bad.text
    assert "Mars/Base" not in before


def test_only_admins_open_the_clinic_pages(client, dr_alice, personas):
    for who in (dr_alice, personas["coord_cora"]):
        login(client, who)
        assert client.get("/admin/clinics").status_code == 403
        client.cookies.clear()
