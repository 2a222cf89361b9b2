"""Bedside pages: the day's list, the checklist form with the UNVERIFIED hold table, the start with its override,
the record form re-rendered with what was typed, observation and discharge, and what a patient may open."""

from __future__ import annotations

import re

from mildpath.services import clock
from mildpath.services import procedures as svc
from mildpath.store import procedures as store
from mildpath.store.models import AuditEvent
from tests.helpers import count, login, page_csrf
from tests.procedure_web.conftest import complete_checklist, recent_times


def _url(view, step: str = "") -> str:  # type: ignore[no-untyped-def]
    return f"/patients/{view.patient_id}/procedures/{view.id}" + (f"/{step}" if step else "")


def _checklist_form(csrf: str) -> dict[str, str]:
    today = clock.today()
    return {
        "csrf_token": csrf,
        "consent_signed_on": today.isoformat(),
        "imaging_study_date": today.isoformat(),
        "imaging_modality": "MRI",
        "imaging_reviewed": "1",
        "ac_takes": "no",
        "ac_confirmed_by": "Dr Alice Moreno",
        "allergy_contrast": "none_known",
        "allergy_latex": "none_known",
        "allergy_local_anaesthetic": "none_known",
        "fasting_given": "1",
        "sedation_given": "1",
        "escort_arranged": "1",
        "escort_name": "Sam",
        "infection": "no",
    }


def test_the_days_list_links_to_the_procedure_of_today(client, dr_alice, today_patient_id):
    login(client, dr_alice)
    page = client.get("/procedures/today")
    assert page.status_code == 200
    assert f"/patients/{today_patient_id}/procedures/" in page.text and "1 required open" in page.text


def test_the_chart_has_a_procedure_tab(client, dr_alice, pat_id):
    login(client, dr_alice)
    assert f'href="/patients/{pat_id}/procedures"' in client.get(f"/patients/{pat_id}").text


def test_the_checklist_shows_each_item_and_the_unverified_hold_intervals(client, dr_alice, scheduled):
    login(client, dr_alice)
    page = client.get(_url(scheduled, "checklist"))
    assert page.status_code == 200
    assert "UNVERIFIED — confirm with the prescriber" in page.text and "Clopidogrel" in page.text
    assert page.text.count('class="badge status-item-open"') == 7
    saved = client.post(
        _url(scheduled, "checklist"), data=_checklist_form(page_csrf(client, _url(scheduled, "checklist")))
    )
    assert saved.status_code == 303
    again = client.get(_url(scheduled, "checklist"))
    assert again.text.count('class="badge status-item-done"') + again.text.count("status-item-not_applicable") == 7


def test_a_checklist_with_a_bad_date_re_renders_what_was_typed(client, db, dr_alice, scheduled):
    login(client, dr_alice)
    form = _checklist_form(page_csrf(client, _url(scheduled, "checklist"))) | {"consent_signed_on": "31/02/2025"}
    resp = client.post(_url(scheduled, "checklist"), data=form)
    assert resp.status_code == 422
    assert "consent.signed_on" in resp.text and 'value="Sam"' in resp.text
    assert store.get_procedure(db, procedure_id=scheduled.id).checklist == {}


def test_the_start_page_offers_the_override_and_records_it(client, db, dr_alice, scheduled):
    login(client, dr_alice)
    page = client.get(_url(scheduled, "start"))
    assert "Required checklist items still open" in page.text and "Override and start" in page.text
    csrf = page_csrf(client, _url(scheduled, "start"))
    refused = client.post(_url(scheduled, "start"), data={"csrf_token": csrf})
    assert refused.status_code == 409 and "cannot start" in refused.text
    before = count(db, AuditEvent, action="procedure.start_override")
    done = client.post(_url(scheduled, "start"), data={"csrf_token": csrf, "override_reason": "Consent on paper"})
    assert done.status_code == 303 and done.headers["location"].endswith("/record")
    assert count(db, AuditEvent, action="procedure.start_override") == before + 1


