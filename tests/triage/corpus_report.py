"""Precision and recall of the symptom reader on the labelled corpus, per level and per language (issue 15 §1).

Run: ``.venv/bin/python tests/triage/corpus_report.py`` (``make test`` runs the same corpus in test_corpus.py).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import yaml

from mildpath.content.symptoms import load_symptom_vocabulary
from mildpath.content.triage import load_triage_rules
from mildpath.domain.diary import DiaryEntry
from mildpath.domain.triage import classify

CORPUS = Path(__file__).with_name("corpus.yaml")
LEVELS = ("emergency", "same_day", "review", "expected")


def load_corpus() -> list[dict[str, str]]:
    return list(yaml.safe_load(CORPUS.read_text(encoding="utf-8"))["phrases"])


def predict(text: str) -> str:
    return classify(DiaryEntry(notes=text), load_triage_rules(), load_symptom_vocabulary()).level.value


def scores(rows: list[dict[str, str]], predicted: list[str]) -> dict[str, dict[str, Any]]:
    out: dict[str, dict[str, Any]] = {}
    for level in LEVELS:
        tp = sum(1 for r, p in zip(rows, predicted, strict=True) if r["level"] == level and p == level)
        fp = sum(1 for r, p in zip(rows, predicted, strict=True) if r["level"] != level and p == level)
        fn = sum(1 for r, p in zip(rows, predicted, strict=True) if r["level"] == level and p != level)
        out[level] = {
            "n": tp + fn,
            "precision": round(tp / (tp + fp), 3) if tp + fp else None,
            "recall": round(tp / (tp + fn), 3) if tp + fn else None,
        }
    return out


def report() -> dict[str, Any]:
    rows = load_corpus()
    predicted = [predict(r["text"]) for r in rows]
    by_language = {
        lang: scores(
            [r for r in rows if r["language"] == lang],
            [p for r, p in zip(rows, predicted, strict=True) if r["language"] == lang],
        )
        for lang in sorted({r["language"] for r in rows})
    }
    misses = [
        {"text": r["text"], "expected": r["level"], "got": p}
        for r, p in zip(rows, predicted, strict=True)
        if r["level"] != p
    ]
    return {"phrases": len(rows), "all": scores(rows, predicted), "by_language": by_language, "misclassified": misses}


if __name__ == "__main__":
    json.dump(report(), sys.stdout, indent=2, ensure_ascii=False)
    sys.stdout.write("\n")
