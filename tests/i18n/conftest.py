"""The readability scorers of the education tests (offline English syllable counts), shared here."""

from tests.education.conftest import cmu_dictionary, english_readability, spanish_readability

__all__ = ["cmu_dictionary", "english_readability", "spanish_readability"]
