"""Vectorised ODI scoring and responder flags for analytics (numpy), identical to the per-response path.

Input: an ``(n, 10)`` float array, one row per response, ``NaN`` for an unanswered section. Every other
value must be a whole number 0-5, as in :func:`~mildpath.domain.instruments.odi.score_odi`; the first bad
cell raises :class:`~mildpath.domain.errors.InvalidAnswer` naming the section and the row.

Why the figures equal the per-response path bit for bit: with ``s`` the sum and ``k`` the answered
sections, the score in hundredths is ``2000 s / k``. Its two-decimal ``ROUND_HALF_UP`` rounding is computed
in integers as ``(4000 s + k) // (2 k)`` (floor of ``2000 s / k + 1/2``), then divided by 100. Dividing an
integer by 100 in IEEE doubles gives the double nearest to the decimal: exactly ``float(Decimal("35.56"))``.

>>> import numpy as np
>>> score_odi_array(np.array([[3, 3, 2, 1, 2, 1, 1, np.nan, 1, 2]]))[0]
array([35.56])
"""

from __future__ import annotations

from decimal import Decimal
from fractions import Fraction

import numpy as np
import numpy.typing as npt

from mildpath.domain.errors import InvalidAnswer
from mildpath.domain.instruments.odi import BAND_CUTS, BANDS, MAX_ANSWER, MAX_MISSING, SECTIONS

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]
BoolArray = npt.NDArray[np.bool_]

#: Code of "no band" in :func:`odi_band_codes` (the score is missing).
NO_BAND = -1


def _check(responses: npt.ArrayLike) -> FloatArray:
    arr = np.asarray(responses, dtype=np.float64)
    if arr.ndim != 2 or arr.shape[1] != SECTIONS:
        raise InvalidAnswer("odi", arr.shape, f"odi: expected an (n, {SECTIONS}) array, got shape {arr.shape}")
    answered = ~np.isnan(arr)
    # Valid cells are NaN or a whole number 0-5; anything else (6, -1, 2.5, inf) is reported.
    bad = answered & ~((arr >= 0) & (arr <= MAX_ANSWER) & (np.floor(arr) == arr))
    if bad.any():
        row, col = (int(i) for i in np.argwhere(bad)[0])
        item = f"odi-{col + 1}"
        value = float(arr[row, col])
        raise InvalidAnswer(item, value, f"{item}: answer {value:g} is outside 0-{MAX_ANSWER} (row {row})")
    return arr


def score_odi_array(responses: npt.ArrayLike) -> tuple[FloatArray, IntArray]:
    """Score many ODI responses at once.

    Returns ``(scores, answered)``: ``scores`` holds the two-decimal scores as floats (``NaN`` where two or
    more sections are missing), ``answered`` the number of answered sections per row.
    """
    arr = _check(responses)
    answered_mask = ~np.isnan(arr)
    answered = answered_mask.sum(axis=1, dtype=np.int64)
    total = np.where(answered_mask, arr, 0.0).sum(axis=1).astype(np.int64)  # small whole numbers: exact
    scorable = answered >= SECTIONS - MAX_MISSING
    k = np.where(scorable, answered, 1)
    hundredths = (4000 * total + k) // (2 * k)
    scores = np.where(scorable, hundredths / 100.0, np.nan)
    return scores, answered


def odi_band_codes(scores: npt.ArrayLike) -> IntArray:
    """Index into :data:`~mildpath.domain.instruments.odi.BANDS` per score; :data:`NO_BAND` where ``NaN``.

    Uses the same cut points (<= 20, <= 40, <= 60, <= 80) as the per-response path.
    """
    arr = np.asarray(scores, dtype=np.float64)
    cuts = np.array([cut for cut, _ in BAND_CUTS], dtype=np.float64)
    codes = np.searchsorted(cuts, arr, side="left").astype(np.int64)
    return np.where(np.isnan(arr), NO_BAND, codes)


def odi_band_names(scores: npt.ArrayLike) -> npt.NDArray[np.object_]:
    """Band names per score (``None`` where the score is missing)."""
    codes = odi_band_codes(scores)
    names = np.array([*BANDS, None], dtype=object)
    return names[codes]  # NO_BAND (-1) picks the trailing None


