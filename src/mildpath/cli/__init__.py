"""The ``mildpath`` command line (Typer). Each subject lives in its own module of this package.

Commands parse arguments, build :class:`~mildpath.settings.Settings`, call one service, print and exit.
JSON goes to stdout, everything else to stderr (contracts §2).
"""

from __future__ import annotations

import importlib
import sys

import typer

app = typer.Typer(
    name="mildpath",
    help="mildpath: the care pathway of the mild procedure for lumbar spinal stenosis.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)

# (module under mildpath.cli, how it attaches). A module exposes either `app` (a Typer group, added under
# `name`) or `register(app)` (adds top-level commands). Listed here so the command tree reads in one place.
_SUBJECTS: list[tuple[str, str | None]] = [
    ("core", None),  # serve, demo, db, user, token, check
    ("screening", None),  # screen
    ("scoring", "score"),  # score odi | zcq | nprs
    ("triage", None),  # triage
    ("education", "education"),  # education search | handout
    ("procedures", "procedure"),  # procedure note
    ("reports", None),  # report outcomes, export fhir|csv
    ("population", None),  # population screen, synth population
    ("views", "view"),  # view run | export
    ("reminders", None),  # reminders send
]


def _attach() -> None:
    for module_name, group in _SUBJECTS:
        qualified = f"mildpath.cli.{module_name}"
        try:
            module = importlib.import_module(qualified)
        except ModuleNotFoundError as exc:
            if exc.name == qualified:  # that subject is not part of this build
                continue
            raise
        if group is None:
            module.register(app)
        else:
            app.add_typer(module.app, name=group)


_attach()


def main() -> None:
    """Console-script entry point."""
    try:
        app()
    except KeyboardInterrupt:
        sys.stderr.write("interrupted\n")
        sys.exit(130)
