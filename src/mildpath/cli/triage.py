"""``mildpath triage FILE --json``: classify one symptom-diary entry (contracts §2; issue 6).

FILE holds one JSON object with the diary fields of :class:`~mildpath.domain.diary.DiaryEntry` (``-`` reads
stdin). A field left out or ``null`` is "not reported". With ``--json`` the command prints
``{"level", "reasons": [...], "advice", "matched": [...]}`` (contracts §8: ``notes`` and ``activity`` are read by
the symptom reader; an optional ``"language": "en"|"es"`` picks the wording, default ``en``); without it, the
same in plain lines. Exit 0 whatever the level;
exit 2 with one stderr line naming the file and field for bad JSON, an invalid value (pain 11, an unknown
incision value, an unknown field) or an entry with no answer and no text; exit 1 for an unexpected failure.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated, Any

import typer

from mildpath.cli._common import bad_input, emit_json, handles_errors
from mildpath.content.sources import ContentError
from mildpath.content.symptoms import load_symptom_vocabulary
from mildpath.content.triage import load_triage_rules
from mildpath.domain.diary import DiaryEntry
from mildpath.domain.errors import InvalidInput
from mildpath.domain.triage import TriageResult, classify


def register(app: typer.Typer) -> None:
    app.command("triage")(triage)


@handles_errors
def triage(
    file: Annotated[str, typer.Argument(metavar="FILE", help="A JSON diary entry; - reads stdin")],
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON on stdout")] = False,
    rules: Annotated[
        Path | None, typer.Option("--rules", help="A site's triage rules YAML instead of the shipped one")
    ] = None,
) -> None:
    """Classify a diary entry after the mild procedure: emergency, same_day, review or expected."""
    name = "stdin" if file == "-" else file
    entry = _read_entry(file, name)
    try:
        rule_set = load_triage_rules(rules)
    except ContentError as exc:
        bad_input(f"--rules: {exc}")
    result = classify(entry, rule_set, load_symptom_vocabulary(), language="en")
    if as_json:
        emit_json(result.to_json())
    else:
        _print_plain(result)


def _read_entry(file: str, name: str) -> DiaryEntry:
    text = sys.stdin.read() if file == "-" else Path(file).read_text(encoding="utf-8")
    try:
        data: Any = json.loads(text)
    except json.JSONDecodeError as exc:
        bad_input(f"{name}: not valid JSON at line {exc.lineno} column {exc.colno}: {exc.msg}")
    try:
        entry = DiaryEntry.from_mapping(data)
    except InvalidInput as exc:
        bad_input(f"{name}: {exc.message}")
    if entry.is_empty():
        bad_input(f"{name}: the entry holds no answer and no text; answer a question or write a note")
    return entry


def _print_plain(result: TriageResult) -> None:
    lines = [f"level: {result.level.value}", *(f"- {reason}" for reason in result.reasons), result.advice]
    sys.stdout.write("\n".join(lines) + "\n")
