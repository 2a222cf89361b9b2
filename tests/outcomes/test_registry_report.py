"""The registry report of the small cohort (tests/outcomes/conftest.py), every figure checked against a hand
computation written next to it. t quantiles from tables: t(0.975, 1) = 12.7062, t(0.975, 2) = 4.3027; Wilson
intervals with z = 1.95996 (written out in test_statistics.py)."""

from __future__ import annotations

import json
import math

import pytest

from mildpath.domain.errors import InvalidInput, PermissionDenied
from mildpath.services.access import Actor
from mildpath.services.outcomes import OutcomeFilters, outcomes_report, parse_filters
from mildpath.store.models import AuditEvent
from tests.helpers import count
from tests.outcomes.conftest import DAYS_SINCE

Z = 1.959963984540054


def as_json(report):  # type: ignore[no-untyped-def]
    """The report's JSON (what ``mildpath report outcomes --json`` and the API print)."""
    return report.model_dump(mode="json")


def report_for(db, small, **filters):  # type: ignore[no-untyped-def]
    return as_json(outcomes_report(db, small.actor, OutcomeFilters(**filters), today=small.today))


@pytest.fixture(scope="module")
def db(registry_db):  # type: ignore[no-untyped-def]
    """This module reads one cohort built once (``registry_db``): its session stands in for ``db``."""
    return registry_db[0]


@pytest.fixture(scope="module")
def small(registry_db):  # type: ignore[no-untyped-def]
    return registry_db[1]


@pytest.fixture(scope="module")
def report(db, small):  # type: ignore[no-untyped-def]
    return report_for(db, small)


def by(rows, key="timepoint"):  # type: ignore[no-untyped-def]
    return {r[key]: r for r in rows}


def test_the_report_counts_the_clinics_own_procedures_and_patients(report):
    cohort = report["cohort"]
    assert (cohort["procedures"], cohort["patients"]) == (4, 4)
    assert cohort["by_levels_treated"] == {"1": 3, "2": 1}  # A, C, D one level; B two
    assert cohort["by_age_band"] == {"under-65": 1, "65-74": 2, "75-84": 1, "85-plus": 0}  # C; A, D; B
    assert [(o["name"], o["procedures"]) for o in cohort["by_operator"]] == [("Dr One", 2), ("Dr Two", 2)]
    json.dumps(report)  # plain JSON all the way down


def test_odi_change_from_baseline_is_the_paired_mean_with_a_t_interval(report):
    rows = by(report["change"]["odi"])
    # 3 months: A 50->30 (-20), B 40->36 (-4), C 60->24 (-36); D has no baseline and is left out.
    # mean -20; sd = sqrt((0^2 + 16^2 + 16^2) / 2) = 16; half-width 4.3027 x 16 / sqrt(3) = 39.75
    assert rows["3m"] == {
        "timepoint": "3m",
        "label": "3 months",
        "baseline_mean": 50.0,
        "follow_up_mean": 30.0,
        "n": 3,
        "mean": -20.0,
        "sd": 16.0,
        "ci_low": -59.75,
        "ci_high": 19.75,
    }
    # 12 months: A -30, B -8: mean -19, sd = sqrt(11^2 + 11^2) = 15.56; half-width 12.7062 x 15.556 / sqrt(2) = 139.77
    assert (rows["12m"]["n"], rows["12m"]["mean"], rows["12m"]["sd"]) == (2, -19.0, 15.56)
    assert (rows["12m"]["ci_low"], rows["12m"]["ci_high"]) == (-158.77, 120.77)
    for empty in ("6w", "6m", "24m"):
        assert (rows[empty]["n"], rows[empty]["mean"], rows[empty]["ci_low"]) == (0, None, None)


@pytest.mark.parametrize(
    ("measure", "n", "mean", "ci"),
    [
        # A 8->5 (-3), B 6->5 (-1): mean -2, sd sqrt(2); half-width 12.7062 x 1.4142 / 1.4142 = 12.71
        ("nprs_back", 2, -2.0, (-14.71, 10.71)),
        # A 7->7 (0), B 9->4 (-5): mean -2.5, sd 3.5355; half-width 12.7062 x 2.5 = 31.77
        ("nprs_leg", 2, -2.5, (-34.27, 29.27)),
        # A only: severity 27/7 -> 13/7 = -2 exactly; one pair, so no interval
        ("zcq_severity", 1, -2.0, (None, None)),
        ("zcq_function", 1, -1.0, (None, None)),  # A: 3 -> 2
        # A 5->20 (+15), B 10->15 (+5): mean 10, sd 7.0711; half-width 12.7062 x 5 = 63.53
        ("walking", 2, 10.0, (-53.53, 73.53)),
    ],
    ids=["back pain", "leg pain", "zcq severity", "zcq function", "walking minutes"],
)
def test_every_measure_changes_by_its_hand_computed_mean(report, measure, n, mean, ci):
    row = by(report["change"][measure])["3m"]
    assert (row["n"], row["mean"], (row["ci_low"], row["ci_high"])) == (n, mean, ci)


