"""Benchmark: the outcomes dashboard's figures for a registry of 100,000 patients x 7 timepoints (issue 8).

Run: ``.venv/bin/python benchmarks/bench_outcomes.py [--patients N] [--repeats R] [--out FILE]``

- Data: a seeded synthetic registry built directly as numpy arrays (not through the web or the database) and
  written as a Parquet snapshot: ``procedures.parquet`` (one row per patient: procedure day, age, operator, levels,
  same-day discharge, adverse event, time to first reintervention or censoring) and ``scores.parquet`` (one row
  per answered timepoint: ODI, back and leg pain, ZCQ severity, function and satisfaction, walking minutes).
  Seven timepoints: baseline, 6 weeks, 3, 6, 12, 24 and 36 months (MOTION followed patients to 3 years). Scores
  lie on the instruments' real grids (ODI in steps of 2 points, ZCQ in sevenths and fifths...). Building the data
  is not timed.
- Figures (the dashboard's, as ``services.outcomes`` computes them for a clinic): cohort size; follow-up
  completion per timepoint among procedures whose window has closed; paired change from baseline for six
  measures per timepoint (n, mean, sd -> t interval); walking percent change; responder counts (ODI >= 10 points,
  ODI >= 30 %, back and leg pain >= 2 points or 30 %, ZCQ composite); median and quartiles per measure and
  timepoint; same-day discharge and adverse-event shares (-> Wilson intervals); the Kaplan-Meier
  reintervention-free curve (lifelines, the same call in both paths).
- Engines: DuckDB SQL over the Parquet snapshot (``threads = 2``), and the same computation in plain pandas
  (read the Parquet, merge, group by). Both must give the same figures (checked; the benchmark fails otherwise).
  Each engine runs ``--repeats`` times; the best time counts. Printed: both times and the pandas / DuckDB ratio.

Writes the figures to ``benchmarks/results/outcomes.json`` (target: the DuckDB path under 1 s on 2 cores).
"""

from __future__ import annotations

import argparse
import json
import math
import os
import platform
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

HERE = Path(__file__).resolve().parent
TARGET_SECONDS = 1.0
# (id, days after the procedure, window after the target in days): the shipped plan plus 36 months.
TIMEPOINTS = [
    ("baseline", 0, 0),
    ("6w", 42, 14),
    ("3m", 91, 30),
    ("6m", 183, 30),
    ("12m", 365, 60),
    ("24m", 730, 90),
    ("36m", 1095, 90),
]
MEASURES = ["odi", "nprs_back", "nprs_leg", "zcq_severity", "zcq_function", "walking"]
ALL_MEASURES = [*MEASURES, "zcq_satisfaction"]
AS_OF = 8 * 365  # the as-of day, counted from the registry's first possible procedure day


# ------------------------------------------------------------------------------------------ synthetic data


