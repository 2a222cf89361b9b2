"""Three-valued (Kleene) logic, shared by the screening criteria and the diary triage rules.

A result is met, not met or unknown, as SQL's TRUE, FALSE and NULL. Screening
(:mod:`mildpath.domain.conditions`) works with :class:`Tri` directly; triage
(:mod:`mildpath.domain.triage`) keeps ``bool | None`` and converts at the edge with
:meth:`Tri.of` and :meth:`Tri.as_bool`, so both follow the same truth tables.
"""

from __future__ import annotations

from collections.abc import Iterable
from enum import StrEnum


class Tri(StrEnum):
    """A three-valued result: met, not met, unknown (SQL TRUE, FALSE, NULL)."""

    MET = "met"
    NOT_MET = "not_met"
    UNKNOWN = "unknown"

    @classmethod
    def of(cls, value: bool | None) -> Tri:
        """``True`` → MET, ``False`` → NOT_MET, ``None`` → UNKNOWN."""
        if value is None:
            return cls.UNKNOWN
        return cls.MET if value else cls.NOT_MET

    def as_bool(self) -> bool | None:
        """The inverse of :meth:`of`."""
        if self is Tri.UNKNOWN:
            return None
        return self is Tri.MET


def _kleene(values: Iterable[Tri], decisive: Tri, otherwise: Tri) -> Tri:
    """``decisive`` if any value is; else UNKNOWN if any is UNKNOWN; else ``otherwise`` (also when empty)."""
    seen_unknown = False
    for v in values:
        if v is decisive:
            return decisive
        seen_unknown = seen_unknown or v is Tri.UNKNOWN
    return Tri.UNKNOWN if seen_unknown else otherwise


def tri_and(values: Iterable[Tri]) -> Tri:
    """Kleene AND: NOT_MET if any is NOT_MET, else UNKNOWN if any is UNKNOWN, else MET (MET when empty)."""
    return _kleene(values, Tri.NOT_MET, Tri.MET)


def tri_or(values: Iterable[Tri]) -> Tri:
    """Kleene OR: MET if any is MET, else UNKNOWN if any is UNKNOWN, else NOT_MET (NOT_MET when empty)."""
    return _kleene(values, Tri.MET, Tri.NOT_MET)


def tri_not(value: Tri) -> Tri:
    """Kleene NOT: swaps MET and NOT_MET; UNKNOWN stays UNKNOWN."""
    if value is Tri.MET:
        return Tri.NOT_MET
    if value is Tri.NOT_MET:
        return Tri.MET
    return Tri.UNKNOWN


def tri_and_known(values: Iterable[Tri]) -> Tri:
    """AND over the values that are known; UNKNOWN when none is known."""
    known = [v for v in values if v is not Tri.UNKNOWN]
    return tri_and(known) if known else Tri.UNKNOWN