def test_walking_change_is_also_the_mean_percent_change(report):
    row = by(report["relative_change"]["walking"])["3m"]
    # A +300 %, B +50 %: mean 175; sd = 250 / sqrt(2) = 176.78; half-width 12.7062 x 125 = 1588.28
    assert (row["n"], row["mean"], row["ci_low"], row["ci_high"]) == (2, 175.0, -1413.28, 1763.28)


def wilson(k: int, n: int) -> tuple[float, float, float]:
    """The Wilson score interval written out (percent, one decimal)."""
    p = k / n
    centre = (p + Z * Z / (2 * n)) / (1 + Z * Z / n)
    half = Z * math.sqrt(p * (1 - p) / n + Z * Z / (4 * n * n)) / (1 + Z * Z / n)
    return round(100 * p, 1), round(100 * max(0.0, centre - half), 1), round(100 * min(1.0, centre + half), 1)


@pytest.mark.parametrize(
    ("definition", "timepoint", "events", "n", "unknown", "interval"),
    [
        ("odi-points", "3m", 2, 3, 1, (66.7, 20.8, 93.9)),  # A +20, C +36 yes; B +4 no; D no baseline
        ("odi-relative", "3m", 2, 3, 1, (66.7, 20.8, 93.9)),  # A 40 %, C 60 % yes; B 10 % no
        ("odi-points", "12m", 1, 2, 0, (50.0, 9.5, 90.5)),  # A +30 yes; B +8 no
        ("nprs-back", "3m", 1, 2, 0, (50.0, 9.5, 90.5)),  # A -3 yes; B -1 (17 %) no
        ("nprs-leg", "3m", 1, 2, 0, (50.0, 9.5, 90.5)),  # A 0 no; B -5 yes
        ("zcq-composite", "3m", 1, 1, 0, (100.0, 20.7, 100.0)),  # A: severity -2, function -1, satisfaction 2
    ],
    ids=["odi 10 points", "odi 30 percent", "odi at 12 months", "back pain", "leg pain", "zcq composite"],
)
def test_responder_rates_count_known_calls_with_the_wilson_interval(
    report, definition, timepoint, events, n, unknown, interval
):
    row = by(report["responders"][definition])[timepoint]
    assert (row["events"], row["n"], row["unknown"]) == (events, n, unknown)
    assert (row["percent"], row["ci_low"], row["ci_high"]) == interval == wilson(events, n)


def test_follow_up_counts_closed_windows_and_keeps_open_ones_apart(report):
    rows = by(report["follow_up"])
    # baseline: A, B, C answered, D did not; 3 m: all four; 12 m: A and B (C and D missed); 24 m not open yet.
    assert [(t, rows[t]["events"], rows[t]["n"], rows[t]["pending"]) for t in rows] == [
        ("baseline", 3, 4, 0),
        ("6w", 0, 4, 0),
        ("3m", 4, 4, 0),
        ("6m", 0, 4, 0),
        ("12m", 2, 4, 0),
        ("24m", 0, 0, 4),
    ]
    assert (rows["baseline"]["percent"], rows["baseline"]["ci_low"], rows["baseline"]["ci_high"]) == wilson(
        3, 4
    )
    assert rows["24m"]["percent"] is None


def test_same_day_discharge_is_three_of_four(report):
    same_day = report["discharge"]["same_day"]
    assert (same_day["events"], same_day["n"]) == (3, 4)  # D stayed overnight
    assert (
        (same_day["percent"], same_day["ci_low"], same_day["ci_high"]) == wilson(3, 4) == (75.0, 30.1, 95.4)
    )


def test_adverse_events_and_reinterventions_are_rates_per_procedure(report):
    ae = by(report["adverse_events"], "type")
    assert (ae["any"]["count"], ae["any"]["events"], ae["any"]["percent"]) == (2, 2, 50.0)  # A and B
    assert (ae["serious"]["events"], ae["serious"]["percent"], ae["serious"]["ci_high"]) == (
        1,
        25.0,
        69.9,
    )  # B
    assert (ae["surgical_site_infection"]["events"], ae["dural_tear_csf_leak"]["events"]) == (1, 1)
    assert (ae["epidural_hematoma"]["events"], ae["epidural_hematoma"]["percent"]) == (0, 0.0)
    assert (
        (ae["epidural_hematoma"]["ci_low"], ae["epidural_hematoma"]["ci_high"])
        == wilson(0, 4)[1:]
        == (0.0, 49.0)
    )
    re = by(report["reinterventions"], "type")
    assert (re["any"]["events"], re["laminectomy"]["events"], re["epidural_injection"]["events"]) == (2, 1, 1)
    assert "serious" not in re


