"""CDS Hooks 2.0 security (https://cds-hooks.hl7.org/2.0/#trusting-cds-clients): calls signed by a registered
client pass; unsigned, expired, replayed or wrong-audience ones get 401. CORS for browser clients, the feedback
endpoint, and prefetch fetched from an allow-listed EHR FHIR server (a real HTTP server on loopback)."""

from __future__ import annotations

import time
import uuid

import jwt
import pytest

from mildpath.store.smart import CdsFeedback
from tests.helpers import count, login
from tests.screening.vignettes import Vignette
from tests.screening_web.conftest import cds_request
from tests.smart.conftest import assertion, register

SERVICE = "/cds-services/mild-candidacy"
ISSUER = "https://ehr.example.org"


def _bearer(signer, client_id, path, **changes):  # type: ignore[no-untyped-def]
    jwt_value = assertion(signer, client_id, aud=f"http://testserver{path}", iss=ISSUER, **changes)
    return {"Authorization": f"Bearer {jwt_value}"}


@pytest.fixture
def ehr(db, rsa_signer) -> str:  # type: ignore[no-untyped-def]
    """A registered EHR whose CDS Hooks JWTs carry iss = https://ehr.example.org (no FHIR scopes)."""
    return register(db, rsa_signer, issuer=ISSUER, scopes=[])


def test_a_signed_call_gets_cards(client, ehr, rsa_signer):
    discovery = client.get("/cds-services", headers=_bearer(rsa_signer, ehr, "/cds-services"))
    assert discovery.status_code == 200 and discovery.json()["services"][0]["id"] == "mild-candidacy"
    resp = client.post(SERVICE, json=cds_request(Vignette("typical", "likely_candidate")),
                       headers=_bearer(rsa_signer, ehr, SERVICE))
    assert resp.status_code == 200, resp.text
    assert resp.json()["cards"][0]["summary"] == "Possible mild candidate: refer for specialist evaluation"


def test_an_es384_client_is_selected_by_its_issuer(client, db, ec_signer):
    client_id = register(db, ec_signer, issuer="https://other-ehr.example.org", scopes=[])
    jwt_value = assertion(ec_signer, client_id, aud="http://testserver/cds-services", iss="https://other-ehr.example.org")
    assert client.get("/cds-services", headers={"Authorization": f"Bearer {jwt_value}"}).status_code == 200


@pytest.mark.parametrize(
    ("case", "changes"),
    [
        ("expired", {"lifetime": -120}),
        ("wrong audience", {"aud": "http://testserver/cds-services/other"}),
        ("another issuer", {"iss": "https://unknown.example.org"}),
        ("sub is not the client", {"sub": "not-the-client"}),
    ],
)
def test_a_wrong_jwt_is_401(client, ehr, rsa_signer, case, changes):
    claims = {"aud": f"http://testserver{SERVICE}", "iss": ISSUER, **changes}
    headers = {"Authorization": f"Bearer {assertion(rsa_signer, ehr, **claims)}"}
    resp = client.post(SERVICE, json=cds_request(Vignette("typical", "likely_candidate")), headers=headers)
    assert resp.status_code == 401, case


def test_an_unsigned_or_foreign_key_jwt_is_401(client, ehr, stranger):
    claims = {"iss": ISSUER, "sub": ehr, "aud": "http://testserver/cds-services", "exp": int(time.time()) + 60,
              "jti": str(uuid.uuid4())}
    unsigned = jwt.encode(claims, None, algorithm="none")
    assert client.get("/cds-services", headers={"Authorization": f"Bearer {unsigned}"}).status_code == 401
    forged = stranger.sign(claims)
    assert client.get("/cds-services", headers={"Authorization": f"Bearer {forged}"}).status_code == 401


def test_a_replayed_jwt_is_401(client, ehr, rsa_signer):
    headers = _bearer(rsa_signer, ehr, "/cds-services")
    assert client.get("/cds-services", headers=headers).status_code == 200
    assert client.get("/cds-services", headers=headers).status_code == 401


def test_api_tokens_and_sessions_are_refused_unless_the_site_turns_them_on(client, dr_alice):
    assert client.get("/cds-services", headers=dr_alice.auth).status_code == 401
    login(client, dr_alice)
    assert client.get("/cds-services").status_code == 403


def test_cors_preflight_is_answered_for_a_listed_origin_only(app):
    from mildpath.web.app import create_app

    settings = app.state.settings.model_copy(update={"cors_origins": "https://ehr.example.org"})
    cors_app = create_app(settings)
    cors_app.state.session_factory = app.state.session_factory
    from fastapi.testclient import TestClient

    with TestClient(cors_app, base_url="http://testserver") as c:
        pre = c.options(SERVICE, headers={"Origin": "https://ehr.example.org", "Access-Control-Request-Method": "POST",
                                          "Access-Control-Request-Headers": "authorization,content-type"})
        assert pre.status_code == 200
        assert pre.headers["access-control-allow-origin"] == "https://ehr.example.org"
        assert "authorization" in pre.headers["access-control-allow-headers"].lower()
        other = c.options(SERVICE, headers={"Origin": "https://evil.example.org",
                                            "Access-Control-Request-Method": "POST"})
        assert "access-control-allow-origin" not in other.headers
        api = c.options("/api/v1/patients", headers={"Origin": "https://ehr.example.org",
                                                     "Access-Control-Request-Method": "GET"})
        assert "access-control-allow-origin" not in api.headers


