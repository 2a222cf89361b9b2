"""``POST /auth/token`` (SMART Backend Services): a client assertion signed with a registered key gets a
short-lived access token; every way the assertion can be wrong is ``invalid_client`` (401, RFC 6749 §5.2)."""

from __future__ import annotations

import time

import pytest

from mildpath.store.smart import AccessToken
from tests.helpers import count
from tests.smart.conftest import TOKEN_URL, assertion, register, token_form


def test_an_rs384_assertion_gets_a_bearer_token_of_five_minutes(client, rsa_client, rsa_signer, db):
    resp = client.post("/auth/token", data=token_form(assertion(rsa_signer, rsa_client)))
    assert resp.status_code == 200, resp.text
    body = resp.json()
    assert body["token_type"] == "bearer" and body["expires_in"] == 300 and body["scope"] == "system/*.read"
    assert resp.headers["cache-control"] == "no-store"
    # only the digest is kept
    assert count(db, AccessToken) >= 1 and count(db, AccessToken, digest=body["access_token"]) == 0


def test_an_es384_client_with_a_jwks_url_gets_a_token_and_its_jku_is_honoured(client, db, ec_signer, loopback):
    loopback.documents["/jwks.json"] = ec_signer.jwks
    client_id = register(db, ec_signer, jwks_url=f"{loopback.url}/jwks.json")
    jwt_value = ec_signer.sign(
        {"iss": client_id, "sub": client_id, "aud": TOKEN_URL, "exp": int(time.time()) + 120, "jti": "e-1"},
        jku=f"{loopback.url}/jwks.json",
    )
    resp = client.post("/auth/token", data=token_form(jwt_value, "system/Patient.rs"))
    assert resp.status_code == 200, resp.text
    assert resp.json()["scope"] == "system/Patient.rs"
    assert loopback.requests and loopback.requests[-1]["path"] == "/jwks.json"


def test_a_jku_other_than_the_registered_url_is_refused_without_fetching_it(client, db, ec_signer, loopback):
    loopback.documents["/jwks.json"] = ec_signer.jwks
    loopback.documents["/evil.json"] = ec_signer.jwks
    client_id = register(db, ec_signer, jwks_url=f"{loopback.url}/jwks.json")
    jwt_value = assertion(ec_signer, client_id)
    forged = ec_signer.sign(
        {"iss": client_id, "sub": client_id, "aud": TOKEN_URL, "exp": int(time.time()) + 120, "jti": "e-2"},
        jku=f"{loopback.url}/evil.json",
    )
    resp = client.post("/auth/token", data=token_form(forged))
    assert resp.status_code == 401 and resp.json()["error"] == "invalid_client"
    assert all(r["path"] != "/evil.json" for r in loopback.requests)
    assert client.post("/auth/token", data=token_form(jwt_value)).status_code == 200


@pytest.mark.parametrize(
    ("case", "changes"),
    [
        ("expired", {"lifetime": -120}),
        ("more than five minutes ahead", {"lifetime": 900}),
        ("another audience", {"aud": "http://testserver/other"}),
        ("sub is not the client", {"sub": "someone-else"}),
        ("no jti", {"jti": None}),
    ],
)
def test_a_wrong_assertion_is_invalid_client(client, rsa_client, rsa_signer, case, changes):
    resp = client.post("/auth/token", data=token_form(assertion(rsa_signer, rsa_client, **changes)))
    assert resp.status_code == 401, case
    assert resp.json()["error"] == "invalid_client" and resp.json()["error_description"]


def test_a_replayed_assertion_is_refused(client, rsa_client, rsa_signer):
    jwt_value = assertion(rsa_signer, rsa_client)
    assert client.post("/auth/token", data=token_form(jwt_value)).status_code == 200
    again = client.post("/auth/token", data=token_form(jwt_value))
    assert again.status_code == 401 and "replay" in again.json()["error_description"]


def test_a_key_nobody_registered_and_an_unsigned_jwt_are_refused(client, rsa_client, stranger):
    assert client.post("/auth/token", data=token_form(assertion(stranger, rsa_client))).status_code == 401
    import jwt

    unsigned = jwt.encode({"iss": rsa_client, "sub": rsa_client, "aud": TOKEN_URL, "exp": int(time.time()) + 60,
                           "jti": "u"}, None, algorithm="none")
    assert client.post("/auth/token", data=token_form(unsigned)).status_code == 401


def test_a_disabled_client_gets_no_token_and_its_tokens_stop(client, db, rsa_client, rsa_signer, backend_token):
    from mildpath.services import smart
    from mildpath.services.access import Actor

    assert client.get("/fhir/Patient", params={"_summary": "count"}, headers=backend_token).status_code == 200
    smart.disable_client(db, Actor.system(), rsa_client)
    db.commit()
    assert client.post("/auth/token", data=token_form(assertion(rsa_signer, rsa_client))).status_code == 401
    assert client.get("/fhir/Patient", params={"_summary": "count"}, headers=backend_token).status_code == 401


@pytest.mark.parametrize(
    ("field", "value", "error"),
    [
        ("grant_type", "password", "unsupported_grant_type"),
        ("client_assertion_type", "urn:other", "invalid_request"),
        ("client_assertion", "", "invalid_request"),
        ("scope", "", "invalid_request"),
        ("scope", "system/*.write", "invalid_scope"),
        ("scope", "patient/*.read", "invalid_scope"),
    ],
)
def test_a_malformed_request_is_a_400_with_the_oauth_error(client, rsa_client, rsa_signer, field, value, error):
    form = token_form(assertion(rsa_signer, rsa_client))
    form[field] = value
    resp = client.post("/auth/token", data=form)
    assert resp.status_code == 400 and resp.json()["error"] == error


def test_smart_configuration_announces_the_token_endpoint(client):
    conf = client.get("/.well-known/smart-configuration").json()
    assert conf["token_endpoint"] == TOKEN_URL
    assert conf["grant_types_supported"] == ["client_credentials"]
    assert conf["token_endpoint_auth_methods_supported"] == ["private_key_jwt"]
    assert set(conf["token_endpoint_auth_signing_alg_values_supported"]) == {"RS384", "ES384"}
    assert {"system/*.read", "system/*.rs", "system/Patient.read"} <= set(conf["scopes_supported"])


def test_an_hmac_jwt_keyed_with_the_public_key_is_refused(client, rsa_client, rsa_signer):
    """The algorithm-confusion attack: only RS384 and ES384 are accepted, whatever the header says."""
    import jwt

    public = str(rsa_signer.jwks["keys"][0]["n"])
    claims = {"iss": rsa_client, "sub": rsa_client, "aud": TOKEN_URL, "exp": int(time.time()) + 60, "jti": "h"}
    forged = jwt.encode(claims, public, algorithm="HS384")
    resp = client.post("/auth/token", data=token_form(forged))
    assert resp.status_code == 401 and "RS384" in resp.json()["error_description"]