def greenwood_band(survival: float, greenwood: float) -> tuple[float, float]:
    """Exponential Greenwood (log(-log)) band: exp(-exp(log(-log S) -/+ z sqrt(V) / |log S|))."""
    spread = Z * math.sqrt(greenwood) / abs(math.log(survival))
    centre = math.log(-math.log(survival))
    return math.exp(-math.exp(centre + spread)), math.exp(-math.exp(centre - spread))


def test_reintervention_free_survival_is_the_kaplan_meier_estimate(report):
    km = report["survival"]["any"]
    assert (km["n"], km["events"]) == (4, 2)
    steps = {p["days"]: p for p in km["curve"]}
    # D at day 100: 4 at risk, 1 event -> 3/4; C at day 200: 3 at risk, 1 event -> 3/4 x 2/3 = 1/2; A, B censored at 500
    assert [(d, steps[d]["survival"], steps[d]["at_risk"]) for d in (0, 100, 200, DAYS_SINCE)] == [
        (0, 1.0, 4),
        (100, 0.75, 4),
        (200, 0.5, 3),
        (DAYS_SINCE, 0.5, 2),
    ]
    # Greenwood sums: 1/(4 x 3) at day 100; + 1/(3 x 2) at day 200
    low, high = greenwood_band(0.75, 1 / 12)
    assert (steps[100]["ci_low"], steps[100]["ci_high"]) == (round(low, 4), round(high, 4))
    low, high = greenwood_band(0.5, 1 / 12 + 1 / 6)
    at = by(km["at"], "days")
    assert (at[365]["survival"], at[365]["ci_low"], at[365]["ci_high"]) == (
        50.0,
        round(100 * low, 1),
        round(100 * high, 1),
    )
    assert at[365]["at_risk"] == 2 and at[730]["survival"] is None  # nobody followed for 2 years yet
    surgery = report["survival"]["surgery"]
    assert (surgery["events"], by(surgery["at"], "days")[365]["survival"]) == (
        1,
        75.0,
    )  # C's laminectomy only


def test_trajectories_are_median_and_quartiles_per_timepoint(report):
    rows = by(report["trajectories"]["odi"])
    assert (rows["baseline"]["q1"], rows["baseline"]["median"], rows["baseline"]["q3"]) == (45.0, 50.0, 55.0)
    # 3 months: 20, 24, 30, 36 -> quartiles at positions 0.75, 1.5, 2.25: 23, 27, 31.5
    assert (rows["3m"]["n"], rows["3m"]["q1"], rows["3m"]["median"], rows["3m"]["q3"]) == (
        4,
        23.0,
        27.0,
        31.5,
    )
    assert (rows["24m"]["n"], rows["24m"]["median"]) == (0, None)


def test_benchmarks_sit_beside_the_matching_clinic_figure(db, small):
    # The cohort's ODI and ZCQ answers were collected with mildpath's neutral labels: a site that declares the
    # licensed wording (MILDPATH_LICENSED_WORDING=odi,zcq) compares them with the trials (issue 15 §5).
    report = as_json(outcomes_report(db, small.actor, OutcomeFilters(), today=small.today, declared=("odi", "zcq")))
    assert report["wording"]["excluded_total"] == 0
    bench = by(report["benchmarks"], "id")
    motion = bench["motion-1y-odi"]
    assert (motion["published"], motion["label"], motion["verified"]) == ("about \u221216 points", "", True)
    assert motion["clinic"][0] | {} == {
        "what": "ODI, 12 months",
        "available": True,
        "value": -19.0,
        "ci_low": -158.77,
        "ci_high": 120.77,
        "n": 2,
        "unit": "points",
    }
    assert bench["encore-2y-odi"]["clinic"][0]["available"] is False  # no 24-month pairs yet
    assert bench["encore-2y-reoperation"]["label"] == "news report"
    assert bench["medicare-2y-subsequent-surgery"]["clinic"][0]["note"] == "follow-up too short"
    assert bench["encore-2y-adverse-events"]["clinic"][0]["value"] == 50.0
    assert "motion-3y-odi" in bench and bench["motion-3y-odi"]["clinic"][0]["available"] is False


