"""Benchmark: mildpath's SQL on FHIR view runner against DuckDB's plain full parse and the `sqlonfhir` package.

Run: ``.venv/bin/python benchmarks/bench_views.py [--size-mb 400] [--threads 2]``; results go to
``benchmarks/results/views.json``.

Data: the real Synthea Bulk export in ``../shared/data/synthea-bulk-10`` repeated (every UUID rewritten per copy,
so patients and references stay distinct and consistent) up to ``--size-mb``, in a temporary folder, one file
per type per ~64 MB as Bulk servers write them. That sample ships no Observations (they were over 4 MiB), yet
real exports are mostly Observations: the benchmark adds Synthea-shaped vital-sign and lab Observations (LOINC
coded, seeded, about a third of the bytes) so that the view over Observations reads a realistic volume.

Measured on the same files in one run:
- raw read: the files' bytes read in Python (the ceiling for any reader);
- DuckDB full parse: every line parsed as JSON (``read_ndjson_objects`` + resourceType per line);
- mildpath: each shipped screening view written to Parquet (what ``mildpath view run --format parquet`` does),
  the eight views in sequence, and a view restricted by a ``where`` on codes (text prefilter before parsing);
- sqlonfhir (PyPI, pure Python on fhirpathpy) on one copy of the sample for the condition and patient views,
  with its rows checked against mildpath's on the same input.
MB/s are megabytes (10^6) of export per second. Timings are the best of ``--repeat`` runs.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import re
import shutil
import sys
import tempfile
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

from mildpath.content.view_definitions import load_view_definition, view_names  # noqa: E402
from mildpath.population.views import compile_view, connect, evaluate, write_view  # noqa: E402

SAMPLE = ROOT.parent / "shared" / "data" / "synthea-bulk-10"
RESULTS = ROOT / "benchmarks" / "results" / "views.json"
UUID = re.compile(rb"\b[0-9a-f]{8}(-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})\b")
FILE_BYTES = 64_000_000

# (LOINC, display, unit, low, high): the vital signs and labs Synthea writes most.
VITALS = [
    ("8302-2", "Body Height", "cm", 150, 190),
    ("29463-7", "Body Weight", "kg", 50, 110),
    ("39156-5", "Body mass index (BMI) [Ratio]", "kg/m2", 18, 35),
    ("8867-4", "Heart rate", "/min", 55, 100),
    ("9279-1", "Respiratory rate", "/min", 12, 20),
    ("72514-3", "Pain severity - 0-10 verbal numeric rating", "{score}", 0, 10),
    ("2339-0", "Glucose [Mass/volume] in Blood", "mg/dL", 70, 140),
    ("38483-4", "Creatinine [Mass/volume] in Blood", "mg/dL", 0.6, 1.4),
    ("2093-3", "Cholesterol [Mass/volume] in Serum or Plasma", "mg/dL", 150, 260),
    ("718-7", "Hemoglobin [Mass/volume] in Blood", "g/dL", 11, 17),
]


def _observation(rng: random.Random, patient: str, encounter: str, n: int) -> bytes:
    code, display, unit, low, high = VITALS[n % len(VITALS)]
    category = "vital-signs" if n % len(VITALS) < 6 else "laboratory"
    day = f"{rng.randint(1990, 2024)}-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}"
    when = f"{day}T{rng.randint(0, 23):02d}:12:47-05:00"
    resource = {
        "resourceType": "Observation",
        "id": str(uuid.UUID(int=rng.getrandbits(128))),
        "meta": {"profile": [f"http://hl7.org/fhir/us/core/StructureDefinition/us-core-{category}"]},
        "status": "final",
        "category": [
            {
                "coding": [
                    {
                        "system": "http://terminology.hl7.org/CodeSystem/observation-category",
                        "code": category,
                        "display": category.replace("-", " ").title(),
                    }
                ]
            }
        ],
        "code": {"coding": [{"system": "http://loinc.org", "code": code, "display": display}], "text": display},
        "subject": {"reference": f"Patient/{patient}"},
        "encounter": {"reference": f"Encounter/{encounter}"},
        "effectiveDateTime": when,
        "issued": when.replace("-05:00", ".123-05:00"),
        "valueQuantity": {
            "value": round(rng.uniform(low, high), 2),
            "unit": unit,
            "system": "http://unitsofmeasure.org",
            "code": unit,
        },
    }
    return json.dumps(resource, separators=(",", ":")).encode() + b"\n"


def _sample_observations(target_bytes: int) -> bytes:
    """Observations for the sample's patients, attached to their encounters (seeded)."""
    rng = random.Random(20240806)
    patients = [json.loads(line)["id"] for line in (SAMPLE / "Patient.000.ndjson").open()]
    encounters: dict[str, list[str]] = {}
    for line in (SAMPLE / "Encounter.000.ndjson").open():
        enc = json.loads(line)
        encounters.setdefault(enc["subject"]["reference"].split("/")[-1], []).append(enc["id"])
    out, n = bytearray(), 0
    while len(out) < target_bytes:
        patient = patients[n % len(patients)]
        out += _observation(rng, patient, rng.choice(encounters.get(patient, ["none"])), n)
        n += 1
    return bytes(out)


