"""The Spark engine: the same screen on PySpark, for exports larger than one machine (issue 9, issue 12).

PySpark is imported when the engine starts (``--engine spark``), never when mildpath is imported. The work is
split the way the DuckDB engine splits it, each step distributed:

1. Spark reads the export's files as text (``spark.read.text``) and keeps, with the same text tests, the lines
   the screen can use (every Patient line; other lines holding one of the compiled screen's needles, or not
   looking like one JSON object).
2. The same step checks each line in Spark SQL (valid JSON, a resource, UTF-8: ``is_valid_utf8``), and each
   view runs as Spark SQL over the checked lines: the view compiler's Spark dialect
   (``compile_view(view, dialect="spark")``). Nothing runs in Python workers.
3. The facts and the criteria run as Spark SQL (:class:`~mildpath.population.compile.SparkSql`), the result is
   written as Parquet in patient order and streamed back in batches.

A gzip file that ends early fails Spark's reader; the engine then repairs the export's gzip files that do not
read to their end (:func:`~mildpath.population.reading.repair_gzip`) and reads again. On a cluster
(``--master spark://...``, or ``MILDPATH_SPARK_MASTER``) the executors need only Java and the export on a path
they can all read: no Python code runs on them.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

from mildpath.population.compile import CompiledScreen
from mildpath.population.reading import (
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
# Each kept line, checked in Spark SQL as the DuckDB engine checks it: a byte-order mark and surrounding blanks
# dropped; bytes that are not UTF-8 (kept as read by Spark's text reader; shown with U+FFFD in their place, as a
# reader decoding with replacement would) or text that is not JSON make a bad line; JSON that is not an object
# naming its resourceType is another kind of line.
_CLASSIFY = (
    "SELECT rtype, file, text, CASE WHEN text = '' THEN 'blank' "
    "WHEN NOT utf8 OR instr(text, '\\uFFFD') > 0 THEN 'bad' WHEN try_parse_json(text) IS NULL THEN 'bad' "
    "WHEN NOT startswith(text, '{{') "
    "OR try_variant_get(try_parse_json(text), '$.resourceType', 'string') IS NULL THEN 'other' "
    "ELSE 'ok' END AS state FROM (SELECT rtype, file, is_valid_utf8(value) AS utf8, trim(BOTH ' \\t\\r' FROM "
    "CASE WHEN startswith(value, '\\uFEFF') THEN substr(make_valid_utf8(value), 2) ELSE make_valid_utf8(value) END"
    ") AS text FROM {lines})"
)


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
            self.kept_lines(spark, compiled, files, replaced).createOrReplaceTempView("mp_lines")
            classified = spark.sql(_CLASSIFY.format(lines="mp_lines")).persist(StorageLevel.MEMORY_AND_DISK)
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
        """Every view table, computed from the checked lines by the view's Spark SQL (the view compiler's Spark
        dialect), its columns cast to the types the fact tables read."""
        from pyspark.sql import functions as F  # noqa: N812

        for view in compiled.views:
            cv = compile_view(view.view, resource_column="text", dialect="spark")
            lines = classified.where(
                (F.col("state") == "ok") & (F.col("rtype").isNull() | (F.col("rtype") == view.resource_type))
            ).select("text")
            lines.createOrReplaceTempView("mp_view_lines")
            columns = ", ".join(
                f"CAST(`{c.name}` AS {_SPARK_TYPES.get(c.sql_type, 'string')}) AS `{c.name}`" for c in cv.columns
            )
            _materialize(spark.sql(f"SELECT {columns} FROM ({cv.sql('mp_view_lines')}) AS _view"), view.table)


def _materialize(frame: DataFrame, name: str) -> None:
    """Compute ``frame`` now and register it as the temporary view ``name`` with a plan of one step, so that
    later queries neither recompute it nor carry (and optimize) its whole history."""
    frame.localCheckpoint(eager=True).createOrReplaceTempView(name)


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
