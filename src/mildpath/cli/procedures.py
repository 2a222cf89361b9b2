"""``mildpath procedure validate | note | instructions``: the procedure day from the command line (issue 5).

FILE is a procedure-day JSON document (``{"record": {...}, "checklist": ..., "observations": [...], ...}``) or a
bare procedure record. ``validate`` prints every error and plausibility warning and exits 2 when the file is
invalid (one line on stderr names the first error); warnings alone exit 0. ``note`` writes the printable
procedure note (``.pdf`` or ``.html`` by the file's extension); ``instructions`` the patient's discharge
instructions.
"""

from __future__ import annotations

import json
import sys
from datetime import date
from pathlib import Path
from typing import Annotated, Any

import typer

from mildpath.cli._common import bad_input, emit_json, handles_errors
from mildpath.content.procedure import policies
from mildpath.domain.errors import InvalidRecord
from mildpath.domain.procedure import ProcedureDay, parse_procedure_day, procedure_day_problems
from mildpath.services.clock import today

app = typer.Typer(
    help="Procedure day: validate a procedure record, print the procedure note or the discharge instructions.",
    no_args_is_help=True,
    add_completion=False,
)

FileArg = Annotated[Path, typer.Argument(help="A procedure-day JSON file (or a bare procedure record).")]
OutOpt = Annotated[Path, typer.Option("--out", help="Where to write: a .pdf or .html file.")]
AsOfOpt = Annotated[str | None, typer.Option("--as-of", help="Judge dates as of this day (YYYY-MM-DD); default today.")]
PatientOpt = Annotated[str, typer.Option("--patient", help="The patient's name or identifier, as printed.")]


def _as_of(value: str | None) -> date:
    if value is None:
        return today()  # the CLI reads the clock; the domain receives the day as a parameter
    try:
        return date.fromisoformat(value)
    except ValueError:
        bad_input(f"--as-of: {value!r} is not a date (YYYY-MM-DD)")


def _read_json(path: Path) -> Any:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        bad_input(f"{path}:{exc.lineno}: not valid JSON: {exc.msg}")


def _load(path: Path) -> ProcedureDay:
    return parse_procedure_day(_read_json(path))


def _output_kind(out: Path) -> str:
    kind = out.suffix.lower().lstrip(".")
    if kind not in {"pdf", "html", "htm"}:
        bad_input(f"--out: {out} must end in .pdf or .html")
    return "pdf" if kind == "pdf" else "html"


def _write(out: Path, kind: str, html: str) -> None:
    if kind == "pdf":
        from mildpath.reports.pdf import html_to_pdf
        from mildpath.reports.procedure_note import TEMPLATES

        out.write_bytes(html_to_pdf(html, base_url=TEMPLATES))
    else:
        out.write_text(html, encoding="utf-8")
    sys.stderr.write(f"wrote {out}\n")


@app.command("validate")
@handles_errors
def validate(
    file: FileArg,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON on stdout.")] = False,
    as_of: AsOfOpt = None,
) -> None:
    """Check a procedure record (and the rest of its day): errors exit 2, warnings are printed."""
    today = _as_of(as_of)
    duration: int | None = None
    try:
        day = _load(file)
    except InvalidRecord as exc:
        errors: list[dict[str, Any]] = list(exc.data.get("errors") or [{"field": exc.field, "message": exc.message}])
        warnings: list[dict[str, Any]] = []
    else:
        found_errors, found_warnings = procedure_day_problems(day, today=today, policies=policies())
        errors = [p.as_dict() for p in found_errors]
        warnings = [p.as_dict() for p in found_warnings]
        duration = day.record.duration_minutes
    if errors:
        duration = None  # a record with errors has no trustworthy duration (an end before the start ...)
    if as_json:
        emit_json(
            {
                "file": str(file),
                "valid": not errors,
                "errors": errors,
                "warnings": warnings,
                "duration_minutes": duration,
            }
        )
    else:
        for error in errors:
            sys.stdout.write(f"error: {error['field']}: {error['message']}\n")
        for warning in warnings:
            sys.stdout.write(f"warning: {warning['field']}: {warning['message']}\n")
        if not errors:
            minutes = f" ({duration} minutes)" if duration is not None else " (in progress)"
            sys.stdout.write(f"{file}: valid{minutes}, {len(warnings)} warning(s)\n")
    if errors:
        first = errors[0]
        more = f" (and {len(errors) - 1} more)" if len(errors) > 1 else ""
        bad_input(f"{file}: {first['field']}: {first['message']}{more}")


@app.command("note")
@handles_errors
def note(file: FileArg, out: OutOpt, patient: PatientOpt = "not stated", as_of: AsOfOpt = None) -> None:
    """Write the printable procedure note of FILE (PDF or HTML). An invalid file exits 2 and writes nothing."""
    from mildpath.reports.procedure_note import procedure_note_html

    kind = _output_kind(out)
    try:
        html = procedure_note_html(_load(file), patient=patient, today=_as_of(as_of))
    except InvalidRecord as exc:
        bad_input(f"{file}: {exc.message}")
    _write(out, kind, html)


@app.command("instructions")
@handles_errors
def instructions(
    out: OutOpt,
    patient: PatientOpt = "",
    procedure_date: Annotated[
        str | None, typer.Option("--procedure-date", help="The procedure date to print (YYYY-MM-DD).")
    ] = None,
) -> None:
    """Write the patient's discharge instructions (PDF or HTML), in plain words from cited content."""
    from mildpath.reports.procedure_note import discharge_instructions_html

    kind = _output_kind(out)
    when = None
    if procedure_date is not None:
        try:
            when = date.fromisoformat(procedure_date)
        except ValueError:
            bad_input(f"--procedure-date: {procedure_date!r} is not a date (YYYY-MM-DD)")
    _write(out, kind, discharge_instructions_html(patient=patient, procedure_date=when))
