"""Fixtures of the screening suite: the shipped default criteria set."""

from __future__ import annotations

import pytest

from mildpath.content.criteria import load_criteria_set
from mildpath.domain.criteria import CriteriaSet


@pytest.fixture(scope="session")
def criteria_set() -> CriteriaSet:
    return load_criteria_set()
