"""Load ``content/symptoms.yaml`` (or a site's copy) into a validated
:class:`~mildpath.domain.symptoms.SymptomVocabulary`; every rule must cite known sources."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from pathlib import Path

from mildpath.content.loader import load_built
from mildpath.content.sources import CONTENT_DIR
from mildpath.domain.symptoms import SymptomVocabulary, make_vocabulary

SYMPTOMS_FILE = CONTENT_DIR / "symptoms.yaml"


def load_symptom_vocabulary(path: Path | str | None = None) -> SymptomVocabulary:
    """The shipped vocabulary when ``path`` is ``None``, else a site's own file (validated the same way)."""
    return load_built(path, make_vocabulary, _citations, shipped=SYMPTOMS_FILE)


def _citations(vocab: SymptomVocabulary) -> Iterator[tuple[str, Sequence[str]]]:
    yield "sources", vocab.sources
    yield "unclassified_sources", vocab.unclassified_sources
    for rule in vocab.rules:
        yield f"rule {rule.id}", rule.sources
