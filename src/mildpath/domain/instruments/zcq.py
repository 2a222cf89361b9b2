"""Zurich Claudication Questionnaire (Swiss Spinal Stenosis Questionnaire, Stucki 1996), reference §2.2.

# source: zcq
Three subscales, each the mean of its answered items (higher is worse on all three):

=================  =======  ==================================================  ===================
subscale           items    answers                                             missing allowed
=================  =======  ==================================================  ===================
severity           zcq-1-7  1-5; the balance item (zcq-7) only 1, 3 or 5         at most 2
function           zcq-8-12 1-4                                                 at most 1
satisfaction       zcq-13-18 1-4; asked after treatment only                    at most 1
=================  =======  ==================================================  ===================

Means are exact fractions; the reported value has two decimals (``ROUND_HALF_UP``). The reference's optional
percentage form (mean / maximum x 100) is left to displays.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from fractions import Fraction

from mildpath.domain.errors import InvalidAnswer
from mildpath.domain.instruments.base import (
    Instrument,
    Item,
    RawAnswer,
    RawAnswers,
    Score,
    Subscale,
    mean_score,
    read_answers,
)

SOURCE = "zcq"
SEVERITY, FUNCTION, SATISFACTION = "severity", "function", "satisfaction"
BALANCE_ITEM = "zcq-7"  # answered None / Sometimes / Often = 1 / 3 / 5  # source: zcq

_FIVE = (1, 2, 3, 4, 5)
_FOUR = (1, 2, 3, 4)


def _items(first: int, last: int, subscale: str, allowed: tuple[int, ...]) -> tuple[Item, ...]:
    return tuple(Item(f"zcq-{n}", n, allowed, subscale) for n in range(first, last + 1))


_SEVERITY_ITEMS = (*_items(1, 6, SEVERITY, _FIVE), Item(BALANCE_ITEM, 7, (1, 3, 5), SEVERITY))
_FUNCTION_ITEMS = _items(8, 12, FUNCTION, _FOUR)
_SATISFACTION_ITEMS = _items(13, 18, SATISFACTION, _FOUR)

ZCQ = Instrument(
    id="zcq",
    name="Zurich Claudication Questionnaire",
    version="1996",  # Stucki et al., Spine 1996
    items=(*_SEVERITY_ITEMS, *_FUNCTION_ITEMS, *_SATISFACTION_ITEMS),
    subscales=(
        Subscale(SEVERITY, tuple(i.id for i in _SEVERITY_ITEMS), max_missing=2),  # source: zcq
        Subscale(FUNCTION, tuple(i.id for i in _FUNCTION_ITEMS), max_missing=1),  # source: zcq
        Subscale(SATISFACTION, tuple(i.id for i in _SATISFACTION_ITEMS), max_missing=1),  # source: zcq
    ),
    source=SOURCE,
)

_LABELS = {
    SEVERITY: "ZCQ symptom severity",
    FUNCTION: "ZCQ physical function",
    SATISFACTION: "ZCQ satisfaction",
}


#: The optional percentage form of each subscale (clinical reference §2.2, AO Stata ``zcq.ado``):
#: round(mean / maximum x 100), the maximum being 5 for severity and 4 for function and satisfaction.  # source: zcq
PERCENT_MAXIMUM = {SEVERITY: 5, FUNCTION: 4, SATISFACTION: 4}
PERCENT_RULE = "AO scoring rule (zcq.ado): round(mean / maximum x 100), maximum 5 for severity, 4 otherwise"


def zcq_percent(subscale_id: str, mean: Fraction) -> int:
    """A subscale mean in the reference's percentage form, rounded half up (Stata ``round()``).

    >>> zcq_percent("severity", Fraction(16, 7)), zcq_percent("function", Fraction(3, 2))
    (46, 38)
    """
    return math.floor(mean * 100 / PERCENT_MAXIMUM[subscale_id] + Fraction(1, 2))


def _subscale(subscale_id: str, answers: RawAnswers) -> Score:
    sub = ZCQ.subscale(subscale_id)
    values = read_answers(ZCQ, answers, ZCQ.items_of(subscale_id))
    return mean_score(ZCQ, sub, values, _LABELS[subscale_id])


def _not_asked() -> Score:
    return Score(
        instrument=f"{ZCQ.id}.{SATISFACTION}",
        value=None,
        exact=None,
        answered=0,
        missing=(),
        source=SOURCE,
        reason="ZCQ satisfaction: not asked (it is asked after treatment only)",
    )


def score_zcq(
    severity: RawAnswers,
    function: RawAnswers,
    satisfaction: RawAnswers | None = None,
    *,
    after_treatment: bool | None = None,
) -> Score:
    """Score a ZCQ response; the result's ``subscales`` are severity, function and satisfaction, in order.

    Each argument holds one subscale's answers: a list in item order (7, 5 and 6 entries, ``None`` for an
    unanswered item) or a mapping by item id (``{"zcq-8": 2, ...}``). ``satisfaction=None`` means the part was
    not asked: its subscale has no value and says so. ``after_treatment=False`` (a baseline response) rejects
    any satisfaction answer, since the part exists only after treatment; ``None`` leaves that to the caller.

    A subscale with more missing items than it allows has ``value`` ``None`` and a ``reason``; the other
    subscales are still scored. Raises :class:`~mildpath.domain.errors.InvalidAnswer` naming the item.

    >>> s = score_zcq([2, 3, 3, 2, 2, 1, 3], [2, 2, 1, None, 1])
    >>> s.subscale("severity").value, s.subscale("function").value
    (Decimal('2.29'), Decimal('1.50'))
    """
    scores = [_subscale(SEVERITY, severity), _subscale(FUNCTION, function)]
    if satisfaction is None:
        scores.append(_not_asked())
    else:
        sat = _subscale(SATISFACTION, satisfaction)
        if after_treatment is False and sat.answered:
            first = next(i for i in _SATISFACTION_ITEMS if i.number not in sat.missing)
            raise InvalidAnswer(first.id, None, f"{first.id}: satisfaction is asked only after treatment")
        scores.append(sat)
    answered = sum(s.answered for s in scores)
    missing = tuple(n for s in scores for n in s.missing)
    return Score(ZCQ.id, None, None, answered, missing, SOURCE, subscales=tuple(scores))


def score_zcq_items(answers: Mapping[str, RawAnswer], *, after_treatment: bool | None = None) -> Score:
    """Score a ZCQ response given as one mapping of item id to answer (the shape of a stored response).

    The satisfaction part counts as not asked when none of ``zcq-13`` to ``zcq-18`` holds an answer.
    An item id that is not a ZCQ item raises :class:`~mildpath.domain.errors.InvalidAnswer`.
    """
    known = {item.id: item.subscale for item in ZCQ.items}
    for key in answers:
        if key not in known:
            raise InvalidAnswer(str(key), answers[key], f"{key}: not an item of zcq")
    parts: dict[str, dict[str, RawAnswer]] = {SEVERITY: {}, FUNCTION: {}, SATISFACTION: {}}
    for key, value in answers.items():
        parts[known[key]][key] = value
    asked = any(v is not None and v != "" for v in parts[SATISFACTION].values())
    return score_zcq(
        parts[SEVERITY],
        parts[FUNCTION],
        parts[SATISFACTION] if asked else None,
        after_treatment=after_treatment,
    )
