"""``mildpath view run`` and ``mildpath view export`` (contracts §2; issue 12).

``view run VIEW.json SOURCE``: a SQL on FHIR v2 ViewDefinition over an NDJSON file or a Bulk export.

``json`` prints one array of row objects on stdout (``--out`` writes it to a file instead); ``ndjson`` one
object per line; ``csv`` a header and rows (collections as JSON arrays); ``parquet`` needs ``--out``.
Exit 2, with one line on stderr, for an invalid view, for a view the specification says must fail on the data
(a path returning several values in a column that is not ``collection: true``) and for unreadable input.
Lines that are not resources (an exporter's ``log.ndjson``) and corrupt lines are skipped and counted on stderr.

``view export --out DIR [--as-of DATE] [--criteria-set NAME] [--content-dir DIR]``: the ViewDefinitions, the
criteria set's ValueSets (one JSON each, a Bundle, a CSV table) and the screening SQL for DuckDB and Spark, with a
README and a manifest naming the criteria set ``name@version`` (:mod:`mildpath.population.package`). Prints a JSON
summary. Exit 2 when DIR is a file or a folder holding other files, for a bad date or an unknown criteria set.

Only the standard library and Typer are imported here: the runner (and DuckDB) load when the command runs.
"""

from __future__ import annotations

import json
import sys
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer

from mildpath.cli._common import as_of_date, bad_input, criteria_rules, emit_json, handles_errors

app = typer.Typer(
    help="Run SQL on FHIR v2 ViewDefinitions over FHIR NDJSON.",
    no_args_is_help=True,
    add_completion=False,
)


class Format(StrEnum):
    json = "json"
    csv = "csv"
    parquet = "parquet"
    ndjson = "ndjson"


@app.callback()
def views() -> None:
    """SQL on FHIR v2 views (ViewDefinitions) compiled to SQL for embedded DuckDB (and Spark)."""


def _read_view(path: Path) -> object:
    try:
        text = path.read_text(encoding="utf-8")
    except (FileNotFoundError, IsADirectoryError, PermissionError, UnicodeDecodeError) as exc:
        bad_input(f"{path}: cannot read the view: {exc.strerror if isinstance(exc, OSError) else exc}")
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        bad_input(f"{path}:{exc.lineno}: the view is not valid JSON: {exc.msg}")


@app.command("run")
@handles_errors
def run(
    view: Annotated[Path, typer.Argument(help="The ViewDefinition (JSON).")],
    source: Annotated[Path, typer.Argument(help="An NDJSON file (.ndjson, .ndjson.gz) or a Bulk export folder.")],
    fmt: Annotated[Format, typer.Option("--format", help="Output format.")] = Format.json,
    out: Annotated[Path | None, typer.Option("--out", help="Write to FILE instead of stdout.")] = None,
) -> None:
    """Run VIEW over SOURCE and print (or write) its rows."""
    definition = _read_view(view)
    from mildpath.population.views import write_view

    stats = write_view(definition, source, fmt.value, out)
    note = stats.summary()
    if note:
        sys.stderr.write(f"note: {note}\n")


@app.command("export")
@handles_errors
def export(
    out: Annotated[Path, typer.Option("--out", metavar="DIR", help="The folder to write the package to.")],
    as_of: Annotated[
        str | None,
        typer.Option("--as-of", metavar="DATE", help="Compile the screen as of this date (YYYY-MM-DD); default today."),
    ] = None,
    criteria_set: Annotated[
        str, typer.Option("--criteria-set", metavar="NAME", help="Criteria set name (default: the shipped default).")
    ] = "default",
    content_dir: Annotated[
        Path | None,
        typer.Option("--content-dir", envvar="MILDPATH_CONTENT_DIR", help="A site's content folder (criteria sets)."),
    ] = None,
) -> None:
    """Write the views, ValueSets and screening SQL as one portable package, versioned with the criteria set."""

    day = as_of_date(as_of)
    rules = criteria_rules(criteria_set, content_dir)
    from mildpath.population.package import write_package

    manifest = write_package(out, rules, day)
    emit_json(
        {
            "out": str(out),
            "criteria_set": manifest["criteria_set"],
            "as_of": manifest["as_of"],
            "views": len(manifest["views"]),
            "valuesets": len(manifest["valuesets"]),
            "files": len(manifest["files"]) + 1,
        }
    )