def test_the_record_form_keeps_what_was_typed_when_refused_and_shows_warnings_once_saved(
    client, db, dr_alice, scheduled
):
    svc.update_checklist(
        db,
        dr_alice.actor,
        scheduled.patient_id,
        scheduled.id,
        complete_checklist(),
        today=clock.today(),
        now=clock.now(),
    )
    svc.start_procedure(db, dr_alice.actor, scheduled.patient_id, scheduled.id, now=clock.now())
    login(client, dr_alice)
    start, end = recent_times()
    form = {
        "csrf_token": page_csrf(client, _url(scheduled, "record")),
        "operator": "Dr Alice Moreno",
        "start_time": end.strftime("%H:%M"),
        "end_time": start.strftime("%H:%M"),
        "level_L4-L5": "1",
        "side_L4-L5": "left",
        "anaesthesia": "local",
        "sedation": "conscious",
        "epidurogram": "no",
        "incisions": "2",
        "fluoroscopy_seconds": "75",
        "tissue_lamina": "1",
        "device_lots": "LOT-77",
    }
    refused = client.post(_url(scheduled, "record"), data=form)
    assert refused.status_code == 422
    assert "is before start" in refused.text
    assert "LOT-77</textarea>" in refused.text and 'value="75"' in refused.text
    assert store.get_procedure(db, procedure_id=scheduled.id).record is None
    form |= {"start_time": start.strftime("%H:%M"), "end_time": end.strftime("%H:%M")}
    saved = client.post(_url(scheduled, "record"), data=form)
    assert saved.status_code == 303
    page = client.get(saved.headers["location"])
    assert "Please check" in page.text and "epidurogram" in page.text  # a plausibility warning, shown
    assert store.get_procedure(db, procedure_id=scheduled.id).status == "completed"


def test_observation_and_discharge_through_the_forms(client, db, dr_alice, scheduled):
    from tests.procedure_web.conftest import record_data

    svc.update_checklist(
        db,
        dr_alice.actor,
        scheduled.patient_id,
        scheduled.id,
        complete_checklist(),
        today=clock.today(),
        now=clock.now(),
    )
    svc.start_procedure(db, dr_alice.actor, scheduled.patient_id, scheduled.id, now=clock.now())
    svc.save_record(db, dr_alice.actor, scheduled.patient_id, scheduled.id, record_data(), now=clock.now())
    login(client, dr_alice)
    csrf = page_csrf(client, _url(scheduled, "observation"))
    now = clock.now().astimezone().strftime("%H:%M")
    bad = client.post(_url(scheduled, "observation"), data={"csrf_token": csrf, "at_time": now, "pain": "12"})
    assert bad.status_code == 422 and "pain" in bad.text
    obs = {
        "csrf_token": csrf,
        "at_time": now,
        "aldrete": "10",
        "padss": "10",
        "pain": "2",
        "temperature_c": "36.9",
        "left_strength": "as_before",
        "left_sensation": "as_before",
        "right_strength": "as_before",
        "right_sensation": "as_before",
        "walking": "as_before",
        "voided": "yes",
    }
    assert client.post(_url(scheduled, "observation"), data=obs).status_code == 303
    unready = client.post(_url(scheduled, "discharge"), data={"csrf_token": csrf, "discharge_time": now})
    assert unready.status_code == 409 and "responsible adult" in unready.text
    ready = {"csrf_token": csrf, "discharge_time": now, "escort_present": "1", "instructions_given": "1"}
    assert client.post(_url(scheduled, "discharge"), data=ready).status_code == 303
    assert store.get_procedure(db, procedure_id=scheduled.id).discharge_kind == "home"
    assert "home at" in client.get(_url(scheduled)).text


def test_the_printable_note_carries_a_script_free_policy(client, dr_alice, pat_id, db):
    proc_id = store.list_for_patient(db, patient_id=pat_id)[0].id
    login(client, dr_alice)
    note = client.get(f"/patients/{pat_id}/procedures/{proc_id}/note")
    assert note.status_code == 200 and "CPT 0275T" in note.text
    csp = note.headers["content-security-policy"]
    assert "default-src 'none'" in csp and "script-src" not in csp and "frame-ancestors 'none'" in csp
    pdf = client.get(f"/patients/{pat_id}/procedures/{proc_id}/note.pdf")
    assert pdf.headers["content-type"] == "application/pdf" and pdf.content.startswith(b"%PDF")


def test_a_patient_sees_their_summary_and_downloads_their_instructions(client, patient_pat, pat_id, db, world):
    proc_id = store.list_for_patient(db, patient_id=pat_id)[0].id
    login(client, patient_pat)
    summary = client.get(f"/patients/{pat_id}/procedures/{proc_id}")
    assert summary.status_code == 200 and "Your procedure on" in summary.text and "Checklist" not in summary.text
    pdf = client.get(f"/patients/{pat_id}/procedures/{proc_id}/instructions.pdf")
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")
    assert client.get(f"/patients/{pat_id}/procedures/{proc_id}/checklist").status_code == 403
    assert client.get(f"/patients/{pat_id}/procedures/{proc_id}/note").status_code == 403
    other = world.demo_patient_ids[1]
    assert client.get(f"/patients/{other}/procedures").status_code == 404


