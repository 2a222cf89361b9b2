"""HSTS and Secure cookies exactly when the app is reached over HTTPS: directly, or through a trusted proxy
that says so in ``X-Forwarded-Proto``. Over plain HTTP neither is sent (a Secure cookie would never come back,
and HSTS on plain HTTP is ignored by browsers anyway)."""

from __future__ import annotations

from tests.helpers import csrf_from

HSTS = "strict-transport-security"


def _login(client, persona, headers=None):  # type: ignore[no-untyped-def]
    page = client.get("/login", headers=headers or {})
    return page, client.post(
        "/login",
        data={"email": persona.email, "password": persona.password, "csrf_token": csrf_from(page.text), "next": "/"},
        headers=headers or {},
    )


def _set_cookies(resp) -> dict[str, str]:  # type: ignore[no-untyped-def]
    return {c.split("=", 1)[0]: c for c in resp.headers.get_list("set-cookie")}


def test_plain_http_sends_no_hsts_and_no_secure_cookies(client, dr_alice):
    page, resp = _login(client, dr_alice)
    assert HSTS not in page.headers and HSTS not in resp.headers
    assert resp.status_code == 303
    for cookie in [*_set_cookies(page).values(), *_set_cookies(resp).values()]:
        assert "secure" not in cookie.lower()


def test_https_sends_hsts_and_marks_every_cookie_secure(client_with, dr_alice):
    client = client_with(base_url="https://testserver")
    page, resp = _login(client, dr_alice)
    assert resp.status_code == 303
    assert page.headers[HSTS].startswith("max-age=") and int(page.headers[HSTS].split("=")[1].split(";")[0]) >= 15552000
    assert HSTS in resp.headers
    cookies = {**_set_cookies(page), **_set_cookies(resp)}
    assert {"mp_anon", "mp_session"} <= set(cookies)
    for cookie in cookies.values():
        assert "; secure" in cookie.lower() and "httponly" in cookie.lower()


def test_https_api_responses_carry_hsts_too(client_with, dr_alice):
    client = client_with(base_url="https://testserver")
    assert HSTS in client.get("/api/v1/me", headers=dr_alice.auth).headers


def test_a_trusted_proxy_saying_https_gets_hsts_and_secure_cookies(client_with, dr_alice):
    # The TestClient's socket peer is "testclient": naming it as the proxy makes its headers trusted. The
    # client itself speaks plain HTTP to the app (as a proxy does), so its cookie jar would hold back Secure
    # cookies: the anonymous cookie is sent by hand, as the browser behind the proxy would.
    client = client_with(trusted_proxies="testclient")
    forwarded = {"X-Forwarded-Proto": "https", "X-Forwarded-For": "203.0.113.7"}
    page = client.get("/login", headers=forwarded)
    anon = _set_cookies(page)["mp_anon"]
    assert HSTS in page.headers and "; secure" in anon.lower()
    resp = client.post(
        "/login",
        data={"email": dr_alice.email, "password": dr_alice.password, "csrf_token": csrf_from(page.text)},
        headers={**forwarded, "Cookie": anon.split(";")[0]},
    )
    assert resp.status_code == 303
    assert HSTS in resp.headers
    assert "; secure" in _set_cookies(resp)["mp_session"].lower()


def test_an_untrusted_client_cannot_claim_https_with_a_header(client, dr_alice):
    forwarded = {"X-Forwarded-Proto": "https"}
    page, resp = _login(client, dr_alice, forwarded)
    assert HSTS not in page.headers and HSTS not in resp.headers
    assert "secure" not in _set_cookies(resp)["mp_session"].lower()
