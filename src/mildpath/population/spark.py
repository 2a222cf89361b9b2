"""The Spark engine: the same screen on PySpark, for exports larger than one machine (issue 9, issue 12).

PySpark is imported when the engine starts (``--engine spark``), never when mildpath is imported. The work is
split the way the DuckDB engine splits it, each step distributed:

1. Spark reads the export's files as text (``spark.read.text``) and keeps, with the same text tests, the lines
   the screen can use (every Patient line; other lines holding one of the compiled screen's needles, or not
   looking like one JSON object).
2. Each batch of kept lines goes through the views in the executors' Python workers (``mapInArrow``): the very
   SQL the view runner compiles for DuckDB, run by an in-memory DuckDB on that batch. A view's rows depend on
   one resource each, so batches give the same rows as the whole. The same step checks each line (valid JSON,
   a resource, UTF-8: Spark reads bad bytes as U+FFFD, which marks the line bad).
3. The facts and the criteria run as Spark SQL (:class:`~mildpath.population.compile.SparkSql`), the result is
   written as Parquet in patient order and streamed back in batches.

A gzip file that ends early fails Spark's reader; the engine then repairs the export's gzip files that do not
read to their end (:func:`~mildpath.population.engine.repair_gzip`) and reads again. On a cluster
(``--master spark://...``) the executors need mildpath, DuckDB and PyArrow installed, and the export on a path
they can all read.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any

from mildpath.population.compile import CompiledScreen
from mildpath.population.engine import (
    ExportFiles,
    Progress,
    ReadStats,
    locate_lines,
    repair_gzip,
    scratch_folder,
)
from mildpath.population.views import compile_view
from mildpath.population.views.source import SourceFile

if TYPE_CHECKING:
    import pyarrow as pa
    from pyspark.sql import DataFrame, SparkSession

_SPARK_TYPES = {"VARCHAR": "string", "BIGINT": "bigint", "DOUBLE": "double", "BOOLEAN": "boolean"}
_CLASSIFY = (
    "SELECT rtype, file, text, CASE WHEN text = '' THEN 'blank' "
    "WHEN contains(text, chr(65533)) THEN 'bad' WHEN NOT json_valid(text) THEN 'bad' "
    "WHEN json_type(text) <> 'OBJECT' OR json_extract_string(text, '$.resourceType') IS NULL THEN 'other' "
    "ELSE 'ok' END AS state FROM (SELECT rtype, file, trim(CASE WHEN starts_with(value, chr(65279)) "
    "THEN substr(value, 2) ELSE value END, ' \t\r') AS text FROM batch)"
)


def _duckdb_batches(sql: str, batches: Iterator[pa.RecordBatch], schema: pa.Schema) -> Iterator[pa.RecordBatch]:
    """Run ``sql`` (over a table ``batch``) on each Arrow batch in a Spark worker; rows cast to ``schema``."""
    import duckdb
    import pyarrow as pa

    con = duckdb.connect(":memory:")
    con.execute("SET threads = 1")
    try:
        for incoming in batches:
            if incoming.num_rows == 0:
                continue
            con.register("batch", pa.Table.from_batches([_valid_utf8(incoming)]))
            table = con.sql(sql).to_arrow_table()
            con.unregister("batch")
            yield from table.cast(schema).to_batches()
    finally:
        con.close()


def _valid_utf8(batch: pa.RecordBatch) -> pa.RecordBatch:
    """Spark hands lines over as the bytes it read: a line that is not UTF-8 gets U+FFFD in place of its bad
    bytes (and is then counted as bad), as a reader decoding with replacement would."""
    import pyarrow as pa

    columns = []
    for column in batch.columns:
        if pa.types.is_string(column.type):
            try:
                column.validate(full=True)
            except pa.ArrowInvalid:
                raw = column.cast(pa.binary()).to_pylist()
                column = pa.array([None if v is None else v.decode("utf-8", "replace") for v in raw], pa.string())
        columns.append(column)
    return pa.RecordBatch.from_arrays(columns, names=batch.schema.names)


class SparkEngine:
    """:class:`~mildpath.population.engine.ScreeningEngine` on PySpark (see the module docstring)."""

    name = "spark"
    dialect = "spark"

    def __init__(self, *, master: str = "local[*]", session: SparkSession | None = None) -> None:
        self.master = master
        self.session = session
        self.owns_session = session is None
        if session is None:
            import pyspark  # noqa: F401 - fail early (exit 2) when PySpark is not installed

    def spark(self) -> SparkSession:
        if self.session is None:
            self.session = start_session(self.master)
        return self.session

    def close(self) -> None:
        if self.owns_session and self.session is not None:
            self.session.stop()
            self.session = None

    def screen(
        self, compiled: CompiledScreen, files: ExportFiles, stats: ReadStats, progress: Progress
    ) -> Iterator[pa.RecordBatch]:
        import pyarrow.parquet as pq

        spark = self.spark()
        with scratch_folder() as tmp:
            folder = Path(tmp)
            replaced: dict[Path, Path] = {}
            classified = self.read(spark, compiled, files, stats, folder, replaced)
            progress.update(files.bytes_to_read)
            try:
                self.count_lines(classified, stats, replaced)
                self.views(spark, compiled, classified)
                vs = spark.createDataFrame(list(compiled.valueset_rows), "name string, system string, code string")
                vs.createOrReplaceTempView("mp_vs")
                for name, sql in compiled.tables:
                    _materialize(spark.sql(sql), name)
                # The criteria steps work on the patients with facts only (small data, for which compiling generated
                # code costs more than it saves). Each layer is materialized: Spark's optimizer would otherwise
                # inline every layer's expressions into the next, which grows them beyond memory.
                codegen = str(spark.conf.get("spark.sql.codegen.wholeStage", "true"))
                spark.conf.set("spark.sql.codegen.wholeStage", "false")
                try:
                    for name, sql in compiled.stages:
                        frame = spark.sql(sql)
                        if name.startswith("l_"):
                            frame.createOrReplaceTempView(name)  # computed with the first layer
                        else:
                            _materialize(frame, name)
                    result = folder / "result"
                    spark.sql(compiled.final).write.mode("overwrite").parquet(str(result))
                finally:
                    spark.conf.set("spark.sql.codegen.wholeStage", codegen)
                parts = sorted(result.glob("part-*.parquet"))
                patients = 0
                for part in parts:
                    for batch in pq.ParquetFile(part).iter_batches(batch_size=65_536):
                        patients += batch.num_rows
                        yield batch
                progress.update(files.bytes_to_read, patients)
            finally:
                classified.unpersist()

    # -- reading ------------------------------------------------------------------------------------------
    def read(
        self,
        spark: SparkSession,
        compiled: CompiledScreen,
        files: ExportFiles,
        stats: ReadStats,
        folder: Path,
        replaced: dict[Path, Path],
    ) -> DataFrame:
        """The kept lines, checked, cached; a broken gzip is repaired and everything read again."""
        from pyspark.errors import PySparkException
        from pyspark.storagelevel import StorageLevel

        gz = [f.path for f in files.read if f.path.name.endswith(".gz")]
        while True:
            frame = self.kept_lines(spark, compiled, files, replaced)
            classified = frame.mapInArrow(
                partial(_duckdb_batches, _CLASSIFY, schema=_classified_schema()),
                "rtype string, file string, text string, state string",
            ).persist(StorageLevel.MEMORY_AND_DISK)
            try:
                classified.count()
                return classified
            except (PySparkException, Exception) as exc:  # noqa: BLE001 - Py4J errors are not all PySparkException
                classified.unpersist()
                broken = [p for p in gz if p not in replaced and self.is_broken(p, folder, replaced, stats)]
                if not broken:
                    raise RuntimeError(f"Spark could not read the export: {str(exc).splitlines()[0]}") from exc

    def is_broken(self, path: Path, folder: Path, replaced: dict[Path, Path], stats: ReadStats) -> bool:
        fixed, note = repair_gzip(path, folder)
        if note is None:
            return False
        stats.note_bad(note)
        replaced[path] = fixed if fixed is not None else path
        if fixed is None:
            replaced[path] = Path("/dev/null")
        return True

    def kept_lines(
        self, spark: SparkSession, compiled: CompiledScreen, files: ExportFiles, replaced: dict[Path, Path]
    ) -> DataFrame:
        from pyspark.sql import functions as F  # noqa: N812

        def paths(found: tuple[SourceFile, ...]) -> list[str]:
            out = []
            for f in found:
                path = replaced.get(f.path, f.path)
                if path != Path("/dev/null"):
                    out.append(str(path))
            return out

        looks_like_object = F.col("value").startswith("{") & F.col("value").endswith("}")

        def lines(
            found: tuple[SourceFile, ...], rtype: str | None, needles: tuple[str, ...] | None
        ) -> DataFrame | None:
            listed = paths(found)
            if not listed:
                return None
            frame = spark.read.text(listed).select(
                F.lit(rtype).cast("string").alias("rtype"), F.col("_metadata.file_path").alias("file"), "value"
            )
            frame = frame.where(F.col("value").isNotNull() & (F.col("value") != ""))
            if needles is not None:
                keep = None
                for needle in needles:
                    test = F.instr(F.col("value"), needle) > 0
                    keep = test if keep is None else keep | test
                assert keep is not None
                if rtype is None:  # a file naming no type: its non-resource lines are counted
                    keep = keep | (F.instr(F.col("value"), '"resourceType"') == 0)
                frame = frame.where(keep | ~looks_like_object)
            return frame

        frames = [lines(files.typed.get(t, ()), t, compiled.needles[t]) for t in compiled.resource_types]
        needles: set[str] | None = {'"Patient"'}
        for t, found in compiled.needles.items():
            if t == "Patient":
                continue
            if found is None or needles is None:
                needles = None
            else:
                needles |= set(found)
        frames.append(lines(files.untyped, None, tuple(sorted(needles)) if needles is not None else None))
        kept = [f for f in frames if f is not None]
        if not kept:
            return spark.createDataFrame([], "rtype string, file string, value string")
        out = kept[0]
        for frame in kept[1:]:
            out = out.unionByName(frame)
        return out

    def count_lines(self, classified: DataFrame, stats: ReadStats, replaced: dict[Path, Path]) -> None:
        """Bad lines (with file:line where the file can be read here) and non-resource lines."""
        from pyspark.sql import functions as F  # noqa: N812

        back = {str(v): k for k, v in replaced.items()}
        bad = (
            classified.where(F.col("state") == "bad")
            .groupBy("file")
            .agg(F.count("*").alias("n"), F.slice(F.collect_list("text"), 1, 20).alias("texts"))
            .orderBy("file")
            .collect()
        )
        for row in bad:
            path = _local_path(row["file"])
            shown = back.get(str(path), path)
            numbers = locate_lines(path, row["texts"]) if path.exists() else []
            for i in range(int(row["n"])):
                where = f"{shown.name}:{numbers[i]}" if i < len(numbers) else shown.name
                stats.note_bad(f"{where} (not valid JSON)")
        other = classified.where(F.col("state") == "other").count()
        stats.non_resource_lines += int(other)

    def views(self, spark: SparkSession, compiled: CompiledScreen, classified: DataFrame) -> None:
        """Every view table, computed from the checked lines batch by batch by the view runner's SQL."""
        from pyspark.sql import functions as F  # noqa: N812

        for view in compiled.views:
            cv = compile_view(view.view)
            schema = ", ".join(f"`{c.name}` {_SPARK_TYPES.get(c.sql_type, 'string')}" for c in cv.columns)
            sql = f"SELECT * FROM ({cv.sql('(SELECT text AS resource FROM batch)')}) AS _view"
            arrow = _arrow_schema([(c.name, _SPARK_TYPES.get(c.sql_type, "string")) for c in cv.columns])
            lines = classified.where(
                (F.col("state") == "ok") & (F.col("rtype").isNull() | (F.col("rtype") == view.resource_type))
            ).select("text")
            table = lines.mapInArrow(partial(_duckdb_batches, sql, schema=arrow), schema)
            _materialize(table, view.table)


