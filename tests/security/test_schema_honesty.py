"""Issue 21, item 9: the OpenAPI document states what the server does.

- OPTIONS on every documented path answers 405 with an ``Allow`` header listing exactly the documented methods
  (and an unsupported method likewise); pages outside the schema list every method they answer.
- Every operation that answers a FHIR resource documents ``application/fhir+json`` and answers it.
"""

from __future__ import annotations

import re

SAMPLE_IDS = re.compile(r"\{[^}]+\}")


def test_options_and_unsupported_methods_answer_405_with_the_true_allow(client, dr_alice):
    schema = client.get("/openapi.json").json()
    for path, ops in schema["paths"].items():
        url = SAMPLE_IDS.sub("1", path)
        documented = {m.upper() for m in ops if m in ("get", "post", "put", "patch", "delete")}
        resp = client.options(url, headers=dr_alice.auth)
        assert resp.status_code == 405, (path, resp.status_code)
        allowed = {m.strip() for m in resp.headers["allow"].split(",")}
        assert allowed == documented, (path, allowed, documented)
    for url, methods in (("/login", {"GET", "POST"}), ("/healthz", {"GET"})):
        resp = client.options(url)
        assert resp.status_code == 405 and {m.strip() for m in resp.headers["allow"].split(",")} == methods


def test_fhir_answers_are_documented_and_served_as_fhir_json(client, dr_alice, pat_id):
    schema = client.get("/openapi.json").json()
    fhir_ops = []
    for path, ops in schema["paths"].items():
        for method, op in ops.items():
            for code in ("200", "201"):
                content = op.get("responses", {}).get(code, {}).get("content", {})
                if "application/fhir+json" in content:
                    assert "application/json" not in content, (method, path)
                    fhir_ops.append((method, path))
    assert len(fhir_ops) >= 6
    resp = client.get("/api/v1/instruments/odi/questionnaire", headers=dr_alice.auth)
    assert resp.status_code == 200 and resp.headers["content-type"].startswith("application/fhir+json")
    documented = schema["paths"]["/api/v1/instruments/{instrument_id}/questionnaire"]["get"]["responses"]["200"]
    assert list(documented["content"]) == ["application/fhir+json"]
