"""Fixtures for the triage suite: the shipped rules, and a small helper to build entries."""

from __future__ import annotations

import pytest

from mildpath.content.triage import load_triage_rules
from mildpath.domain.triage import TriageRules


@pytest.fixture(scope="session")
def rules() -> TriageRules:
    return load_triage_rules()
