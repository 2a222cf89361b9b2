"""Issue 21, item 11: inputs that are not what they claim. The CLI refuses a file that is not a patient's
chart (exit 2 naming what is wrong); the screening form and the API refuse the same out-of-range answer, the
form listing it as an error next to the question."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from tests.helpers import login, page_csrf

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize(
    ("content", "words"),
    [
        ("{}", "no FHIR resource"),
        ('{"resourceType": "Bundle", "type": "collection", "entry": []}', "names no patient"),
        ('{"resourceType": "Bundle", "type": "collection"}', "names no patient"),
        ("[]", "no FHIR resource"),
        ('{"hello": "world"}\n{"x": 1}\n', "no FHIR resource"),
        ('{"resourceType": "Observation", "status": "final"}', "names no patient"),
    ],
)
def test_screen_refuses_a_file_that_is_not_a_patients_chart(tmp_path, content, words):
    f = tmp_path / "input.json"
    f.write_text(content)
    p = subprocess.run([sys.executable, "-m", "mildpath", "screen", str(f), "--json"], capture_output=True,
                       text=True, cwd=ROOT, timeout=300)
    assert p.returncode == 2, (p.stdout, p.stderr)
    assert p.stdout == "" and p.stderr.count("\n") == 1 and words in p.stderr and str(f) in p.stderr


def test_the_form_and_the_api_refuse_an_nprs_of_14_the_same_way(client, db, dr_alice, pat_id):
    api = client.post(f"/api/v1/patients/{pat_id}/screenings",
                      json={"kind": "clinician_assessment", "answers": {"nprs": 14}}, headers=dr_alice.auth)
    assert api.status_code == 422, api.text
    assert [e["field"] for e in api.json()["errors"]] == ["answers.nprs"] or any(
        "nprs" in e["field"] for e in api.json()["errors"])
    login(client, dr_alice)
    url = f"/patients/{pat_id}/candidacy/new"
    csrf = page_csrf(client, url)
    form = client.post(f"/patients/{pat_id}/candidacy", data={"csrf_token": csrf, "nprs": "14", "lss_confirmed": "yes"})
    assert form.status_code == 422, form.status_code
    alert = form.text.split('role="alert"', 1)[1].split("</ul>", 1)[0]
    assert "NPRS" in alert and "10" in alert  # listed as an error, next to the question's wording
    assert "14" in form.text  # what was typed is shown again
    assert json.dumps(api.json())  # both are answers, not crashes


@pytest.mark.parametrize(("lang", "words"), [("en", "cannot be searched"), ("es", "no se pueden buscar")])
def test_the_library_search_page_refuses_what_the_api_refuses_and_keeps_the_question(client, lang, words):
    question = "back\u0084pain"
    api = client.get("/api/v1/education/search", params={"q": question, "lang": lang})
    assert api.status_code == 422 and api.json()["errors"][0]["field"] == "q"
    page = client.get("/learn/search", params={"q": question, "lang": lang})
    assert page.status_code == 422 and "text/html" in page.headers["content-type"]
    alert = page.text.split('role="alert"', 1)[1].split("</p>", 1)[0]
    assert words in alert
    assert "backpain" not in page.text and "pain" in page.text  # what was typed is in the box again
