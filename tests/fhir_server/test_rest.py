"""The FHIR REST API (issue 19; contracts §11): metadata, read, search, paging, access, errors as OperationOutcome.

Resources are validated with the fhir.resources R4B models (an outside implementation of the R4 structures)."""

from __future__ import annotations

from fhir.resources.R4B.bundle import Bundle
from fhir.resources.R4B.capabilitystatement import CapabilityStatement
from fhir.resources.R4B.operationoutcome import OperationOutcome

FHIR = "application/fhir+json"


def _outcome(resp, status):  # type: ignore[no-untyped-def]
    assert resp.status_code == status, resp.text[:300]
    assert resp.headers["content-type"].startswith(FHIR)
    OperationOutcome.model_validate(resp.json())
    return resp.json()


def test_metadata_is_a_valid_capability_statement_of_what_works(client):
    resp = client.get("/fhir/metadata")
    assert resp.status_code == 200 and resp.headers["content-type"].startswith(FHIR)
    body = resp.json()
    CapabilityStatement.model_validate(body)
    assert body["fhirVersion"] == "4.0.1"
    types = {r["type"]: r for r in body["rest"][0]["resource"]}
    assert {"Patient", "Observation", "Procedure", "AdverseEvent", "Practitioner", "Organization"} <= set(types)
    assert {p["name"] for p in types["Observation"]["searchParam"]} >= {"patient", "date", "code"}
    # every listed type answers a search (so the statement lists nothing that does not work)
    # (checked as the admin below in test_every_listed_type_answers)


def test_every_listed_type_answers_a_search(client, admin_ada):
    types = [r["type"] for r in client.get("/fhir/metadata").json()["rest"][0]["resource"]]
    for rtype in types:
        resp = client.get(f"/fhir/{rtype}", params={"_summary": "count"}, headers=admin_ada.auth)
        assert resp.status_code == 200, (rtype, resp.text[:200])
        assert resp.json()["type"] == "searchset" and "total" in resp.json()


def test_a_clinician_searches_and_pages_observations_of_a_patient(client, dr_alice, pat_id):
    count = client.get(
        "/fhir/Observation", params={"patient": pat_id, "_summary": "count"}, headers=dr_alice.auth
    ).json()["total"]
    assert count > 2
    first = client.get("/fhir/Observation", params={"patient": pat_id, "_count": 2}, headers=dr_alice.auth)
    assert first.status_code == 200
    bundle = first.json()
    Bundle.model_validate(bundle)
    assert bundle["total"] == count and len(bundle["entry"]) == 2
    links = {link["relation"]: link["url"] for link in bundle["link"]}
    assert "next" in links and "self" in links
    seen = [e["resource"]["id"] for e in bundle["entry"]]
    url = links["next"]
    while url:
        page = client.get(url.replace("http://testserver", ""), headers=dr_alice.auth).json()
        seen += [e["resource"]["id"] for e in page["entry"]]
        url = {link["relation"]: link["url"] for link in page["link"]}.get("next")
    assert len(seen) == len(set(seen)) == count
    for entry in bundle["entry"]:
        assert entry["resource"]["subject"]["reference"] == f"Patient/{pat_id}"


def test_code_and_date_narrow_a_search(client, admin_ada, pat_id):
    all_obs = client.get("/fhir/Observation", params={"patient": pat_id, "_count": 500}, headers=admin_ada.auth)
    resources = [e["resource"] for e in all_obs.json()["entry"]]
    code = resources[0]["code"]["coding"][0]
    by_code = client.get(
        "/fhir/Observation",
        params={"patient": pat_id, "code": f"{code['system']}|{code['code']}", "_count": 500},
        headers=admin_ada.auth,
    ).json()
    expected = [r["id"] for r in resources if any(c["code"] == code["code"] for c in r["code"]["coding"])]
    assert sorted(e["resource"]["id"] for e in by_code["entry"]) == sorted(expected)
    day = resources[0]["effectiveDateTime"][:10]
    on_day = client.get(
        "/fhir/Observation", params={"patient": pat_id, "date": day, "_count": 500}, headers=admin_ada.auth
    ).json()
    assert on_day["total"] >= 1
    assert all(e["resource"]["effectiveDateTime"].startswith(day) for e in on_day["entry"])
    after = client.get(
        "/fhir/Observation", params={"patient": pat_id, "date": f"gt{day}", "_count": 500}, headers=admin_ada.auth
    ).json()
    assert all(e["resource"]["effectiveDateTime"][:10] > day for e in after.get("entry", []))


