"""What every catalogue of the domain shares (criteria sets, triage rules, milestones, instruments, schedules).

A catalogue is a versioned list of entries with ids, often read from a content file and often worded in English
with an optional Spanish text. Declared once here:

- :func:`by_id`: the entry with an id, or ``KeyError(id)``;
- :func:`in_language`: the Spanish wording when it is asked for and written, else the English;
- :func:`need_mapping`, :func:`need_list`, :func:`need_text`, :func:`need_sources`: the checks of a catalogue
  file's raw fields, each raising :class:`~mildpath.domain.errors.InvalidInput` naming the field.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any, Protocol, TypeVar

from mildpath.domain.errors import InvalidInput


class _HasId(Protocol):
    @property
    def id(self) -> str: ...


E = TypeVar("E", bound=_HasId)


def by_id(entries: Iterable[E], entry_id: str) -> E:
    """The first of ``entries`` whose ``id`` is ``entry_id``; ``KeyError(entry_id)`` when there is none."""
    for entry in entries:
        if entry.id == entry_id:
            return entry
    raise KeyError(entry_id)


def in_language(language: str, english: str, spanish: str) -> str:
    """``spanish`` when ``language`` is ``es`` and it is not empty (translated); ``english`` otherwise."""
    return spanish if language == "es" and spanish else english


def need_mapping(value: object, where: str) -> Mapping[str, Any]:
    if not isinstance(value, Mapping):
        raise InvalidInput(f"{where}: needs a mapping", field=where)
    return value


def need_list(value: object, where: str) -> list[Any]:
    if not isinstance(value, list):
        raise InvalidInput(f"{where}: needs a list", field=where)
    return value


def need_text(value: object, where: str, *, allow_empty: bool = False) -> str:
    """The text with its white space folded; empty (or blank) only with ``allow_empty``."""
    if not isinstance(value, str) or (not allow_empty and not value.strip()):
        raise InvalidInput(f"{where}: needs a non-empty text", field=where)
    return " ".join(value.split())


def need_sources(value: object, where: str, *, tuples: bool = False) -> tuple[str, ...]:
    """A non-empty list of source ids (a tuple of them too with ``tuples``)."""
    items = value if isinstance(value, list) or (tuples and isinstance(value, tuple)) else ()
    if not items or not all(isinstance(v, str) for v in items):
        raise InvalidInput(f"{where}: cites no source (needs a list of source ids)", field=f"{where}.sources")
    return tuple(items)
