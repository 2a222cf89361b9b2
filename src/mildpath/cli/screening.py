"""``mildpath screen FILE [--as-of DATE] --json``: screen one patient's FHIR file for mild (contracts §2-§3).

FILE is a FHIR R4 Bundle (any ``type``; ``urn:uuid:`` or ``Patient/`` references) or NDJSON of one patient
(optionally gzip). With ``--json`` the command prints one JSON object::

    {"status", "criteria": [{"id", "status", "evidence": [{"value", "date", "record"}], "source", "role"}],
     "criteria_set": "name@version", "missing": [...], "as_of", "summary", "reasons": [...],
     "cautions": [{"id", "text", "source"}], "not_assessed": [criterion ids]}

Evidence found that did not count (too old, too recent) carries ``"counted": false, "why": "..."``. Without
``--json`` the headline (status, then the cautions and the exclusions not assessed) comes first.

Exit 0 whatever the status; exit 2 with one stderr line naming the file (and line) for unreadable input, a bad
``--as-of`` or an unknown criteria set; exit 1 for an unexpected failure. ``--criteria-set NAME`` picks another
set, looked up in ``--content-dir`` (default ``$MILDPATH_CONTENT_DIR``) before the shipped ones.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from mildpath.cli._common import as_of_date, criteria_rules, emit_json, handles_errors
from mildpath.domain.screening import ScreeningResult, screen
from mildpath.fhir.read import read_fhir_file


def register(app: typer.Typer) -> None:
    app.command("screen")(screen_command)


@handles_errors
def screen_command(
    file: Annotated[str, typer.Argument(metavar="FILE", help="A FHIR R4 Bundle or NDJSON of one patient")],
    as_of: Annotated[
        str | None, typer.Option("--as-of", metavar="DATE", help="Screen as of this date (YYYY-MM-DD); default today")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON on stdout")] = False,
    criteria_set: Annotated[
        str, typer.Option("--criteria-set", metavar="NAME", help="Criteria set name (default: the shipped default)")
    ] = "default",
    content_dir: Annotated[
        Path | None,
        typer.Option(
            "--content-dir",
            envvar="MILDPATH_CONTENT_DIR",
            help="A site's content folder; its criteria/NAME.yaml wins over the shipped set",
        ),
    ] = None,
) -> None:
    """Screen one patient's FHIR record for mild candidacy; the answer supports, never replaces, a specialist."""
    today = as_of_date(as_of)
    rules = criteria_rules(criteria_set, content_dir)
    read = read_fhir_file(file, require_patient=True)  # `{}` is not a patient without findings (issue 21)
    result = screen(rules, read.facts, today)
    if as_json:
        emit_json(result.to_json())
    else:
        _print_plain(result)



def _print_plain(result: ScreeningResult) -> None:
    lines = [f"{result.status.value}: {result.summary}"]
    lines += [f"  CAUTION: {c.text} (source {c.source})" for c in result.cautions]
    if result.not_assessed:
        lines.append(f"  not assessed (no record either way): {', '.join(result.not_assessed)}")
    lines.append(f"criteria set {result.criteria_set}, as of {result.as_of}")
    lines += [f"  reason: {r}" for r in result.reasons]
    lines += [f"  missing: {m}" for m in result.missing]
    for f in result.findings:
        lines.append(
            f"  [{f.status.value:>7}] {f.criterion.id} ({f.criterion.role.value}; source {f.criterion.source})"
        )
        for e in f.evidence:
            lines.append(f"             {e.record}: {e.value} ({e.date or 'undated'})")
        for e in f.uncounted:
            lines.append(f"             {e.record}: {e.value} ({e.date or 'undated'}) NOT COUNTED: {e.why}")
    typer.echo("\n".join(lines))
