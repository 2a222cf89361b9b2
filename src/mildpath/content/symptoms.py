"""Load ``content/symptoms.yaml`` (or a site's copy) into a validated
:class:`~mildpath.domain.symptoms.SymptomVocabulary`; every rule must cite known sources."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from mildpath.content.sources import CONTENT_DIR, check_cited, load_yaml_model
from mildpath.domain.symptoms import SymptomVocabulary, make_vocabulary

SYMPTOMS_FILE = CONTENT_DIR / "symptoms.yaml"


def load_symptom_vocabulary(path: Path | str | None = None) -> SymptomVocabulary:
    """The shipped vocabulary when ``path`` is ``None``, else a site's own file (validated the same way)."""
    if path is None:
        return _shipped()
    return _load(Path(path))


@lru_cache(maxsize=1)
def _shipped() -> SymptomVocabulary:
    return _load(SYMPTOMS_FILE)


def _load(path: Path) -> SymptomVocabulary:
    vocab = load_yaml_model(path, make_vocabulary)
    check_cited(vocab.sources, f"{path.name}: sources")
    check_cited(vocab.unclassified_sources, f"{path.name}: unclassified_sources")
    for rule in vocab.rules:
        check_cited(rule.sources, f"{path.name}: rule {rule.id}")
    return vocab
