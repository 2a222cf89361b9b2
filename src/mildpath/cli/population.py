"""``mildpath population screen`` and ``mildpath synth population`` (issue 9; contracts §2, §6).

``population screen DIR --out FILE.csv|.parquet [--engine duckdb|spark] [--master URL] [--as-of DATE]`` screens
every patient of a FHIR Bulk Data export folder and writes one row per Patient resource, with the summary JSON
beside it (``FILE.summary.json``), also printed on stderr. On a terminal a progress bar shows bytes and patients
per second; otherwise the command is quiet until the summary. Exit 0 whatever the statuses; exit 2 with one line
on stderr for an export that cannot be read, a bad ``--out`` or ``--as-of``; bad lines inside the export are
counted in the summary (with file and line) and never stop the run.

``synth population --patients N --out DIR --seed S [--as-of DATE] [--gzip]`` writes a synthetic export, dated
relative to the as-of date (default today); the same seed and date give the same bytes.

Heavy modules (DuckDB, PyArrow, PySpark) load when a command runs, not when the CLI starts.
"""

from __future__ import annotations

import json
import sys
import time
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

import typer

from mildpath.cli._common import as_of_date, bad_input, criteria_rules, handles_errors

population_app = typer.Typer(help="Screen a whole FHIR Bulk Data export for mild.", no_args_is_help=True)
synth_app = typer.Typer(help="Synthetic data for tests and benchmarks.", no_args_is_help=True)


class Engine(StrEnum):
    duckdb = "duckdb"
    spark = "spark"


def register(app: typer.Typer) -> None:
    app.add_typer(population_app, name="population")
    app.add_typer(synth_app, name="synth")



@population_app.command("screen")
@handles_errors
def screen_command(
    export: Annotated[Path, typer.Argument(metavar="DIR", help="A FHIR Bulk Data export folder (NDJSON, .ndjson.gz)")],
    out: Annotated[
        Path, typer.Option("--out", metavar="FILE", help="Where to write the rows: FILE.csv or FILE.parquet")
    ],
    engine: Annotated[Engine, typer.Option("--engine", help="duckdb (embedded, default) or spark")] = Engine.duckdb,
    master: Annotated[
        str | None,
        typer.Option("--master", metavar="URL", help="Spark master URL (default $MILDPATH_SPARK_MASTER or local[*])"),
    ] = None,
    as_of: Annotated[
        str | None, typer.Option("--as-of", metavar="DATE", help="Screen as of this date (YYYY-MM-DD); default today")
    ] = None,
    criteria_set: Annotated[
        str, typer.Option("--criteria-set", metavar="NAME", help="Criteria set name (default: the shipped default)")
    ] = "default",
    content_dir: Annotated[
        Path | None,
        typer.Option("--content-dir", envvar="MILDPATH_CONTENT_DIR", help="A site's content folder (criteria sets)"),
    ] = None,
) -> None:
    """Screen every patient of a Bulk export; one row per patient with status, criteria and evidence."""

    today = as_of_date(as_of)
    if master is not None and engine is not Engine.spark:
        bad_input("--master applies to --engine spark only")
    rules = criteria_rules(criteria_set, content_dir)
    from mildpath.population.engine import make_engine, run

    try:
        machine = make_engine(engine.value, master=master)
    except ImportError as exc:
        bad_input(f"--engine {engine.value} needs {exc.name or 'pyspark'}: install mildpath[spark]")
    progress = _TerminalProgress() if sys.stderr.isatty() else None
    try:
        summary = run(export, rules, today, out=out, engine=machine, progress=progress)
    finally:
        machine.close()
    sys.stderr.write(json.dumps(summary.to_json(), indent=2, ensure_ascii=False) + "\n")


@synth_app.command("population")
@handles_errors
def synth_command(
    patients: Annotated[int, typer.Option("--patients", min=0, max=10_000_000, help="How many patients")],
    out: Annotated[Path, typer.Option("--out", metavar="DIR", help="The export folder to write (created if needed)")],
    seed: Annotated[int, typer.Option("--seed", help="Random seed: the same seed and date give the same bytes")] = 0,
    as_of: Annotated[
        str | None, typer.Option("--as-of", metavar="DATE", help="Date the records relative to it; default today")
    ] = None,
    gzip: Annotated[bool, typer.Option("--gzip", help="Write .ndjson.gz instead of .ndjson")] = False,
) -> None:
    """Write a synthetic FHIR Bulk export with a realistic minority of lumbar spinal stenosis patients."""
    from mildpath.population.synth import generate

    today = as_of_date(as_of)
    if out.exists() and not out.is_dir():
        bad_input(f"--out {out}: not a folder")
    started = time.perf_counter()
    result = generate(out, patients=patients, seed=seed, as_of=today, compress=gzip)
    seconds = time.perf_counter() - started
    sys.stderr.write(
        f"wrote {result.patients} patients, {sum(result.resources.values())} resources, "
        f"{result.bytes / 1e6:.1f} MB in {len(result.files)} files to {out} ({seconds:.1f} s)\n"
    )


class _TerminalProgress:
    """A rich progress bar on stderr: bytes read, MB/s and patients per second (estimated from bytes)."""

    def __init__(self) -> None:
        from rich.console import Console
        from rich.progress import (
            BarColumn,
            DownloadColumn,
            Progress,
            ProgressColumn,
            TextColumn,
            TimeElapsedColumn,
            TransferSpeedColumn,
        )
        from rich.text import Text

        class PatientsPerSecond(ProgressColumn):
            def render(self, task: Any) -> Text:
                patients = task.fields.get("patients") or 0
                elapsed = task.elapsed or 0
                if not patients or not elapsed or not task.total:
                    return Text("- patients/s")
                share = min(1.0, task.completed / task.total)
                return Text(f"{patients * share / elapsed:,.0f} patients/s")

        self.bar = Progress(
            TextColumn("screening"),
            BarColumn(),
            DownloadColumn(),
            TransferSpeedColumn(),
            PatientsPerSecond(),
            TimeElapsedColumn(),
            console=Console(stderr=True),
            transient=True,
        )
        self.task: Any = None

    def start(self, total_bytes: int) -> None:
        self.bar.start()
        self.task = self.bar.add_task("screen", total=max(total_bytes, 1), patients=0)

    def update(self, done_bytes: int, patients: int | None = None) -> None:
        if self.task is None:
            return
        if patients is None:
            self.bar.update(self.task, completed=done_bytes)
        else:
            self.bar.update(self.task, completed=done_bytes, patients=patients)

    def stop(self) -> None:
        self.bar.stop()