def make_registry(n: int, folder: Path, seed: int = 20261126) -> dict[str, int]:
    """Write ``procedures.parquet`` and ``scores.parquet`` for ``n`` patients into ``folder``."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    rng = np.random.default_rng(seed)
    pid = np.arange(1, n + 1, dtype=np.int64)
    # Procedure days over eight years, most long enough ago for the 36-month visit; the last year's still open.
    day = rng.integers(0, AS_OF - 30, n)
    follow = AS_OF - day
    age = np.clip(rng.normal(72, 8, n).round(), 50, 95).astype(np.int64)
    operator = rng.integers(1, 13, n)
    levels = rng.choice([1, 2, 3], n, p=[0.6, 0.35, 0.05])
    same_day = rng.random(n) < 0.96
    adverse = rng.random(n) < 0.02
    event_time = rng.exponential(730 / -math.log(1 - 0.09), n).round().astype(np.int64)  # ~9 % by 2 years
    observed = event_time <= follow
    duration = np.where(observed, event_time, follow)
    pq.write_table(
        pa.table(
            {
                "patient_id": pid,
                "procedure_day": day,
                "age": age,
                "operator": operator,
                "levels": levels,
                "same_day": same_day,
                "adverse": adverse,
                "duration": duration,
                "observed": observed,
            }
        ),
        folder / "procedures.parquet",
    )

    factor = np.where(rng.random(n) < 0.2, rng.uniform(0, 0.35, n), np.clip(rng.normal(1, 0.28, n), 0.5, 1.5))
    base = {
        "odi": np.clip(rng.normal(46, 10, n), 10, 90),
        "nprs_back": np.clip(rng.normal(6.6, 1.3, n), 3, 10),
        "nprs_leg": np.clip(rng.normal(7.2, 1.2, n), 3, 10),
        "zcq_severity": np.clip(rng.normal(3.4, 0.4, n), 1.5, 5),
        "zcq_function": np.clip(rng.normal(2.7, 0.35, n), 1.2, 4),
        "walking": np.clip(rng.normal(7, 3.5, n), 1, 20),
    }
    gain = {"odi": 20, "nprs_back": 3.4, "nprs_leg": 4.4, "zcq_severity": 1.1, "zcq_function": 0.85}
    columns: dict[str, list[np.ndarray]] = {k: [] for k in ["patient_id", "timepoint", *ALL_MEASURES]}
    # Every patient has a row per timepoint (100,000 x 7); scores are null where the timepoint was not answered
    # (missed, or not reached yet: the window decides which, as in the registry).
    idx = np.arange(n)
    k = n
    for t, (_tid, offset, after) in enumerate(TIMEPOINTS):
        reached = follow >= offset + after if t else np.ones(n, dtype=bool)
        answered = reached & (rng.random(n) < (0.97 if t == 0 else 0.85))
        g = factor[idx] * (1.0 if t else 0.0) * (0.8 if t == 1 else 1.0)
        odi = np.clip(base["odi"][idx] - g * gain["odi"] + rng.normal(0, 4, k), 0, 100)
        values = {
            "odi": np.round(odi / 2) * 2,  # all ten sections answered: 2-point steps
            "nprs_back": np.clip(
                np.round(base["nprs_back"][idx] - g * gain["nprs_back"] + rng.normal(0, 0.8, k)), 0, 10
            ),
            "nprs_leg": np.clip(
                np.round(base["nprs_leg"][idx] - g * gain["nprs_leg"] + rng.normal(0, 0.8, k)), 0, 10
            ),
            "zcq_severity": np.clip(
                np.round((base["zcq_severity"][idx] - g * gain["zcq_severity"] + rng.normal(0, 0.25, k)) * 7)
                / 7,
                1,
                5,
            ),
            "zcq_function": np.clip(
                np.round((base["zcq_function"][idx] - g * gain["zcq_function"] + rng.normal(0, 0.2, k)) * 5)
                / 5,
                1,
                4,
            ),
            "zcq_satisfaction": (
                np.clip(np.round((3.0 - 1.4 * factor[idx] + rng.normal(0, 0.3, k)) * 6) / 6, 1, 4)
                if t
                else np.full(k, np.nan)
            ),
            "walking": np.clip(np.round(base["walking"][idx] * (1 + g * 3) + rng.normal(0, 1.5, k)), 0, 30),
        }
        columns["patient_id"].append(pid)
        columns["timepoint"].append(np.full(n, t, dtype=np.int8))
        for m in ALL_MEASURES:
            columns[m].append(np.where(answered, values[m], np.nan))
    # NaN -> null, so that both engines skip unanswered scores (DuckDB treats NaN as a number).
    table = pa.table({c: pa.array(np.concatenate(v), from_pandas=True) for c, v in columns.items()})
    pq.write_table(table, folder / "scores.parquet")
    return {"patients": n, "score_rows": table.num_rows}


# ------------------------------------------------------------------------------------------ shared pieces


def finish(raw: dict[str, Any]) -> dict[str, Any]:
    """Aggregates -> the dashboard's figures (t and Wilson intervals from the domain), the same for both engines."""
    from mildpath.domain.outcomes import t_quantile, wilson_ci

    def mean_ci(n: int, mean: float | None, sd: float | None) -> list[float | None]:
        if not n or mean is None:
            return [n, None, None, None]
        if n < 2 or sd is None:
            return [n, round(mean, 6), None, None]
        half = t_quantile(0.975, n - 1) * sd / math.sqrt(n)
        return [n, round(mean, 6), round(mean - half, 6), round(mean + half, 6)]

    def rate(k: int, n: int) -> list[float | None]:
        ci = wilson_ci(int(k), int(n))
        return [
            int(k),
            int(n),
            None if ci.rate is None else round(ci.low or 0.0, 6),
            None if ci.rate is None else round(ci.high or 0.0, 6),
        ]

    out: dict[str, Any] = {"procedures": int(raw["procedures"])}
    out["follow_up"] = {t: rate(*raw["follow_up"][t]) for t in sorted(raw["follow_up"])}
    out["change"] = {key: mean_ci(*raw["change"][key]) for key in sorted(raw["change"])}
    out["responders"] = {key: rate(*raw["responders"][key]) for key in sorted(raw["responders"])}
    out["trajectories"] = {
        key: [round(v, 6) if v is not None else None for v in raw["trajectories"][key]]
        for key in sorted(raw["trajectories"])
    }
    out["same_day"] = rate(*raw["same_day"])
    out["adverse"] = rate(*raw["adverse"])
    out["survival"] = raw["survival"]
    return out


