"""`mildpath education search|handout`: the contract of contracts §2, run as a user would run it."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from pypdf import PdfReader

ROOT = Path(__file__).resolve().parents[2]


def mildpath(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "mildpath", "education", *args],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env=os.environ.copy(),
        timeout=120,
    )


def test_search_prints_results_best_first_as_one_json_document():
    p = mildpath("search", "when can I lift my grandchild?", "--json")
    assert p.returncode == 0, p.stderr
    data = json.loads(p.stdout)
    results = data["results"]
    assert results and {"page", "title", "snippet", "score"} <= set(results[0])
    assert results[0]["page"] == "recovery" and results[0]["anchor"] == "lifting"
    scores = [r["score"] for r in results]
    assert scores == sorted(scores, reverse=True)


def test_search_in_spanish():
    p = mildpath("search", "¿me van a poner puntos?", "--lang", "es", "--json")
    assert p.returncode == 0, p.stderr
    first = json.loads(p.stdout)["results"][0]
    assert first["page"] == "faq" and first["title"] == "Preguntas frecuentes"


def test_search_syntax_in_the_question_is_not_an_error():
    p = mildpath("search", 'NEAR("stitches* :^', "--json")
    assert p.returncode == 0, p.stderr
    assert isinstance(json.loads(p.stdout)["results"], list)


def test_a_question_with_no_match_gives_an_empty_list():
    p = mildpath("search", "what is it", "--json")
    assert p.returncode == 0 and json.loads(p.stdout) == {"results": []}


def test_a_search_result_page_prints_as_a_handout(tmp_path):
    page = json.loads(mildpath("search", "what is the mild procedure", "--json").stdout)["results"][0]["page"]
    out = tmp_path / "handout.pdf"
    p = mildpath("handout", page, "--out", str(out))
    assert p.returncode == 0, p.stderr
    assert p.stdout == ""  # stdout is for JSON only
    text = " ".join(pg.extract_text() or "" for pg in PdfReader(out).pages)
    assert "mild" in text.lower() and "What is the mild procedure?" in text


def test_a_spanish_handout_on_a4(tmp_path):
    out = tmp_path / "es.pdf"
    p = mildpath("handout", "recovery", "--out", str(out), "--lang", "es", "--paper", "a4")
    assert p.returncode == 0, p.stderr
    assert "La recuperación en casa" in (PdfReader(out).pages[0].extract_text() or "")


@pytest.mark.parametrize(
    "args,mentions",
    [
        (("handout", "no-such-page", "--out", "{tmp}/x.pdf"), "no-such-page"),
        (("handout", "faq", "--out", "{tmp}/missing/x.pdf"), "does not exist"),
        (("handout", "faq", "--out", "{tmp}/x.pdf", "--lang", "fr"), "fr"),
        (("handout", "faq", "--out", "{tmp}/x.pdf", "--paper", "b5"), "b5"),
        (("search", "stitches", "--lang", "fr", "--json"), "fr"),
    ],
    ids=["unknown-page", "missing-folder", "unknown-language", "unknown-paper", "search-unknown-language"],
)
def test_bad_input_exits_2_with_one_line_on_stderr(tmp_path, args, mentions):
    p = mildpath(*(a.replace("{tmp}", str(tmp_path)) for a in args))
    assert p.returncode == 2
    assert p.stdout == ""
    lines = p.stderr.strip().splitlines()
    assert len(lines) == 1 and mentions in lines[0] and "Traceback" not in p.stderr
    assert not (tmp_path / "x.pdf").exists()
