"""The printable procedure note and discharge instructions: HTML content, escaping, and real PDFs."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from datetime import date
from io import BytesIO
from pathlib import Path

import pytest
from pypdf import PdfReader

from mildpath.content.procedure import patient_texts
from mildpath.domain.errors import InvalidRecord
from mildpath.domain.procedure import ProcedureDay, parse_procedure_day
from mildpath.reports.procedure_note import (
    discharge_instructions_html,
    discharge_instructions_pdf,
    procedure_note_html,
    procedure_note_pdf,
)

DATA = Path(__file__).parent / "data"
TODAY = date(2025, 3, 10)


def load(name: str) -> ProcedureDay:
    return parse_procedure_day(json.loads((DATA / name).read_text(encoding="utf-8")))


def pdf_text(pdf: bytes) -> tuple[int, str]:
    reader = PdfReader(BytesIO(pdf))
    text = " ".join(page.extract_text() for page in reader.pages)
    return len(reader.pages), " ".join(text.split())


def plain(html: str) -> str:
    return " ".join(re.sub(r"<[^>]+>", " ", html).split())


def test_the_note_shows_the_checklist_the_record_and_the_discharge(policies):
    html = procedure_note_html(load("day.json"), patient="Pat Example", today=TODAY, policies=policies)
    text = plain(html)
    for expected in [
        "mild procedure note",
        "Pat Example",
        "CPT 0275T",
        "L4-L5, bilateral; L3-L4, left",
        "45 minutes",
        "Consent signed",
        "Escort home arranged",
        "Lamina (small pieces of bone)",
        "VX-2025-0042",
        "Discharged home at 2025-03-10 11:00 (+01:00)",
        "modified Aldrete 9",
    ]:
        assert expected in text, expected


def test_the_note_labels_blood_thinner_intervals_unverified(policies):
    text = plain(procedure_note_html(load("day.json"), patient="P", today=TODAY, policies=policies))
    assert "Clopidogrel: last dose 2025-03-02, 8 days before the procedure; reference hold 7 days (UNVERIFIED" in text


def test_the_note_records_the_override_warnings_overnight_stay_and_adverse_events(policies):
    text = plain(procedure_note_html(load("day_overnight.json"), patient="P", today=TODAY, policies=policies))
    for expected in [
        "Started with open required items, overridden by Dr Alice Moreau",
        "Cardiology advised 5-day hold",
        "4 levels treated, more than 3",
        "the procedure lasted 135 minutes, more than 120",
        "Dural puncture: small puncture",
        "Kept overnight from 2025-03-10 13:00 (+01:00). Reason: New numbness in the right leg",
        "new numbness in the right leg",
        "New neurological deficit: right leg numbness",
        "L ok / R numb",
    ]:
        assert expected in text, expected


def test_names_and_free_text_are_escaped_but_the_stylesheet_is_not(policies):
    html = procedure_note_html(load("day.json"), patient="<script>alert(1)</script>", today=TODAY)
    assert "<script>" not in html and "&lt;script&gt;" in html
    assert '"DejaVu Sans"' in html and "&#34;" not in html.split("</style>")[0]


def test_a_broken_day_never_prints_a_note(policies):
    day = load("day.json")
    broken = day.model_copy(update={"record": day.record.model_copy(update={"end": day.record.start})})
    with pytest.raises(InvalidRecord, match="end equals start"):
        procedure_note_html(broken, patient="P", today=TODAY)


def test_the_discharge_instructions_are_the_cited_sentences_in_plain_words():
    text = plain(discharge_instructions_html(patient="Pat Example", procedure_date=TODAY))
    assert "Pat Example" in text and "2025-03-10" in text
    for section in patient_texts().discharge_instructions:
        assert section.title in text
        for sentence in section.sentences:
            assert sentence.text in text


def test_the_procedure_note_pdf_has_the_expected_text(policies):
    pages, text = pdf_text(procedure_note_pdf(load("day_overnight.json"), patient="Pat Example", today=TODAY))
    assert pages >= 1
    for expected in ["mild procedure note", "Pat Example", "0275T", "L5-S1, right", "Kept overnight", "UNVERIFIED"]:
        assert expected in text, expected


def test_the_discharge_instructions_pdf_fits_one_page_and_carries_the_warning_signs(tmp_path):
    pdf = discharge_instructions_pdf(patient="Pat Example", procedure_date=TODAY)
    pages, text = pdf_text(pdf)
    assert pages == 1
    for expected in [
        "Going home after your mild procedure",
        "Get emergency help now",
        "38.0 °C",
        "start it again only when the doctor who prescribed it tells you to",
    ]:
        assert expected in text, expected
    if shutil.which("pdftoppm"):  # rasterise to prove the PDF renders as an image, not just as text
        target = tmp_path / "page"
        subprocess.run(["pdftoppm", "-r", "40", "-png", "-singlefile", "-", str(target)], input=pdf, check=True)
        png = (tmp_path / "page.png").read_bytes()
        assert png.startswith(b"\x89PNG") and len(png) > 5_000
