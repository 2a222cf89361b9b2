"""What every questionnaire shares: items, answers, scores, exact rounding and the missing-item policy.

An :class:`Instrument` is the *structure* of a questionnaire (item ids, allowed answer values, subscales and
how many items each subscale may miss). Wording lives in ``content/instruments/*.yaml`` (and, for licensed
instruments, in a file the site supplies); scoring never depends on it.

Answers arrive as a sequence in item order (``None`` or ``""`` for an unanswered item) or as a mapping from
item id to value (an absent id is unanswered). :func:`read_answers` turns either into one validated value per
item, or raises :class:`~mildpath.domain.errors.InvalidAnswer` naming the first offending item:

- the wrong number of answers (``field`` is the instrument id);
- an unknown item id in a mapping;
- a non-number (text, ``True``/``False``, a list ...), or a number that is not whole;
- a whole number outside the item's allowed values (for example 2 on the ZCQ balance item: only 1/3/5).

Arithmetic is exact: means and percentages are :class:`fractions.Fraction`, and the reported value is a
:class:`decimal.Decimal` rounded to two decimals with ``ROUND_HALF_UP`` (ties away from zero), so that 16 of
45 gives exactly ``Decimal("35.56")`` and never ``35.559999``. Thresholds are compared with the exact
fraction, not with the rounded figure.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from fractions import Fraction

from mildpath.domain.catalog import by_id
from mildpath.domain.errors import InvalidAnswer

#: What a caller may hand in for one item before validation.
RawAnswer = int | float | str | Decimal | Fraction | None
#: Answers in item order, or keyed by item id.
RawAnswers = Sequence[RawAnswer] | Mapping[str, RawAnswer]


@dataclass(frozen=True)
class Item:
    """One question: ``id`` is the FHIR linkId (``odi-1``), ``number`` its 1-based position."""

    id: str
    number: int
    allowed: tuple[int, ...]
    subscale: str
    #: ``choice`` (one of a few coded statements), ``integer`` (a number on a scale, NPRS) or ``decimal``
    #: (a measured quantity such as minutes walked; ``allowed`` is then empty and the instrument checks it).
    kind: str = "choice"

    def describe_allowed(self) -> str:
        """``0-5`` for a contiguous range, ``1/3/5`` otherwise."""
        if not self.allowed:
            return "a number"
        lo, hi = self.allowed[0], self.allowed[-1]
        if self.allowed == tuple(range(lo, hi + 1)):
            return f"{lo}-{hi}"
        return "/".join(str(v) for v in self.allowed)


@dataclass(frozen=True)
class Subscale:
    """A group of items scored together; ``max_missing`` unanswered items still give a score."""

    id: str
    item_ids: tuple[str, ...]
    max_missing: int


@dataclass(frozen=True)
class Instrument:
    """The structure of a questionnaire. ``source`` is the bibliography id of its scoring rules."""

    id: str
    name: str
    version: str
    items: tuple[Item, ...]
    subscales: tuple[Subscale, ...]
    source: str

    def item(self, item_id: str) -> Item:
        return by_id(self.items, item_id)

    def subscale(self, subscale_id: str) -> Subscale:
        return by_id(self.subscales, subscale_id)

    def items_of(self, subscale_id: str) -> tuple[Item, ...]:
        return tuple(item for item in self.items if item.subscale == subscale_id)


@dataclass(frozen=True)
class Answer:
    """One validated answer; ``value`` is ``None`` when the item was left unanswered."""

    item_id: str
    value: int | None


@dataclass(frozen=True)
class Score:
    """The result of scoring one questionnaire (or one subscale of it).

    ``value`` is the reported figure (two decimals, ``ROUND_HALF_UP``), ``exact`` the unrounded fraction that
    change and responder maths use. Both are ``None`` when too many items are missing; ``reason`` says why.
    ``missing`` lists the 1-based numbers of unanswered items, ``answered`` counts the answered ones.
    Instruments scored only by subscale (ZCQ, NPRS) have ``value`` ``None`` at the top and their figures in
    ``subscales``.
    """

    instrument: str
    value: Decimal | None
    exact: Fraction | None
    answered: int
    missing: tuple[int, ...]
    source: str
    band: str | None = None
    subscales: tuple[Score, ...] = ()
    reason: str | None = None

    def subscale(self, name: str) -> Score:
        """The subscale called ``name`` (``severity``, ``back`` ...); ``KeyError`` if there is none."""
        for sub in self.subscales:
            if sub.instrument.rsplit(".", 1)[-1] == name:
                return sub
        raise KeyError(name)

    def as_float(self) -> float | None:
        """The reported value as a float (``35.56``), for JSON."""
        return None if self.value is None else float(self.value)


def round2(value: Fraction) -> Decimal:
    """Round an exact fraction to two decimals, ties away from zero (``decimal.ROUND_HALF_UP``).

    >>> round2(Fraction(1600, 45))
    Decimal('35.56')
    >>> round2(Fraction(-1, 200))
    Decimal('-0.01')
    """
    hundredths = abs(value) * 100
    whole = math.floor(hundredths + Fraction(1, 2))
    return Decimal(-whole if value < 0 else whole).scaleb(-2)


def _coerce(item: Item, raw: RawAnswer) -> int | None:
    """One raw answer -> a whole number or ``None`` (unanswered), else :class:`InvalidAnswer`."""
    if raw is None:
        return None
    if isinstance(raw, bool):  # bool is an int subclass: True must not read as 1
        raise InvalidAnswer(item.id, raw, f"{item.id}: {raw!r} is not a number")
    if isinstance(raw, str):
        text = raw.strip()
        if text == "":
            return None
        try:
            number: Fraction = Fraction(Decimal(text))
        except (
            ArithmeticError,
            ValueError,
        ):  # InvalidOperation for "abc"; ValueError for "nan"; "inf" overflows
            raise InvalidAnswer(item.id, raw, f"{item.id}: {raw!r} is not a number") from None
    elif isinstance(raw, float):
        if math.isnan(raw):  # NaN is how the vectorised path spells "unanswered"
            return None
        if math.isinf(raw):
            raise InvalidAnswer(item.id, raw, f"{item.id}: {raw!r} is not a number")
        number = Fraction(raw)
    elif isinstance(raw, int | Decimal | Fraction):
        if isinstance(raw, Decimal) and not raw.is_finite():
            raise InvalidAnswer(item.id, str(raw), f"{item.id}: {raw} is not a number")
        number = Fraction(raw)
    else:
        raise InvalidAnswer(item.id, raw, f"{item.id}: {raw!r} is not a number")
    if number.denominator != 1:
        raise InvalidAnswer(item.id, raw, f"{item.id}: {raw} is not a whole number")
    value = int(number)
    if value not in item.allowed:
        raise InvalidAnswer(item.id, value, f"{item.id}: answer {value} is outside {item.describe_allowed()}")
    return value


def read_answers(
    instrument: Instrument, answers: RawAnswers, items: Sequence[Item] | None = None
) -> tuple[int | None, ...]:
    """Validate ``answers`` against ``items`` (default: the instrument's), one value per item, in order.

    A sequence must have exactly one entry per item; a mapping may omit items (unanswered) but may not name an
    item that is not among ``items``.
    """
    wanted = tuple(instrument.items if items is None else items)
    if isinstance(answers, Mapping):
        known = {item.id for item in wanted}
        for key in answers:
            if key not in known:
                raise InvalidAnswer(str(key), answers[key], f"{key}: not an item of {instrument.id}")
        return tuple(_coerce(item, answers.get(item.id)) for item in wanted)
    if isinstance(answers, str | bytes) or not isinstance(answers, Sequence):
        raise InvalidAnswer(instrument.id, answers, f"{instrument.id}: answers must be a list or a mapping")
    if len(answers) != len(wanted):
        raise InvalidAnswer(
            instrument.id,
            len(answers),
            f"{instrument.id}: expected {len(wanted)} answers, got {len(answers)}",
        )
    return tuple(_coerce(item, raw) for item, raw in zip(wanted, answers, strict=True))


def as_answers(items: Sequence[Item], values: Sequence[int | None]) -> tuple[Answer, ...]:
    """Pair validated values with their item ids."""
    return tuple(Answer(item.id, value) for item, value in zip(items, values, strict=True))


def missing_numbers(items: Sequence[Item], values: Sequence[int | None]) -> tuple[int, ...]:
    """The 1-based numbers of the unanswered items."""
    return tuple(item.number for item, value in zip(items, values, strict=True) if value is None)


def too_many_missing(label: str, missing: int, max_missing: int) -> str | None:
    """The missing-item policy: ``None`` when a score may be given, else the reason there is none."""
    if missing <= max_missing:
        return None
    allowed = "no item" if max_missing == 0 else f"at most {max_missing}"
    return f"{label}: {missing} items unanswered; {allowed} may be missing for a score"


def mean_score(instrument: Instrument, subscale: Subscale, values: Sequence[int | None], label: str) -> Score:
    """A subscale scored as the mean of its answered items (ZCQ), under the subscale's missing-item policy."""
    items = instrument.items_of(subscale.id)
    answered = [v for v in values if v is not None]
    missing = missing_numbers(items, values)
    reason = too_many_missing(label, len(missing), subscale.max_missing)
    exact = None if reason is not None or not answered else Fraction(sum(answered), len(answered))
    return Score(
        instrument=f"{instrument.id}.{subscale.id}",
        value=None if exact is None else round2(exact),
        exact=exact,
        answered=len(answered),
        missing=missing,
        source=instrument.source,
        reason=reason,
    )
