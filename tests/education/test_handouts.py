"""Printable handouts: real PDFs that look right on paper, checked as rendered images and as extracted text.

Rasterising uses pypdfium2 (a pip wheel with PDFium inside: no system package needed); text extraction uses
pypdf. WeasyPrint needs Pango and a sans-serif font on the machine (contracts §1: `.ci/run` installs them).
"""

from __future__ import annotations

import io
import subprocess
import sys
from datetime import date

import numpy as np
import pypdfium2 as pdfium
import pytest
from pypdf import PdfReader

from mildpath.content.education import UnknownPage, get_page
from mildpath.domain.errors import InvalidInput
from mildpath.reports.handouts import (
    discharge_packet_html,
    discharge_packet_pdf,
    page_handout_html,
    page_handout_pdf,
)

POINTS_PER_INCH = 72
LETTER = (8.5 * POINTS_PER_INCH, 11 * POINTS_PER_INCH)
A4 = (210 / 25.4 * POINTS_PER_INCH, 297 / 25.4 * POINTS_PER_INCH)


def page_images(pdf: bytes, scale: float = 1.0) -> list[np.ndarray]:
    """Every page as a greyscale array (0 black .. 255 white)."""
    doc = pdfium.PdfDocument(pdf)
    images = []
    for i in range(len(doc)):
        rgb = doc[i].render(scale=scale).to_numpy()[..., :3]
        images.append(rgb.mean(axis=2))
    return images


def page_sizes(pdf: bytes) -> list[tuple[float, float]]:
    doc = pdfium.PdfDocument(pdf)
    return [doc[i].get_size() for i in range(len(doc))]


def texts(pdf: bytes) -> list[str]:
    return [" ".join((p.extract_text() or "").split()) for p in PdfReader(io.BytesIO(pdf)).pages]


@pytest.fixture(scope="module")
def side_effects_pdf() -> bytes:
    return page_handout_pdf("side-effects", facts={"clinic_phone": "(555) 010-0199"})


@pytest.fixture(scope="module")
def packet_pdf() -> bytes:
    return discharge_packet_pdf(
        patient_name="Pat Example",
        procedure_date=date(2026, 12, 3),
        clinic_phone="(555) 010-0199",
        clinic_name="Example Spine Clinic",
        milestones=[
            (date(2026, 12, 4), "Phone check"),
            (date(2026, 12, 15), "Wound check visit"),
            ("6 weeks", "Visit and short forms"),
        ],
    )


def test_a_page_handout_is_a_letter_pdf_of_a_sensible_length(side_effects_pdf):
    assert side_effects_pdf.startswith(b"%PDF-")
    sizes = page_sizes(side_effects_pdf)
    assert 1 <= len(sizes) <= 4
    assert all(w == pytest.approx(LETTER[0], abs=1) and h == pytest.approx(LETTER[1], abs=1) for w, h in sizes)


def test_every_printed_page_has_ink_inside_the_margins_and_none_outside(side_effects_pdf):
    for number, image in enumerate(page_images(side_effects_pdf), 1):
        dark = image < 128
        share = dark.mean()
        assert 0.003 < share < 0.25, f"page {number}: {share:.4f} of the page is ink"
        h, w = image.shape
        # 18 mm side margins: nothing printed in the outer 12 mm (at 72 dpi, 1 mm is about 2.83 px)
        edge = int(12 * 2.83)
        assert not dark[:, :edge].any() and not dark[:, w - edge :].any(), f"page {number}: ink in the side margin"
        # text spreads down the page, not in a single band
        rows = np.flatnonzero(dark.any(axis=1))
        assert rows.max() - rows.min() > h * 0.5, f"page {number}: printed area too small"


def test_the_handout_text_is_real_text_with_title_sections_and_page_numbers(side_effects_pdf):
    pages = texts(side_effects_pdf)
    whole = " ".join(pages)
    page = get_page("side-effects")
    assert page.title in pages[0]
    for section in page.sections:
        assert section.heading in whole
    assert "(555) 010-0199" in whole
    for number, text in enumerate(pages, 1):
        assert f"Page {number} of {len(pages)}" in text
    assert "Where this information comes from" in whole
    assert "It does not replace advice from your care team" in whole


def test_glossary_pop_ups_stay_off_paper_and_terms_are_listed_instead():
    pdf = page_handout_pdf("how-mild-works")
    whole = " ".join(texts(pdf))
    definition = "Live X-ray pictures on a screen."
    assert whole.count(definition) == 1  # once under "Words to know", not inline after the term
    assert "Words to know" in whole


def test_a4_and_spanish_are_available():
    pdf = page_handout_pdf("recovery", "es", paper="a4")
    w, h = page_sizes(pdf)[0]
    assert (w, h) == (pytest.approx(A4[0], abs=1), pytest.approx(A4[1], abs=1))
    whole = " ".join(texts(pdf))
    assert "La recuperación en casa" in whole and "Página 1 de" in whole


def test_the_discharge_packet_carries_the_patients_own_facts(packet_pdf):
    pages = texts(packet_pdf)
    whole = " ".join(pages)
    assert 2 <= len(pages) <= 5
    for fact in (
        "Pat Example",
        "Thursday, December 3, 2026",
        "(555) 010-0199",
        "Example Spine Clinic",
        "Friday, December 4, 2026",
        "Phone check",
        "Wound check visit",
        "6 weeks",
    ):
        assert fact in whole, fact
    # the warning signs come first, on the first page
    assert "Get emergency care right away" in pages[0]
    assert "Call your care team at (555) 010-0199" in whole
    assert whole.index("When to get help") < whole.index("Your recovery plan")


def test_the_discharge_packet_first_page_is_not_blank_and_has_the_emergency_box(packet_pdf):
    image = page_images(packet_pdf, scale=1.0)[0]
    dark = image < 100
    assert dark.mean() > 0.01
    # the emergency box is ruled: some row is dark across most of the text width
    assert (dark.mean(axis=1) > 0.7).any()


def test_personal_data_in_the_packet_is_escaped():
    html = discharge_packet_html(patient_name="<b>Pat</b>", procedure_date="soon", clinic_phone="555 & co")
    assert "<b>Pat</b>" not in html and "&lt;b&gt;Pat&lt;/b&gt;" in html
    assert "555 &amp; co" in html


def test_the_packet_needs_a_name_and_a_phone():
    with pytest.raises(InvalidInput):
        discharge_packet_html(patient_name=" ", procedure_date=date(2026, 1, 1), clinic_phone="555")


def test_an_unknown_page_has_no_handout():
    with pytest.raises(UnknownPage):
        page_handout_html("no-such-page")


def test_an_unknown_paper_size_is_bad_input():
    with pytest.raises(InvalidInput):
        page_handout_html("faq", paper="b5")  # type: ignore[arg-type]


def test_importing_the_handout_and_cli_modules_does_not_load_weasyprint():
    code = "import sys, mildpath.reports.handouts, mildpath.cli.education; print('weasyprint' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "False"
