"""What the compiler knows about FHIR elements: type, cardinality and choice alternatives.

The table (``fhir_schema.json``, built by :mod:`schema_build`) turns ``name.given`` on a Patient into the
exact JSON path ``$.name[*].given[*]`` at compile time, so DuckDB extracts it in one pass over the text. An
element the table does not know is still evaluated correctly, by the compiler's schema-free fallback.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

SCHEMA_FILE = Path(__file__).with_name("fhir_schema.json")  # built by schema_build

# FHIR primitive types and the SQL representation of their values.
PRIMITIVE_REP = {
    "boolean": "bool",
    "integer": "int",
    "positiveInt": "int",
    "unsignedInt": "int",
    "integer64": "int",
    "decimal": "dec",
    **dict.fromkeys(
        (
            "string",
            "code",
            "id",
            "uri",
            "url",
            "canonical",
            "oid",
            "uuid",
            "markdown",
            "base64Binary",
            "date",
            "dateTime",
            "instant",
            "time",
            "xhtml",
        ),
        "str",
    ),
}


@dataclass(frozen=True)
class Element:
    """An element of a FHIR type: its type (None for a choice), whether it repeats, and choice alternatives."""

    type: str | None
    is_array: bool
    choices: tuple[tuple[str, str], ...] = ()


@lru_cache(maxsize=1)
def _table() -> dict[str, Any]:
    table: dict[str, Any] = json.loads(SCHEMA_FILE.read_text(encoding="utf-8"))
    return table


@lru_cache(maxsize=1)
def resource_types() -> frozenset[str]:
    """Names of the FHIR resource types (R4, plus R5 additions)."""
    return frozenset(_table()["resources"])


def element(type_name: str | None, name: str) -> Element | None:
    """The element ``name`` of ``type_name``, or None when the type or the element is unknown."""
    if type_name is None:
        return None
    elements = _table()["types"].get(type_name)
    if elements is None:
        return None
    spec = elements.get(name)
    if spec is None:
        return None
    if isinstance(spec, dict):
        return Element(None, False, tuple(spec.items()))
    return Element(spec.rstrip("*"), spec.endswith("*"))


def is_known_type(type_name: str) -> bool:
    """True for a FHIR primitive or a type the table describes."""
    return type_name in PRIMITIVE_REP or type_name in _table()["types"]


def is_resource(type_name: str | None) -> bool:
    """True when ``type_name`` is a resource type (or the abstract ``Resource``)."""
    return type_name is not None and (type_name in resource_types() or type_name in ("Resource", "DomainResource"))