def _card(client, ehr, signer) -> str:  # type: ignore[no-untyped-def]
    resp = client.post(SERVICE, json=cds_request(Vignette("typical", "likely_candidate")),
                       headers=_bearer(signer, ehr, SERVICE))
    return resp.json()["cards"][0]["uuid"]


def test_feedback_on_a_card_is_stored_per_criterion(client, db, ehr, rsa_signer):
    card = _card(client, ehr, rsa_signer)
    before = count(db, CdsFeedback)
    body = {"feedback": [{"card": card, "outcome": "overridden", "outcomeTimestamp": "2026-12-07T12:00:00Z",
                          "overrideReason": {"reason": {"system": "http://example.org/reasons", "code": "not-now"},
                                             "userComment": "Patient declined"}}]}
    resp = client.post(f"{SERVICE}/feedback", json=body, headers=_bearer(rsa_signer, ehr, f"{SERVICE}/feedback"))
    assert resp.status_code == 200, resp.text
    rows = count(db, CdsFeedback) - before
    assert rows >= 1 and resp.json() == {"cards": 1, "stored": rows}
    row = db.query(CdsFeedback).order_by(CdsFeedback.id.desc()).first()
    assert row.outcome == "overridden" and row.override_reason["reason"]["code"] == "not-now" and row.criterion


@pytest.mark.parametrize(
    ("entry", "field"),
    [
        ({"outcome": "maybe"}, "outcome"),
        ({"outcomeTimestamp": "yesterday"}, "outcomeTimestamp"),
        ({"card": "no-such-card"}, "feedback[0].card"),
        ({"outcome": "accepted", "overrideReason": {"userComment": "x"}}, "feedback"),
    ],
)
def test_invalid_feedback_is_422_naming_the_field(client, ehr, rsa_signer, entry, field):
    card = _card(client, ehr, rsa_signer)
    item = {"card": card, "outcome": "accepted", "outcomeTimestamp": "2026-12-07T12:00:00Z", **entry}
    resp = client.post(f"{SERVICE}/feedback", json={"feedback": [item]},
                       headers=_bearer(rsa_signer, ehr, f"{SERVICE}/feedback"))
    assert resp.status_code == 422, resp.text
    assert field in resp.text


def _missing_request(loopback, keys=("conditions", "observations")):  # type: ignore[no-untyped-def]
    request = cds_request(Vignette("typical", "likely_candidate"))
    for key in keys:
        value = request["prefetch"].pop(key)
        loopback.documents[f"/fhir/{'Condition' if key == 'conditions' else 'Observation'}"] = value
    request["fhirServer"] = f"{loopback.url}/fhir"
    request["fhirAuthorization"] = {"access_token": "ehr-token", "token_type": "Bearer", "expires_in": 300,
                                    "scope": "patient/*.read", "subject": "mildpath"}
    return request


def test_missing_prefetch_is_fetched_from_an_allowed_fhir_server(app, client, ehr, rsa_signer, loopback):
    app.state.settings = app.state.settings.model_copy(update={"cds_fhir_allowed_origins": loopback.url})
    resp = client.post(SERVICE, json=_missing_request(loopback), headers=_bearer(rsa_signer, ehr, SERVICE))
    assert resp.status_code == 200, resp.text
    assert resp.json()["cards"][0]["summary"] == "Possible mild candidate: refer for specialist evaluation"
    paths = sorted(r["path"].split("?")[0] for r in loopback.requests)
    assert paths == ["/fhir/Condition", "/fhir/Observation"]
    assert {r["authorization"] for r in loopback.requests} == {"Bearer ehr-token"}
    assert all("patient=pat-1" in r["path"] for r in loopback.requests)


def test_a_fhir_server_off_the_allow_list_is_never_called(client, ehr, rsa_signer, loopback):
    resp = client.post(SERVICE, json=_missing_request(loopback), headers=_bearer(rsa_signer, ehr, SERVICE))
    assert resp.status_code == 412 and resp.json()["missing"] == ["conditions", "observations"]
    assert loopback.requests == []


def test_an_oversized_answer_from_the_fhir_server_is_412(app, client, ehr, rsa_signer, loopback):
    app.state.settings = app.state.settings.model_copy(update={"cds_fhir_allowed_origins": loopback.url})
    request = _missing_request(loopback, keys=("conditions",))
    loopback.documents["/fhir/Condition"] = b"[" + b"0," * (3 * 1024 * 1024) + b"0]"
    resp = client.post(SERVICE, json=request, headers=_bearer(rsa_signer, ehr, SERVICE))
    assert resp.status_code == 412
