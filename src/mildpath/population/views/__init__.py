"""SQL on FHIR v2 ViewDefinitions, compiled to SQL and run on embedded DuckDB or on Spark.

The library in three calls::

    compiled = compile_view(view_json)            # validate + compile; InvalidView when refused
    compiled = compile_view(view_json, dialect="spark")   # the same view as Spark SQL (see views.sql)
    sql = compiled.sql("my_table")                # SELECT ... over a relation whose `resource` column
                                                  # holds one resource's JSON text per row
    rows = evaluate(view_json, resources)         # in memory, a list of dicts
    stats = write_view(view_json, "export/", "parquet", "out.parquet")   # files, what `view run` does

``execute(compiled, source, action)`` hands ``action(con, sql)`` the query already pointed at a source's
lines (with the sanitising fallback for corrupt input), for engines that want to wrap the SQL themselves.

On Spark (:mod:`spark_runner`, PySpark imported only when called): ``view_frame(view, spark, lines_df)`` is the
view's rows as a DataFrame over a DataFrame of raw JSON lines; ``evaluate_spark`` and ``run_rows_spark`` mirror
``evaluate`` and ``run_rows``.
"""

from mildpath.population.views.compiler import CompiledView, OutputColumn, compile_view
from mildpath.population.views.errors import InvalidView, SourceError, ViewDataError, ViewError
from mildpath.population.views.model import ViewDefinition, parse_view
from mildpath.population.views.runner import connect, evaluate, execute, fetch_rows, run_rows, write_view
from mildpath.population.views.source import SourceStats, discover, select_files, text_relation
from mildpath.population.views.spark_runner import evaluate_spark, read_lines, run_rows_spark, view_frame
from mildpath.population.views.sql import Dialect, SparkDialect, dialect_named

__all__ = [
    "CompiledView",
    "Dialect",
    "InvalidView",
    "OutputColumn",
    "SourceError",
    "SourceStats",
    "SparkDialect",
    "ViewDataError",
    "ViewDefinition",
    "ViewError",
    "compile_view",
    "connect",
    "dialect_named",
    "discover",
    "evaluate",
    "evaluate_spark",
    "execute",
    "fetch_rows",
    "parse_view",
    "read_lines",
    "run_rows",
    "run_rows_spark",
    "select_files",
    "text_relation",
    "view_frame",
    "write_view",
]
