"""Issue 21, items 3, 4 and 5: the rules every input model shares, declared once (``domain/inputs.py``).

- Every JSON request body of the API is an ``EdgeInput`` model (or a free-form body checked with its rules).
- No coercion: ``{"birth_date": 0}``, ``{"as_of": 0}``, ``"yes"`` for a boolean, ``"5"`` for an integer: 422.
- Numbers beyond a 32-bit column (2147483648, 9223372036854775808) or not finite: 422 naming the field.
- Text: unpaired surrogates, NUL, control characters and bidi overrides (U+202E) are refused with 422 naming
  the field, and the connection serves the next request normally. Run on SQLite and PostgreSQL.
"""

from __future__ import annotations

import json

import pytest
from pydantic import BaseModel

from mildpath.domain.inputs import EdgeInput
from tests.security.test_bad_input import snapshot

JSON = {"Content-Type": "application/json"}
BASE = {"mrn": "ER-1", "given_name": "Edda", "family_name": "Rule", "birth_date": "1951-04-05", "sex": "female"}


def _all_models() -> dict[str, type[BaseModel]]:
    """mildpath's own pydantic models by name (other libraries' models, such as fhir.resources' AdverseEvent that
    other tests import, may share a name and must not stand in for ours)."""
    out: dict[str, type[BaseModel]] = {}
    todo = [BaseModel]
    while todo:
        cls = todo.pop()
        for sub in cls.__subclasses__():
            if sub.__module__.startswith("mildpath."):
                out.setdefault(sub.__name__, sub)
            todo.append(sub)
    return out


def test_every_json_request_body_of_the_api_is_an_edge_input_model(app):
    schema = app.openapi()
    models = _all_models()
    bodies = set()
    for ops in schema["paths"].values():
        for op in ops.values():
            content = op.get("requestBody", {}).get("content", {}) if isinstance(op, dict) else {}
            for media in content.values():
                bodies |= set(__import__("re").findall(r"#/components/schemas/(\w+)", json.dumps(media)))
    assert bodies
    weak = [name for name in sorted(bodies) if name in models and not issubclass(models[name], EdgeInput)]
    # nested parts of a body (components referenced from a body model) count as well
    assert not weak, weak


def _field_named(resp, field: str) -> None:  # type: ignore[no-untyped-def]
    assert resp.status_code == 422, resp.text[:300]
    assert resp.headers["content-type"].startswith("application/problem+json")
    fields = [e["field"] for e in resp.json().get("errors", [])]
    assert any(f == field or f.split(".")[-1] == field or f.split(".")[0] == field for f in fields), fields


COERCIONS = [
    ("a number for a birth date", "/api/v1/patients", {**BASE, "birth_date": 0}, "birth_date"),
    ("a float for a birth date", "/api/v1/patients", {**BASE, "birth_date": 1.5e9}, "birth_date"),
    ("a number for a name", "/api/v1/patients", {**BASE, "given_name": 5}, "given_name"),
]


@pytest.mark.parametrize(("url", "body", "field"), [c[1:] for c in COERCIONS], ids=[c[0] for c in COERCIONS])
def test_no_coercion_across_json_kinds(client, db, dr_alice, url, body, field):
    before = snapshot(db)
    _field_named(client.post(url, json=body, headers=dr_alice.auth), field)
    assert snapshot(db) == before


def test_no_coercion_in_screening_plans_and_questionnaires(client, db, dr_alice, pat_id):
    before = snapshot(db)
    base = f"/api/v1/patients/{pat_id}"
    screening = {"kind": "clinician_assessment", "answers": {"lss_confirmed": True}}
    _field_named(client.post(f"{base}/screenings", json={**screening, "as_of": 0}, headers=dr_alice.auth), "as_of")
    plan = {"procedure_date": "2026-11-01", "physical_therapy": "yes"}
    _field_named(client.put(f"{base}/recovery-plan", json=plan, headers=dr_alice.auth), "physical_therapy")
    plan = {"procedure_date": "2026-11-01", "no_lifting_weeks": "6"}
    _field_named(client.put(f"{base}/recovery-plan", json=plan, headers=dr_alice.auth), "no_lifting_weeks")
    plan = {"procedure_date": 20261101}
    _field_named(client.put(f"{base}/recovery-plan", json=plan, headers=dr_alice.auth), "procedure_date")
    response = {"instrument": "nprs", "answers": {"nprs-back": 5}, "answered_on": 0}
    _field_named(client.post(f"{base}/responses", json=response, headers=dr_alice.auth), "answered_on")
    selfcheck = {"answers": {}, "as_of": 0}
    _field_named(client.post("/api/v1/self-check", json=selfcheck), "as_of")
    assert snapshot(db) == before


