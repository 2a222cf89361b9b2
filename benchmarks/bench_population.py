"""Population screening benchmark (issue 9): how fast a whole Bulk export is screened, and in how much memory.

    .venv/bin/python benchmarks/bench_population.py [--sizes 1000,10000,50000] [--engines duckdb,spark]

For each size it makes (once; cached under benchmarks/data/, git-ignored) a synthetic export with
``mildpath.population.synth`` and measures, on the same files in the same run:

- ``raw_read``: reading every file's bytes (the ceiling: nothing is parsed);
- ``duckdb_full_parse``: a plain DuckDB query that parses every line of every file as JSON and reads one field
  (``read_ndjson_objects`` + ``json_extract_string(json, '$.resourceType')``): the floor of "parse everything";
- ``duckdb_read_ndjson``: the plain DuckDB way to load an export, every line into typed columns
  (``read_ndjson(..., union_by_name=true)``);
- ``naive_fhir_resources``: the per-resource baseline, every line parsed into a ``fhir.resources`` R4B model,
  measured on a subset (the first lines of every file) and extrapolated to the export;
- ``mildpath_duckdb`` and ``mildpath_spark``: ``mildpath.population.engine.run`` end to end (reading, views,
  criteria, writing the CSV and its summary). Spark's start-up is reported apart.

Each measurement runs in its own process (imports done before the clock starts), so its peak memory is its own:
the resident set of the process and its children (Spark's JVM), sampled from /proc. Throughput is export bytes
(every file, read or skipped) per second of wall time; CPU seconds are reported too, because this machine is
shared and a busy neighbour takes cores away from the measured process. Results go to
``benchmarks/results/population.json`` and a table is printed.
"""

from __future__ import annotations

import argparse
import datetime as dt
import gzip
import json
import os
import platform
import re
import resource
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
DATA = Path(os.environ.get("MILDPATH_BENCH_DATA") or ROOT / "benchmarks" / "data")
RESULTS = ROOT / "benchmarks" / "results" / "population.json"
SPARK_RESULTS = ROOT / "benchmarks" / "results" / "population-spark.json"
AS_OF = dt.date(2025, 6, 30)
KINDS = (
    "raw_read",
    "duckdb_full_parse",
    "duckdb_read_ndjson",
    "naive_fhir_resources",
    "mildpath_duckdb",
    "mildpath_spark",
)


# --------------------------------------------------------------------------------------------- measuring


class PeakMemory:
    """Peak resident memory (MB) of this process and its descendants, sampled from /proc every 50 ms."""

    def __init__(self) -> None:
        self.peak = 0.0
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self.run, daemon=True)

    def tree_rss(self) -> float:
        children: dict[int, list[int]] = {}
        rss: dict[int, int] = {}
        for entry in Path("/proc").iterdir():
            if not entry.name.isdigit():
                continue
            try:
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            pid, ppid = int(entry.name), int(fields[1])
            children.setdefault(ppid, []).append(pid)
            rss[pid] = int(fields[21]) * os.sysconf("SC_PAGE_SIZE")
        total, todo = 0, [os.getpid()]
        while todo:
            pid = todo.pop()
            total += rss.get(pid, 0)
            todo.extend(children.get(pid, ()))
        return total / 1e6

    def run(self) -> None:
        while not self.stop.wait(0.05):
            self.peak = max(self.peak, self.tree_rss())

    def __enter__(self) -> PeakMemory:
        self.peak = self.tree_rss()
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop.set()
        self.thread.join()
        own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        self.peak = max(self.peak, own)


def cpu_seconds() -> float:
    own, kids = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + kids.ru_utime + kids.ru_stime


def ndjson_files(export: Path) -> list[Path]:
    return sorted(p for p in export.iterdir() if p.name.endswith((".ndjson", ".ndjson.gz")))


