"""The ``mildpath`` command line (Typer). Each subject lives in its own module of this package.

Commands parse arguments, build :class:`~mildpath.settings.Settings`, call one service, print and exit.
JSON goes to stdout, everything else to stderr (contracts §2).

Start-up (issue 17): a subject's module is imported only when one of its commands runs (or its own ``--help``
is asked for). ``mildpath --help`` lists every command from the table below without importing any of them, so
``mildpath score odi ...`` loads Typer, the scoring module and the domain code it needs, and nothing of the web
app, the database, DuckDB, matplotlib or WeasyPrint (``tests/cli/test_import_graph.py`` checks it).
"""

from __future__ import annotations

import importlib
import sys
from typing import Any

import typer
from typer.core import TyperCommand, TyperGroup

# command -> (module under mildpath.cli, how it attaches, its one-line help for ``mildpath --help``).
# A module exposes either `app` (a Typer group, added under the command's name: how is "group") or
# `register(app)` (adds top-level commands and groups: how is "register"). The help lines must match the
# commands' own (tests/cli/test_import_graph.py compares them), they are here so that listing costs nothing.
COMMANDS: dict[str, tuple[str, str, str]] = {
    "serve": ("core", "register", "Serve the web app and API. GET /healthz answers 200 once ready."),
    "demo": ("core", "register", "Load the deterministic demo clinic (idempotent)."),
    "check": ("core", "register", "Report unsafe deployment settings; exit 1 when any is found."),
    "db": ("core", "register", "Database: migrate, back up, restore."),
    "user": ("core", "register", "Accounts."),
    "token": ("core", "register", "API tokens."),
    "clinic": ("core", "register", "Clinics."),
    "fhir-client": ("fhir_clients", "group", "SMART backend and CDS Hooks clients (signed JWTs)."),
    "screen": (
        "screening",
        "register",
        "Screen one patient's FHIR record for mild candidacy; the answer supports, never replaces, a specialist.",
    ),
    "triage": (
        "triage",
        "register",
        "Classify a diary entry after the mild procedure: emergency, same_day, review or expected.",
    ),
    "score": ("scoring", "group", "Score a questionnaire (ODI, ZCQ, NPRS) from its answers."),
    "education": ("education", "group", "Patient education: search the library, print handouts."),
    "procedure": (
        "procedures",
        "group",
        "Procedure day: validate a procedure record, print the procedure note or the discharge instructions.",
    ),
    "report": ("reports", "register", "Reports: the outcomes registry, the criteria overrides."),
    "export": ("reports", "register", "Exports: FHIR Bulk NDJSON, de-identified registry tables."),
    "population": ("population", "register", "Screen a whole FHIR Bulk Data export for mild."),
    "synth": ("population", "register", "Synthetic data for tests and benchmarks."),
    "view": ("views", "group", "Run SQL on FHIR v2 ViewDefinitions over FHIR NDJSON."),
    "reminders": ("reminders", "register", "Questionnaire reminders."),
    "referrals": ("referrals", "group", "Referrals: import a population screen's candidates."),
    "enrol": ("enrolments", "register", "Enrol patients from an EHR's Bulk export (ServiceRequests for CPT 0275T)."),
}


def load_subject(module_name: str, how: str, name: str) -> dict[str, Any]:
    """The click commands one subject module adds, by name (imports the module)."""
    from typer.main import get_group

    module = importlib.import_module(f"mildpath.cli.{module_name}")
    holder = typer.Typer(add_completion=False, pretty_exceptions_enable=False)
    if how == "register":
        module.register(holder)
    else:
        holder.add_typer(module.app, name=name)
    return dict(get_group(holder).commands)


class LazyGroup(TyperGroup):
    """The root group: lists the commands of :data:`COMMANDS` and imports a subject only when it is used."""

    _listing = False

    def list_commands(self, ctx: Any) -> list[str]:
        return [*COMMANDS, *(n for n in self.commands if n not in COMMANDS)]

    def get_command(self, ctx: Any, cmd_name: str) -> Any:
        if cmd_name in self.commands:
            return self.commands[cmd_name]
        entry = COMMANDS.get(cmd_name)
        if entry is None:
            return None
        module_name, how, short = entry
        if self._listing:  # the root's help: a stand-in with the help line, no import
            return TyperCommand(name=cmd_name, help=short)
        self.commands.update(load_subject(module_name, how, cmd_name))
        return self.commands.get(cmd_name)

    def format_help(self, ctx: Any, formatter: Any) -> None:
        self._listing = True
        try:
            super().format_help(ctx, formatter)
        finally:
            self._listing = False


app = typer.Typer(
    name="mildpath",
    cls=LazyGroup,
    help="mildpath: the care pathway of the mild procedure for lumbar spinal stenosis.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


@app.callback()
def _root() -> None:
    """mildpath: the care pathway of the mild procedure for lumbar spinal stenosis."""


def main() -> None:
    """Console-script entry point."""
    try:  # the click Typer runs on (Typer >= 0.20 ships its own copy)
        from typer._click import exceptions as click
    except ImportError:  # pragma: no cover - an older Typer on click itself
        import click  # type: ignore[no-redef]

    try:
        result = app(standalone_mode=False)
    except click.NoArgsIsHelpError as exc:  # `mildpath` alone, or a group without its command: the help
        sys.stdout.write(exc.ctx.get_help() + "\n")
        sys.exit(2)
    except click.UsageError as exc:  # a bad option value or an unknown command: one line (contracts §2)
        where = f"{exc.ctx.command_path}: " if exc.ctx is not None else ""
        sys.stderr.write(f"error: {where}{' '.join(exc.format_message().split())}\n")
        sys.exit(2)
    except click.ClickException as exc:
        sys.stderr.write(f"error: {' '.join(exc.format_message().split())}\n")
        sys.exit(exc.exit_code)
    except typer.Abort:
        sys.stderr.write("aborted\n")
        sys.exit(1)
    except KeyboardInterrupt:
        sys.stderr.write("interrupted\n")
        sys.exit(130)
    except ModuleNotFoundError as exc:  # an optional library the site did not install: name the extra
        from mildpath.extras import missing_extra

        message = missing_extra(exc)
        if message is None:
            raise
        sys.stderr.write(f"error: {message}\n")
        sys.exit(1)
    if isinstance(result, int):  # outside standalone mode click returns the exit code of typer.Exit
        sys.exit(result)
