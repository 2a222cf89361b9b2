"""`mildpath triage FILE --json` keeps contracts §2: the JSON shape, exit 0 whatever the level, exit 2 with one
stderr line naming the field for bad input."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import typer
import yaml
from typer.testing import CliRunner

from mildpath.cli import triage as triage_cli
from mildpath.content.triage import TRIAGE_FILE

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def app() -> typer.Typer:
    """A Typer app with only the triage command, so this suite does not depend on the other subjects."""
    app = typer.Typer()
    triage_cli.register(app)

    @app.callback()
    def _root() -> None:  # keeps `triage` a named subcommand, as in the real app
        pass

    return app


def run(app: typer.Typer, tmp_path: Path, content: str | dict[str, Any], *args: str) -> Any:
    path = tmp_path / "entry.json"
    path.write_text(content if isinstance(content, str) else json.dumps(content), encoding="utf-8")
    return CliRunner().invoke(app, ["triage", str(path), *args])


LEVELS = [
    ({"days_since_procedure": 2, "pain_back": 3, "pain_leg": 2}, "expected"),
    ({"days_since_procedure": 1, "saddle_numbness": True}, "emergency"),
    ({"days_since_procedure": 4, "temperature_c": 38.0}, "same_day"),
    ({"days_since_procedure": 12, "pain_leg": 8, "baseline_pain_leg": 5}, "review"),
]


@pytest.mark.parametrize(("entry", "level"), LEVELS, ids=[lv for _, lv in LEVELS])
def test_it_prints_level_reasons_and_advice_and_exits_0(
    app: typer.Typer, tmp_path: Path, entry: dict[str, Any], level: str
) -> None:
    result = run(app, tmp_path, entry, "--json")
    assert result.exit_code == 0, result.stderr
    data = json.loads(result.stdout)
    assert set(data) == {"level", "reasons", "advice", "matched"}  # issue 15 adds "matched" (contracts §8)
    assert data["level"] == level
    assert data["reasons"] and all(isinstance(r, str) and r for r in data["reasons"])
    assert isinstance(data["advice"], str) and data["advice"]
    assert result.stderr == ""


BAD = [
    ("pain 11", {"days_since_procedure": 2, "pain_back": 11}, "pain_back"),
    ("unknown incision value", {"incision": ["pus"]}, "incision"),
    ("temperature in Fahrenheit", {"temperature_c": 101.2}, "temperature_c"),
    ("boolean as text", {"new_weakness": "yes"}, "new_weakness"),
    ("negative day", {"days_since_procedure": -2}, "days_since_procedure"),
    ("unknown field", {"pain_bak": 3}, "pain_bak"),
    ("bad JSON", '{"pain_back": 3,', "not valid JSON"),
    ("a list instead of an object", "[1, 2]", "JSON object"),
]


@pytest.mark.parametrize(("content", "words"), [b[1:] for b in BAD], ids=[b[0] for b in BAD])
def test_bad_input_exits_2_with_one_stderr_line_naming_it(
    app: typer.Typer, tmp_path: Path, content: Any, words: str
) -> None:
    result = run(app, tmp_path, content, "--json")
    assert result.exit_code == 2
    assert result.stdout == ""
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1
    assert words in lines[0] and "entry.json" in lines[0]
    assert "Traceback" not in result.stderr


def test_a_missing_file_exits_2(app: typer.Typer, tmp_path: Path) -> None:
    result = CliRunner().invoke(app, ["triage", str(tmp_path / "nope.json"), "--json"])
    assert result.exit_code == 2
    assert len(result.stderr.strip().splitlines()) == 1


def test_without_json_it_prints_plain_lines(app: typer.Typer, tmp_path: Path) -> None:
    result = run(app, tmp_path, {"headache_upright": True})
    assert result.exit_code == 0
    assert result.stdout.startswith("level: same_day\n- You reported a headache")


def test_it_reads_stdin(app: typer.Typer) -> None:
    result = CliRunner().invoke(app, ["triage", "-", "--json"], input='{"bladder_bowel_change": true}')
    assert result.exit_code == 0
    assert json.loads(result.stdout)["level"] == "emergency"


def test_a_site_rules_file_is_used(app: typer.Typer, tmp_path: Path) -> None:
    data = yaml.safe_load(TRIAGE_FILE.read_text(encoding="utf-8"))
    data["thresholds"]["fever_c"]["value"] = 38.5
    rules = tmp_path / "site.yaml"
    rules.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    result = run(app, tmp_path, {"temperature_c": 38.2}, "--json", "--rules", str(rules))
    assert json.loads(result.stdout)["level"] == "expected"


def test_a_broken_site_rules_file_exits_2(app: typer.Typer, tmp_path: Path) -> None:
    rules = tmp_path / "site.yaml"
    rules.write_text("rules: [", encoding="utf-8")
    result = run(app, tmp_path, {}, "--json", "--rules", str(rules))
    assert result.exit_code == 2
    assert len(result.stderr.strip().splitlines()) == 1


def test_the_real_console_command_keeps_the_contract(tmp_path: Path) -> None:
    entry = tmp_path / "entry.json"
    entry.write_text(json.dumps({"days_since_procedure": 2, "new_numbness": True}), encoding="utf-8")
    done = subprocess.run(
        [sys.executable, "-m", "mildpath", "triage", str(entry), "--json"],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["level"] == "emergency"
    entry.write_text(json.dumps({"days_since_procedure": 2, "pain_back": 11}), encoding="utf-8")
    done = subprocess.run(
        [sys.executable, "-m", "mildpath", "triage", str(entry), "--json"],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=120,
    )
    assert done.returncode == 2
    assert "pain_back" in done.stderr and done.stdout == ""


# Issue 15: free text only, the pre-stop phrases (also with every structured box answered No).
PHRASES = [
    "I can't pee since this morning",
    "no puedo orinar y tengo adormecida la entrepierna",
    "dolor en el pecho y me falta el aire",
    "can't control my bladder, numb groin",
]
ALL_NO = dict.fromkeys(
    (
        "new_numbness",
        "new_weakness",
        "bilateral_weakness",
        "saddle_numbness",
        "bladder_bowel_change",
        "headache_upright",
        "fever_or_chills",
    ),
    False,
)


@pytest.mark.parametrize("phrase", PHRASES)
@pytest.mark.parametrize("boxes", [{}, ALL_NO], ids=["text only", "every box No"])
def test_a_free_text_emergency_is_an_emergency_with_the_words(
    app: typer.Typer, tmp_path: Path, phrase: str, boxes: dict[str, Any]
) -> None:
    result = run(app, tmp_path, {"notes": phrase, **boxes}, "--json")
    assert result.exit_code == 0, result.stderr
    data = json.loads(result.stdout)
    assert data["level"] == "emergency"
    assert data["matched"] and all(m["text"] in phrase for m in data["matched"])
    assert {"text", "rule", "level", "source"} == set(data["matched"][0])


@pytest.mark.parametrize("content", [{}, {"notes": "   "}, {"days_since_procedure": 3}, {"notes": None}])
def test_an_entry_with_no_answer_and_no_text_exits_2(app: typer.Typer, tmp_path: Path, content: Any) -> None:
    result = run(app, tmp_path, content, "--json")
    assert result.exit_code == 2
    assert result.stdout == ""
    assert len(result.stderr.strip().splitlines()) == 1 and "no answer" in result.stderr


def test_language_es_gives_spanish_reasons_and_advice(app: typer.Typer, tmp_path: Path) -> None:
    data = json.loads(run(app, tmp_path, {"notes": "tengo fiebre", "language": "es"}, "--json").stdout)
    assert data["level"] == "same_day"
    assert data["reasons"][0].startswith("Usted escribió «fiebre»")
    assert data["advice"].startswith("Llame hoy a la clínica")


def test_the_pre_stop_command_line_answers_emergency(tmp_path: Path) -> None:
    entry = tmp_path / "e.json"
    entry.write_text('{"notes": "I can\'t pee since this morning"}', encoding="utf-8")
    done = subprocess.run(
        [sys.executable, "-m", "mildpath", "triage", str(entry), "--json"],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["level"] == "emergency"
