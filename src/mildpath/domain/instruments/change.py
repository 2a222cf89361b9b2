"""Change from baseline and responder classification (clinical reference §2.1-§2.3; contracts §4).

Every instrument here scores "higher is worse", so **improvement = baseline - follow-up** (positive is better)
and the relative improvement is improvement / baseline.

Definitions (thresholds are parameters: their values and sources live in ``content/responders.yaml``):

- ``odi-points`` (the headline, the trials' definition): ODI improves >= 10.  # source: odi-trial-responder
- ``odi-relative`` (reported beside it): ODI improves by >= 30 % of baseline.  # source: odi-mcid
- ``nprs-back`` / ``nprs-leg``: pain improves by >= 2 points **or** >= 30 %.  # source: nprs
- ``zcq-composite``: severity and function each improve by >= 0.5 **and** satisfaction <= 2.5.
  # source: zcq-responder (the 0.5 values themselves are marked not re-verified in the reference)

Unknowns stay unknown: when a score a definition needs is missing, ``responder`` is ``None`` with a reason.

Assumption (the reference is silent): a relative change needs a baseline above zero. With a baseline of 0 the
relative change is undefined (``None``); the "points or percent" NPRS rule is then decided by points alone
(a patient at 0 cannot improve), and the ODI relative definition is ``None``.

All comparisons use exact fractions, so 35.56 -> 25.56 (really 320/9 -> 230/9) is exactly 10 points.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from fractions import Fraction

from mildpath.domain.instruments.base import Score, round2


@dataclass(frozen=True)
class ResponderThresholds:
    """The responder cut-offs; ``content.instruments.responder_thresholds()`` loads the cited values."""

    odi_points: Fraction
    odi_relative: Fraction
    nprs_points: Fraction
    nprs_relative: Fraction
    zcq_severity_points: Fraction
    zcq_function_points: Fraction
    zcq_satisfaction_max: Fraction
    #: bibliography ids per threshold name (``{"odi_points": ("odi-trial-responder", ...)}``).
    sources: tuple[tuple[str, tuple[str, ...]], ...] = ()

    def sources_of(self, name: str) -> tuple[str, ...]:
        return dict(self.sources).get(name, ())


@dataclass(frozen=True)
class Change:
    """Change of one measure between a baseline and a follow-up score (exact fractions)."""

    measure: str
    baseline: Fraction
    follow_up: Fraction
    improvement: Fraction
    relative: Fraction | None

    @property
    def improvement_2dp(self) -> Decimal:
        """Improvement in points, two decimals (``ROUND_HALF_UP``)."""
        return round2(self.improvement)

    @property
    def relative_percent_2dp(self) -> Decimal | None:
        """Relative improvement in percent, two decimals; ``None`` when the baseline is 0."""
        return None if self.relative is None else round2(self.relative * 100)


@dataclass(frozen=True)
class ResponderCall:
    """One responder definition applied to one patient's baseline and follow-up.

    ``responder`` is ``True``/``False``, or ``None`` when a needed score is missing (``reason`` says which).
    ``headline`` marks the definition to show first (ODI points); ``sources`` cite the thresholds.
    """

    definition: str
    responder: bool | None
    headline: bool
    reason: str
    sources: tuple[str, ...]
    changes: tuple[Change, ...]


def improvement(measure: str, baseline: Fraction | int, follow_up: Fraction | int) -> Change:
    """Improvement from ``baseline`` to ``follow_up`` for a higher-is-worse measure.

    >>> c = improvement("odi", Fraction(320, 9), Fraction(230, 9))
    >>> c.improvement, c.improvement_2dp
    (Fraction(10, 1), Decimal('10.00'))
    """
    base, follow = Fraction(baseline), Fraction(follow_up)
    improvement = base - follow
    relative = improvement / base if base > 0 else None
    return Change(measure, base, follow, improvement, relative)


def score_change(baseline: Score, follow_up: Score) -> Change | None:
    """The change between two scores of the same measure; ``None`` when either has no value."""
    if baseline.instrument != follow_up.instrument:
        raise ValueError(f"cannot compare {baseline.instrument} with {follow_up.instrument}")
    if baseline.exact is None or follow_up.exact is None:
        return None
    return improvement(baseline.instrument, baseline.exact, follow_up.exact)


def _unknown(definition: str, headline: bool, sources: tuple[str, ...], what: str) -> ResponderCall:
    return ResponderCall(definition, None, headline, f"{what}: no score at baseline or follow-up", sources, ())


def _fmt(value: Fraction) -> str:
    return f"{round2(value).normalize():f}"


def odi_responders(baseline: Score, follow_up: Score, t: ResponderThresholds) -> tuple[ResponderCall, ...]:
    """The headline ODI points definition, then the relative definition reported beside it."""
    points_src, rel_src = t.sources_of("odi_points"), t.sources_of("odi_relative")
    c = score_change(baseline, follow_up)
    if c is None:
        return (
            _unknown("odi-points", True, points_src, "ODI"),
            _unknown("odi-relative", False, rel_src, "ODI"),
        )
    by_points = c.improvement >= t.odi_points
    points = ResponderCall(
        "odi-points",
        by_points,
        True,
        f"ODI improved by {_fmt(c.improvement)} points ({'>=' if by_points else '<'} {_fmt(t.odi_points)})",
        points_src,
        (c,),
    )
    if c.relative is None:
        relative = ResponderCall("odi-relative", None, False, "ODI baseline is 0: no relative change", rel_src, (c,))
    else:
        by_rel = c.relative >= t.odi_relative
        relative = ResponderCall(
            "odi-relative",
            by_rel,
            False,
            f"ODI improved by {_fmt(c.relative * 100)} % ({'>=' if by_rel else '<'} {_fmt(t.odi_relative * 100)} %)",
            rel_src,
            (c,),
        )
    return points, relative


def nprs_responder(baseline: Score, follow_up: Score, t: ResponderThresholds) -> ResponderCall:
    """One NPRS region (``nprs.back`` or ``nprs.leg`` scores): >= 2 points or >= 30 %."""
    region = baseline.instrument.rsplit(".", 1)[-1]
    definition, src = f"nprs-{region}", t.sources_of("nprs_points")
    c = score_change(baseline, follow_up)
    if c is None:
        return _unknown(definition, True, src, f"NPRS {region} pain")
    by_points = c.improvement >= t.nprs_points
    by_rel = c.relative is not None and c.relative >= t.nprs_relative
    rel = "baseline 0" if c.relative is None else f"{_fmt(c.relative * 100)} %"
    reason = (
        f"NPRS {region} pain improved by {_fmt(c.improvement)} points ({rel}); responder at >= "
        f"{_fmt(t.nprs_points)} points or >= {_fmt(t.nprs_relative * 100)} %"
    )
    return ResponderCall(definition, by_points or by_rel, True, reason, src, (c,))


def zcq_responder(baseline: Score, follow_up: Score, t: ResponderThresholds) -> ResponderCall:
    """The ZCQ composite from two ZCQ scores (only the follow-up's satisfaction is used)."""
    src = tuple(
        dict.fromkeys(
            (
                *t.sources_of("zcq_severity_points"),
                *t.sources_of("zcq_function_points"),
                *t.sources_of("zcq_satisfaction_max"),
            )
        )
    )
    sev = score_change(baseline.subscale("severity"), follow_up.subscale("severity"))
    fun = score_change(baseline.subscale("function"), follow_up.subscale("function"))
    sat = follow_up.subscale("satisfaction").exact
    if sev is None or fun is None or sat is None:
        lacking = [
            name
            for name, value in (("severity", sev), ("function", fun), ("follow-up satisfaction", sat))
            if value is None
        ]
        changes = tuple(c for c in (sev, fun) if c is not None)
        return ResponderCall("zcq-composite", None, True, f"ZCQ: no {', '.join(lacking)} score", src, changes)
    ok_sev = sev.improvement >= t.zcq_severity_points
    ok_fun = fun.improvement >= t.zcq_function_points
    ok_sat = sat <= t.zcq_satisfaction_max
    reason = (
        f"ZCQ severity improved by {_fmt(sev.improvement)} (need >= {_fmt(t.zcq_severity_points)}), "
        f"function by {_fmt(fun.improvement)} (need >= {_fmt(t.zcq_function_points)}), "
        f"satisfaction {_fmt(sat)} (need <= {_fmt(t.zcq_satisfaction_max)})"
    )
    return ResponderCall("zcq-composite", ok_sev and ok_fun and ok_sat, True, reason, src, (sev, fun))


def responders(baseline: Score, follow_up: Score, thresholds: ResponderThresholds) -> tuple[ResponderCall, ...]:
    """Every responder definition that applies to this instrument, headline first.

    ``baseline`` and ``follow_up`` are two scores of the same instrument (from ``score_odi``, ``score_zcq`` or
    ``score_nprs``). ODI gives ``odi-points`` and ``odi-relative``; NPRS gives ``nprs-back`` and ``nprs-leg``;
    ZCQ gives ``zcq-composite``. Walking tolerance has no responder definition in the reference: ``()``.
    """
    if baseline.instrument != follow_up.instrument:
        raise ValueError(f"cannot compare {baseline.instrument} with {follow_up.instrument}")
    if baseline.instrument == "odi":
        return odi_responders(baseline, follow_up, thresholds)
    if baseline.instrument == "nprs":
        return tuple(
            nprs_responder(baseline.subscale(region), follow_up.subscale(region), thresholds)
            for region in ("back", "leg")
        )
    if baseline.instrument == "zcq":
        return (zcq_responder(baseline, follow_up, thresholds),)
    return ()