def test_read_has_an_etag_and_if_none_match_answers_304(client, dr_alice, pat_id):
    resp = client.get(f"/fhir/Patient/{pat_id}", headers=dr_alice.auth)
    assert resp.status_code == 200 and resp.json()["resourceType"] == "Patient"
    tag = resp.headers["etag"]
    again = client.get(f"/fhir/Patient/{pat_id}", headers={**dr_alice.auth, "If-None-Match": tag})
    assert again.status_code == 304


def test_access_follows_the_policies(client, dr_bob_other_clinic, patient_pat, patient_rosa, pat_id):
    _outcome(client.get(f"/fhir/Patient/{pat_id}"), 401)
    _outcome(client.get(f"/fhir/Patient/{pat_id}", headers=dr_bob_other_clinic.auth), 404)
    assert client.get(f"/fhir/Patient/{pat_id}", headers=patient_pat.auth).status_code == 200
    _outcome(client.get(f"/fhir/Patient/{pat_id}", headers=patient_rosa.auth), 404)
    mine = client.get("/fhir/Observation", params={"_count": 500}, headers=patient_pat.auth).json()
    assert mine["total"] > 0
    assert {e["resource"]["subject"]["reference"] for e in mine["entry"]} == {f"Patient/{pat_id}"}
    other = client.get("/fhir/Patient", headers=dr_bob_other_clinic.auth).json()
    assert str(pat_id) not in {e["resource"]["id"] for e in other.get("entry", [])}


def test_unknown_parameters_follow_prefer_handling(client, admin_ada):
    lenient = client.get("/fhir/Patient", params={"nonsense": "1"}, headers=admin_ada.auth)
    assert lenient.status_code == 200
    assert "nonsense" not in lenient.json()["link"][0]["url"]
    strict = client.get(
        "/fhir/Patient", params={"nonsense": "1"}, headers={**admin_ada.auth, "Prefer": "handling=strict"}
    )
    outcome = _outcome(strict, 400)
    assert "nonsense" in outcome["issue"][0]["diagnostics"]


def test_errors_are_operation_outcomes(client, admin_ada):
    _outcome(client.get("/fhir/Spaceship/1", headers=admin_ada.auth), 404)
    _outcome(client.get("/fhir/Patient/999999", headers=admin_ada.auth), 404)
    _outcome(client.get("/fhir/Observation", params={"date": "xx2025"}, headers=admin_ada.auth), 400)
    _outcome(client.get("/fhir/Observation", params={"_count": "many"}, headers=admin_ada.auth), 400)


def test_every_reference_in_answers_resolves(client, admin_ada):
    """QuestionnaireResponse.author and Procedure performers point at Practitioners the server serves."""
    refs: set[str] = set()
    served: set[str] = set()

    def walk(value):  # type: ignore[no-untyped-def]
        if isinstance(value, dict):
            if isinstance(value.get("reference"), str):
                refs.add(value["reference"])
            for v in value.values():
                walk(v)
        elif isinstance(value, list):
            for v in value:
                walk(v)

    types = [r["type"] for r in client.get("/fhir/metadata").json()["rest"][0]["resource"]]
    for rtype in types:
        bundle = client.get(f"/fhir/{rtype}", params={"_count": 500}, headers=admin_ada.auth).json()
        assert bundle["total"] <= 500 or rtype in ("Observation", "QuestionnaireResponse")
        for entry in bundle.get("entry", []):
            served.add(f"{rtype}/{entry['resource']['id']}")
            walk(entry["resource"])
    missing = {r for r in refs if r.split("/")[0] in types and r not in served}
    # a page of 500 may not hold every Observation/QuestionnaireResponse: read what the pages left out
    for ref in sorted(missing):
        assert client.get(f"/fhir/{ref}", headers=admin_ada.auth).status_code == 200, ref
