"""``mildpath education``: ask the patient library a question, or print a page as a handout (contracts §2).

Search builds its FTS5 index in memory from the content files, so neither command needs a database.
"""

from __future__ import annotations

import sys
from pathlib import Path

import typer

from mildpath.cli._common import bad_input, emit_json, handles_errors
from mildpath.content.education import check_language
from mildpath.domain.errors import NotFound

app = typer.Typer(
    help="Patient education: search the library, print handouts.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)

LANG_OPTION = typer.Option("en", "--lang", help="Language of the pages: en or es.")


@app.command()
@handles_errors
def search(
    question: str = typer.Argument(..., help="The question, in the patient's own words."),
    lang: str = LANG_OPTION,
    limit: int = typer.Option(5, "--limit", min=1, max=50, help="At most this many results."),
    as_json: bool = typer.Option(False, "--json", help='Print {"results": [...]} on stdout.'),
) -> None:
    """Find the sections that best answer QUESTION, best first."""
    from mildpath.content.education_search import search as run_search

    check_language(lang)
    results = run_search(question, lang, limit)
    if as_json:
        emit_json({"results": [r.as_dict() for r in results]})
        return
    if not results:
        sys.stdout.write("No matching pages.\n")
    for r in results:
        sys.stdout.write(f"{r.page}#{r.anchor}  {r.title} › {r.section}  ({r.score})\n    {r.snippet}\n")


@app.command()
@handles_errors
def handout(
    page: str = typer.Argument(..., help="A page id, as given by `education search` in the `page` field."),
    out: Path = typer.Option(..., "--out", help="Where to write the PDF.", dir_okay=False),
    lang: str = LANG_OPTION,
    paper: str = typer.Option("letter", "--paper", help="Paper size: letter or a4."),
) -> None:
    """Write PAGE as a printable PDF handout."""
    from mildpath.reports.handouts import page_handout_pdf

    check_language(lang)
    if not out.parent.is_dir():
        bad_input(f"--out {out}: folder {out.parent} does not exist")
    try:
        pdf = page_handout_pdf(page, lang, paper=paper)  # type: ignore[arg-type]  # checked inside
    except NotFound as exc:
        bad_input(exc.message)
    out.write_bytes(pdf)
    sys.stderr.write(f"wrote {out} ({len(pdf)} bytes)\n")