def kaplan_meier(durations: np.ndarray, observed: np.ndarray) -> dict[str, float | None]:
    from mildpath.reports.survival import kaplan_meier as fit

    curve = fit(durations, observed, at_days=(365, 730, 1095))
    return {str(d): (None if p is None else round(p.survival, 6)) for d, p in curve.at}


def _none(v: Any) -> Any:
    return None if v is None or (isinstance(v, float) and math.isnan(v)) else float(v)


# ------------------------------------------------------------------------------------------ DuckDB


def duckdb_figures(con: Any, folder: Path) -> dict[str, Any]:
    p, s = str(folder / "procedures.parquet"), str(folder / "scores.parquet")
    raw: dict[str, Any] = {
        "procedures": con.execute(f"SELECT count(*) FROM read_parquet('{p}')").fetchone()[0]
    }
    windows = " ".join(f"WHEN {t} THEN {off + after}" for t, (_i, off, after) in enumerate(TIMEPOINTS))
    rows = con.execute(f"""
        WITH p AS (SELECT * FROM read_parquet('{p}')), s AS (SELECT patient_id, timepoint FROM read_parquet('{s}')
             WHERE odi IS NOT NULL), t AS (SELECT unnest(range({len(TIMEPOINTS)})) AS timepoint)
        SELECT t.timepoint, count(s.patient_id),
               count(*) FILTER (WHERE s.patient_id IS NOT NULL OR {AS_OF} - p.procedure_day
                                      > CASE t.timepoint {windows} END)
        FROM p CROSS JOIN t LEFT JOIN s ON s.patient_id = p.patient_id AND s.timepoint = t.timepoint
        GROUP BY t.timepoint""").fetchall()
    raw["follow_up"] = {TIMEPOINTS[t][0]: (k, n) for t, k, n in rows}

    diffs = ", ".join(
        f"count(f.{m} - b.{m}), avg(f.{m} - b.{m}), stddev_samp(f.{m} - b.{m})" for m in MEASURES
    )
    responders = """
        count(*) FILTER (WHERE b.odi - f.odi >= 10), count(*) FILTER (WHERE b.odi IS NOT NULL AND f.odi IS NOT NULL),
        count(*) FILTER (WHERE b.odi > 0 AND (b.odi - f.odi) >= 0.3 * b.odi - 1e-9),
        count(*) FILTER (WHERE b.odi > 0 AND f.odi IS NOT NULL),
        count(*) FILTER (WHERE b.nprs_back - f.nprs_back >= 2
                         OR (b.nprs_back > 0 AND b.nprs_back - f.nprs_back >= 0.3 * b.nprs_back - 1e-9)),
        count(*) FILTER (WHERE b.nprs_back IS NOT NULL AND f.nprs_back IS NOT NULL),
        count(*) FILTER (WHERE b.nprs_leg - f.nprs_leg >= 2
                         OR (b.nprs_leg > 0 AND b.nprs_leg - f.nprs_leg >= 0.3 * b.nprs_leg - 1e-9)),
        count(*) FILTER (WHERE b.nprs_leg IS NOT NULL AND f.nprs_leg IS NOT NULL),
        count(*) FILTER (WHERE b.zcq_severity - f.zcq_severity >= 0.5 - 1e-9 AND b.zcq_function - f.zcq_function
                         >= 0.5 - 1e-9 AND f.zcq_satisfaction <= 2.5 + 1e-9),
        count(*) FILTER (WHERE b.zcq_severity IS NOT NULL AND f.zcq_severity IS NOT NULL
                         AND b.zcq_function IS NOT NULL AND f.zcq_function IS NOT NULL
                         AND f.zcq_satisfaction IS NOT NULL),
        count(100 * (f.walking - b.walking) / b.walking) FILTER (WHERE b.walking > 0),
        avg(100 * (f.walking - b.walking) / b.walking) FILTER (WHERE b.walking > 0),
        stddev_samp(100 * (f.walking - b.walking) / b.walking) FILTER (WHERE b.walking > 0)"""
    rows = con.execute(f"""
        WITH s AS (SELECT * FROM read_parquet('{s}'))
        SELECT f.timepoint, {diffs}, {responders}
        FROM s AS f JOIN s AS b ON b.patient_id = f.patient_id AND b.timepoint = 0
        WHERE f.timepoint > 0 GROUP BY f.timepoint""").fetchall()
    raw["change"], raw["responders"] = {}, {}
    for row in rows:
        tid = TIMEPOINTS[row[0]][0]
        for i, m in enumerate(MEASURES):
            n, mean, sd = row[1 + 3 * i : 4 + 3 * i]
            raw["change"][f"{m}@{tid}"] = (n, _none(mean), _none(sd))
        r = row[1 + 3 * len(MEASURES) :]
        for j, name in enumerate(["odi-points", "odi-relative", "nprs-back", "nprs-leg", "zcq-composite"]):
            raw["responders"][f"{name}@{tid}"] = (r[2 * j], r[2 * j + 1])
        raw["change"][f"walking_percent@{tid}"] = (r[10], _none(r[11]), _none(r[12]))

    quantiles = ", ".join(f"quantile_cont({m}, [0.25, 0.5, 0.75])" for m in ALL_MEASURES)
    raw["trajectories"] = {}
    for row in con.execute(
        f"SELECT timepoint, {quantiles} FROM read_parquet('{s}') GROUP BY timepoint"
    ).fetchall():
        tid = TIMEPOINTS[row[0]][0]
        for m, q in zip(ALL_MEASURES, row[1:], strict=True):
            raw["trajectories"][f"{m}@{tid}"] = [_none(v) for v in q] if q is not None else [None, None, None]
    same, adverse, n = con.execute(
        f"SELECT count(*) FILTER (WHERE same_day), count(*) FILTER (WHERE adverse), count(*) FROM read_parquet('{p}')"
    ).fetchone()
    raw["same_day"], raw["adverse"] = (same, n), (adverse, n)
    tte = con.execute(f"SELECT duration, observed FROM read_parquet('{p}')").fetchnumpy()
    raw["survival"] = kaplan_meier(tte["duration"], tte["observed"])
    return finish(raw)


