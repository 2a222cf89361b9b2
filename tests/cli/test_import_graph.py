"""CLI start-up (issue 17 goal 2): each command imports only what it needs.

Asserts the import graph, never a time: a fresh interpreter runs the command and reports ``sys.modules``.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

HEAVY = (
    "mildpath.web",
    "mildpath.store",
    "mildpath.services",
    "mildpath.population",
    "mildpath.reports",
    "mildpath.fhir",
    "fastapi",
    "starlette",
    "sqlalchemy",
    "alembic",
    "psycopg",
    "duckdb",
    "pyarrow",
    "pandas",
    "matplotlib",
    "weasyprint",
    "jinja2",
    "uvicorn",
    "argon2",
    "fhir",
    "pyspark",
    "numpy",
)  # (markdown_it is not here: rich, which prints Typer's help, uses it)

PROBE = """
import json, runpy, sys
sys.argv = ["mildpath", *json.loads(sys.argv[1])]
code = 0
try:
    runpy.run_module("mildpath", run_name="__main__")
except SystemExit as exc:
    code = exc.code or 0
sys.stdout.flush()
sys.stderr.write("\\nMODULES " + json.dumps({"code": code, "modules": sorted(sys.modules)}) + "\\n")
"""


def loaded(args: list[str], tmp_path: Path) -> tuple[int, set[str], str]:
    proc = subprocess.run(
        [sys.executable, "-c", PROBE, json.dumps(args)],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        timeout=300,
    )
    marker = proc.stderr.rindex("MODULES ")
    report = json.loads(proc.stderr[marker + len("MODULES ") :])
    return report["code"], set(report["modules"]), proc.stdout


def heavy_in(modules: set[str]) -> list[str]:
    return sorted(m for m in modules if any(m == h or m.startswith(h + ".") for h in HEAVY))


@pytest.fixture
def diary_file(tmp_path: Path) -> Path:
    path = tmp_path / "entry.json"
    path.write_text(json.dumps({"pain_back": 3, "bladder_bowel_change": True}))
    return path


def test_score_loads_only_typer_and_the_scoring_core(tmp_path: Path) -> None:
    code, modules, out = loaded(["score", "odi", "1,2,3,4,5,0,1,2,3,4", "--json"], tmp_path)
    assert code == 0
    assert json.loads(out)["score"] == 50.0
    assert heavy_in(modules) == []
    assert "mildpath.cli.scoring" in modules
    # only the scoring subject's module, not the other subjects' nor the rest of the clinical core
    subjects = sorted(m for m in modules if m.startswith("mildpath.cli."))
    assert subjects == ["mildpath.cli._common", "mildpath.cli.scoring"]
    assert not {"mildpath.domain.criteria", "mildpath.domain.triage", "mildpath.content", "yaml"} & modules


def test_triage_loads_no_web_sql_or_reports_and_still_finds_the_red_flag(tmp_path: Path, diary_file: Path) -> None:
    code, modules, out = loaded(["triage", str(diary_file), "--json"], tmp_path)
    assert code == 0
    assert json.loads(out)["level"] == "emergency"  # a bladder or bowel change stays an emergency
    assert heavy_in(modules) == []
    subjects = sorted(m for m in modules if m.startswith("mildpath.cli."))
    assert subjects == ["mildpath.cli._common", "mildpath.cli.triage"]


def test_help_lists_every_command_without_importing_any(tmp_path: Path) -> None:
    code, modules, out = loaded(["--help"], tmp_path)
    assert code == 0
    assert heavy_in(modules) == []
    assert not [m for m in modules if m.startswith("mildpath.cli.")]
    assert not [m for m in modules if m.startswith("mildpath.domain")]
    from mildpath.cli import COMMANDS

    for name in COMMANDS:
        assert f" {name} " in out


def test_the_help_table_matches_every_command_and_covers_them_all() -> None:
    """The root's help lines are written out in COMMANDS; they must be the commands' own, and every command a
    subject module adds must be listed (a new command missing from the table would be unreachable)."""
    from mildpath.cli import COMMANDS, load_subject

    subjects = {(module, how) for module, how, _ in COMMANDS.values()}
    found: dict[str, object] = {}
    for module, how in sorted(subjects):
        names = [n for n, (m, h, _) in COMMANDS.items() if (m, h) == (module, how)]
        for name in names if how == "group" else names[:1]:
            found.update(load_subject(module, how, name))
    assert set(found) == set(COMMANDS)
    for name, command in found.items():
        text = command.short_help or command.help or ""  # what the root's rich help prints: the first paragraph
        assert " ".join(text.split("\n\n")[0].split()) == COMMANDS[name][2], name


def test_a_subcommand_still_runs_through_the_root_app() -> None:
    from typer.testing import CliRunner

    from mildpath.cli import app

    result = CliRunner().invoke(app, ["score", "nprs", "--back", "7", "--json"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout) == {"back": 7, "leg": None}
    unknown = CliRunner().invoke(app, ["no-such-command"])
    assert unknown.exit_code == 2
