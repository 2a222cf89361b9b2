"""CDS Hooks 2.0 over HTTP: discovery and the patient-view service, authenticated with API tokens as bearer
(the site setting MILDPATH_CDS_API_TOKENS, on for this module; signed JWTs are tests/smart/test_cds_jwt.py's).

Shapes per https://cds-hooks.hl7.org/2.0/: a discovery service has ``hook``, ``description`` and ``id``; a card
has ``summary`` (< 140 characters), ``indicator`` (info, warning or critical) and ``source.label``.
"""

from __future__ import annotations

import pytest

from mildpath.store.models import AuditEvent
from mildpath.store.screenings import Screening
from tests.helpers import count, login
from tests.screening.vignettes import Vignette
from tests.screening_web.conftest import cds_request, last_audit

SERVICE = "/cds-services/mild-candidacy"
pytestmark = pytest.mark.usefixtures("cds_api_tokens")


def _check_card(card: dict) -> None:
    assert isinstance(card["summary"], str) and 0 < len(card["summary"]) < 140
    assert card["indicator"] in ("info", "warning", "critical")
    assert card["source"]["label"]
    assert "approved" not in str(card).lower()


def test_discovery_lists_the_patient_view_service_with_its_prefetch(client, dr_alice):
    resp = client.get("/cds-services", headers=dr_alice.auth)
    assert resp.status_code == 200
    (service,) = resp.json()["services"]
    assert service["hook"] == "patient-view" and service["id"] == "mild-candidacy" and service["description"]
    assert set(service["prefetch"]) >= {"patient", "conditions", "procedures", "observations"}
    assert all("{{context.patientId}}" in t for t in service["prefetch"].values())


@pytest.mark.parametrize(("method", "path"), [("GET", "/cds-services"), ("POST", SERVICE)])
def test_a_cds_client_without_a_token_gets_401_with_a_bearer_challenge(client, method, path):
    resp = client.request(method, path, json=cds_request(Vignette("typical", "likely_candidate")))
    assert resp.status_code == 401
    assert resp.headers["www-authenticate"] == "Bearer"
    assert resp.headers["content-type"].startswith("application/problem+json")


def test_a_revoked_or_made_up_token_is_refused(client):
    resp = client.get("/cds-services", headers={"Authorization": "Bearer not-a-token"})
    assert resp.status_code == 401


def test_a_patient_token_may_not_call_the_service(client, patient_pat):
    resp = client.post(SERVICE, json=cds_request(Vignette("typical", "likely_candidate")), headers=patient_pat.auth)
    assert resp.status_code == 403


@pytest.mark.parametrize(
    ("vignette", "indicator", "summary"),
    [
        (Vignette("typical", "likely_candidate"), "info", "Possible mild candidate: refer for specialist evaluation"),
        (
            Vignette("no imaging", "needs_more_information", lf=None),
            "info",
            "Possible mild candidate: more information needed",
        ),
        (
            Vignette("cauda equina", "urgent_referral", ces_days=3),
            "critical",
            "Red flags on record: seek care now (not a mild referral)",
        ),
    ],
    ids=["likely", "needs-information", "urgent"],
)
def test_patient_view_answers_one_card_per_the_spec(client, dr_alice, vignette, indicator, summary):
    resp = client.post(SERVICE, json=cds_request(vignette), headers=dr_alice.auth)
    assert resp.status_code == 200, resp.text
    (card,) = resp.json()["cards"]
    _check_card(card)
    assert (card["indicator"], card["summary"]) == (indicator, summary)


def test_a_patient_without_stenosis_gets_no_card(client, dr_alice):
    resp = client.post(
        SERVICE, json=cds_request(Vignette("no stenosis", "not_candidate", lss=None)), headers=dr_alice.auth
    )
    assert resp.status_code == 200 and resp.json() == {"cards": []}


def test_missing_prefetch_answers_412_naming_the_keys(client, dr_alice):
    request = cds_request(Vignette("typical", "likely_candidate"), drop=("conditions", "observations"))
    resp = client.post(SERVICE, json=request, headers=dr_alice.auth)
    assert resp.status_code == 412
    assert resp.headers["content-type"].startswith("application/problem+json")
    assert resp.json()["missing"] == ["conditions", "observations"]


def test_unknown_codes_and_resource_types_are_ignored(client, dr_alice):
    request = cds_request(Vignette("typical", "likely_candidate"))
    request["prefetch"]["conditions"]["entry"].append(
        {
            "resource": {
                "resourceType": "Condition",
                "subject": {"reference": "Patient/pat-1"},
                "code": {"coding": [{"system": "urn:local", "code": "whatever"}]},
            }
        }
    )
    request["prefetch"]["observations"]["entry"].append({"resource": {"resourceType": "Basic", "id": "x"}})
    resp = client.post(SERVICE, json=request, headers=dr_alice.auth)
    assert resp.status_code == 200 and resp.json()["cards"][0]["indicator"] == "info"


@pytest.mark.parametrize(
    "change",
    [{"hook": "order-select"}, {"context": {}}, {"hookInstance": None}, {"hook": "x" * 100}],
    ids=["other-hook", "no-patient-id", "no-hook-instance", "long-hook"],
)
def test_a_malformed_request_is_a_422_problem(client, dr_alice, change):
    request = {**cds_request(Vignette("typical", "likely_candidate")), **change}
    resp = client.post(SERVICE, json=request, headers=dr_alice.auth)
    assert resp.status_code == 422
    assert resp.headers["content-type"].startswith("application/problem+json")


def test_a_call_is_audited_and_stores_no_screening(client, db, dr_alice):
    screenings, calls = count(db, Screening), count(db, AuditEvent, action="screening.cds_hooks")
    client.post(SERVICE, json=cds_request(Vignette("typical", "likely_candidate")), headers=dr_alice.auth)
    assert count(db, Screening) == screenings
    assert count(db, AuditEvent, action="screening.cds_hooks") == calls + 1
    row = last_audit(db, "screening.cds_hooks")
    assert row is not None and row.actor_user_id == dr_alice.user_id and row.patient_id is None
    assert row.record_id == "d1577c69-dfbe-44ad-ba6d-3e05e953b2ea" and row.detail == {"hook": "patient-view"}


def test_a_signed_in_clinician_may_try_the_service_from_the_browser_session(client, dr_alice):
    login(client, dr_alice)
    assert client.get("/cds-services").status_code == 200