def measure(kind: str, export: Path, out: Path, lines: int) -> dict[str, Any]:
    """One measurement, in this process (see the module docstring)."""
    import duckdb  # noqa: F401 - imported before the clock starts
    import pyarrow.csv  # noqa: F401

    from mildpath.content.criteria import load_criteria_set
    from mildpath.population import duckdb as _engine  # noqa: F401
    from mildpath.population.engine import run

    files = ndjson_files(export)
    extra: dict[str, Any] = {}
    criteria = load_criteria_set()
    session = None
    if kind == "mildpath_spark":
        from mildpath.population.spark import SparkEngine, start_session

        started = time.perf_counter()
        session = start_session("local[*]")
        extra["spark_start_seconds"] = round(time.perf_counter() - started, 2)
    with PeakMemory() as memory:
        cpu0, wall0 = cpu_seconds(), time.perf_counter()
        if kind == "raw_read":
            total = 0
            for path in files:
                with path.open("rb", buffering=0) as handle:
                    while chunk := handle.read(16 << 20):
                        total += len(chunk)
            extra["bytes_read"] = total
        elif kind == "duckdb_full_parse":
            import duckdb

            listed = "[" + ", ".join(f"'{p}'" for p in files) + "]"
            rows = duckdb.sql(
                f"SELECT json_extract_string(json, '$.resourceType') AS t, count(*) AS n FROM "
                f"read_ndjson_objects({listed}, ignore_errors=true) GROUP BY t ORDER BY t"
            ).fetchall()
            extra["lines"] = sum(n for _, n in rows)
        elif kind == "duckdb_read_ndjson":
            import duckdb

            listed = "[" + ", ".join(f"'{p}'" for p in files if p.name != "log.ndjson") + "]"
            rows = duckdb.sql(
                f"SELECT resourceType, count(*) FROM read_ndjson({listed}, union_by_name=true, ignore_errors=true) "
                "GROUP BY 1"
            ).fetchall()
            extra["lines"] = sum(n for _, n in rows)
        elif kind == "naive_fhir_resources":
            extra.update(naive(files, lines))
        elif kind == "mildpath_duckdb":
            summary = run(export, criteria, AS_OF, out=out, engine="duckdb")
            extra["statuses"] = dict(summary.statuses)
        elif kind == "mildpath_spark":
            from mildpath.population.spark import SparkEngine

            summary = run(export, criteria, AS_OF, out=out, engine=SparkEngine(session=session))
            extra["statuses"] = dict(summary.statuses)
        seconds = time.perf_counter() - wall0
        cpu = cpu_seconds() - cpu0
    if session is not None:
        session.stop()
    if kind == "naive_fhir_resources":  # extrapolated from the subset to the whole export
        seconds = extra["sample_seconds"] * extra["export_bytes"] / extra["sample_bytes"]
        cpu = seconds
    return {"seconds": seconds, "cpu_seconds": cpu, "peak_rss_mb": memory.peak, **extra}


def naive(files: list[Path], lines: int) -> dict[str, Any]:
    """Every line of a subset (the first ``lines`` of every file) parsed into its fhir.resources R4B model."""
    import importlib

    models: dict[str, Any] = {}
    sample, taken = 0, 0
    started = time.perf_counter()
    for path in files:
        if path.name == "log.ndjson":
            continue
        with path.open("rb") as handle:
            for number, raw in enumerate(handle):
                if number >= lines:
                    break
                resource_type = json.loads(raw)["resourceType"]
                if resource_type not in models:
                    module = importlib.import_module(f"fhir.resources.R4B.{resource_type.lower()}")
                    models[resource_type] = getattr(module, resource_type)
                models[resource_type].model_validate_json(raw)
                sample += len(raw)
                taken += 1
    return {
        "sample_seconds": time.perf_counter() - started,
        "sample_bytes": sample,
        "sample_resources": taken,
        "export_bytes": sum(p.stat().st_size for p in files),
    }


# --------------------------------------------------------------------------------------------- the oracle

_REFERENCE = re.compile(rb'"reference"\s*:\s*"([^"]+)"')


def oracle_check(export: Path, written: Path, sample: int, seed: int) -> dict[str, Any]:
    """Statuses of a random sample of the written rows against the single-patient engine (outside the clock).

    Each sampled patient's resources are gathered as ``mildpath screen`` would read that patient's NDJSON (the
    Patient line, the lines whose subject or patient names it, and every Medication), and screened with
    :func:`mildpath.domain.screening.screen`; the row's status and every criterion's status must be the same.
    A line is parsed only when one of its references names a sampled patient (``Patient/<id>``,
    ``urn:uuid:<id>``...), so the check costs one pass of text search over the export, whatever the sample.
    """
    import csv
    import random

    from mildpath.content.criteria import load_criteria_set
    from mildpath.domain.screening import screen
    from mildpath.fhir.read import _ref_id, facts_from_resources

    with written.open(encoding="utf-8", newline="") as handle:
        rows = {r["patient_id"]: r for r in csv.DictReader(handle)}
    chosen = sorted(random.Random(seed).sample(sorted(rows), min(sample, len(rows))))
    wanted = set(chosen)
    by: dict[str, list[dict[str, Any]]] = {pid: [] for pid in chosen}
    medications: list[dict[str, Any]] = []
    for path in ndjson_files(export):
        with gzip.open(path, "rb") if path.name.endswith(".gz") else path.open("rb") as lines:
            for raw in lines:
                is_patient = raw.startswith(b'{"resourceType":"Patient"')
                is_medication = raw.startswith(b'{"resourceType":"Medication"')
                named = any(_ref_id(m.decode()) in wanted for m in _REFERENCE.findall(raw))
                if not (is_patient or is_medication or named):
                    continue
                try:
                    res = json.loads(raw.decode("utf-8").lstrip("\ufeff"))
                except (UnicodeDecodeError, json.JSONDecodeError):
                    continue
                if not isinstance(res, dict) or "resourceType" not in res:
                    continue
                if res["resourceType"] == "Medication":
                    medications.append(res)
                    continue
                if res["resourceType"] == "Patient":
                    pid = res.get("id")
                else:
                    pid = _ref_id((res.get("subject") or res.get("patient") or {}).get("reference"))
                if pid in by:
                    by[pid].append(res)
    criteria = load_criteria_set()
    mismatches: list[str] = []
    for pid in chosen:
        result = screen(criteria, facts_from_resources(by[pid] + medications).facts, AS_OF)
        row = rows[pid]
        expected = {"status": result.status.value, **{c: s.value for c, s in result.statuses().items()}}
        got = {k: row.get(k) for k in expected}
        if got != expected:
            mismatches.append(f"{pid}: expected {expected}, wrote {got}")
    return {"sampled": len(chosen), "mismatches": len(mismatches), "examples": mismatches[:5]}


