"""A caregiver answers questionnaires when the patient shared that (issue 20): the fill pages admit them, the stored
response is marked as answered by a proxy, clinicians see "answered by Ana (daughter)", the registry rows carry the
proxy flag, and the FHIR QuestionnaireResponse's ``source`` is a RelatedPerson that resolves."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from fhir.resources.R4B.questionnaireresponse import QuestionnaireResponse
from fhir.resources.R4B.relatedperson import RelatedPerson
from sqlalchemy import select

from mildpath.services import proms as proms_svc
from mildpath.services.access import Actor
from mildpath.services.clock import now, today
from mildpath.store.caregivers import CaregiverGrant
from mildpath.store.procedures import ProcedureRow, add_procedure
from mildpath.store.proms import PromResponse
from tests.helpers import csrf_from, login


@pytest.fixture
def ana(db, personas, pat_id):  # type: ignore[no-untyped-def]
    """Ana may answer Pat's questionnaires, and Pat's 3-month questionnaires are open (procedure 100 days ago)."""
    caregiver = personas["caregiver_ana"]
    grant = db.scalar(select(CaregiverGrant).where(CaregiverGrant.user_id == caregiver.user_id,
                                                   CaregiverGrant.patient_id == pat_id))
    grant.can_questionnaires = True
    for row in db.query(ProcedureRow).filter(ProcedureRow.patient_id == pat_id):
        row.status = "cancelled"
    add_procedure(db, patient_id=pat_id, scheduled_date=today() - timedelta(days=100), operator_user_id=None,
                  created_by=None, now=now())
    db.flush()
    return caregiver


def _answer_nprs(client, pat_id: int):  # type: ignore[no-untyped-def]
    page = client.get(f"/patients/{pat_id}/questionnaires")
    assert page.status_code == 200, page.text[:300]
    resp = client.post(f"/patients/{pat_id}/questionnaires/start",
                       data={"csrf_token": csrf_from(page.text), "instrument": "nprs", "timepoint": "3m"})
    for _ in range(5):
        assert resp.status_code == 303, resp.text[:300]
        if "done=1" in resp.headers["location"]:
            return resp
        step = client.get(resp.headers["location"])
        items = dict.fromkeys(re.findall(r'name="(nprs-[a-z]+)"', step.text), "6")
        number = re.search(r'name="step" value="(\d+)"', step.text).group(1)  # type: ignore[union-attr]
        resp = client.post(resp.headers["location"].split("?")[0],
                           data={"csrf_token": csrf_from(step.text), "step": number, "action": "next", **items})
    raise AssertionError("the questionnaire did not finish")


def test_a_caregiver_answers_and_the_clinician_sees_it_was_a_proxy(client, db, ana, dr_alice, pat_id):  # type: ignore[no-untyped-def]
    login(client, ana)
    assert f"/patients/{pat_id}/questionnaires" in client.get("/caregiving").text
    done = _answer_nprs(client, pat_id)
    row = db.scalar(select(PromResponse).where(PromResponse.patient_id == pat_id, PromResponse.instrument == "nprs",
                                               PromResponse.timepoint == "3m"))
    assert (row.status, row.entry_mode, row.entered_by) == ("completed", "proxy", ana.user_id)
    assert client.get(done.headers["location"]).status_code == 200

    login(client, dr_alice)
    result = client.get(f"/patients/{pat_id}/responses/{row.id}")
    assert "answered by Ana (daughter)" in result.text
    assert "Ana (daughter)" in client.get(f"/patients/{pat_id}/questionnaires").text
    rows = proms_svc.registry_responses(db, Actor.system("tests"), proms_svc.RegistryQuery(patient_ids=(pat_id,)))
    assert [r.proxy for r in rows if r.response_id == row.id] == [True]
    assert not any(r.proxy for r in rows if r.response_id != row.id)


def test_the_fhir_response_of_a_proxy_has_a_related_person_source_that_resolves(client, db, ana, dr_alice, pat_id):  # type: ignore[no-untyped-def]
    login(client, ana)
    _answer_nprs(client, pat_id)
    row = db.scalar(select(PromResponse).where(PromResponse.patient_id == pat_id, PromResponse.entry_mode == "proxy"))
    qr = client.get(f"/fhir/QuestionnaireResponse/prom-{row.id}", headers=dr_alice.auth)
    assert qr.status_code == 200, qr.text[:300]
    QuestionnaireResponse.model_validate(qr.json())
    source = qr.json()["source"]["reference"]
    assert source.startswith("RelatedPerson/") and qr.json()["author"]["reference"] == source
    assert qr.json()["subject"]["reference"] == f"Patient/{pat_id}"
    person = client.get(f"/fhir/{source}", headers=dr_alice.auth)
    assert person.status_code == 200, person.text[:300]
    RelatedPerson.model_validate(person.json())
    assert person.json()["patient"] == {"reference": f"Patient/{pat_id}"}
    assert person.json()["name"] == [{"text": "Ana"}] and person.json()["relationship"] == [{"text": "daughter"}]


def test_a_caregiver_without_the_questionnaires_permission_is_refused(client, db, personas, pat_id):  # type: ignore[no-untyped-def]
    login(client, personas["caregiver_ana"])  # the demo's Ana shares the plan and the diary only
    assert client.get(f"/patients/{pat_id}/questionnaires").status_code == 404
    assert "/questionnaires" not in client.get("/caregiving").text
