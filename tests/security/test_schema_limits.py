"""Issue 21, items 8 and 9: the OpenAPI document states the limits the server enforces, per operation and field,
and the server answers as the document says at those limits (413 beyond the body size, 422 beyond the rest)."""

from __future__ import annotations

from mildpath.domain.inputs import INT_MAX, MAX_DEPTH, MAX_ITEMS
from mildpath.web.openapi_limits import RULES, RULES_KEY, TEXT_PATTERN


def _operations(schema):  # type: ignore[no-untyped-def]
    for path, ops in schema["paths"].items():
        for method, op in ops.items():
            if method in ("get", "post", "put", "patch", "delete"):
                yield method, path, op


def _body_schema(schema, op):  # type: ignore[no-untyped-def]
    content = op.get("requestBody", {}).get("content", {})
    media = next(iter(content.values()))["schema"]
    ref = media.get("$ref", "")
    return schema["components"]["schemas"][ref.rsplit("/", 1)[1]] if ref else media


def _arm(node, kind):  # type: ignore[no-untyped-def]
    """The arm of ``node`` of JSON type ``kind`` (``int | None`` fields are ``anyOf``)."""
    return next(arm for arm in node.get("anyOf", [node]) if arm.get("type") == kind)


def test_each_field_of_a_request_body_states_its_limits(client):
    schema = client.get("/openapi.json").json()
    patient = _body_schema(schema, schema["paths"]["/api/v1/patients"]["post"])["properties"]
    assert patient["given_name"]["maxLength"] == 120 and patient["given_name"]["pattern"] == TEXT_PATTERN
    assert patient["sex"]["enum"] == ["female", "male", "other", "unknown"]
    procedure = schema["paths"]["/api/v1/patients/{patient_id}/procedures"]["post"]
    assert _arm(_body_schema(schema, procedure)["properties"]["operator_user_id"], "integer")["maximum"] <= INT_MAX
    screening = schema["paths"]["/api/v1/patients/{patient_id}/screenings"]["post"]
    bundle = _body_schema(schema, screening)["properties"]["bundle"]
    free = _arm(bundle, "object")
    assert free["x-max-depth"] == MAX_DEPTH and free["x-max-items"] == MAX_ITEMS
    assert any("free-form JSON" in rule for rule in screening[RULES_KEY])
    assert "413" in screening["responses"] and "422" in screening["responses"]


def test_every_integer_number_and_array_a_request_sends_is_bounded(client):
    schema = client.get("/openapi.json").json()
    unbounded = []

    def walk(node, where, seen):  # type: ignore[no-untyped-def]
        if isinstance(node, dict):
            ref = node.get("$ref", "")
            if ref:
                name = ref.rsplit("/", 1)[1]
                if name not in seen:
                    walk(schema["components"]["schemas"][name], f"{where}>{name}", seen | {name})
                return
            kind = node.get("type")
            if kind in ("integer", "number") and not ("maximum" in node or "exclusiveMaximum" in node):
                unbounded.append(where)
            if kind == "array" and "maxItems" not in node:
                unbounded.append(where)
            for key, value in node.items():
                walk(value, f"{where}.{key}", seen)
        elif isinstance(node, list):
            for item in node:
                walk(item, where, seen)

    for method, path, op in _operations(schema):
        walk(op.get("parameters", []), f"{method} {path} parameters", frozenset())
        walk(op.get("requestBody", {}), f"{method} {path} body", frozenset())
    assert not unbounded, unbounded


def test_operations_say_whether_they_need_a_token(client):
    schema = client.get("/openapi.json").json()
    assert schema["components"]["securitySchemes"]["bearerAuth"]["scheme"] == "bearer"
    ops = {(m, p): op for m, p, op in _operations(schema)}
    assert ops[("get", "/api/v1/education/pages")]["security"] == []
    assert ops[("get", "/fhir/metadata")]["security"] == []
    assert ops[("get", "/api/v1/patients")]["security"] == [{"bearerAuth": []}]
    assert client.get("/api/v1/patients").status_code == 401


def test_every_rule_beyond_the_schema_names_a_documented_operation_and_reaches_its_422_description(client):
    schema = client.get("/openapi.json").json()
    ops = {(m, p): op for m, p, op in _operations(schema)}
    for key, rules in RULES.items():
        assert key in ops, f"RULES names {key}, which the API does not document"
        assert all(rule in ops[key][RULES_KEY] for rule in rules)
        assert rules[0] in ops[key]["responses"]["422"]["description"]


def test_text_the_pattern_refuses_is_refused_in_a_query_string_too(client, dr_alice):
    resp = client.get("/api/v1/education/search", params={"q": "back\u0084pain"})
    assert resp.status_code == 422 and resp.json()["errors"][0]["field"] == "q"
    assert client.get("/api/v1/education/search", params={"q": "back pain"}).status_code == 200


def test_a_number_written_as_text_is_no_date_in_a_query_or_a_body(client, dr_alice, pat_id):
    resp = client.get("/api/v1/outcomes", params={"until": "0"}, headers=dr_alice.auth)
    assert resp.status_code == 422 and resp.json()["errors"][0]["field"] == "until"
    for text in ("0", "1700000000"):
        resp = client.patch(f"/api/v1/patients/{pat_id}", json={"birth_date": text}, headers=dr_alice.auth)
        assert resp.status_code == 422 and resp.json()["errors"][0]["field"] == "birth_date", resp.text
    assert client.get("/api/v1/outcomes", params={"until": "2026-01-01"}, headers=dr_alice.auth).status_code == 200


def test_beyond_the_stated_limits_the_answer_is_413_or_422(client, dr_alice, pat_id):
    url = f"/api/v1/patients/{pat_id}/screenings"
    too_many = {"resourceType": "Bundle", "entry": [{}] * (MAX_ITEMS + 1)}
    resp = client.post(url, json={"bundle": too_many}, headers=dr_alice.auth)
    assert resp.status_code == 422 and resp.headers["content-type"].startswith("application/problem+json")
    deep: dict = {}
    node = deep
    for _ in range(MAX_DEPTH + 2):
        node["x"] = {}
        node = node["x"]
    resp = client.post(url, json={"bundle": {"resourceType": "Bundle", "deep": deep}}, headers=dr_alice.auth)
    assert resp.status_code == 422
    resp = client.patch(f"/api/v1/patients/{pat_id}", json={"given_name": "A" * 121}, headers=dr_alice.auth)
    assert resp.status_code == 422 and resp.json()["errors"][0]["field"] == "given_name"
    huge = b'{"bundle": "' + b"x" * (11 * 1024 * 1024) + b'"}'
    resp = client.post(url, content=huge, headers={**dr_alice.auth, "content-type": "application/json"})
    assert resp.status_code == 413
