"""Oswestry Disability Index v2.1a scoring (clinical reference §2.1).

# source: odi
- 10 sections, each answered 0 (first statement) to 5 (last statement).
- Score = sum of answered sections / (5 x answered sections) x 100, from 0 to 100 (higher is worse).
- At most one section may be missing; with two or more there is no score.
- Reported with two decimals (contracts §4: 16 of 45 gives 35.56). The AO Stata ``odi.ado`` rounds to whole
  percent; displays may do so, the stored figure keeps two decimals.
- Bands by the cut points <= 20, <= 40, <= 60, <= 80, else the top band (Fairbank; PACIO uses the same
  cut points). The band is read from the exact fraction. With 9 or 10 answered sections every possible score
  is a multiple of 2 or of 20/9, so no score lies between a cut point and its two-decimal rounding.

Not implemented on purpose: several statements ticked in one section. The reference calls the usual
"score the highest" convention UNVERIFIED, so a caller must pass one answer per section.
"""

from __future__ import annotations

import math
from fractions import Fraction

from mildpath.domain.instruments.base import (
    Instrument,
    Item,
    RawAnswers,
    Score,
    Subscale,
    missing_numbers,
    read_answers,
    round2,
)

SOURCE = "odi"
SECTIONS = 10
MAX_ANSWER = 5
MAX_MISSING = 1  # source: odi ("at most 1 missing section")

#: (upper cut point inclusive, band); anything above the last cut point is ``TOP_BAND``.  # source: odi
BAND_CUTS: tuple[tuple[int, str], ...] = ((20, "minimal"), (40, "moderate"), (60, "severe"), (80, "crippled"))
TOP_BAND = "bed_bound"
BANDS: tuple[str, ...] = (*(band for _, band in BAND_CUTS), TOP_BAND)

ODI = Instrument(
    id="odi",
    name="Oswestry Disability Index",
    version="2.1a",
    items=tuple(
        Item(id=f"odi-{n}", number=n, allowed=tuple(range(MAX_ANSWER + 1)), subscale="total")
        for n in range(1, SECTIONS + 1)
    ),
    subscales=(Subscale(id="total", item_ids=tuple(f"odi-{n}" for n in range(1, SECTIONS + 1)), max_missing=1),),
    source=SOURCE,
)


def odi_band(score: Fraction | int | float) -> str:
    """The interpretation band of an ODI score (0-100): minimal, moderate, severe, crippled or bed_bound."""
    for cut, band in BAND_CUTS:
        if score <= cut:
            return band
    return TOP_BAND


def odi_exact(total: int, answered: int) -> Fraction:
    """sum / (5 x answered) x 100 as an exact fraction; ``answered`` must be at least 1."""
    return Fraction(total * 100, MAX_ANSWER * answered)


#: How the whole-percent ODI is obtained (clinical reference §2.1: the AO Stata ``odi.ado`` "rounds to the
#: nearest whole %"; a half goes up, as Stata's ``round()`` does for a positive score).  # source: odi
WHOLE_PERCENT_RULE = "AO scoring rule (odi.ado): nearest whole percent, a half rounded up"


def odi_whole_percent(exact: Fraction) -> int:
    """The whole-percent ODI of the AO scoring rule: the unrounded score rounded half up.

    >>> odi_whole_percent(Fraction(1600, 45)), odi_whole_percent(Fraction(71, 2)), odi_whole_percent(Fraction(32))
    (36, 36, 32)
    """
    return math.floor(exact + Fraction(1, 2))


def score_odi(answers: RawAnswers) -> Score:
    """Score one ODI v2.1a response.

    ``answers``: ten values in section order (``None`` or ``""`` for an unanswered section), or a mapping
    ``{"odi-1": 3, ...}`` that may omit unanswered sections.

    Returns a :class:`Score` whose ``value`` is a two-decimal ``Decimal`` and ``band`` one of :data:`BANDS`;
    both are ``None`` with a ``reason`` when two or more sections are missing. Raises
    :class:`~mildpath.domain.errors.InvalidAnswer` naming the section for an answer outside 0-5, a non-number,
    or a list that does not hold exactly ten entries.

    >>> score_odi([3, 3, 2, 1, 2, 1, 1, 1, 1, 1]).value
    Decimal('32.00')
    >>> score_odi([3, 3, 2, 1, 2, 1, 1, None, 1, 2]).value
    Decimal('35.56')
    """
    values = read_answers(ODI, answers)
    missing = missing_numbers(ODI.items, values)
    answered = [v for v in values if v is not None]
    if len(missing) > MAX_MISSING:
        listed = ", ".join(str(n) for n in missing)
        reason = (
            f"ODI: {len(missing)} sections unanswered ({listed}); "
            f"a score needs at least {SECTIONS - MAX_MISSING} of {SECTIONS}"
        )
        return Score(ODI.id, None, None, len(answered), missing, SOURCE, reason=reason)
    exact = odi_exact(sum(answered), len(answered))
    return Score(ODI.id, round2(exact), exact, len(answered), missing, SOURCE, band=odi_band(exact))