def test_it_hides_other_clinics_patients(client, dr_bob_other_clinic, pat_id, db):
    proc_id = store.list_for_patient(db, patient_id=pat_id)[0].id
    login(client, dr_bob_other_clinic)
    for step in ("", "/checklist", "/record", "/observation", "/note", "/instructions.pdf"):
        assert client.get(f"/patients/{pat_id}/procedures/{proc_id}{step}").status_code == 404, step
    assert client.get(f"/patients/{pat_id}/procedures").status_code == 404


def test_scheduling_from_the_tab_opens_the_checklist(client, db, dr_alice, fresh_patient_id):
    login(client, dr_alice)
    tab = f"/patients/{fresh_patient_id}/procedures"
    csrf = page_csrf(client, tab)
    bad = client.post(tab, data={"csrf_token": csrf, "scheduled_date": "soon"})
    assert bad.status_code == 422 and "scheduled_date" in bad.text
    resp = client.post(
        tab,
        data={
            "csrf_token": csrf,
            "scheduled_date": clock.today().isoformat(),
            "operator_user_id": str(dr_alice.user_id),
        },
    )
    assert resp.status_code == 303 and resp.headers["location"].endswith("/checklist")
    assert len(store.list_for_patient(db, patient_id=fresh_patient_id)) == 1


def test_the_checklist_table_shows_each_hold_and_restart_with_its_status(client, dr_alice, scheduled):


    login(client, dr_alice)
    page = client.get(_url(scheduled, "checklist")).text
    rows = {m.group(1): m.group(2) for m in re.finditer(r'<tr data-drug="([^"]+)">(.*?)</tr>', page, re.S)}
    cells = {drug: re.findall(r"<td[^>]*>(.*?)</td>", row, re.S) for drug, row in rows.items()}
    assert [c.strip() for c in cells["warfarin"][1:5]] == ["5 days", "secondary source", "6 h", "secondary source"]
    assert [c.strip() for c in cells["dalteparin"][1:5]] == ["24 h", "secondary source", "12-24 h", "UNVERIFIED"]
    assert [c.strip() for c in cells["apixaban"][1:5]] == ["3 days", "UNVERIFIED", "24 h", "UNVERIFIED"]
    assert "percutaneous decompression laminectomy" in page


def test_a_sites_own_anticoagulant_table_replaces_the_shipped_one_on_the_checklist(
    client, dr_alice, scheduled, settings, tmp_path
):
    from mildpath.content.procedure import use_site_content
    from mildpath.web.app import create_app

    (tmp_path / "anticoagulants.yaml").write_text(
        "drugs:\n  - {id: apixaban, label: Apixaban, hold_days: 2, restart: '48 h', status: UNVERIFIED,\n"
        "     sources: [asra-hold-intervals], verified: false}\n",
        encoding="utf-8",
    )
    create_app(settings.model_copy(update={"content_dir": str(tmp_path)}))  # the site's folder, named at start-up
    try:
        login(client, dr_alice)
        page = client.get(_url(scheduled, "checklist")).text
        rows = dict(re.findall(r'<tr data-drug="([^"]+)">(.*?)</tr>', page, re.S))
        assert set(rows) == {"apixaban"}
        assert [c.strip() for c in re.findall(r"<td[^>]*>(.*?)</td>", rows["apixaban"], re.S)[1:4]] == [
            "2 days", "UNVERIFIED", "48 h"
        ]
    finally:
        use_site_content(settings.content_dir)
    assert "warfarin" in client.get(_url(scheduled, "checklist")).text


def test_a_patient_who_reads_spanish_gets_the_discharge_sheet_in_spanish(client, patient_rosa, db):
    rosa = patient_rosa.patient_id
    proc_id = store.list_for_patient(db, patient_id=rosa)[0].id
    login(client, patient_rosa)
    sheet = client.get(f"/patients/{rosa}/procedures/{proc_id}/instructions")
    assert sheet.status_code == 200 and '<html lang="es">' in sheet.text
    assert "Pida ayuda de emergencia ya si tiene" in sheet.text and "dificultad nueva para orinar" in sheet.text
    english = client.get(f"/patients/{rosa}/procedures/{proc_id}/instructions?lang=en")
    assert "Get emergency help now if you have" in english.text