def improvement_array(baseline: npt.ArrayLike, follow_up: npt.ArrayLike) -> tuple[FloatArray, FloatArray]:
    """``(points, relative)`` improvement for a higher-is-worse measure; ``NaN`` where either score is missing
    and, for ``relative``, where the baseline is 0 (the rule of ``change.improvement``).
    """
    base = np.asarray(baseline, dtype=np.float64)
    follow = np.asarray(follow_up, dtype=np.float64)
    points = base - follow
    with np.errstate(divide="ignore", invalid="ignore"):
        relative = np.where(base > 0, points / base, np.nan)
    return points, relative


def responder_array(
    baseline: npt.ArrayLike,
    follow_up: npt.ArrayLike,
    *,
    points: float,
    relative: float | None = None,
) -> tuple[BoolArray, BoolArray]:
    """Responder flags for many patients from whole-number scores (NPRS): ``(responder, known)``.

    ``responder`` is true where the improvement reaches ``points`` or, when ``relative`` is given, reaches
    ``relative`` as a fraction of baseline (the NPRS "2 points or 30 %" rule). ``known`` is false where either
    score is missing: count responders among known rows only. For whole numbers the float comparison is exact
    (a 1e-9 tolerance absorbs ``0.3`` not being a binary fraction). For ODI use :func:`odi_responder_array`,
    which works from the answers: two-decimal scores can cross a threshold that the exact scores sit on
    (44.44 -> 31.11 is 29.995 % rounded, exactly 30 % unrounded).
    """
    base = np.asarray(baseline, dtype=np.float64)
    follow = np.asarray(follow_up, dtype=np.float64)
    pts, rel = improvement_array(base, follow)
    known = ~(np.isnan(base) | np.isnan(follow))
    eps = 1e-9
    hit = np.nan_to_num(pts, nan=-np.inf) >= points - eps
    if relative is not None:
        hit |= np.nan_to_num(rel, nan=-np.inf) >= relative - eps
    return hit & known, known


def _ratio(value: Fraction | Decimal | int | float | str) -> Fraction:
    """A threshold as a small exact fraction (``0.3`` -> 3/10, not the binary neighbour of 0.3)."""
    return Fraction(str(value)) if isinstance(value, float) else Fraction(value)


def _totals(responses: npt.ArrayLike) -> tuple[IntArray, IntArray, BoolArray]:
    arr = _check(responses)
    answered_mask = ~np.isnan(arr)
    answered = answered_mask.sum(axis=1, dtype=np.int64)
    total = np.where(answered_mask, arr, 0.0).sum(axis=1).astype(np.int64)
    return total, answered, answered >= SECTIONS - MAX_MISSING


def odi_responder_array(
    baseline: npt.ArrayLike,
    follow_up: npt.ArrayLike,
    *,
    points: Fraction | Decimal | int | float | str,
    relative: Fraction | Decimal | int | float | str,
) -> tuple[BoolArray, BoolArray, BoolArray, BoolArray]:
    """ODI responders for many patients from their answers (two ``(n, 10)`` arrays, ``NaN`` = unanswered).

    Returns ``(by_points, by_relative, known, relative_known)``: the headline points definition, the relative
    definition, where both scores exist, and where the relative definition is defined (known and baseline > 0).
    Same answers as :func:`mildpath.domain.instruments.change.odi_responders`, computed in exact integers:
    with sums ``t`` and answered counts ``a``, the score is ``20 t / a``, so

    - improvement >= p  <=>  ``20 (tb af - tf ab) p_den >= p_num ab af``
    - relative >= r     <=>  ``(tb af - tf ab) r_den >= r_num tb af``
    """
    tb, ab, ok_b = _totals(baseline)
    tf, af, ok_f = _totals(follow_up)
    if tb.shape != tf.shape:
        raise InvalidAnswer("odi", tf.shape, f"odi: {tb.shape[0]} baselines but {tf.shape[0]} follow-ups")
    p, r = _ratio(points), _ratio(relative)
    known = ok_b & ok_f
    diff = tb * af - tf * ab  # improvement x (ab af / 20)
    by_points = known & (20 * diff * p.denominator >= p.numerator * ab * af)
    relative_known = known & (tb > 0)
    by_relative = relative_known & (diff * r.denominator >= r.numerator * tb * af)
    return by_points, by_relative, known, relative_known