# ------------------------------------------------------------------------------------------ pandas


def pandas_figures(folder: Path) -> dict[str, Any]:
    import pandas as pd

    p = pd.read_parquet(folder / "procedures.parquet")
    s = pd.read_parquet(folder / "scores.parquet")
    raw: dict[str, Any] = {"procedures": len(p)}
    answered = s.loc[s["odi"].notna(), ["patient_id", "timepoint"]]
    raw["follow_up"] = {}
    since = AS_OF - p["procedure_day"]
    for t, (tid, offset, after) in enumerate(TIMEPOINTS):
        done = p["patient_id"].isin(answered.loc[answered["timepoint"] == t, "patient_id"])
        raw["follow_up"][tid] = (int(done.sum()), int((done | (since > offset + after)).sum()))

    base = s[s["timepoint"] == 0].drop(columns="timepoint")
    pairs = s[s["timepoint"] > 0].merge(base, on="patient_id", suffixes=("", "_b"))
    for m in MEASURES:
        pairs[f"d_{m}"] = pairs[m] - pairs[f"{m}_b"]
    ok = pairs["walking_b"] > 0
    pairs["walking_percent"] = (100 * (pairs["walking"] - pairs["walking_b"]) / pairs["walking_b"]).where(ok)
    eps = 1e-9
    imp = {
        m: pairs[f"{m}_b"] - pairs[m]
        for m in ["odi", "nprs_back", "nprs_leg", "zcq_severity", "zcq_function"]
    }
    both = {m: pairs[f"{m}_b"].notna() & pairs[m].notna() for m in imp}
    flags = {
        "odi-points": (imp["odi"] >= 10, both["odi"]),
        "odi-relative": (
            (pairs["odi_b"] > 0) & (imp["odi"] >= 0.3 * pairs["odi_b"] - eps),
            (pairs["odi_b"] > 0) & pairs["odi"].notna(),
        ),
        "nprs-back": (
            (imp["nprs_back"] >= 2)
            | ((pairs["nprs_back_b"] > 0) & (imp["nprs_back"] >= 0.3 * pairs["nprs_back_b"] - eps)),
            both["nprs_back"],
        ),
        "nprs-leg": (
            (imp["nprs_leg"] >= 2)
            | ((pairs["nprs_leg_b"] > 0) & (imp["nprs_leg"] >= 0.3 * pairs["nprs_leg_b"] - eps)),
            both["nprs_leg"],
        ),
        "zcq-composite": (
            (imp["zcq_severity"] >= 0.5 - eps)
            & (imp["zcq_function"] >= 0.5 - eps)
            & (pairs["zcq_satisfaction"] <= 2.5 + eps),
            both["zcq_severity"] & both["zcq_function"] & pairs["zcq_satisfaction"].notna(),
        ),
    }
    for name, (hit, known) in flags.items():
        pairs[f"hit_{name}"] = hit & known
        pairs[f"known_{name}"] = known
    agg = pairs.groupby("timepoint").agg(
        **{f"n_{m}": (f"d_{m}", "count") for m in [*MEASURES]},
        **{f"mean_{m}": (f"d_{m}", "mean") for m in MEASURES},
        **{f"sd_{m}": (f"d_{m}", "std") for m in MEASURES},
        n_wp=("walking_percent", "count"),
        mean_wp=("walking_percent", "mean"),
        sd_wp=("walking_percent", "std"),
        **{f"hit_{k}": (f"hit_{k}", "sum") for k in flags},
        **{f"known_{k}": (f"known_{k}", "sum") for k in flags},
    )
    raw["change"], raw["responders"] = {}, {}
    for t, row in agg.iterrows():
        tid = TIMEPOINTS[int(t)][0]
        for m in MEASURES:
            raw["change"][f"{m}@{tid}"] = (int(row[f"n_{m}"]), _none(row[f"mean_{m}"]), _none(row[f"sd_{m}"]))
        raw["change"][f"walking_percent@{tid}"] = (
            int(row["n_wp"]),
            _none(row["mean_wp"]),
            _none(row["sd_wp"]),
        )
        for k in flags:
            raw["responders"][f"{k}@{tid}"] = (int(row[f"hit_{k}"]), int(row[f"known_{k}"]))
    q = s.groupby("timepoint")[ALL_MEASURES].quantile([0.25, 0.5, 0.75])
    raw["trajectories"] = {}
    for t, (tid, _o, _a) in enumerate(TIMEPOINTS):
        for m in ALL_MEASURES:
            raw["trajectories"][f"{m}@{tid}"] = [_none(q.loc[(t, f), m]) for f in (0.25, 0.5, 0.75)]
    raw["same_day"] = (int(p["same_day"].sum()), len(p))
    raw["adverse"] = (int(p["adverse"].sum()), len(p))
    raw["survival"] = kaplan_meier(p["duration"].to_numpy(), p["observed"].to_numpy())
    return finish(raw)


