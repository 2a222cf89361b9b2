"""Reintervention-free survival: a Kaplan-Meier fit with ``lifelines`` (a maintained survival library; the
estimator and its Greenwood confidence band are not re-implemented here).

``lifelines`` (and pandas under it) are imported inside :func:`kaplan_meier`, so importing this module is cheap.
The input comes from :func:`mildpath.domain.outcomes.time_to_event`; the output is the domain's plain
:class:`~mildpath.domain.outcomes.SurvivalCurve`, which the JSON report, the web chart and the PDF share.

Confidence band: lifelines' default for the Kaplan-Meier fitter, the exponential Greenwood formula (a log(-log)
transform), which keeps the band inside 0-1.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import numpy.typing as npt

from mildpath.domain.outcomes import CONFIDENCE, SurvivalCurve, SurvivalPoint


def _clean(value: float) -> float | None:
    return None if not np.isfinite(value) else float(value)


def kaplan_meier(
    durations: npt.ArrayLike,
    observed: npt.ArrayLike,
    *,
    at_days: Sequence[int] = (365, 730),
    confidence: float = CONFIDENCE,
) -> SurvivalCurve:
    """Fit the Kaplan-Meier estimator of the time to the first reintervention.

    Parameters
    ----------
    durations : array_like of int
        Days from each procedure to its first reintervention, or to its censoring day.
    observed : array_like of bool
        True where the reintervention happened (an event), false where the procedure was censored.
    at_days : sequence of int, default (365, 730)
        Days at which to read the estimate (1 and 2 years); ``None`` past the longest follow-up.
    confidence : float, default 0.95
        Level of the pointwise confidence band.

    Returns
    -------
    SurvivalCurve
        The step curve (one point at day 0, then one per distinct time), with the number still at risk.

    Examples
    --------
    >>> curve = kaplan_meier([100, 200, 300, 400], [True, False, True, False], at_days=[150, 350])
    >>> [(p.days, round(p.survival, 4), p.at_risk) for p in curve.points]
    [(0.0, 1.0, 4), (100.0, 0.75, 4), (200.0, 0.75, 3), (300.0, 0.375, 2), (400.0, 0.375, 1)]
    >>> [(d, round(p.survival, 4)) for d, p in curve.at]
    [(150, 0.75), (350, 0.375)]
    >>> kaplan_meier([], []).n
    0
    """
    d = np.asarray(durations, dtype=np.float64).ravel()
    e = np.asarray(observed, dtype=bool).ravel()
    if d.size == 0:
        return SurvivalCurve(0, 0, (), tuple((int(day), None) for day in at_days))
    from lifelines import KaplanMeierFitter

    kmf = KaplanMeierFitter(alpha=1.0 - confidence)
    kmf.fit(d, event_observed=e, timeline=np.unique(np.concatenate([[0.0], d])))
    survival = kmf.survival_function_.iloc[:, 0]
    band = kmf.confidence_interval_survival_function_
    # How many were still followed just before each time (lifelines' event table; day 0: everyone).
    at_risk = kmf.event_table["at_risk"]
    points = []
    for t in survival.index:
        s = float(survival.loc[t])
        low, high = (_clean(v) for v in band.loc[t])
        if s == 1.0:  # before any event the estimate is exactly 1 and lifelines leaves the band undefined
            low = 1.0 if low is None else low
            high = 1.0
        risk = int(at_risk.loc[t]) if t in at_risk.index else int((d >= t).sum())
        points.append(SurvivalPoint(float(t), s, low, high, risk))
    longest = float(d.max())
    at: list[tuple[int, SurvivalPoint | None]] = []
    for day in at_days:
        if day > longest:
            at.append((int(day), None))
            continue
        step = [p for p in points if p.days <= day][-1]  # the estimate in force on that day
        at.append(
            (int(day), SurvivalPoint(float(day), step.survival, step.low, step.high, int((d >= day).sum())))
        )
    return SurvivalCurve(int(d.size), int(e.sum()), tuple(points), tuple(at))