def _materialize(frame: DataFrame, name: str) -> None:
    """Compute ``frame`` now and register it as the temporary view ``name`` with a plan of one step, so that
    later queries neither recompute it nor carry (and optimize) its whole history."""
    frame.localCheckpoint(eager=True).createOrReplaceTempView(name)


def _classified_schema() -> pa.Schema:
    return _arrow_schema([("rtype", "string"), ("file", "string"), ("text", "string"), ("state", "string")])


def _arrow_schema(columns: list[tuple[str, str]]) -> pa.Schema:
    import pyarrow as pa

    types = {"string": pa.string(), "bigint": pa.int64(), "double": pa.float64(), "boolean": pa.bool_()}
    return pa.schema([(name, types[t]) for name, t in columns])


def _local_path(uri: str) -> Path:
    from urllib.parse import unquote, urlparse

    parsed = urlparse(uri)
    return Path(unquote(parsed.path)) if parsed.scheme in ("file", "") else Path(uri)


def _shuffle_partitions(master: str) -> int:
    """Local mode: one partition per core (the criteria steps are small); a cluster: Spark's default."""
    if not master.startswith("local"):
        return 200
    inside = master[len("local") :].strip("[]") or "1"
    return max(2, os.cpu_count() or 2) if inside in ("*", "") else max(2, int(inside.split(",")[0]))


def start_session(master: str = "local[*]", **conf: Any) -> SparkSession:
    """A Spark session for the screen: no UI, few shuffle partitions, UTC, workers on this Python."""
    from pyspark.sql import SparkSession

    # The workers run this interpreter (where mildpath, DuckDB and PyArrow are), unless the caller chose one.
    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    builder = (
        SparkSession.builder.master(master)
        .appName("mildpath population screen")
        .config("spark.ui.enabled", "false")
        .config("spark.ui.showConsoleProgress", "false")
        .config("spark.sql.shuffle.partitions", str(conf.pop("shuffle_partitions", _shuffle_partitions(master))))
        .config("spark.sql.session.timeZone", "UTC")
        .config("spark.sql.execution.arrow.pyspark.enabled", "true")
        .config("spark.pyspark.python", os.environ.get("PYSPARK_PYTHON", sys.executable))
        .config("spark.pyspark.driver.python", sys.executable)
    )
    for key, value in conf.items():
        builder = builder.config(key, value)
    session = builder.getOrCreate()
    session.sparkContext.setLogLevel("ERROR")
    return session
