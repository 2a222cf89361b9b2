"""The exported Spark package on a real export (issue 17 goal 4): every statement of ``sql/spark/screen.sql``
through PySpark with **no driver memory set** (Spark's default, 1 GB), timed one by one with the driver's heap
after each, then the package's DuckDB script on the same export, compared on every result column but the
evidence lists.

Run: ``.venv/bin/python benchmarks/bench_spark_package.py [--export DIR | --patients 1000] [--as-of 2025-06-30]
[--master local[2]]`` (without ``--export``: a synthetic export of ``--patients``, seed 1, made for the run).
Writes ``benchmarks/results/spark-package.json``.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Any

import duckdb

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "src"))

from mildpath.content.criteria import load_criteria_set  # noqa: E402
from mildpath.population.package import script_statements, write_package  # noqa: E402


def _plain(row: dict[str, Any]) -> dict[str, Any]:
    return {k: (str(v) if isinstance(v, dt.date) else v) for k, v in row.items() if not k.endswith("_evidence")}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--export", type=Path, help="default: a synthetic export of --patients, made here")
    parser.add_argument("--patients", type=int, default=1000)
    parser.add_argument("--as-of", type=dt.date.fromisoformat, default=dt.date(2025, 6, 30))
    parser.add_argument("--master", default="local[2]")
    parser.add_argument("--out", type=Path, default=HERE / "results" / "spark-package.json")
    args = parser.parse_args()
    from pyspark.sql import SparkSession

    with tempfile.TemporaryDirectory() as tmp:
        if args.export is None:
            from mildpath.population.synth import generate

            args.export = Path(tmp) / "export"
            generate(args.export, patients=args.patients, seed=1, as_of=args.as_of)
        package = Path(tmp) / "package"
        write_package(package, load_criteria_set(), args.as_of)
        spark = (SparkSession.builder.master(args.master).appName("mildpath spark package")
                 .config("spark.ui.enabled", "false").getOrCreate())
        spark.sparkContext.setLogLevel("ERROR")
        runtime = spark.sparkContext._jvm.java.lang.Runtime.getRuntime()  # type: ignore[union-attr]
        spark.conf.set("export_dir", str(args.export))
        spark.conf.set("package_dir", str(package))
        statements = script_statements((package / "sql/spark/screen.sql").read_text())
        steps = []
        start = time.perf_counter()
        for i, sql in enumerate(statements[:-1]):
            t = time.perf_counter()
            spark.sql(sql)
            heap = (runtime.totalMemory() - runtime.freeMemory()) // 2**20
            steps.append({"statement": i, "seconds": round(time.perf_counter() - t, 2),
                          "sql": " ".join(sql.split())[:80], "driver_heap_mb": heap})
            print(steps[-1], flush=True)
        found = {r["patient_id"]: _plain(r.asDict()) for r in spark.sql(statements[-1]).collect()}
        spark_s = time.perf_counter() - start
        spark.stop()
        con = duckdb.connect()
        con.execute(f"SET VARIABLE export_dir = '{args.export}'")
        con.execute(f"SET VARIABLE package_dir = '{package}'")
        duck = script_statements((package / "sql/duckdb/screen.sql").read_text())
        t = time.perf_counter()
        for sql in duck[:-1]:
            con.execute(sql)
        result = con.execute(duck[-1])
        names = [d[0] for d in result.description]
        rows = (dict(zip(names, row, strict=True)) for row in result.fetchall())
        expected = {r["patient_id"]: _plain(r) for r in rows}
        duck_s = time.perf_counter() - t
    differ = sorted(k for k in expected if expected[k] != found.get(k))
    report = {
        "benchmark": "bench_spark_package",
        "command": "python benchmarks/bench_spark_package.py " + " ".join(sys.argv[1:]),
        "machine": {"cpus": os.cpu_count(), "platform": platform.platform(), "load_average_at_end": os.getloadavg()},
        "driver_memory": "Spark's default (none set)",
        "patients": len(expected),
        "spark_seconds": round(spark_s, 1),
        "duckdb_seconds": round(duck_s, 1),
        "rows_spark": len(found),
        "rows_differing": len(differ) + len(set(found) - set(expected)),
        "statuses": dict(Counter(r["status"] for r in expected.values())),
        "steps": steps,
    }
    args.out.write_text(json.dumps(report, indent=1) + "\n")
    print(json.dumps({k: v for k, v in report.items() if k != "steps"}, indent=1))


if __name__ == "__main__":
    main()