def build_export(folder: Path, size_mb: int) -> dict:
    """Write the benchmark export; return its description."""
    base = {p.name.split(".")[0]: p.read_bytes() for p in SAMPLE.glob("*.ndjson") if p.name != "log.ndjson"}
    base_bytes = sum(len(b) for b in base.values())
    base["Observation"] = _sample_observations(base_bytes // 2)  # about a third of the total
    per_copy = sum(len(b) for b in base.values())
    copies = max(1, round(size_mb * 1_000_000 / per_copy))
    handles: dict[str, tuple[int, int, object]] = {}
    for k in range(copies):
        for kind, data in base.items():
            index, written, handle = handles.get(kind, (0, 0, None))
            if handle is None or written > FILE_BYTES:
                if handle is not None:
                    handle.close()  # type: ignore[attr-defined]
                    index += 1
                handle, written = (folder / f"{kind}.{index:03d}.ndjson").open("wb"), 0
            chunk = UUID.sub(b"%08x\\1" % (k + 1), data)
            handle.write(chunk)  # type: ignore[attr-defined]
            handles[kind] = (index, written + len(chunk), handle)
    for _, _, handle in handles.values():
        handle.close()  # type: ignore[attr-defined]
    shutil.copy(SAMPLE / "log.ndjson", folder / "log.ndjson")
    by_type: dict[str, int] = {}
    for path in folder.glob("*.ndjson"):
        by_type[path.name.split(".")[0]] = by_type.get(path.name.split(".")[0], 0) + path.stat().st_size
    return {"copies": copies, "patients": 13 * copies, "bytes": sum(by_type.values()), "bytes_by_type": by_type}


def best_of(repeat: int, fn) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times)


