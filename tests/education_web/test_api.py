"""/api/v1/education: public JSON and PDF, with the same search answers as the CLI."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from mildpath.cli import app as cli_app
from mildpath.content.education import get_page, pages


def test_the_page_list_needs_no_credentials_and_lists_the_patient_pages(client):
    resp = client.get("/api/v1/education/pages?lang=es")
    assert resp.status_code == 200
    body = resp.json()
    assert body["language"] == "es"
    assert [p["id"] for p in body["pages"]] == [p.id for p in pages("es", audience="patient")]
    first = body["pages"][0]
    assert set(first) == {"id", "language", "title", "summary", "audience", "stages", "url"}
    assert first["url"] == f"/learn/{first['id']}?lang=es"


def test_a_page_comes_with_its_html_and_its_sections(client):
    body = client.get("/api/v1/education/pages/side-effects?lang=en").json()
    page = get_page("side-effects", "en")
    assert body["id"] == "side-effects" and body["title"] == page.title
    assert [s["anchor"] for s in body["sections"]] == list(page.anchors)
    emergency = next(s for s in body["sections"] if s["anchor"] == "emergency")
    assert emergency["html"].startswith('<section id="emergency" class="education-section">')
    assert emergency["sources"] and set(emergency["sources"]) <= set(body["sources"])
    assert body["html"].count("<section id=") == len(page.sections)
    assert body["last_reviewed"] == page.last_reviewed.isoformat()


def test_search_has_the_same_json_shape_and_answers_as_the_cli(client):
    question = "when can I lift my grandchild?"
    api = client.get("/api/v1/education/search", params={"q": question, "lang": "en"}).json()
    cli = CliRunner().invoke(cli_app, ["education", "search", question, "--json"])
    assert cli.exit_code == 0, cli.output
    assert api == json.loads(cli.stdout)
    assert set(api["results"][0]) >= {"page", "title", "snippet", "score"}
    assert api["results"][0]["page"] == "recovery"


def test_search_in_spanish_and_with_a_limit(client):
    body = client.get("/api/v1/education/search", params={"q": "¿me van a poner puntos?", "lang": "es", "limit": 2})
    results = body.json()["results"]
    assert len(results) <= 2 and results[0]["page"] == "faq" and results[0]["anchor"] == "stitches"


@pytest.mark.parametrize(
    ("url", "status"),
    [
        ("/api/v1/education/pages?lang=fr", 422),
        ("/api/v1/education/pages/no-such-page", 404),
        ("/api/v1/education/search?q=pain&lang=fr", 422),
        ("/api/v1/education/search?q=" + "x" * 201, 422),
        ("/api/v1/education/search?q=pain&limit=0", 422),
        ("/api/v1/education/search", 422),
        ("/api/v1/education/pages/recovery/handout.pdf?paper=legal", 422),
        ("/api/v1/education/pages/no-such-page/handout.pdf", 404),
    ],
    ids=[
        "unknown language",
        "unknown page",
        "search language",
        "long question",
        "zero limit",
        "no question",
        "paper size",
        "unknown handout",
    ],
)
def test_bad_requests_are_problem_json(client, url, status):
    resp = client.get(url)
    assert resp.status_code == status
    assert resp.headers["content-type"] == "application/problem+json"


def test_the_handout_is_a_pdf_without_credentials(client):
    resp = client.get("/api/v1/education/pages/faq/handout.pdf?lang=es&paper=a4")
    assert resp.status_code == 200 and resp.headers["content-type"] == "application/pdf"
    assert resp.content[:5] == b"%PDF-"
    assert 'filename="mild-faq-es.pdf"' in resp.headers["content-disposition"]


def test_the_openapi_document_describes_the_education_api(client):
    paths = client.get("/openapi.json").json()["paths"]
    for path in (
        "/api/v1/education/pages",
        "/api/v1/education/pages/{page_id}",
        "/api/v1/education/search",
        "/api/v1/education/pages/{page_id}/handout.pdf",
    ):
        assert path in paths
