"""A broken page file fails loudly, naming the file and the rule it breaks."""

from __future__ import annotations

import pytest

from mildpath.content.education import load_page
from mildpath.content.sources import ContentError

GOOD_FRONT = """---
id: sample
title: A sample page
audience: patient
language: en
sources: [overview]
last_reviewed: 2026-01-02
stages: [considering]
summary: A short summary.
---
"""
GOOD_BODY = """
## A section {#a-section}

Plain words.

<!-- sources: overview -->
"""


def write(tmp_path, text, name="sample.md"):
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_a_well_formed_page_loads(tmp_path):
    page = load_page(write(tmp_path, GOOD_FRONT + GOOD_BODY), "en")
    assert page.anchors == ("a-section",)
    assert page.section("a-section").sources == ("overview",)


BROKEN = [
    ("no front matter", GOOD_BODY, "front matter"),
    ("missing field", GOOD_FRONT.replace("summary: A short summary.\n", "") + GOOD_BODY, "lacks summary"),
    ("id differs from file", GOOD_FRONT.replace("id: sample", "id: other") + GOOD_BODY, "file name"),
    ("wrong folder language", GOOD_FRONT.replace("language: en", "language: es") + GOOD_BODY, "folder"),
    ("bad audience", GOOD_FRONT.replace("audience: patient", "audience: public") + GOOD_BODY, "audience"),
    ("bad stage", GOOD_FRONT.replace("[considering]", "[someday]") + GOOD_BODY, "stages"),
    (
        "unknown source",
        GOOD_FRONT.replace("[overview]", "[nope]") + GOOD_BODY.replace("overview", "nope"),
        "unknown source id",
    ),
    ("heading without anchor", GOOD_FRONT + GOOD_BODY.replace(" {#a-section}", ""), "anchor"),
    ("duplicate anchors", GOOD_FRONT + GOOD_BODY + GOOD_BODY, "duplicate section anchors"),
    ("section cites nothing", GOOD_FRONT + GOOD_BODY.replace("<!-- sources: overview -->", ""), "cites no source"),
    (
        "page sources not used",
        GOOD_FRONT.replace("[overview]", "[overview, procedure-day]") + GOOD_BODY,
        "sections' sources",
    ),
    ("text before the first section", GOOD_FRONT + "Loose text.\n" + GOOD_BODY, "before the first"),
    ("unknown placeholder", GOOD_FRONT + GOOD_BODY.replace("Plain words.", "Hi {surname|you}."), "unknown placeholder"),
    (
        "placeholder without neutral wording",
        GOOD_FRONT + GOOD_BODY.replace("Plain words.", "Call {clinic_phone}."),
        "neutral wording",
    ),
    (
        "unverified source without label",
        GOOD_FRONT.replace("[overview]", "[asra-hold-intervals]")
        + GOOD_BODY.replace("overview", "asra-hold-intervals"),
        "UNVERIFIED",
    ),
    ("stray comment", GOOD_FRONT + GOOD_BODY.replace("Plain words.", "Plain words.\n<!-- todo -->"), "unknown comment"),
]


@pytest.mark.parametrize("text,message", [(t, m) for _, t, m in BROKEN], ids=[n for n, _, _ in BROKEN])
def test_a_broken_page_is_refused_with_a_reason(tmp_path, text, message):
    with pytest.raises(ContentError, match=message) as caught:
        load_page(write(tmp_path, text), "en")
    assert "sample.md" in str(caught.value)


def test_an_unverified_source_is_accepted_when_the_text_says_so(tmp_path):
    text = GOOD_FRONT.replace("[overview]", "[asra-hold-intervals]") + GOOD_BODY.replace(
        "overview", "asra-hold-intervals"
    ).replace("Plain words.", "UNVERIFIED: 5 days.")
    assert load_page(write(tmp_path, text), "en").sources == ("asra-hold-intervals",)
