"""The recovery plan says when each blood thinner held for the procedure may restart, with the status of the
hold table's interval (clinical-reference §4.4), and that the care team's word decides."""

from __future__ import annotations

from mildpath.services import clock, recovery
from mildpath.services import procedures as svc
from tests.helpers import login
from tests.procedure_web.conftest import complete_checklist


def _hold(db, dr_alice, scheduled, *drugs: str) -> None:  # type: ignore[no-untyped-def]
    checklist = complete_checklist()
    checklist["anticoagulation"] = {
        "takes_blood_thinner": True,
        "confirmed_by": "Dr Alice Moreno",
        "medications": [{"drug": d, "prescriber_consulted": True} for d in drugs],
    }
    svc.update_checklist(
        db, dr_alice.actor, scheduled.patient_id, scheduled.id, checklist, today=clock.today(), now=clock.now()
    )
    recovery.set_plan(
        db, dr_alice.actor, scheduled.patient_id, recovery.PlanIn(procedure_date=clock.today()), today=clock.today()
    )


def test_each_held_blood_thinner_has_its_restart_interval_and_status_on_the_plan(db, dr_alice, scheduled):
    _hold(db, dr_alice, scheduled, "apixaban", "warfarin", "no-such-drug")
    view = recovery.get_plan_view(db, dr_alice.actor, scheduled.patient_id, today=clock.today())
    assert view is not None
    restarts = {r.drug: (r.restart, r.status) for r in view.restarts}
    assert restarts == {"apixaban": ("24 h", "UNVERIFIED"), "warfarin": ("6 h", "secondary source"),
                        "no-such-drug": ("", "")}


def test_the_plan_page_tells_the_patient_to_restart_only_on_the_care_teams_word(
    client, db, dr_alice, scheduled
):
    _hold(db, dr_alice, scheduled, "apixaban")
    login(client, dr_alice)
    page = client.get(f"/patients/{scheduled.patient_id}/recovery").text
    assert 'id="blood-thinner-restarts"' in page
    assert "Start it again only when your care team" in page and "24 h after the procedure" in page


def test_no_blood_thinner_means_no_restart_section(client, db, dr_alice, scheduled):
    _hold(db, dr_alice, scheduled)
    view = recovery.get_plan_view(db, dr_alice.actor, scheduled.patient_id, today=clock.today())
    assert view is not None and view.restarts == ()
