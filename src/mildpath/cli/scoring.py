"""``mildpath score odi | zcq | nprs``: score one questionnaire from the command line (contracts §2 and §4).

Answers are comma-separated; an empty field is an unanswered item (``3,2,1,0,4,5,2,,1,3``: section 8 missing).
Too many missing items is a clinical answer, not an error: the score is ``null`` and the exit code 0. An invalid
answer (out of range, not a number, the wrong number of fields) exits 2 with one line naming the item.
"""

from __future__ import annotations

import sys
from typing import Annotated, Any

import typer

from mildpath.cli._common import bad_input, emit_json, handles_errors
from mildpath.domain.instruments import Score, score_nprs, score_odi, score_zcq

app = typer.Typer(
    help="Score a questionnaire (ODI, ZCQ, NPRS) from its answers.",
    no_args_is_help=True,
    add_completion=False,
)

JsonFlag = Annotated[bool, typer.Option("--json", help="Print JSON on stdout.")]


def _fields(text: str) -> list[str]:
    """``"3,2,,1"`` -> ``["3", "2", "", "1"]`` (blanks around a value are ignored)."""
    return [field.strip() for field in text.split(",")]


def _num(value: Any) -> float | None:
    return None if value is None else float(value)


def _note_missing(result: Score) -> None:
    """A missing score is a valid answer (exit 0); say why on stderr, where notes belong."""
    reasons = [r for r in (result.reason, *(s.reason for s in result.subscales)) if r]
    for reason in reasons:
        sys.stderr.write(f"note: {reason}\n")


@app.command("odi")
@handles_errors
def odi(
    answers: Annotated[str, typer.Argument(help="Ten answers 0-5 separated by commas; empty = not answered.")],
    as_json: JsonFlag = False,
) -> None:
    """Oswestry Disability Index v2.1a: percent score (two decimals) and band."""
    result = score_odi(_fields(answers))
    if as_json:
        emit_json(
            {
                "score": _num(result.value),
                "band": result.band,
                "answered": result.answered,
                "missing": list(result.missing),
            }
        )
        _note_missing(result)
        return
    if result.value is None:
        typer.echo(f"ODI: no score ({result.reason})")
        return
    missing = f"; section {result.missing[0]} missing" if result.missing else ""
    band = (result.band or "").replace("_", "-")
    typer.echo(f"ODI {result.value}% ({band}), {result.answered} of 10 sections answered{missing}")


@app.command("zcq")
@handles_errors
def zcq(
    severity: Annotated[str, typer.Option("--severity", help="Seven answers (items 1-7), 1-5; item 7: 1/3/5.")],
    function: Annotated[str, typer.Option("--function", help="Five answers (items 8-12), 1-4.")],
    satisfaction: Annotated[
        str | None, typer.Option("--satisfaction", help="Six answers (items 13-18), 1-4; after treatment only.")
    ] = None,
    as_json: JsonFlag = False,
) -> None:
    """Zurich Claudication Questionnaire: severity, function and satisfaction means."""
    result = score_zcq(_fields(severity), _fields(function), None if satisfaction is None else _fields(satisfaction))
    subs = {name: result.subscale(name) for name in ("severity", "function", "satisfaction")}
    if as_json:
        emit_json({name: _num(sub.value) for name, sub in subs.items()})
        if satisfaction is None:  # not asked is not worth a note; a part with too many gaps is
            subs.pop("satisfaction")
        for sub in subs.values():
            if sub.reason:
                sys.stderr.write(f"note: {sub.reason}\n")
        return
    parts = [f"{name} {sub.value if sub.value is not None else 'no score'}" for name, sub in subs.items()]
    if satisfaction is None:
        parts[-1] = "satisfaction not asked"
    typer.echo("ZCQ " + ", ".join(parts))


@app.command("nprs")
@handles_errors
def nprs(
    back: Annotated[str | None, typer.Option("--back", help="Back pain 0-10.")] = None,
    leg: Annotated[str | None, typer.Option("--leg", help="Leg pain 0-10.")] = None,
    as_json: JsonFlag = False,
) -> None:
    """Numeric Pain Rating Scale 0-10, back and leg separately (give at least one)."""
    if back is None and leg is None:
        bad_input("nprs: give --back, --leg or both")
    result = score_nprs(back, leg)
    values = {name: result.subscale(name).value for name in ("back", "leg")}
    if as_json:
        emit_json({name: None if v is None else int(v) for name, v in values.items()})
        return
    typer.echo("NPRS " + ", ".join(f"{name} {'-' if v is None else int(v)}/10" for name, v in values.items()))
