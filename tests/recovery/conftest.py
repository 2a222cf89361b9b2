"""Fixtures for the recovery-plan suite: the shipped milestone catalogue and a reference procedure date."""

from __future__ import annotations

from datetime import date

import pytest

from mildpath.content.milestones import load_milestones
from mildpath.domain.recovery import MilestoneCatalog

# 31 January: month arithmetic must clamp (3 months later is 30 April, 1 month later would be 28 February).
PROCEDURE_DAY = date(2025, 1, 31)


@pytest.fixture(scope="session")
def catalog() -> MilestoneCatalog:
    return load_milestones()


@pytest.fixture
def procedure_day() -> date:
    return PROCEDURE_DAY
