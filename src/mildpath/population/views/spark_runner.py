"""Run compiled views on Spark SQL: over a DataFrame of raw JSON lines, an NDJSON file or export folder, or
resources held in memory. The counterpart of :mod:`runner` (DuckDB) for the population engine's Spark path.

The view is compiled with the Spark dialect (``compile_view(view, dialect="spark")``) and runs as plain Spark SQL
over a temporary view whose one STRING column holds one resource's JSON per row, exactly as
``spark.read.text`` reads NDJSON. Nothing runs in Python workers, so a cluster needs no mildpath on its executors.
JSON columns come out as JSON text (STRING), as DuckDB's JSON type is text.

PySpark is imported inside the functions (conventions: heavy engines load lazily); callers own the session.
"""

from __future__ import annotations

import itertools
import json
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from mildpath.population.views.compiler import CompiledView, compile_view
from mildpath.population.views.errors import InvalidView, ViewDataError
from mildpath.population.views.model import ViewDefinition
from mildpath.population.views.runner import python_value
from mildpath.population.views.source import SourceStats, discover, select_files
from mildpath.population.views.sql import ERROR_MARKER

if TYPE_CHECKING:
    from pyspark.sql import DataFrame, SparkSession

ViewLike = CompiledView | ViewDefinition | Mapping[str, Any] | Any
_names = itertools.count()


def compile_for_spark(view: ViewLike, *, resource_column: str = "resource") -> CompiledView:
    """The view compiled with the Spark dialect (a DuckDB-compiled view is compiled again)."""
    if isinstance(view, CompiledView):
        if view.dialect.name == "spark" and view.resource_column == resource_column:
            return view
        view = view.view
    return compile_view(view, resource_column=resource_column, dialect="spark")


def check_version(version: str) -> None:
    """Refuse Spark before 4.0: the dialect parses JSON into VARIANT (``try_parse_json``, ``try_variant_get``)."""
    major = version.split(".", 1)[0]
    if not major.isdigit() or int(major) < 4:
        raise InvalidView(f"the Spark dialect needs Spark 4.0 or later (VARIANT); this session runs Spark {version}")


def view_frame(view: ViewLike, spark: SparkSession, lines: DataFrame, *, column: str = "resource") -> DataFrame:
    """The view's rows (a lazy DataFrame) over ``lines``, whose STRING column ``column`` holds raw resources.

    ``lines`` may hold other resource types and non-resource lines: the compiled SQL keeps its own type.
    A line that is not JSON is dropped. Errors the specification requires (e.g. several values in a column
    that is not a collection) surface when the frame is evaluated; :func:`collect_rows` turns them into
    :class:`~mildpath.population.views.errors.ViewDataError`.
    """
    check_version(spark.version)
    compiled = compile_for_spark(view, resource_column=column)
    name = f"mp_view_lines_{next(_names)}"
    lines.createOrReplaceTempView(name)
    return spark.sql(compiled.sql(name))


def read_lines(spark: SparkSession, source: Path | str, resource_types: set[str]) -> tuple[DataFrame, SourceStats]:
    """An NDJSON file or export folder as a DataFrame of text lines (column ``resource``), reading only the
    files that may hold ``resource_types`` (see :func:`~mildpath.population.views.source.select_files`)."""
    files = select_files(discover(source), resource_types) if Path(source).is_dir() else discover(source)
    stats = SourceStats(files_read=len(files), bytes_read=sum(f.size for f in files))
    if not files:
        return spark.createDataFrame([], "resource string"), stats
    frame = spark.read.text([str(f.path) for f in files]).withColumnRenamed("value", "resource")
    return frame, stats


def collect_rows(compiled: CompiledView, frame: DataFrame) -> list[dict[str, Any]]:
    """The rows of a view's frame as dicts in column order (JSON columns parsed), as the DuckDB runner gives."""
    try:
        records = frame.collect()
    except Exception as exc:  # noqa: BLE001 - Py4J and PySpark errors share no base class worth naming
        message = str(exc)
        if ERROR_MARKER in message:
            detail = message[message.index(ERROR_MARKER) + len(ERROR_MARKER) :].splitlines()[0]
            raise ViewDataError(detail.split(" SQLSTATE")[0].strip()) from None
        raise
    columns = [(c.name, c.sql_type) for c in compiled.columns]
    return [{name: python_value(record[i], t) for i, (name, t) in enumerate(columns)} for record in records]


def evaluate_spark(
    view: ViewLike, resources: Iterable[Mapping[str, Any] | str], spark: SparkSession
) -> list[dict[str, Any]]:
    """The view's rows over resources held in memory (dicts or JSON text), run by Spark SQL."""
    compiled = compile_for_spark(view)
    lines = [(r if isinstance(r, str) else json.dumps(r, separators=(",", ":")),) for r in resources]
    frame = spark.createDataFrame(lines, "resource string")
    return collect_rows(compiled, view_frame(compiled, spark, frame))


def run_rows_spark(view: ViewLike, source: Path | str, spark: SparkSession) -> tuple[list[dict[str, Any]], SourceStats]:
    """The view's rows over an NDJSON file or export folder, run by Spark SQL (for modest results)."""
    compiled = compile_for_spark(view)
    lines, stats = read_lines(spark, source, {compiled.resource_type})
    return collect_rows(compiled, view_frame(compiled, spark, lines)), stats