def raw_read(folder: Path) -> None:
    for path in folder.glob("*.ndjson"):
        with path.open("rb", buffering=0) as handle:
            while handle.read(8 << 20):
                pass


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size-mb", type=int, default=400)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--repeat", type=int, default=2)
    args = parser.parse_args()
    if not SAMPLE.is_dir():
        sys.exit(f"the Synthea sample export is not at {SAMPLE}")
    load_before = os.getloadavg()
    work = Path(tempfile.mkdtemp(prefix="mildpath-bench-views-"))
    try:
        export = work / "export"
        export.mkdir()
        data = build_export(export, args.size_mb)
        mb = data["bytes"] / 1e6
        print(f"export: {mb:.0f} MB, {data['patients']} patients, {len(list(export.iterdir()))} files in {export}")
        con = connect(args.threads)
        results: dict = {}

        seconds = best_of(args.repeat, lambda: raw_read(export))
        results["raw_read"] = {"seconds": seconds, "mb_per_s": mb / seconds}

        files = "[" + ", ".join(f"'{p}'" for p in sorted(export.glob("*.ndjson"))) + "]"
        full = (
            f"SELECT json_extract_string(json, '$.resourceType') AS t, count(*) "
            f"FROM read_ndjson_objects({files}) GROUP BY t"
        )
        seconds = best_of(args.repeat, lambda: con.execute(full).fetchall())
        results["duckdb_full_parse"] = {"seconds": seconds, "mb_per_s": mb / seconds}

        views: dict = {}
        out = work / "view.parquet"
        for name in view_names():
            compiled = compile_view(load_view_definition(name))
            stats_holder: list = []
            seconds = best_of(
                args.repeat, lambda c=compiled: stats_holder.append(write_view(c, export, "parquet", out, con=con))
            )
            rows = con.execute(f"SELECT count(*) FROM '{out}'").fetchone()[0]
            read = stats_holder[-1].bytes_read
            views[name] = {
                "seconds": seconds,
                "rows": rows,
                "bytes_read": read,
                "mb_per_s_of_export": mb / seconds,
                "mb_per_s_of_bytes_read": read / 1e6 / seconds,
            }
        total = sum(v["seconds"] for v in views.values())
        results["mildpath_views"] = {"per_view": views, "all_views_seconds": total, "all_views_mb_per_s": mb / total}

        restricted = load_view_definition("observation")
        restricted["where"] = [
            {
                "path": "code.coding.where(system = 'http://loinc.org' "
                "and (code = '72514-3' or code = '97909-6')).exists()"
            }
        ]
        seconds = best_of(args.repeat, lambda: write_view(restricted, export, "parquet", out, con=con))
        rows = con.execute(f"SELECT count(*) FROM '{out}'").fetchone()[0]
        results["mildpath_observation_where_codes"] = {
            "seconds": seconds,
            "rows": rows,
            "mb_per_s_of_export": mb / seconds,
            "note": "where code = pain score or ODI score: lines without those codes are skipped before parsing",
        }

        results["sqlonfhir"] = run_sqlonfhir(export)

        full_views = results["mildpath_views"]
        ratios = {
            "views_vs_duckdb_full_parse": full_views["all_views_mb_per_s"] / results["duckdb_full_parse"]["mb_per_s"],
            "views_vs_raw_read": full_views["all_views_mb_per_s"] / results["raw_read"]["mb_per_s"],
        }
        for name, entry in results["sqlonfhir"].get("views", {}).items():
            mine = views[name]["mb_per_s_of_bytes_read"]
            ratios[f"{name}_mildpath_vs_sqlonfhir_bytes_read"] = mine / entry["mb_per_s"]
        results["ratios"] = ratios
        results["note"] = note(results, data)
        report = {
            "machine": {
                "cpus": os.cpu_count(),
                "threads": args.threads,
                "python": platform.python_version(),
                "duckdb": __import__("duckdb").__version__,
                "load_average_before": load_before,
                "load_average_after": os.getloadavg(),
            },
            "export": data,
            "results": results,
        }
        RESULTS.parent.mkdir(parents=True, exist_ok=True)
        RESULTS.write_text(json.dumps(report, indent=2) + "\n")
        print_table(report)
    finally:
        shutil.rmtree(work, ignore_errors=True)


def run_sqlonfhir(export: Path) -> dict:
    """sqlonfhir on the first copy of the Condition and Patient files, checked against mildpath's rows."""
    try:
        import sqlonfhir
    except ImportError as exc:
        return {"skipped": f"sqlonfhir is not installed: {exc}"}
    out: dict = {"views": {}}
    for name, kind in (("condition", "Condition"), ("patient", "Patient")):
        path = export / f"{kind}.000.ndjson"
        lines = path.read_bytes().splitlines()
        per_copy = sum(1 for _ in (SAMPLE / f"{kind}.000.ndjson").open())
        subset = lines[:per_copy]
        size = sum(len(line) + 1 for line in subset)
        view = load_view_definition(name)

        def theirs(subset=subset, view=view):
            return sqlonfhir.evaluate([json.loads(line) for line in subset], view)

        start = time.perf_counter()
        rows = theirs()
        seconds = time.perf_counter() - start
        mine = evaluate(view, [line.decode() for line in subset])
        same = sorted(json.dumps(r, sort_keys=True) for r in rows) == sorted(
            json.dumps(r, sort_keys=True) for r in mine
        )
        out["views"][name] = {
            "resources": len(subset),
            "mb": size / 1e6,
            "seconds": seconds,
            "mb_per_s": size / 1e6 / seconds,
            "rows": len(rows),
            "same_rows_as_mildpath": same,
        }
    return out


