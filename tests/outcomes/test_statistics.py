"""The registry's statistics on hand-computed numbers (pure: no database), the docstring examples, and the
benchmark content."""

from __future__ import annotations

import doctest
import importlib
import math
from datetime import date
from pathlib import Path

import pytest
from scipy import stats

from mildpath.content.benchmarks import benchmark_set, load_benchmarks
from mildpath.content.sources import ContentError
from mildpath.domain.outcomes import (
    AgeBand,
    Answered,
    Cohort,
    CohortEvent,
    CohortFilter,
    ResponderValue,
    ScoreValue,
    TreatedProcedure,
    change_from_baseline,
    event_rates,
    follow_up_completion,
    mean_ci,
    quartiles,
    responder_rates,
    t_quantile,
    time_to_event,
    trajectory,
    wilson_ci,
)
from mildpath.domain.schedule import Timepoint
from mildpath.reports.survival import kaplan_meier

MODULES = [
    "mildpath.domain.outcomes",
    "mildpath.reports.survival",
    "mildpath.content.benchmarks",
    "mildpath.reports.outcomes_pdf",
    "mildpath.services.outcomes_export",
]


@pytest.mark.parametrize("module", MODULES, ids=[m.rsplit(".", 1)[-1] for m in MODULES])
def test_the_docstring_examples_run(module):
    result = doctest.testmod(importlib.import_module(module), optionflags=doctest.NORMALIZE_WHITESPACE)
    assert result.failed == 0 and result.attempted > 0


@pytest.mark.parametrize("df", [1, 2, 3, 5, 9, 29, 120, 10_000])
@pytest.mark.parametrize("p", [0.975, 0.995, 0.9, 0.025])
def test_t_quantiles_agree_with_scipy(p, df):
    assert t_quantile(p, df) == pytest.approx(stats.t.ppf(p, df), abs=1e-8)


def test_the_t_interval_is_mean_plus_minus_t_sd_over_root_n():
    # values 2, 4, 9: mean 5, sd sqrt(((-3)^2 + (-1)^2 + 4^2) / 2) = sqrt(13); half = 4.3027 x sqrt(13) / sqrt(3)
    ci = mean_ci([2, 4, 9])
    half = 4.302652729749464 * math.sqrt(13) / math.sqrt(3)
    assert (ci.n, ci.mean) == (3, 5.0)
    assert ci.sd == pytest.approx(math.sqrt(13))
    assert (ci.low, ci.high) == (pytest.approx(5 - half), pytest.approx(5 + half))


def test_a_mean_ignores_missing_values_and_needs_two_for_an_interval():
    assert mean_ci([float("nan"), 3.0]).n == 1 and mean_ci([3.0]).low is None
    assert mean_ci([]).mean is None


@pytest.mark.parametrize(
    ("k", "n", "low", "high"),
    [
        (7, 12, 0.3195, 0.8067),  # Newcombe 1998 style example, z = 1.96
        (0, 10, 0.0, 0.2775),
        (10, 10, 0.7225, 1.0),
        (1, 2, 0.0945, 0.9055),
    ],
    ids=["7 of 12", "none of 10", "all of 10", "1 of 2"],
)
def test_wilson_intervals(k, n, low, high):
    ci = wilson_ci(k, n)
    assert (round(ci.low, 4), round(ci.high, 4)) == (low, high)
    assert ci.rate == k / n


def test_a_proportion_of_nobody_has_no_rate():
    ci = wilson_ci(0, 0)
    assert (ci.rate, ci.low, ci.high) == (None, None, None)


def test_quartiles_use_linear_interpolation():
    assert quartiles([1, 2, 3, 4, 100]) == quartiles([100, 4, 3, 2, 1])
    q = quartiles([20, 24, 30, 36])
    assert (q.q1, q.median, q.q3) == (23.0, 27.0, 31.5)


JAN = date(2024, 1, 1)


def cohort() -> Cohort:
    """Three procedures: 1 and 2 answer at baseline and 12 months, 3 only at 12 months."""
    return Cohort(
        procedures=(
            TreatedProcedure(1, 1, JAN, 64, operator_id=7, levels=("L4-L5",), same_day_discharge=True),
            TreatedProcedure(
                2, 2, JAN, 75, operator_id=8, levels=("L3-L4", "L4-L5"), same_day_discharge=False
            ),
            TreatedProcedure(3, 3, JAN, 90, operator_id=7, levels=("L4-L5",)),
        ),
        scores=(
            ScoreValue(1, "baseline", "odi", 40),
            ScoreValue(1, "12m", "odi", 20),
            ScoreValue(2, "baseline", "odi", 60),
            ScoreValue(2, "12m", "odi", 50),
            ScoreValue(3, "12m", "odi", 10),
        ),
        responders=(
            ResponderValue(1, "12m", "odi-points", True),
            ResponderValue(2, "12m", "odi-points", True),
            ResponderValue(3, "12m", "odi-points", None),
        ),
        answered=(Answered(1, "baseline", "odi"), Answered(1, "12m", "odi"), Answered(3, "12m", "odi")),
        adverse_events=(CohortEvent(2, "infection", 5, serious=True),),
        reinterventions=(CohortEvent(3, "fusion", 30), CohortEvent(3, "fusion", 10)),
    )


