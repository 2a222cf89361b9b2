"""Issue 21, item 6: an outside probe of every route, enumerated from the app's route table (routes added
later join by themselves). Cross-patient and cross-clinic access with each role is the authorization matrix
(tests/web/test_authorization_matrix.py); this sweep sends, as a clinician signed in on both channels, what a
probe sends besides:

- injection strings in every path parameter and in a query string (SQL, path traversal, markup, NUL);
- a malformed body and a body over the size limit to every state-changing route.

The promises: never a 5xx; a machine route answers errors as problem+json (FHIR: OperationOutcome); a
body over the limit is 413 before the route runs; a page never echoes the markup unescaped (JSON errors
may quote it: they are not HTML); a machine route that takes a body refuses a malformed one. The budget is
one request per route and probe (about 4 x the routes, in-process).
"""

from __future__ import annotations

from urllib.parse import quote

from mildpath.web.security import csrf_token
from tests.helpers import login
from tests.web.test_authorization_matrix import PARAM, _routes

PROBES = ["1' OR '1'='1", "../../etc/passwd", "<script>alert(1)</script>", "%00", "9" * 30]
MACHINE = ("/api/", "/cds-services", "/fhir/", "/hooks/")
ERROR_TYPES = ("application/problem+json", "application/fhir+json")


def _probed(path: str, probe: str) -> str:
    return PARAM.sub(lambda m: quote(probe, safe=""), path)


def _check(resp, url: str, probe: str | None = None) -> list[str]:  # type: ignore[no-untyped-def]
    bad = []
    if resp.status_code >= 500:
        bad.append(f"{resp.status_code} {url}")
    machine = url.startswith(MACHINE)
    kind = resp.headers.get("content-type", "")
    if machine and 400 <= resp.status_code < 500 and not kind.startswith(ERROR_TYPES):
        bad.append(f"{resp.status_code} {url}: {resp.headers.get('content-type')}")
    html = kind.startswith("text/html")
    if html and probe and "<script>" in probe and "<script>alert(1)" in resp.text:
        bad.append(f"markup echoed unescaped: {url}")
    return bad


def test_injection_strings_in_paths_and_queries_never_break_a_route(app, client, dr_alice):
    login(client, dr_alice)
    bad: list[str] = []
    for i, (method, path, _policy) in enumerate(_routes(app)):
        if method != "GET":
            continue
        probe = PROBES[i % len(PROBES)]
        url = _probed(path, probe) + "?q=" + quote(PROBES[(i + 1) % len(PROBES)])
        resp = client.get(url, headers=dr_alice.auth if url.startswith(MACHINE) else {})
        bad += _check(resp, url, probe)
    assert not bad, bad


def test_malformed_and_oversized_bodies_are_refused_by_every_state_changing_route(app, client, dr_alice):
    login(client, dr_alice)
    cookie = client.cookies.get("mp_session")
    token = csrf_token(app.state.settings.secret_key, f"sess:{cookie}")
    limit = app.state.settings.max_body_bytes
    takes_body = {(m.upper(), p) for p, ops in app.openapi()["paths"].items() for m, op in ops.items()
                  if isinstance(op, dict) and "requestBody" in op}
    bad: list[str] = []
    for method, path, _policy in _routes(app):
        if method == "GET":
            continue
        url = _probed(path, "1")
        machine = url.startswith(MACHINE)
        headers = {**(dr_alice.auth if machine else {}), "X-CSRF-Token": token}
        kind = "application/json" if machine else "application/x-www-form-urlencoded"
        malformed = b'{"a": [1, 2' if machine else b"csrf_token=" + token.encode() + b"&%zz=%"
        resp = client.request(method, url, content=malformed, headers={**headers, "Content-Type": kind})
        bad += _check(resp, url)
        if machine and (method, path) in takes_body and resp.status_code < 400:
            bad.append(f"{resp.status_code} for a malformed body: {method} {url}")
        huge = b"x" * (limit + 1)
        resp = client.request(method, url, content=huge, headers={**headers, "Content-Type": kind})
        if resp.status_code != 413:
            bad.append(f"{resp.status_code} for a body over the limit: {method} {url}")
    assert not bad, bad
