"""Numeric Pain Rating Scale (back and leg) and walking tolerance (clinical reference §2.3 and §2.4).

# source: nprs
NPRS: 11 points, 0 = no pain to 10 = worst possible pain, asked separately for back and leg pain (as the mild
trials reported them). Either region may be left unanswered; each is scored on its own.

# source: walking
Walking tolerance: minutes walked at one's own pace on level ground before symptoms force a stop, up to 30
minutes (the Self-Paced Walking Test stops at 30). A longer time counts as 30; a negative one is rejected.
"""

from __future__ import annotations

from decimal import Decimal
from fractions import Fraction

from mildpath.domain.errors import InvalidAnswer
from mildpath.domain.instruments.base import (
    Instrument,
    Item,
    RawAnswer,
    Score,
    Subscale,
    read_answers,
    round2,
)

NPRS_SOURCE = "nprs"
WALKING_SOURCE = "walking"
NPRS_MAX = 10
BACK, LEG = "back", "leg"
WALKING_CAP_MINUTES = 30  # source: walking (SPWT "up to 30 min")

NPRS = Instrument(
    id="nprs",
    name="Numeric Pain Rating Scale",
    version="0-10",
    items=(
        Item("nprs-back", 1, tuple(range(NPRS_MAX + 1)), BACK, kind="integer"),
        Item("nprs-leg", 2, tuple(range(NPRS_MAX + 1)), LEG, kind="integer"),
    ),
    subscales=(Subscale(BACK, ("nprs-back",), max_missing=0), Subscale(LEG, ("nprs-leg",), max_missing=0)),
    source=NPRS_SOURCE,
)

WALKING = Instrument(
    id="walking",
    name="Walking tolerance",
    version="30-minute-cap",
    items=(Item("walking-minutes", 1, (), "minutes", kind="decimal"),),
    subscales=(Subscale("minutes", ("walking-minutes",), max_missing=0),),
    source=WALKING_SOURCE,
)


def _region(item: Item, value: int | None) -> Score:
    name = f"{NPRS.id}.{item.subscale}"
    if value is None:
        reason = f"NPRS {item.subscale} pain: not answered"
        return Score(name, None, None, 0, (item.number,), NPRS_SOURCE, reason=reason)
    return Score(name, round2(Fraction(value)), Fraction(value), 1, (), NPRS_SOURCE)


def score_nprs(back: RawAnswer, leg: RawAnswer) -> Score:
    """Score back and leg pain (0-10 each); the result's ``subscales`` are ``back`` then ``leg``.

    ``None`` or ``""`` leaves a region unanswered (its subscale has no value and a reason). Raises
    :class:`~mildpath.domain.errors.InvalidAnswer` naming ``nprs-back`` or ``nprs-leg`` for a value outside
    0-10 or a non-number.

    >>> score_nprs(6, None).subscale("back").value
    Decimal('6.00')
    """
    values = read_answers(NPRS, [back, leg])
    regions = tuple(_region(item, value) for item, value in zip(NPRS.items, values, strict=True))
    missing = tuple(n for r in regions for n in r.missing)
    return Score(NPRS.id, None, None, 2 - len(missing), missing, NPRS_SOURCE, subscales=regions)


def _minutes(raw: RawAnswer) -> Fraction | None:
    item_id = WALKING.items[0].id
    if raw is None or (isinstance(raw, str) and raw.strip() == ""):
        return None
    if isinstance(raw, bool) or not isinstance(raw, int | float | str | Decimal | Fraction):
        raise InvalidAnswer(item_id, raw, f"{item_id}: {raw!r} is not a number")
    if isinstance(raw, float):
        if raw != raw:  # NaN means unanswered, as in the vectorised path
            return None
        raw = repr(raw)  # 12.3 means 12.3 minutes, not its binary neighbour
    try:
        minutes = Fraction(Decimal(raw.strip()) if isinstance(raw, str) else raw)
    except (ArithmeticError, ValueError):
        raise InvalidAnswer(item_id, raw, f"{item_id}: {raw!r} is not a number") from None
    if minutes < 0:
        raise InvalidAnswer(item_id, raw, f"{item_id}: {raw} minutes is negative")
    return minutes


def score_walking(minutes: RawAnswer) -> Score:
    """Walking tolerance in minutes, capped at 30 (two decimals).

    ``None`` or ``""`` means not answered (no value, with a reason). Raises
    :class:`~mildpath.domain.errors.InvalidAnswer` naming ``walking-minutes`` for a negative time or a
    non-number.

    >>> score_walking(45).value
    Decimal('30.00')
    """
    value = _minutes(minutes)
    if value is None:
        return Score(WALKING.id, None, None, 0, (1,), WALKING_SOURCE, reason="walking tolerance: not answered")
    capped = min(value, Fraction(WALKING_CAP_MINUTES))
    return Score(WALKING.id, round2(capped), capped, 1, (), WALKING_SOURCE)
