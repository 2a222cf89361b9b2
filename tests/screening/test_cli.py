"""`mildpath screen FILE [--as-of DATE] --json` keeps contracts §2-§3: the JSON shape, exit 0 whatever the
status, exit 2 with one stderr line naming the file for unreadable input."""

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

from mildpath.cli import screening as screening_cli
from tests.screening.vignettes import TODAY, Vignette, to_bundle

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def app() -> typer.Typer:
    """A Typer app with only the screen command, so this suite does not depend on the other subjects."""
    app = typer.Typer()
    screening_cli.register(app)

    @app.callback()
    def _root() -> None:  # keeps `screen` a named subcommand, as in the real app
        pass

    return app


def run(app: typer.Typer, *args: str) -> Any:
    return CliRunner().invoke(app, ["screen", *args])


def bundle_file(tmp_path: Path, vignette: Vignette, ndjson: bool = False) -> Path:
    bundle = to_bundle(vignette)
    if ndjson:
        path = tmp_path / "patient.ndjson"
        path.write_text("".join(json.dumps(e["resource"]) + "\n" for e in bundle["entry"]))
    else:
        path = tmp_path / "patient.json"
        path.write_text(json.dumps(bundle, indent=2))
    return path


STATUSES = [
    (Vignette("typical", "likely_candidate"), "likely_candidate"),
    (Vignette("no imaging", "x", lf=None), "needs_more_information"),
    (Vignette("no stenosis", "x", lss=None), "not_candidate"),
    (Vignette("cauda equina", "x", ces_days=2), "urgent_referral"),
]


@pytest.mark.parametrize(("vignette", "status"), STATUSES, ids=[s for _, s in STATUSES])
def test_it_prints_the_contract_json_and_exits_0_whatever_the_status(
    app: typer.Typer, tmp_path: Path, vignette: Vignette, status: str
) -> None:
    result = run(app, str(bundle_file(tmp_path, vignette)), "--as-of", TODAY.isoformat(), "--json")
    assert result.exit_code == 0, result.stderr
    data = json.loads(result.stdout)
    assert {"status", "criteria", "criteria_set", "missing"} <= set(data)
    assert data["status"] == status and data["criteria_set"] == "mild-default@1.0.0"
    for criterion in data["criteria"]:
        assert {"id", "status", "evidence", "source"} <= set(criterion)
        assert criterion["status"] in ("met", "not_met", "unknown")
        for evidence in criterion["evidence"]:
            # contracts §3 as amended: evidence that did not count adds counted: false and why
            assert set(evidence) in ({"value", "date", "record"}, {"value", "date", "record", "counted", "why"})
            assert evidence.get("counted", False) is False
    assert (data["missing"] != []) == (status == "needs_more_information")


def test_ndjson_of_one_patient_gives_the_same_answer_as_its_bundle(app: typer.Typer, tmp_path: Path) -> None:
    vignette = Vignette("typical", "likely_candidate", refs="patient")
    outputs = []
    for ndjson in (False, True):
        result = run(app, str(bundle_file(tmp_path, vignette, ndjson)), "--as-of", TODAY.isoformat(), "--json")
        outputs.append(json.loads(result.stdout))
    assert outputs[0] == outputs[1]
    lf = next(c for c in outputs[0]["criteria"] if c["id"] == "ligamentum_flavum_thickness")
    assert lf["evidence"] == [{"value": 3.4, "date": "2025-05-01", "record": "Observation/observation-4"}]


def test_the_as_of_date_decides_what_the_screen_sees(app: typer.Typer, tmp_path: Path) -> None:
    path = bundle_file(tmp_path, Vignette("typical", "likely_candidate"))
    before = json.loads(run(app, str(path), "--as-of", "2023-01-01", "--json").stdout)
    assert before["status"] == "not_candidate" and before["as_of"] == "2023-01-01"


def test_plain_output_without_json_names_status_and_criteria(app: typer.Typer, tmp_path: Path) -> None:
    result = run(app, str(bundle_file(tmp_path, Vignette("t", "x", lf=None))), "--as-of", TODAY.isoformat())
    assert result.exit_code == 0
    assert result.stdout.startswith("needs_more_information: ") and "ligamentum_flavum_thickness" in result.stdout


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["{file}", "--as-of", "2025-02-30", "--json"], "--as-of"),
        (["{missing}", "--json"], "no such file"),
        (["{file}", "--criteria-set", "nowhere", "--json"], "nowhere"),
    ],
    ids=["bad date", "missing file", "unknown criteria set"],
)
def test_bad_usage_exits_2_with_one_line(app: typer.Typer, tmp_path: Path, args: list[str], message: str) -> None:
    path = bundle_file(tmp_path, Vignette("t", "x"))
    filled = [a.format(file=path, missing=tmp_path / "none.json") for a in args]
    result = run(app, *filled)
    assert result.exit_code == 2
    assert result.stdout == "" and len(result.stderr.strip().splitlines()) == 1 and message in result.stderr


def test_a_site_criteria_set_is_used_from_the_content_dir(app: typer.Typer, tmp_path: Path) -> None:
    site = tmp_path / "site"
    (site / "criteria").mkdir(parents=True)
    (site / "criteria" / "strict.yaml").write_text(
        yaml.safe_dump(
            {
                "extends": "default",
                "name": "strict",
                "version": "2",
                "thresholds": {"lf_min_mm": {"value": 4.1, "source": "midas3"}},
            }
        )
    )
    path = bundle_file(tmp_path, Vignette("typical", "likely_candidate"))
    args = [str(path), "--as-of", TODAY.isoformat(), "--json", "--criteria-set", "strict", "--content-dir", str(site)]
    data = json.loads(run(app, *args).stdout)
    assert data["criteria_set"] == "strict@2" and data["status"] == "not_candidate"


def test_the_real_command_exits_2_without_a_traceback_on_a_truncated_bundle(tmp_path: Path) -> None:
    broken = tmp_path / "broken.json"
    broken.write_text('{"resourceType": "Bundle", "entry": [')
    proc = subprocess.run(
        [sys.executable, "-m", "mildpath", "screen", str(broken), "--json"],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=120,
    )
    assert proc.returncode == 2 and proc.stdout == ""
    assert proc.stderr.strip() == f"error: {broken}:1: not valid JSON (Expecting value at column 38)"


def test_the_plain_output_puts_cautions_and_not_assessed_in_the_headline(app: typer.Typer, tmp_path: Path) -> None:
    from tests.screening.charts import TODAY as CHART_DAY
    from tests.screening.charts import typical

    path = tmp_path / "young.ndjson"
    path.write_text("".join(json.dumps(r) + "\n" for r in typical("young", birth_date="1990-05-05", lf_days=550)))
    result = run(app, str(path), "--as-of", CHART_DAY.isoformat())
    assert result.exit_code == 0, result.stderr
    head = result.stdout.splitlines()[:3]
    assert head[0].startswith("needs_more_information:")
    assert head[1].startswith("  CAUTION: Outside the ages studied") and "source trial-ages" in head[1]
    assert head[2].startswith("  not assessed (no record either way):") and "infection" in head[2]
    assert "NOT COUNTED" in result.stdout and "too old to count" in result.stdout
    data = json.loads(run(app, str(path), "--as-of", CHART_DAY.isoformat(), "--json").stdout)
    assert [c["id"] for c in data["cautions"]] == ["outside_studied_ages"] and "infection" in data["not_assessed"]