# ------------------------------------------------------------------------------------------ running


def same(a: Any, b: Any, path: str = "") -> list[str]:
    """Differences between two figure trees (floats within 1e-6 relative)."""
    if isinstance(a, dict) and isinstance(b, dict):
        keys = set(a) | set(b)
        return [d for k in sorted(keys) for d in same(a.get(k), b.get(k), f"{path}/{k}")]
    if isinstance(a, list | tuple) and isinstance(b, list | tuple) and len(a) == len(b):
        return [d for i, (x, y) in enumerate(zip(a, b, strict=True)) for d in same(x, y, f"{path}[{i}]")]
    if isinstance(a, float) and isinstance(b, float):
        return [] if math.isclose(a, b, rel_tol=1e-6, abs_tol=1e-6) else [f"{path}: {a} != {b}"]
    return [] if a == b else [f"{path}: {a!r} != {b!r}"]


def best_of(repeats: int, run: Any) -> tuple[float, Any]:
    best, result = float("inf"), None
    for _ in range(repeats):
        start = time.perf_counter()
        result = run()
        best = min(best, time.perf_counter() - start)
    return best, result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--patients", type=int, default=100_000)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--out", type=Path, default=HERE / "results" / "outcomes.json")
    args = parser.parse_args(argv)

    import duckdb

    with tempfile.TemporaryDirectory(prefix="mildpath-bench-outcomes-") as tmp:
        folder = Path(tmp)
        sizes = make_registry(args.patients, folder)
        megabytes = sum(f.stat().st_size for f in folder.iterdir()) / 1e6
        con = duckdb.connect()
        con.execute("SET threads = 2")
        kaplan_meier(
            np.array([1, 2]), np.array([True, False])
        )  # import lifelines before timing (both paths use it)
        duck_s, duck = best_of(args.repeats, lambda: duckdb_figures(con, folder))
        pandas_s, pand = best_of(max(1, args.repeats // 2), lambda: pandas_figures(folder))
    differences = same(duck, pand)
    result = {
        "benchmark": "outcomes dashboard figures, DuckDB over a Parquet snapshot vs plain pandas",
        "patients": sizes["patients"],
        "timepoints": len(TIMEPOINTS),
        "score_rows": sizes["score_rows"],
        "parquet_megabytes": round(megabytes, 1),
        "duckdb_seconds": round(duck_s, 4),
        "pandas_seconds": round(pandas_s, 4),
        "ratio_pandas_to_duckdb": round(pandas_s / duck_s, 2),
        "target_seconds": TARGET_SECONDS,
        "meets_target": duck_s < TARGET_SECONDS,
        "same_figures": not differences,
        "figures_compared": len(json.dumps(duck)),
        "sample": {
            "procedures": duck["procedures"],
            "odi_change_12m": duck["change"]["odi@12m"],
            "odi_responders_12m": duck["responders"]["odi-points@12m"],
            "survival": duck["survival"],
        },
        "method": f"best of {args.repeats} runs (DuckDB, threads=2) and of {max(1, args.repeats // 2)} (pandas), "
        "each reading the Parquet snapshot and computing every figure; data generation not timed",
        "machine": {
            "cpus": os.cpu_count(),
            "python": platform.python_version(),
            "duckdb": duckdb.__version__,
            "numpy": np.__version__,
            "platform": platform.platform(),
        },
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2) + "\n")
    print(
        f"{sizes['patients']:,} patients x {len(TIMEPOINTS)} timepoints ({sizes['score_rows']:,} score rows, "
        f"{megabytes:.1f} MB Parquet)"
    )
    print(
        f"DuckDB: {duck_s:.3f} s   pandas: {pandas_s:.3f} s   ratio pandas/DuckDB: {pandas_s / duck_s:.1f}x   "
        f"target < {TARGET_SECONDS:.0f} s: {'met' if duck_s < TARGET_SECONDS else 'NOT met'}"
    )
    if differences:
        print("figures differ:", *differences[:10], sep="\n  ", file=sys.stderr)
        return 1
    print(f"same figures in both engines; written to {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