# --------------------------------------------------------------------------------------------- the run


def ensure_export(patients: int, seed: int) -> Path:
    folder = DATA / f"population-{patients}-s{seed}-{AS_OF.isoformat()}"
    done = folder / ".complete"
    if not done.exists():
        from mildpath.population.synth import generate

        started = time.perf_counter()
        result = generate(folder, patients=patients, seed=seed, as_of=AS_OF)
        done.write_text(json.dumps({"bytes": result.bytes, "seconds": time.perf_counter() - started}))
        print(f"  generated {patients} patients: {result.bytes / 1e6:.0f} MB", flush=True)
    return folder


def in_subprocess(kind: str, export: Path, lines: int) -> dict[str, Any]:
    out = DATA / f"result-{kind}-{export.name}.csv"
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}  # use compiled modules
    load_before = os.getloadavg()[0]
    done = subprocess.run(
        [
            sys.executable,
            __file__,
            "--measure",
            kind,
            "--export",
            str(export),
            "--lines",
            str(lines),
            "--csv",
            str(out),
        ],
        capture_output=True,
        text=True,
        env=env,
        timeout=3600,
    )
    if done.returncode != 0:
        return {"error": done.stderr.strip().splitlines()[-1] if done.stderr.strip() else f"exit {done.returncode}"}
    result = json.loads(done.stdout.strip().splitlines()[-1])
    result["load_average_before"] = load_before
    return result


def composition(export: Path) -> dict[str, float]:
    """Share of the export's bytes per resource type (what a screen must read, and what it may skip)."""
    sizes: dict[str, int] = {}
    for path in ndjson_files(export):
        kind = path.name.split(".", 1)[0]
        sizes[kind] = sizes.get(kind, 0) + path.stat().st_size
    total = sum(sizes.values())
    return {k: round(v / total, 4) for k, v in sorted(sizes.items(), key=lambda kv: -kv[1])}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="1000,10000,50000")
    parser.add_argument("--engines", default="duckdb,spark")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--lines", type=int, default=150, help="lines per file for the fhir.resources baseline")
    parser.add_argument("--out", type=Path, default=RESULTS)
    parser.add_argument("--spark-out", type=Path, default=SPARK_RESULTS, help="Spark vs DuckDB, when spark runs")
    parser.add_argument("--kinds", default=",".join(KINDS), help="the measurements to make (default: all)")
    parser.add_argument("--oracle-sample", type=int, default=200, help="patients checked against the "
                        "single-patient engine per engine and size (0: no check)")  # fmt: skip
    parser.add_argument("--measure", choices=KINDS, help=argparse.SUPPRESS)
    parser.add_argument("--export", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--csv", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.measure:
        print(json.dumps(measure(args.measure, args.export, args.csv, args.lines)))
        return
    engines = [e.strip() for e in args.engines.split(",") if e.strip()]
    asked = {k.strip() for k in args.kinds.split(",") if k.strip()}
    kinds = [
        k for k in KINDS if k in asked and (not k.startswith("mildpath_") or k.removeprefix("mildpath_") in engines)
    ]
    DATA.mkdir(parents=True, exist_ok=True)
    report: dict[str, Any] = {
        "machine": {
            "cpus": os.cpu_count(),
            "python": platform.python_version(),
            "platform": platform.platform(),
            "load_average_at_start": os.getloadavg(),
        },
        "as_of": AS_OF.isoformat(),
        "measured_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "command": " ".join([".venv/bin/python", "benchmarks/bench_population.py", *sys.argv[1:]]),
        "sizes": [],
    }
    for size in [int(s) for s in args.sizes.split(",")]:
        export = ensure_export(size, args.seed)
        files = ndjson_files(export)
        export_bytes = sum(p.stat().st_size for p in files)
        entry: dict[str, Any] = {
            "patients": size,
            "export_mb": round(export_bytes / 1e6, 1),
            "kb_per_patient": round(export_bytes / size / 1e3, 1),
            "files": len(files),
            "composition": composition(export),
            "results": {},
        }
        for kind in kinds:
            result = in_subprocess(kind, export, args.lines)
            if "error" not in result:
                seconds = result["seconds"]
                result["mb_per_s"] = round(export_bytes / 1e6 / seconds, 1)
                result["patients_per_s"] = round(size / seconds, 1)
                result["mb_per_cpu_s"] = round(export_bytes / 1e6 / max(result["cpu_seconds"], 1e-9), 1)
                result["seconds"] = round(seconds, 3)
                result["cpu_seconds"] = round(result["cpu_seconds"], 3)
                result["peak_rss_mb"] = round(result["peak_rss_mb"], 1)
                if kind.startswith("mildpath_") and args.oracle_sample:
                    written = DATA / f"result-{kind}-{export.name}.csv"
                    result["oracle"] = oracle_check(export, written, args.oracle_sample, args.seed)
            entry["results"][kind] = result
            print(f"  {size:>6} patients  {kind:<22} {describe(result)}", flush=True)
        base = entry["results"].get("duckdb_full_parse", {}).get("seconds")
        naive_s = entry["results"].get("naive_fhir_resources", {}).get("seconds")
        for result in entry["results"].values():
            if "seconds" in result:
                if base:
                    result["speedup_vs_duckdb_full_parse"] = round(base / result["seconds"], 2)
                if naive_s:
                    result["speedup_vs_naive"] = round(naive_s / result["seconds"], 1)
        report["sizes"].append(entry)
    report["machine"]["load_average_at_end"] = os.getloadavg()
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(report, indent=2) + "\n")
    print_table(report)
    print(f"results: {args.out}")
    if "spark" in engines:
        spark = spark_report(report)
        args.spark_out.write_text(json.dumps(spark, indent=2) + "\n")
        print(f"spark vs duckdb: {args.spark_out}")


