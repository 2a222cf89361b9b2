"""The shipped SQL on FHIR v2 ViewDefinitions (``content/views/*.json``): the flat tables screening reads.

This module only finds and reads the files; ``mildpath.population.views`` validates and compiles them (content
may not import the population layer). The folder holds ViewDefinitions and nothing else (contracts §6): value
sets and SQL live beside it. The views encode no clinical fact, so they cite no source: which codes matter is
the criteria set's business, applied to these tables.
"""

from __future__ import annotations

import json
from functools import cache
from typing import Any

from mildpath.content.sources import CONTENT_DIR, ContentError

VIEWS_DIR = CONTENT_DIR / "views"


def view_names() -> list[str]:
    """Names of the shipped views (file stems), e.g. ``condition``, in name order."""
    return sorted(p.stem for p in VIEWS_DIR.glob("*.json"))


@cache
def _read(name: str) -> str:
    path = VIEWS_DIR / f"{name}.json"
    try:
        return path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ContentError(f"no shipped view {name!r}; views: {', '.join(view_names())}") from None


def load_view_definition(name: str) -> dict[str, Any]:
    """A fresh copy of the shipped ViewDefinition ``name`` as parsed JSON."""
    try:
        data = json.loads(_read(name))
    except json.JSONDecodeError as exc:
        raise ContentError(f"content/views/{name}.json: line {exc.lineno}: {exc.msg}") from None
    if not isinstance(data, dict) or data.get("resourceType") != "ViewDefinition":
        raise ContentError(f"content/views/{name}.json is not a ViewDefinition")
    return data
