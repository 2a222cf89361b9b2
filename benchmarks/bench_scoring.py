"""Benchmark: vectorised ODI scoring of 1,000,000 responses against the plain per-response path (issue 4).

Run: ``.venv/bin/python benchmarks/bench_scoring.py [--responses N] [--subset M] [--out FILE]``

- Data: seeded random ODI responses (answers 0-5, each section unanswered with probability 0.03, so about 3 % of
  responses have two or more missing sections and no score), built before any timing starts.
- Vectorised path: :func:`mildpath.domain.instruments.score_odi_array` on the whole ``(N, 10)`` array, best of
  5 runs (validation included).
- Per-response path: :func:`mildpath.domain.instruments.score_odi` called once per response, as a service would.
  It is timed on the first ``--subset`` responses only (default 20,000) and **extrapolated linearly** to N; the
  printed ratio is extrapolated per-response time / vectorised time.
- Both paths must give the same figures on the subset (checked; the benchmark fails otherwise).

Writes the figures as JSON to ``benchmarks/results/scoring.json`` (target: N = 1,000,000 in under 1 s).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import time
from pathlib import Path

import numpy as np

from mildpath.domain.instruments import score_odi, score_odi_array

HERE = Path(__file__).resolve().parent
TARGET_SECONDS = 1.0


def make_responses(n: int, seed: int = 20240604, missing_rate: float = 0.03) -> np.ndarray:
    rng = np.random.default_rng(seed)
    data = rng.integers(0, 6, size=(n, 10)).astype(np.float64)
    data[rng.random((n, 10)) < missing_rate] = np.nan
    return data


def time_vectorised(data: np.ndarray, repeats: int = 5) -> tuple[float, np.ndarray]:
    best = float("inf")
    scores = np.empty(0)
    for _ in range(repeats):
        start = time.perf_counter()
        scores, _answered = score_odi_array(data)
        best = min(best, time.perf_counter() - start)
    return best, scores


def time_per_response(rows: list[list[float]]) -> tuple[float, list[float]]:
    start = time.perf_counter()
    results = [score_odi(row) for row in rows]
    elapsed = time.perf_counter() - start
    return elapsed, [float("nan") if r.value is None else float(r.value) for r in results]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--responses", type=int, default=1_000_000)
    parser.add_argument("--subset", type=int, default=20_000)
    parser.add_argument("--out", type=Path, default=HERE / "results" / "scoring.json")
    args = parser.parse_args(argv)

    data = make_responses(args.responses)
    subset = min(args.subset, args.responses)
    vec_seconds, vec_scores = time_vectorised(data)
    rows = data[:subset].tolist()  # plain Python lists, NaN for a missing section
    per_seconds, per_scores = time_per_response(rows)
    identical = bool(np.array_equal(vec_scores[:subset], np.array(per_scores), equal_nan=True))
    extrapolated = per_seconds * args.responses / subset
    ratio = extrapolated / vec_seconds
    result = {
        "benchmark": "ODI scoring, vectorised vs per-response",
        "responses": args.responses,
        "vectorised_seconds": round(vec_seconds, 4),
        "vectorised_responses_per_second": round(args.responses / vec_seconds),
        "target_seconds": TARGET_SECONDS,
        "meets_target": vec_seconds < TARGET_SECONDS,
        "per_response_subset": subset,
        "per_response_subset_seconds": round(per_seconds, 4),
        "per_response_seconds_extrapolated": round(extrapolated, 2),
        "extrapolated": subset < args.responses,
        "ratio_per_response_to_vectorised": round(ratio, 1),
        "identical_on_subset": identical,
        "unscorable_responses": int(np.isnan(vec_scores).sum()),
        "method": "vectorised: best of 5 runs over all responses; per-response: one run over the subset, "
        "extrapolated linearly to all responses",
        "machine": {
            "cpus": os.cpu_count(),
            "python": platform.python_version(),
            "numpy": np.__version__,
            "platform": platform.platform(),
        },
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    print(
        f"vectorised: {args.responses:,} ODI responses in {vec_seconds:.3f} s "
        f"({'meets' if result['meets_target'] else 'MISSES'} the {TARGET_SECONDS:.0f} s target)"
    )
    print(
        f"per-response: {subset:,} in {per_seconds:.3f} s, extrapolated to {args.responses:,}: "
        f"{extrapolated:.1f} s; ratio {ratio:,.0f}x; identical on the subset: {identical}"
    )
    print(f"wrote {args.out}")
    return 0 if identical else 1


if __name__ == "__main__":
    sys.exit(main())