def spark_report(report: dict[str, Any]) -> dict[str, Any]:
    """Spark against DuckDB per size, from the same run: both net of start-up (imports; Spark's session, the JVM
    and its executors, is started before the clock and reported apart), with the anchor beside them."""
    sizes = []
    for entry in report["sizes"]:
        results = entry["results"]
        row: dict[str, Any] = {"patients": entry["patients"], "export_mb": entry["export_mb"]}
        for kind in ("duckdb_full_parse", "mildpath_duckdb", "mildpath_spark"):
            r = results.get(kind, {})
            keep = ("seconds", "cpu_seconds", "mb_per_s", "peak_rss_mb", "spark_start_seconds", "oracle", "error")
            row[kind] = {k: r[k] for k in keep if k in r}
        duck, spark = results.get("mildpath_duckdb", {}), results.get("mildpath_spark", {})
        if "seconds" in duck and "seconds" in spark:
            row["spark_over_duckdb_seconds"] = round(spark["seconds"] / duck["seconds"], 2)
        sizes.append(row)
    return {
        "machine": report["machine"],
        "measured_at": report["measured_at"],
        "master": "local[*]",
        "command": report["command"],
        "sizes": sizes,
    }


def describe(result: dict[str, Any]) -> str:
    if "error" in result:
        return f"ERROR {result['error']}"
    check = result.get("oracle")
    checked = f"  oracle {check['sampled'] - check['mismatches']}/{check['sampled']} same" if check else ""
    return (
        f"{result['seconds']:>8.2f} s  {result['mb_per_s']:>8.1f} MB/s  {result['patients_per_s']:>9.0f} patients/s  "
        f"cpu {result['cpu_seconds']:.1f} s  peak {result['peak_rss_mb']:.0f} MB{checked}"
    )


def print_table(report: dict[str, Any]) -> None:
    print()
    print(f"{'patients':>8} {'MB':>7}  {'measurement':<22} {'s':>8} {'MB/s':>8} {'patients/s':>11} {'x full':>7} "
          f"{'x naive':>8} {'peak MB':>8}")  # fmt: skip
    for entry in report["sizes"]:
        for kind, r in entry["results"].items():
            if "error" in r:
                print(f"{entry['patients']:>8} {entry['export_mb']:>7} {kind:<22} ERROR {r['error']}")
                continue
            print(
                f"{entry['patients']:>8} {entry['export_mb']:>7}  {kind:<22} {r['seconds']:>8.2f} "
                f"{r['mb_per_s']:>8.1f} {r['patients_per_s']:>11.0f} {r.get('speedup_vs_duckdb_full_parse', 0):>7.2f} "
                f"{r.get('speedup_vs_naive', 0):>8.1f} {r['peak_rss_mb']:>8.0f}"
            )


if __name__ == "__main__":
    main()
