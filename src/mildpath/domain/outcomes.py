"""Outcomes registry statistics (issue 8): did mild work, for whom, and how sure are we.

Pure functions over a :class:`Cohort` of treated procedures (numpy for the arithmetic; no I/O, no clock: the
as-of day is a parameter). The services build the cohort from the store with one bulk query per table; every
figure of the dashboard, the JSON report and the PDF comes from here, so they always agree.

The unit of analysis is one **completed mild procedure** (the index procedure): scores are filed against the
procedure they follow (``procedure_id``), and a patient treated twice counts twice.

Methods (stated in every report, see :data:`METHODS`):

- **Change from baseline** at a timepoint: for each procedure with a score both at baseline and at that
  timepoint (a paired analysis; unpaired scores are left out), ``change = follow-up - baseline``, so a fall in
  ODI reads as a negative number, as the trials report it (ODI -22.7 in ENCORE at 2 years; clinical reference §6).
  The summary is the mean with a two-sided 95 % confidence interval from Student's t-distribution with
  ``n - 1`` degrees of freedom: ``mean +/- t(0.975, n - 1) x sd / sqrt(n)`` with the sample standard deviation
  (``ddof = 1``). With fewer than two pairs there is no interval (``None``).
- **Relative change** (walking tolerance, where the published figure is a percentage): the mean of each
  procedure's ``100 x (follow-up - baseline) / baseline`` over procedures with a baseline above 0, with the same
  t interval.
- **Proportions** (responders, follow-up completion, same-day discharge, adverse events): the Wilson score
  interval, two-sided 95 %, without continuity correction; it stays within 0-100 % and behaves at 0 of n.
- **Trajectories**: median and quartiles of the scores at each timepoint (all procedures with a score there,
  paired or not), by linear interpolation between order statistics (numpy's default, Hyndman and Fan type 7).
- **Reintervention-free survival**: time from the procedure to the first later intervention on the lumbar spine,
  censored at the as-of day (an assumption: the reference is silent; a registry records later interventions as
  they happen, so a procedure without one is followed up to the as-of day). The Kaplan-Meier fit itself is done
  with ``lifelines`` in ``mildpath.reports.survival``; :func:`time_to_event` prepares its input.

Responders are decided per procedure elsewhere (``mildpath.domain.instruments.responders``, one definition in
``content/responders.yaml``, contracts §4); this module counts them: known calls only, with the unknown ones
(a score missing at baseline or follow-up) reported beside.

>>> cohort = Cohort(
...     procedures=(
...         TreatedProcedure(1, 10, date(2024, 1, 10), age=70),
...         TreatedProcedure(2, 11, date(2024, 2, 1), age=81),
...     ),
...     scores=(
...         ScoreValue(1, "baseline", "odi", 50.0), ScoreValue(1, "12m", "odi", 30.0),
...         ScoreValue(2, "baseline", "odi", 40.0), ScoreValue(2, "12m", "odi", 36.0),
...     ),
... )
>>> [round(s.change.mean, 2) for s in change_from_baseline(cohort, "odi", ("12m",))]
[-12.0]
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date
from enum import StrEnum
from functools import lru_cache
from statistics import NormalDist

import numpy as np
import numpy.typing as npt

from mildpath.domain.errors import InvalidInput
from mildpath.domain.schedule import Timepoint, place

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]
BoolArray = npt.NDArray[np.bool_]

CONFIDENCE = 0.95
BASELINE = "baseline"

#: The measures the registry follows, in display order (store-independent names).
MEASURES = ("odi", "nprs_back", "nprs_leg", "zcq_severity", "zcq_function", "zcq_satisfaction", "walking")

#: The responder definitions of ``mildpath.domain.instruments.change``, headline first.
RESPONDER_DEFINITIONS = ("odi-points", "odi-relative", "nprs-back", "nprs-leg", "zcq-composite")

METHODS: dict[str, str] = {
    "unit": "One row per completed mild procedure (the index procedure); scores are filed against the procedure "
    "they follow.",
    "change": "Paired change from baseline: follow-up minus baseline for each procedure with both scores (a fall "
    "in ODI, pain or ZCQ is negative, as the trials report it); mean with a two-sided 95% confidence interval from "
    "Student's t-distribution with n - 1 degrees of freedom (mean +/- t x sd / sqrt(n), sample sd); no interval "
    "below 2 pairs.",
    "relative_change": "Walking tolerance also as the mean of each procedure's percent change from a baseline "
    "above 0, with the same t interval.",
    "proportion": "Proportions (responders, follow-up, same-day discharge, adverse events, reinterventions) with "
    "the Wilson score interval (two-sided 95%, no continuity correction); responders are counted among "
    "procedures whose call is known (both scores present).",
    "follow_up": "Follow-up completion at a timepoint: procedures with a completed ODI there, among procedures "
    "whose collection window has closed by the as-of date or that answered already (open windows are pending, "
    "not missed).",
    "trajectory": "Median and interquartile range of the scores at each timepoint (linear interpolation between "
    "order statistics, Hyndman-Fan type 7).",
    "survival": "Reintervention-free survival: Kaplan-Meier estimate (lifelines) of the time from the procedure "
    "to the first later lumbar intervention, censored at the as-of date; 95% confidence band by the exponential "
    "Greenwood formula (log(-log) transform).",
}


# ---------------------------------------------------------------------------------------------------------------
# Intervals


@dataclass(frozen=True)
class MeanCI:
    """A mean with its confidence interval; ``None`` where there are too few values (see :func:`mean_ci`)."""

    n: int
    mean: float | None
    sd: float | None
    low: float | None
    high: float | None


@dataclass(frozen=True)
class RateCI:
    """``events`` of ``n`` with the Wilson interval (fractions 0-1); ``rate`` is ``None`` when ``n`` is 0."""

    events: int
    n: int
    rate: float | None
    low: float | None
    high: float | None


@dataclass(frozen=True)
class Quartiles:
    """Median and quartiles of ``n`` values (all ``None`` when ``n`` is 0)."""

    n: int
    q1: float | None
    median: float | None
    q3: float | None


def _check_confidence(confidence: float) -> None:
    if not 0 < confidence < 1:
        raise InvalidInput(f"confidence must lie between 0 and 1, got {confidence}", field="confidence")


def _betacf(a: float, b: float, x: float) -> float:
    """Continued fraction of the regularised incomplete beta function (modified Lentz's method)."""
    tiny, eps = 1e-300, 1e-15
    qab, qap, qam = a + b, a + 1.0, a - 1.0
    c, d = 1.0, 1.0 - qab * x / qap
    d = 1.0 / (d if abs(d) > tiny else tiny)
    h = d
    for m in range(1, 500):
        m2 = 2 * m
        aa = m * (b - m) * x / ((qam + m2) * (a + m2))
        d = 1.0 + aa * d
        d = 1.0 / (d if abs(d) > tiny else tiny)
        c = 1.0 + aa / c
        c = c if abs(c) > tiny else tiny
        h *= d * c
        aa = -(a + m) * (qab + m) * x / ((a + m2) * (qap + m2))
        d = 1.0 + aa * d
        d = 1.0 / (d if abs(d) > tiny else tiny)
        c = 1.0 + aa / c
        c = c if abs(c) > tiny else tiny
        delta = d * c
        h *= delta
        if abs(delta - 1.0) < eps:
            break
    return h


def _incomplete_beta(a: float, b: float, x: float) -> float:
    """The regularised incomplete beta function I_x(a, b)."""
    if x <= 0.0:
        return 0.0
    if x >= 1.0:
        return 1.0
    log_front = math.lgamma(a + b) - math.lgamma(a) - math.lgamma(b) + a * math.log(x) + b * math.log1p(-x)
    if x < (a + 1.0) / (a + b + 2.0):
        return math.exp(log_front) * _betacf(a, b, x) / a
    return 1.0 - math.exp(log_front) * _betacf(b, a, 1.0 - x) / b


def t_cdf(t: float, df: int) -> float:
    """Student's t cumulative distribution function with ``df`` degrees of freedom.

    >>> round(t_cdf(0.0, 5), 6), round(t_cdf(2.570582, 5), 6)
    (0.5, 0.975)
    """
    if df < 1:
        raise InvalidInput(f"degrees of freedom must be 1 or more, got {df}", field="df")
    tail = 0.5 * _incomplete_beta(df / 2.0, 0.5, df / (df + t * t))
    return 1.0 - tail if t >= 0 else tail


@lru_cache(maxsize=512)
def t_quantile(p: float, df: int) -> float:
    """The ``p`` quantile of Student's t-distribution (bisection on :func:`t_cdf`, to about 1e-12).

    Written here, not taken from scipy, so that the clinical core stays free of heavy dependencies; the tests
    check it against ``scipy.stats.t.ppf``.

    Parameters
    ----------
    p : float
        Probability, strictly between 0 and 1.
    df : int
        Degrees of freedom, 1 or more.

    Examples
    --------
    >>> round(t_quantile(0.975, 1), 4), round(t_quantile(0.975, 10), 4), round(t_quantile(0.975, 1000), 4)
    (12.7062, 2.2281, 1.9623)
    """
    if not 0 < p < 1:
        raise InvalidInput(f"p must lie between 0 and 1, got {p}", field="p")
    if p == 0.5:
        return 0.0
    if p < 0.5:
        return -t_quantile(1.0 - p, df)
    low, high = 0.0, 1.0
    while t_cdf(high, df) < p:
        low, high = high, high * 2.0
    for _ in range(200):
        mid = (low + high) / 2.0
        if t_cdf(mid, df) < p:
            low = mid
        else:
            high = mid
        if high - low < 1e-13 * max(1.0, high):
            break
    return (low + high) / 2.0


def _finite(values: npt.ArrayLike) -> FloatArray:
    arr = np.asarray(values, dtype=np.float64).ravel()
    return arr[np.isfinite(arr)]


def mean_ci(values: npt.ArrayLike, confidence: float = CONFIDENCE) -> MeanCI:
    """Mean with a two-sided t-interval: ``mean +/- t((1 + confidence) / 2, n - 1) x sd / sqrt(n)``.

    ``NaN`` values are ignored. With no value everything is ``None``; with one value the mean is that value
    and there is no spread or interval (``None``).

    Parameters
    ----------
    values : array_like
        The values (for a change from baseline: one paired difference per procedure).
    confidence : float, default 0.95
        The two-sided confidence level.

    Examples
    --------
    >>> ci = mean_ci([-20, -12, -4])
    >>> ci.n, ci.mean, ci.sd, round(ci.low, 2), round(ci.high, 2)
    (3, -12.0, 8.0, -31.87, 7.87)
    >>> mean_ci([5.0])
    MeanCI(n=1, mean=5.0, sd=None, low=None, high=None)
    """
    _check_confidence(confidence)
    arr = _finite(values)
    n = int(arr.size)
    if n == 0:
        return MeanCI(0, None, None, None, None)
    mean = float(arr.mean())
    if n == 1:
        return MeanCI(1, mean, None, None, None)
    sd = float(arr.std(ddof=1))
    half = t_quantile((1.0 + confidence) / 2.0, n - 1) * sd / math.sqrt(n)
    return MeanCI(n, mean, sd, mean - half, mean + half)


def wilson_ci(events: int, n: int, confidence: float = CONFIDENCE) -> RateCI:
    """Proportion ``events / n`` with the Wilson score interval (no continuity correction).

    ``low, high = (p + z^2 / 2n -/+ z sqrt(p (1 - p) / n + z^2 / 4n^2)) / (1 + z^2 / n)`` with
    ``z`` the normal quantile of ``(1 + confidence) / 2``.

    Parameters
    ----------
    events : int
        How many of the ``n`` had the outcome (0 <= events <= n).
    n : int
        How many were counted; 0 gives ``rate`` ``None``.
    confidence : float, default 0.95
        The two-sided confidence level.

    Examples
    --------
    >>> ci = wilson_ci(7, 12)
    >>> round(ci.rate, 4), round(ci.low, 4), round(ci.high, 4)
    (0.5833, 0.3195, 0.8067)
    >>> ci = wilson_ci(0, 19)
    >>> ci.rate, ci.low, round(ci.high, 4)
    (0.0, 0.0, 0.1682)
    """
    _check_confidence(confidence)
    if n < 0 or events < 0 or events > n:
        raise InvalidInput(f"need 0 <= events <= n, got {events} of {n}", field="events")
    if n == 0:
        return RateCI(events, 0, None, None, None)
    z = NormalDist().inv_cdf((1.0 + confidence) / 2.0)
    p = events / n
    denominator = 1.0 + z * z / n
    centre = (p + z * z / (2 * n)) / denominator
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / denominator
    # Clamp rounding dust so that 0 of n has a lower bound of exactly 0 (and n of n an upper bound of 1).
    return RateCI(
        events,
        n,
        p,
        max(0.0, centre - half) if events else 0.0,
        min(1.0, centre + half) if events < n else 1.0,
    )


def quartiles(values: npt.ArrayLike) -> Quartiles:
    """Median and quartiles (linear interpolation, numpy's default); ``NaN`` values are ignored.

    >>> quartiles([10, 20, 30, 40])
    Quartiles(n=4, q1=17.5, median=25.0, q3=32.5)
    """
    arr = _finite(values)
    if arr.size == 0:
        return Quartiles(0, None, None, None)
    q1, median, q3 = (float(v) for v in np.percentile(arr, [25, 50, 75]))
    return Quartiles(int(arr.size), q1, median, q3)


# ---------------------------------------------------------------------------------------------------------------
# The cohort


class AgeBand(StrEnum):
    """Age at the procedure. ENCORE enrolled Medicare patients aged 65 or more and MOTION 50-80 (clinical
    reference §1.1, §1.2); the band edges are mildpath's choice (the reference sets none)."""

    UNDER_65 = "under-65"
    FROM_65_TO_74 = "65-74"
    FROM_75_TO_84 = "75-84"
    FROM_85 = "85-plus"


AGE_BAND_LABELS: dict[AgeBand, str] = {
    AgeBand.UNDER_65: "Under 65",
    AgeBand.FROM_65_TO_74: "65 to 74",
    AgeBand.FROM_75_TO_84: "75 to 84",
    AgeBand.FROM_85: "85 and over",
}


def age_on(birth_date: date, day: date) -> int:
    """Age in whole years on ``day``.

    >>> age_on(date(1950, 6, 15), date(2025, 6, 14)), age_on(date(1950, 6, 15), date(2025, 6, 15))
    (74, 75)
    """
    return day.year - birth_date.year - ((day.month, day.day) < (birth_date.month, birth_date.day))


def age_band(age: int) -> AgeBand:
    """The band of an age in years.

    >>> age_band(64).value, age_band(65).value, age_band(85).value
    ('under-65', '65-74', '85-plus')
    """
    if age < 65:
        return AgeBand.UNDER_65
    if age < 75:
        return AgeBand.FROM_65_TO_74
    if age < 85:
        return AgeBand.FROM_75_TO_84
    return AgeBand.FROM_85


@dataclass(frozen=True)
class TreatedProcedure:
    """One completed mild procedure: who, when, by whom, where, and how the day ended.

    ``same_day_discharge`` is ``None`` when the discharge was not recorded.
    """

    procedure_id: int
    patient_id: int
    procedure_date: date
    age: int
    operator_id: int | None = None
    levels: tuple[str, ...] = ()
    same_day_discharge: bool | None = None

    @property
    def age_band(self) -> AgeBand:
        return age_band(self.age)


@dataclass(frozen=True)
class ScoreValue:
    """One score of one procedure's follow-up: ``measure`` is one of :data:`MEASURES`."""

    procedure_id: int
    timepoint: str
    measure: str
    value: float


@dataclass(frozen=True)
class ResponderValue:
    """One responder call (``None``: unknown, a score is missing) of one procedure at one timepoint."""

    procedure_id: int
    timepoint: str
    definition: str
    responder: bool | None


@dataclass(frozen=True)
class Answered:
    """A completed questionnaire of one procedure at one timepoint (scored or not)."""

    procedure_id: int
    timepoint: str
    instrument: str


@dataclass(frozen=True)
class CohortEvent:
    """An adverse event or a later intervention after a procedure; ``days_after`` counts from the procedure."""

    procedure_id: int
    type: str
    days_after: int
    serious: bool = False


@dataclass(frozen=True)
class CohortFilter:
    """Who to include: procedure dates ``since``..``until`` (inclusive), one operator, procedures that treated
    ``level`` (``"L4-L5"``), procedures that treated exactly ``level_count`` levels, one age band.

    Every field is optional; an empty filter keeps everyone.

    >>> p = TreatedProcedure(1, 1, date(2024, 5, 1), age=72, operator_id=3, levels=("L3-L4", "L4-L5"))
    >>> CohortFilter(level="L4-L5", level_count=2, age_band=AgeBand.FROM_65_TO_74).admits(p)
    True
    >>> CohortFilter(until=date(2024, 4, 30)).admits(p)
    False
    """

    since: date | None = None
    until: date | None = None
    operator_id: int | None = None
    level: str | None = None
    level_count: int | None = None
    age_band: AgeBand | None = None

    def admits(self, p: TreatedProcedure) -> bool:
        return (
            (self.since is None or p.procedure_date >= self.since)
            and (self.until is None or p.procedure_date <= self.until)
            and (self.operator_id is None or p.operator_id == self.operator_id)
            and (self.level is None or self.level in p.levels)
            and (self.level_count is None or len(p.levels) == self.level_count)
            and (self.age_band is None or p.age_band == self.age_band)
        )

    def describe(self) -> tuple[str, ...]:
        """The filter in words, one clause per field set (for reports).

        >>> CohortFilter(since=date(2024, 1, 1), level_count=1).describe()
        ('procedures on or after 2024-01-01', '1 level treated')
        """
        out = []
        if self.since is not None:
            out.append(f"procedures on or after {self.since.isoformat()}")
        if self.until is not None:
            out.append(f"procedures on or before {self.until.isoformat()}")
        if self.operator_id is not None:
            out.append(f"operator #{self.operator_id}")
        if self.level is not None:
            out.append(f"level {self.level} treated")
        if self.level_count is not None:
            out.append(f"{self.level_count} level{'s' if self.level_count != 1 else ''} treated")
        if self.age_band is not None:
            out.append(f"age {AGE_BAND_LABELS[self.age_band].lower()}")
        return tuple(out)


@dataclass(frozen=True)
class Cohort:
    """The treated procedures and everything filed against them (see the module docstring)."""

    procedures: tuple[TreatedProcedure, ...] = ()
    scores: tuple[ScoreValue, ...] = ()
    responders: tuple[ResponderValue, ...] = ()
    answered: tuple[Answered, ...] = ()
    adverse_events: tuple[CohortEvent, ...] = ()
    reinterventions: tuple[CohortEvent, ...] = ()

    @property
    def procedure_ids(self) -> frozenset[int]:
        return frozenset(p.procedure_id for p in self.procedures)

    @property
    def patients(self) -> int:
        return len({p.patient_id for p in self.procedures})

    def where(self, flt: CohortFilter) -> Cohort:
        """The cohort restricted to the procedures ``flt`` admits (and what is filed against them)."""
        kept = tuple(p for p in self.procedures if flt.admits(p))
        ids = {p.procedure_id for p in kept}
        return Cohort(
            procedures=kept,
            scores=tuple(s for s in self.scores if s.procedure_id in ids),
            responders=tuple(r for r in self.responders if r.procedure_id in ids),
            answered=tuple(a for a in self.answered if a.procedure_id in ids),
            adverse_events=tuple(e for e in self.adverse_events if e.procedure_id in ids),
            reinterventions=tuple(e for e in self.reinterventions if e.procedure_id in ids),
        )


# ---------------------------------------------------------------------------------------------------------------
# Change, responders, trajectories


@dataclass(frozen=True)
class ChangeSummary:
    """Paired change of one measure from baseline to one timepoint (``relative``: in percent of baseline)."""

    measure: str
    timepoint: str
    n: int
    baseline_mean: float | None
    follow_up_mean: float | None
    change: MeanCI
    relative: bool = False


def _values(cohort: Cohort, measure: str) -> dict[str, dict[int, float]]:
    """``{timepoint: {procedure_id: value}}`` for one measure (a duplicate keeps the last value)."""
    out: dict[str, dict[int, float]] = defaultdict(dict)
    for s in cohort.scores:
        if s.measure == measure and math.isfinite(s.value):
            out[s.timepoint][s.procedure_id] = s.value
    return out


def change_from_baseline(
    cohort: Cohort,
    measure: str,
    timepoints: Sequence[str],
    *,
    relative: bool = False,
    confidence: float = CONFIDENCE,
) -> tuple[ChangeSummary, ...]:
    """Mean paired change of ``measure`` from baseline to each of ``timepoints`` with its t-interval.

    Parameters
    ----------
    cohort : Cohort
        The procedures and their scores.
    measure : str
        One of :data:`MEASURES`.
    timepoints : sequence of str
        Follow-up timepoint ids (``"3m"``, ``"12m"``...), in the order wanted.
    relative : bool, default False
        Summarise ``100 x (follow-up - baseline) / baseline`` instead (procedures with a baseline above 0).
    confidence : float, default 0.95

    Returns
    -------
    tuple of ChangeSummary
        One per timepoint; ``n`` counts the pairs.

    Examples
    --------
    >>> c = Cohort(scores=(ScoreValue(1, "baseline", "walking", 5), ScoreValue(1, "12m", "walking", 20),
    ...                    ScoreValue(2, "baseline", "walking", 10), ScoreValue(2, "12m", "walking", 15)))
    >>> [s.change.mean for s in change_from_baseline(c, "walking", ["12m"], relative=True)]
    [175.0]
    """
    values = _values(cohort, measure)
    base = values.get(BASELINE, {})
    out = []
    for tp in timepoints:
        follow = values.get(tp, {})
        pairs = [(base[i], follow[i]) for i in sorted(base.keys() & follow.keys())]
        if relative:
            pairs = [(b, f) for b, f in pairs if b > 0]
        b = np.array([p[0] for p in pairs], dtype=np.float64)
        f = np.array([p[1] for p in pairs], dtype=np.float64)
        diffs = 100.0 * (f - b) / b if relative else f - b
        out.append(
            ChangeSummary(
                measure=measure,
                timepoint=tp,
                n=len(pairs),
                baseline_mean=float(b.mean()) if pairs else None,
                follow_up_mean=float(f.mean()) if pairs else None,
                change=mean_ci(diffs, confidence),
                relative=relative,
            )
        )
    return tuple(out)


@dataclass(frozen=True)
class ResponderRate:
    """Responders by one definition at one timepoint: ``rate`` counts known calls; ``unknown`` lacked a score."""

    definition: str
    timepoint: str
    rate: RateCI
    unknown: int


def responder_rates(
    cohort: Cohort, definition: str, timepoints: Sequence[str], confidence: float = CONFIDENCE
) -> tuple[ResponderRate, ...]:
    """Share of responders by ``definition`` at each timepoint with the Wilson interval.

    Examples
    --------
    >>> c = Cohort(responders=(ResponderValue(1, "12m", "odi-points", True),
    ...                        ResponderValue(2, "12m", "odi-points", False),
    ...                        ResponderValue(3, "12m", "odi-points", None)))
    >>> r = responder_rates(c, "odi-points", ["12m"])[0]
    >>> r.rate.events, r.rate.n, r.unknown
    (1, 2, 1)
    """
    calls: dict[str, dict[int, bool | None]] = defaultdict(dict)
    for r in cohort.responders:
        if r.definition == definition:
            calls[r.timepoint][r.procedure_id] = r.responder
    out = []
    for tp in timepoints:
        here = calls.get(tp, {})
        known = [v for v in here.values() if v is not None]
        out.append(
            ResponderRate(
                definition, tp, wilson_ci(sum(known), len(known), confidence), len(here) - len(known)
            )
        )
    return tuple(out)


@dataclass(frozen=True)
class TrajectoryPoint:
    measure: str
    timepoint: str
    quartiles: Quartiles


def trajectory(cohort: Cohort, measure: str, timepoints: Sequence[str]) -> tuple[TrajectoryPoint, ...]:
    """Median and interquartile range of ``measure`` at each timepoint (every score there, paired or not).

    >>> c = Cohort(scores=tuple(ScoreValue(i, "baseline", "odi", v) for i, v in enumerate([40, 50, 60])))
    >>> trajectory(c, "odi", ["baseline"])[0].quartiles
    Quartiles(n=3, q1=45.0, median=50.0, q3=55.0)
    """
    values = _values(cohort, measure)
    return tuple(
        TrajectoryPoint(measure, tp, quartiles(list(values.get(tp, {}).values()))) for tp in timepoints
    )


# ---------------------------------------------------------------------------------------------------------------
# Follow-up, discharge, events


@dataclass(frozen=True)
class Completion:
    """Follow-up at one timepoint: ``rate`` = completed of eligible; ``pending`` have an open window."""

    timepoint: str
    rate: RateCI
    pending: int


def follow_up_completion(
    cohort: Cohort,
    timepoints: Sequence[Timepoint],
    today: date,
    *,
    instrument: str = "odi",
    confidence: float = CONFIDENCE,
) -> tuple[Completion, ...]:
    """Share of procedures with a completed ``instrument`` at each timepoint, among those due by ``today``.

    A procedure is *eligible* at a timepoint when it answered there, or when the timepoint's window has closed
    by ``today`` (then a missing answer is a missed follow-up). While the window is open and nothing is
    answered it is *pending*, counted apart. Which instrument marks a timepoint as done is a parameter: ODI,
    the trials' primary measure, by default.

    Examples
    --------
    >>> tp = Timepoint("3m", "3 months", 3, "months", 30, 30, ("odi",))
    >>> jan, march = date(2024, 1, 1), date(2024, 3, 20)
    >>> c = Cohort(procedures=(TreatedProcedure(1, 1, jan, 70), TreatedProcedure(2, 2, jan, 70),
    ...                        TreatedProcedure(3, 3, march, 70)),
    ...            answered=(Answered(1, "3m", "odi"),))
    >>> c3 = follow_up_completion(c, [tp], date(2024, 6, 1))[0]
    >>> c3.rate.events, c3.rate.n, c3.pending
    (1, 2, 1)
    """
    done: dict[str, set[int]] = defaultdict(set)
    for a in cohort.answered:
        if a.instrument == instrument:
            done[a.timepoint].add(a.procedure_id)
    out = []
    for tp in timepoints:
        completed = eligible = pending = 0
        for p in cohort.procedures:
            if p.procedure_id in done.get(tp.id, set()):
                completed += 1
                eligible += 1
            elif place(tp, p.procedure_date, today, completed=False).closes < today:
                eligible += 1
            else:
                pending += 1
        out.append(Completion(tp.id, wilson_ci(completed, eligible, confidence), pending))
    return tuple(out)


def same_day_discharge(cohort: Cohort, confidence: float = CONFIDENCE) -> RateCI:
    """Share of procedures discharged home the same day, among those whose discharge is recorded.

    >>> c = Cohort(procedures=(TreatedProcedure(1, 1, date(2024, 1, 1), 70, same_day_discharge=True),
    ...                        TreatedProcedure(2, 2, date(2024, 1, 1), 70, same_day_discharge=False),
    ...                        TreatedProcedure(3, 3, date(2024, 1, 1), 70)))
    >>> same_day_discharge(c).events, same_day_discharge(c).n
    (1, 2)
    """
    known = [p.same_day_discharge for p in cohort.procedures if p.same_day_discharge is not None]
    return wilson_ci(sum(known), len(known), confidence)


@dataclass(frozen=True)
class EventRate:
    """Events of one type: ``events`` counted, ``rate`` = procedures with at least one, of all procedures."""

    type: str
    events: int
    rate: RateCI


def event_rates(
    procedures: Collection[int],
    events: Iterable[CohortEvent],
    types: Sequence[str],
    confidence: float = CONFIDENCE,
) -> tuple[EventRate, ...]:
    """Per type in ``types`` (every type listed, zero included, so tables line up), then ``"any"`` and
    ``"serious"``: how many events, and the share of ``procedures`` with at least one, with the Wilson interval.

    Events of procedures not in ``procedures`` are ignored.

    >>> ev = [CohortEvent(1, "infection", 9), CohortEvent(1, "infection", 20, serious=True)]
    >>> [(r.type, r.events, r.rate.events, r.rate.n) for r in event_rates({1, 2, 3, 4}, ev, ["infection", "hematoma"])]
    [('infection', 2, 1, 4), ('hematoma', 0, 0, 4), ('any', 2, 1, 4), ('serious', 1, 1, 4)]
    """
    ids = set(procedures)
    mine = [e for e in events if e.procedure_id in ids]
    n = len(ids)
    groups: list[tuple[str, list[CohortEvent]]] = [(t, [e for e in mine if e.type == t]) for t in types]
    groups.append(("any", mine))
    groups.append(("serious", [e for e in mine if e.serious]))
    return tuple(
        EventRate(name, len(found), wilson_ci(len({e.procedure_id for e in found}), n, confidence))
        for name, found in groups
    )


@dataclass(frozen=True)
class TimeToEvent:
    """Kaplan-Meier input: days from each procedure to its first event, or to the as-of day if none
    (``observed`` false: censored)."""

    procedure_ids: IntArray
    durations: IntArray
    observed: BoolArray

    @property
    def events(self) -> int:
        return int(self.observed.sum())


def time_to_event(cohort: Cohort, today: date, types: Collection[str] | None = None) -> TimeToEvent:
    """Time to the first later intervention (of ``types``, or of any type) per procedure, censored at ``today``.

    A procedure dated after ``today`` is left out (it has no follow-up time yet); an intervention recorded
    after ``today`` (a data-entry slip) does not count and the procedure is censored at ``today``.

    >>> jan = date(2024, 1, 1)
    >>> c = Cohort(procedures=(TreatedProcedure(1, 1, jan, 70), TreatedProcedure(2, 2, jan, 70)),
    ...            reinterventions=(CohortEvent(2, "laminectomy", 200), CohortEvent(2, "fusion", 300)))
    >>> t = time_to_event(c, date(2025, 1, 1))
    >>> t.durations.tolist(), t.observed.tolist()
    ([366, 200], [False, True])
    """
    first: dict[int, int] = {}
    for e in cohort.reinterventions:
        if (types is None or e.type in types) and e.days_after >= 0:
            first[e.procedure_id] = min(e.days_after, first.get(e.procedure_id, e.days_after))
    ids, durations, observed = [], [], []
    for p in cohort.procedures:
        follow = (today - p.procedure_date).days
        if follow < 0:
            continue
        hit = first.get(p.procedure_id)
        ids.append(p.procedure_id)
        if hit is not None and hit <= follow:
            durations.append(hit)
            observed.append(True)
        else:
            durations.append(follow)
            observed.append(False)
    return TimeToEvent(
        np.array(ids, dtype=np.int64), np.array(durations, dtype=np.int64), np.array(observed, dtype=np.bool_)
    )


@dataclass(frozen=True)
class SurvivalPoint:
    """The survival estimate from ``days`` on, its confidence band, and how many were still at risk."""

    days: float
    survival: float
    low: float | None
    high: float | None
    at_risk: int


@dataclass(frozen=True)
class SurvivalCurve:
    """A Kaplan-Meier step curve (filled by ``mildpath.reports.survival``); ``at`` holds the estimates at the
    requested days (``None`` survival past the last follow-up)."""

    n: int
    events: int
    points: tuple[SurvivalPoint, ...]
    at: tuple[tuple[int, SurvivalPoint | None], ...] = field(default=())
    method: str = METHODS["survival"]

    def estimate_at(self, days: int) -> SurvivalPoint | None:
        return dict(self.at).get(days)


__all__ = [
    "AGE_BAND_LABELS",
    "BASELINE",
    "CONFIDENCE",
    "MEASURES",
    "METHODS",
    "RESPONDER_DEFINITIONS",
    "AgeBand",
    "Answered",
    "ChangeSummary",
    "Cohort",
    "CohortEvent",
    "CohortFilter",
    "Completion",
    "EventRate",
    "MeanCI",
    "Quartiles",
    "RateCI",
    "ResponderRate",
    "ResponderValue",
    "ScoreValue",
    "SurvivalCurve",
    "SurvivalPoint",
    "TimeToEvent",
    "TrajectoryPoint",
    "TreatedProcedure",
    "age_band",
    "age_on",
    "change_from_baseline",
    "event_rates",
    "follow_up_completion",
    "mean_ci",
    "quartiles",
    "responder_rates",
    "same_day_discharge",
    "t_cdf",
    "t_quantile",
    "time_to_event",
    "trajectory",
    "wilson_ci",
]