@pytest.mark.parametrize(
    ("filters", "procedures", "odi_3m_mean"),
    [
        ({"levels_treated": 2}, 1, -4.0),  # B
        ({"level": "L3-L4"}, 2, -4.0),  # B, D (D has no baseline)
        ({"age_band": "65-74"}, 2, -20.0),  # A, D
        ({"age_band": "under-65"}, 1, -36.0),  # C
        ({"operator": "one"}, 2, -28.0),  # A -20, C -36
    ],
    ids=["two levels", "level L3-L4", "age 65-74", "under 65", "one operator"],
)
def test_filters_narrow_the_cohort(db, small, filters, procedures, odi_3m_mean):
    if filters.get("operator") == "one":
        filters = {"operator": small.clinicians[0].user_id}
    report = report_for(db, small, **filters)
    assert report["cohort"]["procedures"] == procedures
    assert by(report["change"]["odi"])["3m"]["mean"] == odi_3m_mean


def test_a_period_without_procedures_gives_an_empty_report_not_an_error(db, small):
    later = small.procedure_date.replace(year=small.procedure_date.year + 1)
    report = report_for(db, small, since=later)
    assert report["cohort"]["procedures"] == 0
    assert report["survival"]["any"]["curve"] == [] and report["discharge"]["same_day"]["percent"] is None
    assert all(row["mean"] is None for row in report["change"]["odi"])


def test_filters_from_text_name_the_bad_field():
    with pytest.raises(InvalidInput) as err:
        parse_filters({"since": "2025-02-01", "until": "2025-01-01"})
    assert "since must not be after until" in err.value.message
    with pytest.raises(InvalidInput) as err:
        parse_filters({"level": "L9-L9"})
    assert err.value.field == "level"
    assert parse_filters({"since": "", "age_band": "75-84"}).age_band is not None


def test_a_patient_may_not_read_the_registry(db, small, patient_pat):
    with pytest.raises(PermissionDenied):
        outcomes_report(db, patient_pat.actor, today=small.today)


def test_a_clinician_sees_only_their_clinic_and_an_admin_sees_all(db, small, dr_alice, admin_ada):
    alice = as_json(outcomes_report(db, dr_alice.actor, today=small.today))["cohort"]["procedures"]
    everyone = as_json(outcomes_report(db, admin_ada.actor, today=small.today))["cohort"]["procedures"]
    assert everyone == alice + 4


def test_each_report_leaves_one_aggregate_audit_row(db, small):
    before = count(db, AuditEvent, action="outcomes.report")
    report_for(db, small, levels_treated=1)
    row = db.query(AuditEvent).filter_by(action="outcomes.report").order_by(AuditEvent.id.desc()).first()
    assert count(db, AuditEvent, action="outcomes.report") == before + 1
    assert (
        row.patient_id is None
        and row.detail["procedures"] == 3
        and row.detail["filters"]["levels_treated"] == 1
    )
    assert "odi" not in json.dumps(row.detail)  # counts and filters only, no health data


def test_the_system_actor_reads_everything(db, small):
    report = as_json(outcomes_report(db, Actor.system("tests"), today=small.today))
    assert report["cohort"]["procedures"] >= 4


def test_neutral_wording_scores_stay_out_of_the_comparisons_with_the_trials(report):
    # 9 ODI responses (A, B: 3 each; C: 2; D: 1) and 2 ZCQ responses (A), all with neutral labels.
    wording = report["wording"]
    assert wording["declared_licensed"] == []
    by_instrument = {row["instrument"]: row["responses"] for row in wording["excluded"]}
    assert by_instrument == {"odi": 9, "zcq": 2}
    assert wording["excluded_total"] == 11
    assert "not the licensed wording" in wording["why"]
    bench = by(report["benchmarks"], "id")
    motion = bench["motion-1y-odi"]["clinic"][0]
    assert motion["available"] is False and motion["excluded"] == 9
    assert "neutral labels left out" in motion["note"]
    # The clinic's own tables keep every score.
    assert by(report["change"]["odi"])["12m"]["n"] == 2


def test_the_declaration_is_per_instrument(db, small):
    report = as_json(outcomes_report(db, small.actor, OutcomeFilters(), today=small.today, declared=("odi",)))
    assert {row["instrument"] for row in report["wording"]["excluded"]} == {"zcq"}
    assert by(report["benchmarks"], "id")["motion-1y-odi"]["clinic"][0]["available"] is True


def test_the_pdf_says_how_many_scores_were_left_out_of_the_comparisons_and_why(report):
    import io

    from pypdf import PdfReader

    from mildpath.reports.outcomes_pdf import report_pdf
    from mildpath.services.outcomes_models import OutcomesReport

    typed = OutcomesReport.model_validate(report)  # the fixture holds the JSON; the PDF reads the typed report
    text = " ".join(page.extract_text() for page in PdfReader(io.BytesIO(report_pdf(typed))).pages)
    flat = " ".join(text.split())
    assert "Left out of these comparisons: 9 ODI responses, 2 ZCQ responses" in flat
    assert "not the licensed wording" in flat