def note(results: dict, data: dict) -> str:
    """The honest reading of the figures, written with them."""
    views = results["mildpath_views"]
    read_rates = [v["mb_per_s_of_bytes_read"] for v in views["per_view"].values() if v["bytes_read"] > 1_000_000]
    obs = views["per_view"]["observation"]
    share = data["bytes_by_type"].get("Observation", 0) / data["bytes"]
    restricted = results["mildpath_observation_where_codes"]["mb_per_s_of_export"]
    full_parse = results["ratios"]["views_vs_duckdb_full_parse"]
    against = {k: v for k, v in results["ratios"].items() if "sqlonfhir" in k}
    versus = (
        f"sqlonfhir (pure Python) is {min(against.values()):.0f}-{max(against.values()):.0f}x slower per byte read "
        "(the least on the 13-patient Patient file, where start-up dominates) and gives the same rows."
        if against
        else "sqlonfhir could not run."
    )
    return (
        "Each view opens only the files of its resource type. One after the other, the eight views run at "
        f"{views['all_views_mb_per_s']:.0f} MB/s of export ({full_parse:.2f}x DuckDB parsing every line once, "
        f"which writes nothing). On the bytes they read they run at {min(read_rates):.0f}-{max(read_rates):.0f} "
        "MB/s: DuckDB's JSON parse of each resource (one multi-path extraction) is about half of that time, the "
        "forEach over codings and writing every column to Parquet the other half. So views read whole miss the "
        "issue 9 target of 400 MB/s wherever a large type must be read: Observations are "
        f"{share:.0%} of this export and the observation view reads them at {obs['mb_per_s_of_bytes_read']:.0f} "
        "MB/s. A where on codes, which is what the screen's criteria give, skips lines before parsing: the "
        f"observation view restricted to two LOINC codes runs at {restricted:.0f} MB/s of export. {versus} "
        "Figures come from a shared 2-core machine (see load_average): compare ratios within one run."
    )


def print_table(report: dict) -> None:
    r = report["results"]

    def line(label: str, seconds: float, rate: float, note: str = "") -> None:
        print(f"{label:46s} {seconds:8.2f} {rate:9.1f}   {note}")

    print(f"{'measure':46s} {'seconds':>8s} {'MB/s':>9s}")
    line("raw read", r["raw_read"]["seconds"], r["raw_read"]["mb_per_s"])
    line("DuckDB full parse (every line)", r["duckdb_full_parse"]["seconds"], r["duckdb_full_parse"]["mb_per_s"])
    for name, v in r["mildpath_views"]["per_view"].items():
        note = f"{v['mb_per_s_of_bytes_read']:.0f} MB/s of the {v['bytes_read'] / 1e6:.0f} MB read"
        line(f"mildpath view {name} ({v['rows']} rows)", v["seconds"], v["mb_per_s_of_export"], note)
    total = r["mildpath_views"]
    line("mildpath: all eight views", total["all_views_seconds"], total["all_views_mb_per_s"])
    w = r["mildpath_observation_where_codes"]
    line("mildpath observation view, where on 2 codes", w["seconds"], w["mb_per_s_of_export"], f"{w['rows']} rows")
    for name, v in r["sqlonfhir"].get("views", {}).items():
        note = f"same rows as mildpath: {v['same_rows_as_mildpath']}"
        line(f"sqlonfhir {name} ({v['resources']} resources)", v["seconds"], v["mb_per_s"], note)
    for key, value in r["ratios"].items():
        print(f"ratio {key}: {value:.2f}")
    print(r["note"])
    machine = report["machine"]
    print(f"load average before/after: {machine['load_average_before']} / {machine['load_average_after']}")


if __name__ == "__main__":
    main()
