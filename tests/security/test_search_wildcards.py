"""Issue 21, item 10: a search is literal text. ``%``, ``_`` and the escape character match only themselves,
through the API and the patient-list page, on every backend; and no query in the code builds a LIKE
pattern by hand (the class: every ``.like(`` in src/ is checked)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tests.helpers import login

SRC = Path(__file__).resolve().parents[2] / "src" / "mildpath"


def _ids(client, persona, q):  # type: ignore[no-untyped-def]
    resp = client.get("/api/v1/patients", params={"q": q, "limit": 500}, headers=persona.auth)
    assert resp.status_code == 200, resp.text
    return {p["id"] for p in resp.json()["items"]}, resp.json()["total"]


@pytest.mark.parametrize("q", ["%", "_", "%%", "%_%", "\\", "/", "/%", "\\%", "*", "[a]%"])
def test_wildcards_alone_match_no_patient(client, dr_alice, q):
    everyone, total = _ids(client, dr_alice, "")
    assert total > 1
    found, count = _ids(client, dr_alice, q)
    assert found == set() and count == 0, q


def test_a_name_with_wildcard_characters_is_found_literally(client, dr_alice):
    body = {"mrn": "WILD_1%", "given_name": "Per%cy", "family_name": "Under_score", "birth_date": "1950-01-01",
            "sex": "male"}
    created = client.post("/api/v1/patients", json=body, headers=dr_alice.auth)
    assert created.status_code == 201, created.text
    pid = created.json()["id"]
    for q in ("%", "r%c", "_", "r_s", "WILD_1%", "1%"):
        assert _ids(client, dr_alice, q)[0] == {pid}, q
    assert _ids(client, dr_alice, "r_c")[0] == set()  # "_" is not "any one character"


def test_the_patient_list_page_search_is_literal_too(client, dr_alice):
    login(client, dr_alice)
    everyone = client.get("/patients")
    assert everyone.status_code == 200 and re.findall(r'href="/patients/\d+"', everyone.text)
    page = client.get("/patients", params={"q": "%"})
    assert page.status_code == 200
    rows = re.findall(r'href="/patients/\d+"', page.text)
    assert rows == [], "q=% listed patients"


def test_no_hand_built_like_pattern_in_the_code():
    """Every LIKE on user text goes through ``contains/startswith/endswith(..., autoescape=True)``."""
    offenders = []
    for path in SRC.rglob("*.py"):
        if "population" in path.parts:  # generated SQL on fixed, internal patterns (not user text)
            continue
        for n, line in enumerate(path.read_text().splitlines(), 1):
            if re.search(r"\.(i?like)\(", line):
                offenders.append(f"{path.relative_to(SRC)}:{n}: {line.strip()}")
            if re.search(r"\.(contains|startswith|endswith)\(", line) and "func." in line and "autoescape" not in line:
                offenders.append(f"{path.relative_to(SRC)}:{n}: {line.strip()}")
    assert not offenders, offenders
