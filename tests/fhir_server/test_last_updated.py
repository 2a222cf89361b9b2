"""``_lastUpdated`` on every type the FHIR server serves (issue 19): the R4 date prefixes on ``meta.lastUpdated``,
at date or second precision, in UTC; a date-time without its zone is refused. Only resources that carry
``meta.lastUpdated`` can match: every type's record stamps its own last change (not the Practitioner)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from fhir.resources.R4B.operationoutcome import OperationOutcome


def _ids(client, persona, rtype, value):  # type: ignore[no-untyped-def]
    resp = client.get(f"/fhir/{rtype}", params={"_lastUpdated": value, "_count": 500}, headers=persona.auth)
    assert resp.status_code == 200, resp.text[:300]
    return {e["resource"]["id"] for e in resp.json().get("entry", [])}


def _total(client, persona, rtype, value):  # type: ignore[no-untyped-def]
    resp = client.get(f"/fhir/{rtype}", params={"_lastUpdated": value, "_summary": "count"}, headers=persona.auth)
    assert resp.status_code == 200, resp.text[:300]
    return resp.json()["total"]


def test_every_served_type_offers_last_updated_in_the_capability_statement(client):
    for resource in client.get("/fhir/metadata").json()["rest"][0]["resource"]:
        assert {"name": "_lastUpdated", "type": "date"} in resource["searchParam"], resource["type"]


def test_the_prefixes_compare_with_the_patients_last_change(client, dr_alice, pat_id):
    patient = client.get(f"/fhir/Patient/{pat_id}", headers=dr_alice.auth).json()
    stamp = datetime.fromisoformat(patient["meta"]["lastUpdated"])
    second = stamp.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    pid = str(pat_id)
    assert pid in _ids(client, dr_alice, "Patient", f"ge{second}")
    assert pid in _ids(client, dr_alice, "Patient", f"le{second}")
    assert pid in _ids(client, dr_alice, "Patient", f"eq{second}")
    assert pid not in _ids(client, dr_alice, "Patient", f"gt{second}")
    assert pid not in _ids(client, dr_alice, "Patient", f"lt{second}")
    day = stamp.astimezone(UTC).date()
    assert pid in _ids(client, dr_alice, "Patient", day.isoformat())
    assert pid in _ids(client, dr_alice, "Patient", f"gt{(day - timedelta(days=1)).isoformat()}")
    assert pid not in _ids(client, dr_alice, "Patient", f"lt{day.isoformat()}")
    assert pid in _ids(client, dr_alice, "Patient", f"eq{day.year}")


def test_an_instant_in_another_zone_is_compared_in_utc(client, dr_alice, pat_id):
    stamp = datetime.fromisoformat(client.get(f"/fhir/Patient/{pat_id}", headers=dr_alice.auth).json()["meta"][
        "lastUpdated"])
    later_there = (stamp + timedelta(seconds=2)).astimezone(UTC).replace(tzinfo=None).isoformat(timespec="seconds")
    # the same instant written in UTC-05:00: five hours earlier on the clock
    shifted = datetime.fromisoformat(later_there) - timedelta(hours=5)
    assert str(pat_id) in _ids(client, dr_alice, "Patient", f"lt{shifted.isoformat()}-05:00")


def test_every_type_of_the_export_matches_last_updated_up_to_tomorrow_and_none_after(client, admin_ada, db):
    from mildpath.services.access import Actor
    from mildpath.services.outcomes_export import bulk_fhir_resources

    exported: dict[str, set[str]] = {}
    for r in bulk_fhir_resources(db, Actor.system("tests")):
        exported.setdefault(r["resourceType"], set()).add(r["id"])
        assert r["resourceType"] == "Practitioner" or r["meta"]["lastUpdated"].endswith("+00:00"), r["resourceType"]
    served = {r["type"] for r in client.get("/fhir/metadata").json()["rest"][0]["resource"]}
    tomorrow = (datetime.now(UTC) + timedelta(days=1)).strftime("%Y-%m-%dT%H:%M:%SZ")
    checked = sorted(set(exported) & served - {"Practitioner"})
    assert {"Patient", "QuestionnaireResponse", "Observation", "Procedure", "CarePlan"} <= set(checked)
    for rtype in checked:
        assert _total(client, admin_ada, rtype, f"ge{tomorrow}") == 0, rtype
        assert _total(client, admin_ada, rtype, f"le{tomorrow}") == len(exported[rtype]), rtype


def test_a_practitioner_carries_no_last_updated_and_never_matches(client, admin_ada):
    assert _ids(client, admin_ada, "Practitioner", "ge2000-01-01") == set()


def test_a_date_time_without_a_zone_is_refused(client, admin_ada):
    resp = client.get("/fhir/Patient", params={"_lastUpdated": "ge2025-01-01T10:00:00"}, headers=admin_ada.auth)
    assert resp.status_code == 400
    OperationOutcome.model_validate(resp.json())
