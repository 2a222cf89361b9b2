"""``mildpath referrals import``: a population screen's output becomes referrals (issue 18, contracts §9).

Prints ``{"created", "merged", "skipped"}``; importing the same file twice creates nothing. On a terminal a
progress bar on stderr counts the rows.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer

from mildpath.cli._common import emit_json, handles_errors, load_settings, unit_of_work

app = typer.Typer(help="Referrals: import a population screen's candidates.", no_args_is_help=True)


@app.command("import")
@handles_errors
def import_(
    file: Annotated[Path, typer.Argument(help="A `population screen` output (CSV or Parquet)")],
    export: Annotated[
        Path | None, typer.Option(help="The Bulk export the screen read: names, birth dates, contacts, identifiers")
    ] = None,
    clinic: Annotated[int | None, typer.Option(help="Clinic id (default: the first clinic)")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the counts as JSON on stdout")] = False,
) -> None:
    """Import a population screen's output as referrals (idempotent)."""
    from mildpath.services.access import Actor
    from mildpath.services.clock import now, today
    from mildpath.services.referral_import import import_screen

    settings = load_settings()
    data = file.read_bytes()
    with _Progress() as bar, unit_of_work(settings) as session:
        result = import_screen(session, Actor.system("cli"), name=str(file), data=data, now=now(), today=today(),
                               export=export, clinic_id=clinic, progress=bar.update)
    sys.stderr.write(f"referrals: {result.created} created, {result.merged} merged, {result.skipped} skipped\n")
    if as_json:
        emit_json(result.model_dump())


class _Progress:
    """A rich progress bar of rows on stderr, only on a terminal."""

    def __enter__(self) -> _Progress:
        self.bar = self.task = None
        if sys.stderr.isatty():
            from rich.console import Console
            from rich.progress import Progress

            self.bar = Progress(console=Console(stderr=True), transient=True)
            self.bar.start()
            self.task = self.bar.add_task("importing", total=None)
        return self

    def update(self, done: int, total: int) -> None:
        if self.bar is not None and self.task is not None:
            self.bar.update(self.task, completed=done, total=total)

    def __exit__(self, *exc: object) -> None:
        if self.bar is not None:
            self.bar.stop()
