"""Run compiled views on embedded DuckDB: over an NDJSON file or export folder, or over resources in memory.

``write_view(view, source, out, fmt)`` is what ``mildpath view run`` calls; ``evaluate(view, resources)``
runs a view over Python dicts (the conformance suite, tests); ``execute(compiled, source, action)`` is the
building block both use, and what another engine can imitate: it hands the compiled SQL, already pointed at
the source's lines, to ``action``. DuckDB is imported inside the functions, so importing this module is cheap.
"""

from __future__ import annotations

import json
import shutil
import sys
import tempfile
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from mildpath.population.views.compiler import CompiledView, compile_view
from mildpath.population.views.errors import SourceError, ViewDataError
from mildpath.population.views.model import ViewDefinition
from mildpath.population.views.source import SourceStats, discover, sanitize, select_files, text_relation
from mildpath.population.views.sql import ERROR_MARKER, ident, quote

if TYPE_CHECKING:
    import duckdb

T = TypeVar("T")
FORMATS = ("json", "ndjson", "csv", "parquet")
_EMPTY_RELATION = "(SELECT CAST(NULL AS VARCHAR) AS resource WHERE false)"
# A view as JSON (parsed, validated and compiled on use), already parsed, or already compiled.
ViewLike = CompiledView | ViewDefinition | Mapping[str, Any] | Any


def connect(threads: int | None = None) -> duckdb.DuckDBPyConnection:
    """An in-memory DuckDB connection (all cores unless ``threads`` is given)."""
    import duckdb

    con = duckdb.connect(":memory:")
    if threads:
        con.execute(f"SET threads = {int(threads)}")
    return con


def _view_error(exc: Exception) -> ViewDataError | None:
    """The specification's data error hidden in a DuckDB error, if that is what it is."""
    message = str(exc)
    if ERROR_MARKER not in message:
        return None
    return ViewDataError(message[message.index(ERROR_MARKER) + len(ERROR_MARKER) :].strip())


def _compiled(view: ViewLike) -> CompiledView:
    return view if isinstance(view, CompiledView) else compile_view(view)


def execute(
    view: ViewLike,
    source: Path | str,
    action: Callable[[duckdb.DuckDBPyConnection, str], T],
    *,
    con: duckdb.DuckDBPyConnection | None = None,
) -> tuple[T, SourceStats]:
    """Call ``action(con, sql)`` with the view's query over the source's lines; return its result and stats.

    ``action`` may run more than once: if DuckDB cannot read the files as they are (a corrupt line, a
    truncated gzip), the files are sanitised into a temporary NDJSON file and ``action`` runs again on it.
    """
    import duckdb

    compiled = _compiled(view)
    files = discover(source)
    wanted = select_files(files, {compiled.resource_type})
    stats = SourceStats(
        files_read=len(wanted), bytes_read=sum(f.size for f in wanted), files_skipped=len(files) - len(wanted)
    )
    con = con or connect()
    relation = text_relation([f.path for f in wanted], compiled.resource_column) if wanted else _EMPTY_RELATION
    try:
        result = action(con, compiled.sql(relation))
        mixed = [f.path for f in wanted if f.resource_type is None]
        non_resource, unreadable = _count_other_lines(con, mixed, compiled.resource_column) if mixed else (0, 0)
        if not unreadable:
            stats.non_resource_lines = non_resource
            return result, stats
    except (duckdb.BinderException, duckdb.ParserException, duckdb.CatalogException):
        raise  # a compiler defect, not bad input: exit 1 with the trace
    except duckdb.Error as exc:
        error = _view_error(exc)
        if error is not None:
            raise error from None
    stats = SourceStats(files_read=len(wanted), bytes_read=stats.bytes_read, files_skipped=stats.files_skipped)
    with tempfile.TemporaryDirectory(prefix="mildpath-view-") as tmp:
        clean = Path(tmp) / "clean.ndjson"
        sanitize(wanted, {compiled.resource_type}, clean, stats)
        try:
            return action(con, compiled.sql(text_relation([clean], compiled.resource_column))), stats
        except duckdb.Error as exc:
            error = _view_error(exc)
            if error is not None:
                raise error from None
            raise


def _count_other_lines(con: duckdb.DuckDBPyConnection, paths: list[Path], column: str) -> tuple[int, int]:
    """(lines that are not resources, of which not JSON) in files that name no type: a text test, then a parse
    of those lines only (an exporter's log is small)."""
    raw = ident(column)
    other = f"{raw} IS NOT NULL AND trim({raw}) <> '' AND NOT contains({raw}, '\"resourceType\"')"
    row = con.execute(
        f"SELECT count(*), count(*) FILTER (WHERE NOT json_valid({raw})) FROM {text_relation(paths, column)} "
        f"WHERE {other}"
    ).fetchone()
    return (int(row[0]), int(row[1])) if row else (0, 0)


