"""``meta.lastUpdated`` (issue 19): every resource mildpath serves or exports carries its record's own last
change, what ``_lastUpdated`` searches and what Bulk ``$export?_since=`` compares; an instant in UTC, to the
millisecond, with its offset."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any


def stamp(resource: dict[str, Any], when: datetime | None) -> dict[str, Any]:
    """Set ``resource["meta"]["lastUpdated"]`` from ``when`` (nothing when ``None``); returns ``resource``.

    >>> stamp({}, datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC))["meta"]
    {'lastUpdated': '2026-01-02T03:04:05.000+00:00'}
    """
    if when is not None:
        when = when if when.tzinfo is not None else when.replace(tzinfo=UTC)  # stored UTC without its zone
        resource.setdefault("meta", {})["lastUpdated"] = when.astimezone(UTC).isoformat(timespec="milliseconds")
    return resource