def test_change_uses_pairs_only():
    (s,) = change_from_baseline(cohort(), "odi", ["12m"])
    # pairs: 1 (40 -> 20: -20), 2 (60 -> 50: -10); 3 has no baseline
    assert (s.n, s.baseline_mean, s.follow_up_mean, s.change.mean) == (2, 50.0, 35.0, -15.0)


def test_trajectories_use_every_score_at_the_timepoint():
    (t,) = trajectory(cohort(), "odi", ["12m"])
    assert (t.quartiles.n, t.quartiles.median) == (3, 20.0)


def test_responder_rates_leave_unknown_calls_out_of_the_denominator():
    (r,) = responder_rates(cohort(), "odi-points", ["12m"])
    assert (r.rate.events, r.rate.n, r.unknown) == (2, 2, 1)


def test_follow_up_completion_counts_only_closed_or_answered_windows():
    twelve = Timepoint("12m", "12 months", 12, "months", 60, 60, ("odi",))
    # On 2025-02-01 the window (2024-11-02 .. 2025-03-02) is open: 1 and 3 answered, 2 is pending
    (c,) = follow_up_completion(cohort(), [twelve], date(2025, 2, 1))
    assert (c.rate.events, c.rate.n, c.pending) == (2, 2, 1)
    (c,) = follow_up_completion(cohort(), [twelve], date(2025, 6, 1))  # closed: 2 missed it
    assert (c.rate.events, c.rate.n, c.pending) == (2, 3, 0)


def test_event_rates_count_procedures_not_events():
    rates = {r.type: r for r in event_rates({1, 2, 3}, cohort().reinterventions, ["fusion", "spacer"])}
    assert (rates["fusion"].events, rates["fusion"].rate.events, rates["fusion"].rate.n) == (2, 1, 3)
    assert rates["spacer"].rate.events == 0 and rates["serious"].rate.events == 0


def test_time_to_event_takes_the_first_event_and_censors_the_rest():
    t = time_to_event(cohort(), date(2024, 3, 1))
    assert t.durations.tolist() == [60, 60, 10] and t.observed.tolist() == [False, False, True]


def test_kaplan_meier_matches_the_product_limit_by_hand():
    # times 3, 5+, 7, 9+, 12: S(3) = 4/5, S(7) = 4/5 x 2/3 = 8/15, S(12) = 0
    curve = kaplan_meier([3, 5, 7, 9, 12], [True, False, True, False, True], at_days=[6, 10, 40])
    steps = {p.days: p.survival for p in curve.points}
    assert steps[3] == pytest.approx(0.8) and steps[7] == pytest.approx(8 / 15) and steps[12] == 0.0
    at = dict(curve.at)
    assert (
        at[6].survival == pytest.approx(0.8) and at[10].survival == pytest.approx(8 / 15) and at[40] is None
    )


@pytest.mark.parametrize(
    ("flt", "kept"),
    [
        (CohortFilter(), [1, 2, 3]),
        (CohortFilter(operator_id=7), [1, 3]),
        (CohortFilter(level_count=2), [2]),
        (CohortFilter(level="L3-L4"), [2]),
        (CohortFilter(age_band=AgeBand.UNDER_65), [1]),
        (CohortFilter(age_band=AgeBand.FROM_85), [3]),
        (CohortFilter(since=date(2024, 1, 2)), []),
    ],
    ids=["nothing", "operator", "two levels", "a level", "under 65", "85 and over", "period"],
)
def test_filters_keep_the_right_procedures_and_their_rows(flt, kept):
    narrowed = cohort().where(flt)
    assert sorted(narrowed.procedure_ids) == kept
    assert {s.procedure_id for s in narrowed.scores} <= set(kept)


def test_every_shipped_benchmark_is_verified_and_cited():
    shipped = benchmark_set()
    assert len(shipped.benchmarks) >= 15
    assert {b.label for b in shipped.benchmarks} == {"", "news report", "partial"}
    labelled = {b.id: b.label for b in shipped.benchmarks if b.label}
    assert labelled == {
        "motion-2y-odi": "partial",
        "motion-3y-walking": "partial",
        "encore-2y-reoperation": "news report",
    }
    assert {b.id: b.display for b in shipped.benchmarks}["encore-2y-odi"] == "\u221222.7 points"


def test_an_unverified_figure_cannot_become_a_benchmark(tmp_path: Path):
    bad = tmp_path / "benchmarks.yaml"
    bad.write_text(
        "surgical_reintervention_types: [fusion]\nbenchmarks:\n"
        "  - {id: x, metric: m, study: s, time: t, value: 58, unit: percent, verified: false, sources: [encore-2y],"
        " compare: [{kind: event_rate, type: any}]}\n"
    )
    with pytest.raises(ContentError, match="verified"):
        load_benchmarks(bad)
    bad.write_text(bad.read_text().replace("verified: false, ", "").replace("encore-2y", "zcq-mcid"))
    with pytest.raises(ContentError, match="unverified source"):
        load_benchmarks(bad)