def _copy_options(fmt: str) -> str:
    return {
        "json": "FORMAT json, ARRAY true",
        "ndjson": "FORMAT json",
        "csv": "FORMAT csv, HEADER true",
        "parquet": "FORMAT parquet",
    }[fmt]


def _output_sql(compiled: CompiledView, sql: str, fmt: str) -> str:
    """CSV cells hold text: collections are written as JSON arrays."""
    if fmt != "csv" or not any(c.collection for c in compiled.columns):
        return sql
    fields = ", ".join(
        f"to_json({ident(c.name)}) AS {ident(c.name)}" if c.collection else ident(c.name) for c in compiled.columns
    )
    return f"SELECT {fields} FROM ({sql}) AS _view"


def write_view(
    view: ViewLike,
    source: Path | str,
    fmt: str,
    out: Path | str | None = None,
    *,
    con: duckdb.DuckDBPyConnection | None = None,
) -> SourceStats:
    """Run ``view`` over ``source`` and write the rows as ``fmt`` to ``out`` (stdout when None).

    ``json`` is one array of row objects; ``ndjson`` one object per line; ``csv`` has a header row; ``parquet``
    needs ``out``. The rows go through a file written by DuckDB, so nothing reaches stdout if the run fails.
    """
    if fmt not in FORMATS:
        raise SourceError(f"unknown format {fmt!r}; use one of {', '.join(FORMATS)}")
    if fmt == "parquet" and out is None:
        raise SourceError("parquet is binary: give --out FILE")
    compiled = _compiled(view)
    with tempfile.TemporaryDirectory(prefix="mildpath-view-") as tmp:
        target = Path(out) if out is not None else Path(tmp) / f"rows.{fmt}"

        def copy(con: duckdb.DuckDBPyConnection, sql: str) -> None:
            con.execute(f"COPY ({_output_sql(compiled, sql, fmt)}) TO {quote(str(target))} ({_copy_options(fmt)})")

        _, stats = execute(compiled, source, copy, con=con)
        if out is None:
            with target.open("rb") as handle:
                shutil.copyfileobj(handle, sys.stdout.buffer)
            sys.stdout.flush()
    return stats


def python_value(value: Any, sql_type: str) -> Any:
    """A value of a view's row as Python: the JSON columns (and lists of them) parsed, the others as they are."""
    if value is None or not sql_type.startswith("JSON"):
        return value
    if sql_type.endswith("[]"):
        return [None if v is None else json.loads(v) for v in value]
    return json.loads(value)


def fetch_rows(
    compiled: CompiledView, con: duckdb.DuckDBPyConnection, sql: str, params: Any = None
) -> list[dict[str, Any]]:
    """Run ``sql`` (a query of ``compiled``) and return its rows as dicts in column order."""
    import duckdb

    try:
        result = con.execute(sql, params) if params is not None else con.execute(sql)
        records = result.fetchall()
    except duckdb.Error as exc:
        error = _view_error(exc)
        if error is not None:
            raise error from None
        raise
    types = [c.sql_type for c in compiled.columns]
    names = compiled.column_names
    return [{n: python_value(v, t) for n, v, t in zip(names, record, types, strict=True)} for record in records]


def evaluate(
    view: ViewLike,
    resources: Iterable[Mapping[str, Any] | str],
    *,
    con: duckdb.DuckDBPyConnection | None = None,
) -> list[dict[str, Any]]:
    """The view's rows over resources held in memory (dicts or JSON text), as a list of dicts."""
    compiled = _compiled(view)
    lines = [r if isinstance(r, str) else json.dumps(r, separators=(",", ":")) for r in resources]
    relation = f"(SELECT unnest(CAST(? AS VARCHAR[])) AS {ident(compiled.resource_column)})"
    return fetch_rows(compiled, con or connect(), compiled.sql(relation), [lines])


def run_rows(
    view: ViewLike,
    source: Path | str,
    *,
    con: duckdb.DuckDBPyConnection | None = None,
) -> tuple[list[dict[str, Any]], SourceStats]:
    """The view's rows over an NDJSON file or export folder, as dicts (for modest results)."""
    compiled = _compiled(view)
    return execute(compiled, source, lambda c, sql: fetch_rows(compiled, c, sql), con=con)
