"""Whole-export screening: the engine interface and the run that every engine shares (issue 9).

``run(export_dir, criteria_set, as_of, out=...)`` screens a FHIR Bulk Data export (NDJSON, one or more files per
resource type, optionally gzip) and writes one row per Patient resource to CSV or Parquet, with a summary JSON
beside it (``FILE.summary.json``). What an engine does is small and behind :class:`ScreeningEngine`:

1. read the lines of the files the screen needs, skipping lines no criterion can use (the compiled screen's
   ``needles``) and counting bad lines;
2. run the views (SQL on FHIR ViewDefinitions) over the lines it kept, into tables ``mp_v_<name>``;
3. run the compiled screen (:mod:`mildpath.population.compile`): facts, then criteria, one row per patient.

Everything else is here, the same for every engine: which files to read (a file named after a resource type no
view needs is never opened), the output columns, the reasons and what is missing (from
:func:`mildpath.domain.screening.decide`, the single-patient engine's own function, applied to each row's
criterion statuses; the SQL's status must agree with it), evidence as JSON, the summary, and the recovery from a
truncated gzip (:func:`mildpath.population.reading.repair_gzip`).

Output columns (contracts §6): ``patient_id``, ``status``, ``criteria_set``, one column per criterion
(``met``/``not_met``/``unknown``; for an exclusion or a red flag "met" means it applies), then ``reasons`` and
``missing`` (JSON arrays of text) and ``evidence`` (a JSON object: criterion id -> ``[{"value", "date",
"record"}]``, sorted by date, record and value; the evidence that counted), then ``cautions`` (a JSON array of
``{"id", "text", "source"}``: an age outside every range the trials enrolled) and ``not_assessed`` (a JSON array
of the exclusions with no record either way, for ``likely_candidate`` and ``needs_more_information``), both from
the single-patient engine's own functions (contracts §3, §6). A deceased patient is ``not_candidate`` with the
reason "deceased". Rows come in ``patient_id`` order.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import resource
import sys
import time
from collections import Counter
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from mildpath.domain.conditions import Tri
from mildpath.domain.criteria import CriteriaSet, Finding, Role
from mildpath.domain.errors import InvalidInput
from mildpath.domain.facts import PatientFacts
from mildpath.domain.screening import Status, age_cautions, decide, not_assessed
from mildpath.population.compile import CompiledScreen, compile_screen
from mildpath.population.reading import ExportFiles, NoProgress, Progress, ReadStats, export_files

if TYPE_CHECKING:
    import pyarrow as pa

FORMATS = (".csv", ".parquet")
FIXED_COLUMNS = ("patient_id", "status", "criteria_set", "reasons", "missing", "evidence", "cautions", "not_assessed")
_BAD_EXAMPLES_KEPT = 20
_TOP_REASONS = 10




# --------------------------------------------------------------------------------------------- engines


class ScreeningEngine(Protocol):
    """An engine runs a compiled screen over an export (see the module docstring for its three steps)."""

    name: str
    dialect: str

    def screen(
        self, compiled: CompiledScreen, files: ExportFiles, stats: ReadStats, progress: Progress
    ) -> Iterator[pa.RecordBatch]:
        """Rows ``patient_id, status, <criterion status>, <criterion evidence>...`` (the compiled query's
        columns), in ``patient_id`` order, as Arrow batches; fills ``stats`` as it reads."""
        ...

    def close(self) -> None:
        """Release what the engine holds (connections, a Spark session it started)."""
        ...


def make_engine(name: str, *, master: str | None = None, threads: int | None = None) -> ScreeningEngine:
    """``duckdb`` (default, embedded) or ``spark`` (PySpark; ``master`` defaults to the setting
    ``MILDPATH_SPARK_MASTER``, then ``local[*]``: ``spark://host:7077``, ``yarn`` or ``k8s://https://host:443``)."""
    if name == "duckdb":
        from mildpath.population.duckdb import DuckDBEngine

        return DuckDBEngine(threads=threads)
    if name == "spark":
        from mildpath.population.spark import SparkEngine

        return SparkEngine(master=master or os.environ.get("MILDPATH_SPARK_MASTER") or "local[*]")
    raise InvalidInput(f"unknown engine {name!r}: use duckdb or spark", field="engine", value=name)


# --------------------------------------------------------------------------------------------- output


@dataclass
class Summary:
    """Counts per status, per criterion and per reason, with input and timing figures."""

    criteria_set: str
    as_of: dt.date
    engine: str
    export: str
    output: str
    patients: int = 0
    statuses: Counter[str] = field(default_factory=Counter)
    criteria: dict[str, Counter[str]] = field(default_factory=dict)
    reasons: Counter[str] = field(default_factory=Counter)
    cautions: Counter[str] = field(default_factory=Counter)
    stats: ReadStats = field(default_factory=ReadStats)
    seconds: float = 0.0
    peak_rss_mb: float = 0.0

    def to_json(self) -> dict[str, Any]:
        seconds = max(self.seconds, 1e-9)
        return {
            "criteria_set": self.criteria_set,
            "as_of": self.as_of.isoformat(),
            "engine": self.engine,
            "export": self.export,
            "output": self.output,
            "patients": self.patients,
            "statuses": {s.value: self.statuses.get(s.value, 0) for s in Status},
            "criteria": {cid: {t.value: counts.get(t.value, 0) for t in Tri} for cid, counts in self.criteria.items()},
            "top_reasons": [{"reason": r, "patients": n} for r, n in self.reasons.most_common(_TOP_REASONS)],
            "cautions": dict(sorted(self.cautions.items())),
            "input": self.stats.to_json(),
            "timing": {
                "seconds": round(self.seconds, 3),
                "mb_per_second": round(self.stats.export_bytes / 1e6 / seconds, 1),
                "patients_per_second": round(self.patients / seconds, 1),
                "peak_rss_mb": round(self.peak_rss_mb, 1),
            },
        }


class _Rows:
    """Turns an engine's batches into output batches (see the module docstring) and counts the summary."""

    def __init__(self, compiled: CompiledScreen, summary: Summary) -> None:
        self.compiled = compiled
        self.summary = summary
        ids = [c.id for c in compiled.criteria]
        clash = set(ids) & set(FIXED_COLUMNS)
        if clash:
            raise InvalidInput(f"criterion ids {sorted(clash)} clash with output columns", field="criteria")
        self.ids = ids
        self.criteria = compiled.criteria_set.criteria
        for cid in ids:
            summary.criteria[cid] = Counter()

    @lru_cache(maxsize=4096)  # noqa: B019 - one instance per run; few distinct combinations
    def decided(
        self, statuses: tuple[str, ...], deceased: bool = False, assessed: tuple[bool, ...] = ()
    ) -> tuple[str, str, str, tuple[str, ...], str]:
        """Status, reasons, missing and not assessed (JSON text) for one combination of criterion statuses,
        by the single-patient engine's own :func:`~mildpath.domain.screening.decide`."""
        flags = iter(assessed)
        findings = tuple(
            Finding(c, Tri(s), assessed=next(flags, True) if c.role is Role.EXCLUSION else True)
            for c, s in zip(self.criteria, statuses, strict=True)
        )
        status, reasons, missing = decide(findings, deceased=deceased)
        unasked = not_assessed(status, findings)
        return status.value, _json(list(reasons)), _json(list(missing)), reasons, _json(list(unasked))

    @lru_cache(maxsize=4096)  # noqa: B019 - one instance per run; ages repeat
    def cautions(self, birth_date: dt.date | None) -> str:
        """The cautions (JSON text) for a birth date on the as-of date (the single-patient engine's own)."""
        age = PatientFacts(birth_date=birth_date).age_on(self.compiled.as_of)
        return _json([c.to_json() for c in age_cautions(self.compiled.criteria_set.studied_ages, age)])

    def convert(self, batch: pa.RecordBatch) -> pa.RecordBatch:
        import pyarrow as pa
        import pyarrow.compute as pc

        n = batch.num_rows
        status_cols = [batch.column(c.status).to_pylist() for c in self.compiled.criteria]
        sql_status = batch.column("status").to_pylist()
        deceased = [bool(x) for x in batch.column("deceased").to_pylist()]
        assessed_cols = [batch.column(c.assessed).to_pylist() for c in self.compiled.criteria if c.assessed]
        flags = list(zip(*assessed_cols, strict=True)) if assessed_cols else [()] * n
        combos = list(zip(*status_cols, strict=True)) if status_cols else [()] * n
        decided = [
            self.decided(combo, dead, tuple(bool(f) for f in flag))
            for combo, dead, flag in zip(combos, deceased, flags, strict=True)
        ]
        for i, (status, *_) in enumerate(decided):
            if status != sql_status[i]:
                raise RuntimeError(
                    f"the compiled screen says {sql_status[i]!r} where the criteria say {status!r} "
                    f"(patient {batch.column('patient_id')[i]}): a compiler defect"
                )
        for (status, _, _, reasons, _), count in Counter(decided).items():
            self.summary.statuses[status] += count
            for reason in reasons:
                self.summary.reasons[reason] += count
        for combo, count in Counter(combos).items():
            for cid, value in zip(self.ids, combo, strict=True):
                self.summary.criteria[cid][value] += count
        self.summary.patients += n
        evidence = ["{}"] * n
        lists = [batch.column(c.evidence) for c in self.compiled.criteria]
        has = None
        for col in lists:
            present = pc.fill_null(pc.greater(pc.list_value_length(col), 0), False)
            has = present if has is None else pc.or_(has, present)
        rows = pc.indices_nonzero(has).to_pylist() if has is not None else []
        if rows:
            taken = [col.take(pa.array(rows)).to_pylist() for col in lists]
            for j, i in enumerate(rows):
                evidence[i] = evidence_json({cid: taken[k][j] for k, cid in enumerate(self.ids) if taken[k][j]})
        columns = {
            "patient_id": batch.column("patient_id"),
            "status": batch.column("status"),
            "criteria_set": pa.array([self.compiled.criteria_set.label] * n, pa.string()),
        }
        for cid, crit in zip(self.ids, self.compiled.criteria, strict=True):
            columns[cid] = batch.column(crit.status)
        columns["reasons"] = pa.array([d[1] for d in decided], pa.string())
        columns["missing"] = pa.array([d[2] for d in decided], pa.string())
        columns["evidence"] = pa.array(evidence, pa.string())
        cautions = [self.cautions(b) for b in batch.column("birth_date").to_pylist()]
        for text in cautions:
            for item in json.loads(text):
                self.summary.cautions[item["id"]] += 1
        columns["cautions"] = pa.array(cautions, pa.string())
        columns["not_assessed"] = pa.array([d[4] for d in decided], pa.string())
        return pa.RecordBatch.from_pydict(columns, schema=self.schema())

    def schema(self) -> pa.Schema:
        import pyarrow as pa

        names = ["patient_id", "status", "criteria_set", *self.ids, "reasons", "missing", "evidence"]
        names += ["cautions", "not_assessed"]
        return pa.schema([(n, pa.string()) for n in names])


def _json(value: Any) -> str:
    import orjson

    return orjson.dumps(value).decode("utf-8")


def evidence_value(item: Mapping[str, Any]) -> Any:
    """The plain value of one evidence struct ``{vk, vn, vt, vb, d, r}``."""
    kind = item["vk"]
    if kind == "int":
        return int(item["vn"])
    if kind == "num":
        return float(item["vn"])
    if kind == "bool":
        return bool(item["vb"])
    if kind == "str":
        return item["vt"]
    return None


def evidence_items(items: Iterable[Mapping[str, Any]] | None) -> list[dict[str, Any]]:
    """Evidence structs as ``{"value", "date", "record"}`` (contracts §3), without repeats, sorted by date,
    record and value."""
    out: dict[tuple[str, str, str], dict[str, Any]] = {}
    for item in items or ():
        day = item["d"]
        value = evidence_value(item)
        date = day.isoformat() if day else None
        record = item["r"] or ""
        out.setdefault((date or "", record, repr(value)), {"value": value, "date": date, "record": record})
    return [out[k] for k in sorted(out)]


def evidence_json(by_criterion: Mapping[str, Iterable[Mapping[str, Any]] | None]) -> str:
    """The ``evidence`` column: criterion id -> its evidence items, for criteria with any."""
    found = {cid: evidence_items(items) for cid, items in by_criterion.items()}
    return _json({cid: items for cid, items in found.items() if items})


class _Writer:
    """Writes batches to ``out`` as CSV or Parquet (``fmt``), streaming: memory holds one batch."""

    def __init__(self, out: Path, schema: pa.Schema, fmt: str) -> None:
        import pyarrow.csv as pacsv
        import pyarrow.parquet as pq

        self.out = out
        if fmt == ".parquet":
            self.writer: Any = pq.ParquetWriter(str(out), schema, compression="zstd")
        else:
            self.writer = pacsv.CSVWriter(str(out), schema)

    def write(self, batch: pa.RecordBatch) -> None:
        if batch.num_rows:
            self.writer.write(batch)

    def close(self) -> None:
        self.writer.close()


# --------------------------------------------------------------------------------------------- the run


def check_output(out: Path | str) -> Path:
    """The output path, checked: ``.csv`` or ``.parquet``, in a folder that exists."""
    path = Path(out)
    if not path.name.endswith(FORMATS):
        raise InvalidInput(f"--out {path}: use a .csv or .parquet file name", field="out", value=str(path))
    if not path.parent.exists():
        raise InvalidInput(f"--out {path}: the folder {path.parent} does not exist", field="out", value=str(path))
    return path


def summary_path(out: Path) -> Path:
    """``FILE.csv`` / ``FILE.parquet`` -> ``FILE.summary.json`` beside it."""
    return out.with_suffix(".summary.json")


def run(
    export_dir: Path | str,
    criteria_set: CriteriaSet,
    as_of: dt.date,
    *,
    out: Path | str,
    engine: str | ScreeningEngine = "duckdb",
    master: str | None = None,
    progress: Progress | None = None,
) -> Summary:
    """Screen every patient of the export at ``export_dir`` and write ``out`` and its summary (module docstring).

    ``engine`` is a name (``duckdb``, ``spark``) or an engine object (any :class:`ScreeningEngine`); an engine
    made here is closed here. Bad input (no NDJSON files, a bad ``out`` name) raises an InvalidInput subclass.
    """
    started = time.perf_counter()
    target = check_output(out)
    own = isinstance(engine, str)
    machine = make_engine(engine, master=master) if isinstance(engine, str) else engine
    progress = progress or NoProgress()
    try:
        compiled = compile_screen(criteria_set, as_of, dialect=machine.dialect)
        files = export_files(export_dir, compiled.resource_types)
        stats = ReadStats(
            files=len(files.read) + len(files.skipped),
            export_bytes=sum(f.size for f in (*files.read, *files.skipped)),
            files_read=len(files.read),
            bytes_read=files.bytes_to_read,
            files_skipped=len(files.skipped),
            resource_types_read=list(compiled.resource_types),
        )
        summary = Summary(
            criteria_set=criteria_set.label,
            as_of=as_of,
            engine=machine.name,
            export=str(export_dir),
            output=str(target),
            stats=stats,
        )
        rows = _Rows(compiled, summary)
        partial = target.with_name(target.name + ".partial")
        writer = _Writer(partial, rows.schema(), target.suffix)
        progress.start(files.bytes_to_read)
        try:
            for batch in machine.screen(compiled, files, stats, progress):
                writer.write(rows.convert(batch))
        finally:
            writer.close()
            progress.stop()
        partial.replace(target)
    finally:
        if own:
            machine.close()
    summary.seconds = time.perf_counter() - started
    summary.peak_rss_mb = peak_rss_mb()
    summary_path(target).write_text(json.dumps(summary.to_json(), indent=2, ensure_ascii=False) + "\n", "utf-8")
    return summary


def peak_rss_mb() -> float:
    """Peak resident memory of this process (and of finished child processes), in MB."""
    own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    children = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    factor = 1 / 1024 if sys.platform != "darwin" else 1 / (1024 * 1024)
    return max(own, children) * factor
