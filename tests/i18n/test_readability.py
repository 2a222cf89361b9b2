"""Plain words in both languages (issue 15 §3): the interface strings of the catalogue read at or below US
grade 8 in English (Flesch-Kincaid) and "fairly easy" or easier in Spanish (Fernández Huerta >= 70), measured as
tests/education/test_readability.py measures the library: each string counts as one sentence."""

from __future__ import annotations

from babel.messages.pofile import read_po

from mildpath.web.i18n import LOCALE_DIR

MAX_GRADE_EN = 8.0
MIN_FERNANDEZ_HUERTA_ES = 70.0
# Strings for clinicians only (the base layout's staff links, the diary's note for staff): not patient reading.
STAFF_ONLY = {"Audit", "Users", "Patients", "Diary entry for %(name)s", "Diary of %(name)s", "triage rules version",
              "For an entry you take down for the patient, for example on a phone check."}


def _sentences(pairs: list[tuple[str, str]], which: int) -> str:
    out = []
    for pair in pairs:
        text = pair[which].replace("%(name)s", "Rosa").replace("%(n)s", "5").strip()
        if len(text.split()) >= 2:
            out.append(text if text[-1] in ".?!:…" else text + ".")
    return " ".join(out)


def _catalogue() -> list[tuple[str, str]]:
    with (LOCALE_DIR / "es" / "LC_MESSAGES" / "messages.po").open("rb") as fh:
        catalog = read_po(fh)
    pairs = []
    for m in catalog:
        if m.id and m.string and m.id not in STAFF_ONLY:
            plural = isinstance(m.id, tuple)  # a plural entry: its plural forms, with a number
            pairs.append((m.id[1], m.string[-1]) if plural else (m.id, m.string))
    return [(en.replace("%(num)s", "6"), es.replace("%(num)s", "6")) for en, es in pairs]


def test_every_interface_string_has_a_spanish_translation():
    with (LOCALE_DIR / "es" / "LC_MESSAGES" / "messages.po").open("rb") as fh:
        catalog = read_po(fh)
    untranslated = [m.id for m in catalog if m.id and (not m.string or m.fuzzy)]
    assert not untranslated, untranslated


def test_the_spanish_interface_reads_fairly_easily(spanish_readability):
    huerta = spanish_readability.fernandez_huerta(_sentences(_catalogue(), 1))
    assert huerta >= MIN_FERNANDEZ_HUERTA_ES, f"Fernández Huerta {huerta:.1f}"


def test_the_english_interface_reads_at_or_below_grade_8(english_readability):
    grade = english_readability.flesch_kincaid_grade(_sentences(_catalogue(), 0))
    assert grade <= MAX_GRADE_EN, f"Flesch-Kincaid grade {grade:.1f}"


def test_the_spanish_check_scores_a_hard_text_as_hard(spanish_readability):
    hard = (
        "La descompresión lumbar percutánea mínimamente invasiva extirpa parcialmente el ligamento amarillo "
        "hipertrofiado mediante un abordaje interlaminar ipsilateral bajo epidurografía contrastada."
    )
    assert spanish_readability.fernandez_huerta(hard) < MIN_FERNANDEZ_HUERTA_ES
