"""The clock, read in one place. The domain never reads it: services and adapters pass ``today``/``now`` in."""

from __future__ import annotations

from datetime import UTC, date, datetime


def now() -> datetime:
    """Aware UTC now."""
    return datetime.now(UTC)


def today() -> date:
    """Today's date where the server runs (a clinic's 'today' is a local date, not a UTC one)."""
    return datetime.now(UTC).astimezone().date()