@pytest.mark.parametrize("number", ["2147483648", "9223372036854775808", "-2147483649", "1e400"])
def test_numbers_beyond_the_columns_are_422_naming_the_field(client, db, dr_alice, pat_id, number):
    before = snapshot(db)
    base = f"/api/v1/patients/{pat_id}"
    raw = (f'{{"instrument": "nprs", "answers": {{"nprs-back": {number}}}}}').encode()
    _field_named(client.post(f"{base}/responses", content=raw, headers={**dr_alice.auth, **JSON}), "nprs-back")
    raw = (f'{{"pain_back": {number}}}').encode()
    _field_named(client.post(f"{base}/diary", content=raw, headers={**dr_alice.auth, **JSON}), "pain_back")
    raw = (f'{{"scheduled_date": "2030-01-01", "operator_user_id": {number}}}').encode()
    resp = client.post(f"{base}/procedures", content=raw, headers={**dr_alice.auth, **JSON})
    _field_named(resp, "operator_user_id")
    raw = (f'{{"kind": "clinician_assessment", "answers": {{"symptom_months": {number}}}}}').encode()
    _field_named(client.post(f"{base}/screenings", content=raw, headers={**dr_alice.auth, **JSON}), "symptom_months")
    assert snapshot(db) == before


BAD_TEXT = [
    ("unpaired surrogate", "a\\ud800b"),
    ("lone low surrogate", "\\udc00"),
    ("NUL", "a\\u0000b"),
    ("bidi override", "Eve\\u202etxt.exe"),
    ("bidi embedding", "\\u202bname"),
    ("escape", "\\u001b[2J"),
]


@pytest.mark.parametrize("text", [c[1] for c in BAD_TEXT], ids=[c[0] for c in BAD_TEXT])
def test_unstorable_or_deceptive_text_is_422_and_the_connection_keeps_working(client, db, dr_alice, pat_id, text):
    before = snapshot(db)
    base = f"/api/v1/patients/{pat_id}"
    cases = [
        ("/api/v1/patients", "POST", '{"mrn": "ER-2", "given_name": "%s", "family_name": "R", '
         '"birth_date": "1950-01-01", "sex": "male"}', "given_name"),
        (base, "PATCH", '{"family_name": "%s"}', "family_name"),
        (f"{base}/diary", "POST", '{"pain_back": 2, "note": "%s"}', "note"),
        (f"{base}/screenings", "POST", '{"kind": "clinician_assessment", "answers": {"imaging_modality": "%s"}}',
         "imaging_modality"),
    ]
    for url, method, template, field in cases:
        raw = (template % text).encode()
        resp = client.request(method, url, content=raw, headers={**dr_alice.auth, **JSON})
        _field_named(resp, field)
        # the same connection (and database session) answers the next request normally
        assert client.get(f"{base}", headers=dr_alice.auth).status_code == 200
    after = snapshot(db)
    reads = after.pop("audit_events") - before.pop("audit_events")
    assert after == before and reads == len(cases)  # only the reads' audit rows


def test_bidi_isolates_and_right_to_left_names_are_kept(client, dr_alice):
    body = {**BASE, "mrn": "ER-3", "given_name": "\u05e9\u05dc\u05d5\u05dd", "address": "\u2066\u05e9\u2069 5"}
    resp = client.post("/api/v1/patients", json=body, headers=dr_alice.auth)
    assert resp.status_code == 201, resp.text
    assert resp.json()["address"] == body["address"]


def test_size_beyond_bytes_a_huge_bundle_deep_nesting_and_long_strings_are_422(client, db, dr_alice, pat_id):
    """Item 8: a 100,000-entry Bundle under the byte limit is refused before it is screened or stored."""
    before = snapshot(db)
    url = f"/api/v1/patients/{pat_id}/screenings"
    entry = {"resource": {"resourceType": "Basic"}}
    bundle = {"resourceType": "Bundle", "type": "collection", "entry": [entry] * 100_000}
    raw = json.dumps({"bundle": bundle}).encode()
    assert len(raw) < 10 * 1024 * 1024
    _field_named(client.post(url, content=raw, headers={**dr_alice.auth, **JSON}), "bundle.entry")
    deep: dict = {"resourceType": "Bundle", "type": "collection"}
    node = deep
    for _ in range(40):
        node["x"] = {}
        node = node["x"]
    resp = client.post(url, json={"bundle": deep}, headers=dr_alice.auth)
    assert resp.status_code == 422 and "nested" in resp.text
    long = {"resourceType": "Bundle", "type": "collection", "id": "x" * 100_001}
    assert client.post(url, json={"bundle": long}, headers=dr_alice.auth).status_code == 422
    diary = client.post(f"/api/v1/patients/{pat_id}/diary", json={"incision": ["redness"] * 20_001},
                        headers=dr_alice.auth)
    assert diary.status_code == 422
    assert snapshot(db) == before
