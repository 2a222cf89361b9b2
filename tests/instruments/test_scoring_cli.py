"""`mildpath score odi | zcq | nprs` keeps contracts §2 and §4: JSON shape, exit 0 for a missing score, exit 2
with one stderr line naming the item for bad input."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

from mildpath.cli import scoring

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def app() -> typer.Typer:
    """Only the `score` group, mounted as in the real app, so this suite does not depend on other subjects."""
    root = typer.Typer()
    root.add_typer(scoring.app, name="score")
    return root


def run(app: typer.Typer, *args: str):
    return CliRunner().invoke(app, ["score", *args])


@pytest.mark.parametrize(
    ("answers", "expected"),
    [
        ("3,3,2,1,2,1,1,1,1,1", {"score": 32.0, "band": "moderate", "answered": 10, "missing": []}),
        ("3,3,2,1,2,1,1,,1,2", {"score": 35.56, "band": "moderate", "answered": 9, "missing": [8]}),
        ("3,2,1,0,4,5,2,,1,3", {"score": 46.67, "band": "severe", "answered": 9, "missing": [8]}),
        ("0,0,0,0,0,0,0,0,0,0", {"score": 0.0, "band": "minimal", "answered": 10, "missing": []}),
        ("5,5,5,5,5,5,5,5,5,5", {"score": 100.0, "band": "bed_bound", "answered": 10, "missing": []}),
        ("3,3,,1,2,1,1,,1,2", {"score": None, "band": None, "answered": 8, "missing": [3, 8]}),
    ],
    ids=["32", "35.56", "issue-example", "zero", "hundred", "two-missing"],
)
def test_score_odi_prints_exactly_the_contract_json(app: typer.Typer, answers: str, expected: dict) -> None:
    result = run(app, "odi", answers, "--json")
    assert result.exit_code == 0
    assert json.loads(result.stdout) == expected


@pytest.mark.parametrize(
    ("answers", "named"),
    [
        ("3,3,2,1,2,1,1,6,1,2", "odi-8"),
        ("3,x,2,1,2,1,1,1,1,2", "odi-2"),
        ("3,3,2", "odi"),
        ("3,3,2,1,2,1,1,1.5,1,2", "odi-8"),
    ],
    ids=["six", "text", "three-fields", "fraction"],
)
def test_score_odi_exits_2_with_one_line_naming_the_item(app: typer.Typer, answers: str, named: str) -> None:
    result = run(app, "odi", answers, "--json")
    assert result.exit_code == 2
    assert result.stdout == ""
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and named in lines[0]


def test_score_odi_without_json_prints_a_short_line(app: typer.Typer) -> None:
    result = run(app, "odi", "3,3,2,1,2,1,1,,1,2")
    assert result.stdout.strip() == "ODI 35.56% (moderate), 9 of 10 sections answered; section 8 missing"


def test_score_zcq_prints_the_three_subscale_means(app: typer.Typer) -> None:
    result = run(
        app, "zcq", "--severity", "2,3,3,2,2,1,3", "--function", "2,2,1,,1", "--satisfaction", "1,2,2,1,2,2", "--json"
    )
    assert result.exit_code == 0
    assert json.loads(result.stdout) == {"severity": 2.29, "function": 1.5, "satisfaction": 1.67}


def test_score_zcq_without_satisfaction_gives_null(app: typer.Typer) -> None:
    result = run(app, "zcq", "--severity", "2,3,3,2,2,1,3", "--function", "2,,,,1", "--json")
    assert result.exit_code == 0
    assert json.loads(result.stdout) == {"severity": 2.29, "function": None, "satisfaction": None}


def test_score_zcq_rejects_a_balance_answer_of_two(app: typer.Typer) -> None:
    result = run(app, "zcq", "--severity", "2,3,3,2,2,1,2", "--function", "2,2,1,1,1", "--json")
    assert result.exit_code == 2 and "zcq-7" in result.stderr


def test_score_nprs(app: typer.Typer) -> None:
    assert json.loads(run(app, "nprs", "--back", "6", "--leg", "8", "--json").stdout) == {"back": 6, "leg": 8}
    assert json.loads(run(app, "nprs", "--leg", "3", "--json").stdout) == {"back": None, "leg": 3}
    bad = run(app, "nprs", "--back", "11", "--json")
    assert bad.exit_code == 2 and "nprs-back" in bad.stderr


def test_the_installed_command_keeps_stdout_to_one_json_document() -> None:
    proc = subprocess.run(
        [str(ROOT / ".venv" / "bin" / "mildpath"), "score", "odi", "3,3,,1,2,1,1,,1,2", "--json"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 0
    assert json.loads(proc.stdout)["score"] is None
