"""Fixtures for the procedure-day suite: the shipped content policies."""

from __future__ import annotations

import pytest

from mildpath.content.procedure import policies as load_policies
from mildpath.domain.procedure import ProcedurePolicies


@pytest.fixture(scope="session")
def policies() -> ProcedurePolicies:
    return load_policies()
