"""The labelled corpus (tests/triage/corpus.yaml): every emergency phrase is classified emergency, and the
reader's precision and recall stay at the level reported for issue 15 (figures: corpus_report.py)."""

from __future__ import annotations

import pytest

from tests.triage.corpus_report import load_corpus, predict, report

ROWS = load_corpus()


def test_the_corpus_is_large_and_covers_both_languages_and_every_level() -> None:
    assert len(ROWS) >= 150
    assert {r["language"] for r in ROWS} >= {"en", "es", "mixed"}
    assert {r["level"] for r in ROWS} == {"emergency", "same_day", "review", "expected"}
    assert {r["kind"] for r in ROWS} >= {"typo", "negation-trap", "uncertain", "benign", "mixed"}


EMERGENCIES = [r["text"] for r in ROWS if r["level"] == "emergency"]


@pytest.mark.parametrize("text", EMERGENCIES)
def test_no_emergency_phrase_is_missed(text: str) -> None:
    assert predict(text) == "emergency"


def test_precision_and_recall_per_level() -> None:
    figures = report()["all"]
    assert figures["emergency"]["recall"] == 1.0
    for level in ("same_day", "review", "expected"):
        assert figures[level]["recall"] >= 0.9, (level, figures)
        assert figures[level]["precision"] >= 0.9, (level, figures)
