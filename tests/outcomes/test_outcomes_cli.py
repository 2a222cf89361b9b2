"""``mildpath report outcomes`` and ``mildpath export fhir | deidentified`` on a fresh database holding only the
small cohort: the JSON report, the PDF looked at as page images, the FHIR export validated and used to recompute the
report's ODI change, and a de-identified extract with nothing that names anyone."""

from __future__ import annotations

import csv
import json
from datetime import date, datetime
from pathlib import Path

import numpy as np
import orjson
import pyarrow.parquet as pq
import pytest
from fhir.resources.R4B import get_fhir_model_class
from typer.testing import CliRunner

from mildpath.cli import app
from mildpath.content.schedule import follow_up_plan
from mildpath.domain.instruments import score_odi
from mildpath.domain.schedule import timepoint_for
from mildpath.fhir.questionnaires import read_questionnaire_response

runner = CliRunner()


def mp(env: dict[str, str], *args: str):  # type: ignore[no-untyped-def]
    return runner.invoke(app, list(args), env=env, catch_exceptions=False)


@pytest.fixture(scope="module")
def report(cli_db):  # type: ignore[no-untyped-def]
    env, _cohort = cli_db
    result = mp(env, "report", "outcomes", "--json")
    assert result.exit_code == 0, result.stderr
    return json.loads(result.stdout)


@pytest.fixture(scope="module")
def fhir_export(cli_db, tmp_path_factory):  # type: ignore[no-untyped-def]
    env, _cohort = cli_db
    out = tmp_path_factory.mktemp("fhir")
    result = mp(env, "export", "fhir", "--out", str(out))
    assert result.exit_code == 0, result.stderr
    assert result.stdout == ""  # only JSON may go to stdout, and this command prints none
    return out


def test_report_outcomes_prints_one_json_document(report, cli_db):
    _env, cohort = cli_db
    assert report["report"] == "outcomes" and report["as_of"] == cohort.today.isoformat()
    assert report["cohort"]["procedures"] == 4
    odi = {r["timepoint"]: r for r in report["change"]["odi"]}
    assert (odi["3m"]["mean"], odi["3m"]["ci_low"], odi["3m"]["ci_high"]) == (-20.0, -59.75, 19.75)


def test_report_filters_and_bad_input(cli_db):
    env, _cohort = cli_db
    two = mp(env, "report", "outcomes", "--json", "--levels-treated", "2")
    assert two.exit_code == 0 and json.loads(two.stdout)["cohort"]["procedures"] == 1
    bad = mp(env, "report", "outcomes", "--json", "--age-band", "ancient")
    assert bad.exit_code == 2 and bad.stdout == ""
    assert bad.stderr.count("\n") == 1 and "age_band" in bad.stderr
    assert mp(env, "report", "outcomes").exit_code == 2  # neither --json nor --out
    assert mp(env, "report", "outcomes", "--out", "report.txt").exit_code == 2


def _pages(pdf: bytes) -> list[tuple[np.ndarray, int]]:
    """Each page rendered as an RGB image, with the number of pictures (charts) placed on it."""
    import pypdfium2 as pdfium
    import pypdfium2.raw as pdfium_c

    doc = pdfium.PdfDocument(pdf)
    try:
        out = []
        for i in range(len(doc)):
            page = doc[i]
            pictures = sum(1 for _ in page.get_objects(filter=[pdfium_c.FPDF_PAGEOBJ_IMAGE]))
            out.append((np.asarray(page.render(scale=1.5).to_pil().convert("RGB")), pictures))
        return out
    finally:
        doc.close()


def _coloured(image: np.ndarray) -> int:
    """Pixels in colour (chart lines, bars and bands), as opposed to black, grey and white text and tables."""
    return int(np.count_nonzero((image.max(axis=2).astype(int) - image.min(axis=2).astype(int)) > 30))


def test_the_pdf_report_has_pages_with_text_and_charts(cli_db, tmp_path):
    env, _cohort = cli_db
    out = tmp_path / "report.pdf"
    result = mp(env, "report", "outcomes", "--out", str(out))
    assert result.exit_code == 0, result.stderr
    pages = _pages(out.read_bytes())
    assert len(pages) >= 2
    for image, _pictures in pages:
        assert (image.min(axis=2) < 200).mean() > 0.003, "a blank page"  # more ink than the page footer alone
    with_charts = [(image, n) for image, n in pages if n]
    assert sum(n for _image, n in with_charts) == 3  # trajectories, responder bars, survival curve
    for image, _n in with_charts:
        assert _coloured(image) > 1000, "a chart without its lines or bars"
    from pypdf import PdfReader

    text = " ".join(p.extract_text() or "" for p in PdfReader(out).pages)
    assert "Compared with the published results" in text and "22.7" in text and "news report" in text


def _is_mild(procedure: dict) -> bool:
    return any(c.get("code") == "0275T" for c in procedure["code"].get("coding", []))


def test_every_exported_resource_is_valid_fhir_r4(fhir_export):
    counts: dict[str, int] = {}
    for path in sorted(fhir_export.glob("*.ndjson")):
        for line in path.read_bytes().splitlines():
            resource = orjson.loads(line)
            assert path.name == f"{resource['resourceType']}.ndjson"
            get_fhir_model_class(resource["resourceType"]).model_validate(resource)
            counts[resource["resourceType"]] = counts.get(resource["resourceType"], 0) + 1
    # 4 patients; 4 mild procedures + 2 later interventions; 2 adverse events; 9 ODI, 4 NPRS, 2 ZCQ, 4 walking
    assert counts["Patient"] == 4 and counts["Procedure"] == 6 and counts["AdverseEvent"] == 2
    assert counts["QuestionnaireResponse"] == 19 and counts["Observation"] >= 19
    mild = [orjson.loads(x) for x in (fhir_export / "Procedure.ndjson").read_bytes().splitlines()]
    assert sum(1 for p in mild if _is_mild(p)) == 4


def test_the_reports_odi_change_can_be_recomputed_from_the_fhir_export(fhir_export, report):
    """What an outside analyst would do: read the NDJSON, file each ODI response under the timepoint whose window
    holds its date (counted from the Procedure), score it from its answers, pair with the baseline."""
    plan = follow_up_plan()
    procedure_day: dict[str, date] = {}
    for line in (fhir_export / "Procedure.ndjson").read_bytes().splitlines():
        p = orjson.loads(line)
        if _is_mild(p):
            procedure_day[p["subject"]["reference"]] = datetime.fromisoformat(
                p["performedPeriod"]["start"]
            ).date()
    odi: dict[str, dict[str, float]] = {}
    for line in (fhir_export / "QuestionnaireResponse.ndjson").read_bytes().splitlines():
        response = read_questionnaire_response(orjson.loads(line))
        if response.instrument != "odi" or response.subject not in procedure_day:
            continue
        authored = datetime.fromisoformat(str(response.authored)).date()
        timepoint = timepoint_for(plan, procedure_day[response.subject], authored)
        assert timepoint is not None
        exact = score_odi(response.answers).exact
        assert exact is not None
        odi.setdefault(response.subject, {})[timepoint.id] = float(exact)
    for row in report["change"]["odi"]:
        pairs = [
            s[row["timepoint"]] - s["baseline"]
            for s in odi.values()
            if "baseline" in s and row["timepoint"] in s
        ]
        assert len(pairs) == row["n"]
        if pairs:
            assert round(float(np.mean(pairs)), 2) == row["mean"]
    assert any(row["n"] for row in report["change"]["odi"])


@pytest.mark.parametrize("fmt", ["csv", "parquet"])
def test_the_deidentified_extract_names_nobody(cli_db, tmp_path, fmt):
    env, cohort = cli_db
    result = mp(env, "export", "deidentified", "--out", str(tmp_path), "--format", fmt)
    assert result.exit_code == 0, result.stderr
    tables = {}
    for name in ("procedures", "scores", "events"):
        path = tmp_path / f"{name}.{fmt}"
        tables[name] = list(csv.DictReader(path.open())) if fmt == "csv" else pq.read_table(path).to_pylist()
    assert [len(tables[n]) for n in ("procedures", "events")] == [4, 4]
    assert (
        len(tables["scores"]) == 9 + 4 * 2 + (2 + 3) + 4
    )  # ODI; NPRS back, leg; ZCQ (baseline 2, 3 m 3); walking
    dump = "\n".join(path.read_bytes().decode("latin-1") for path in tmp_path.iterdir()) + json.dumps(
        tables, default=str
    )
    for names in cohort.names.values():
        for field in ("given", "family", "mrn", "email", "phone", "address", "birth_date"):
            assert names[field] not in dump, f"{field} leaked"
    assert (
        cohort.procedure_date.isoformat() not in dump
    )  # calendar dates are reduced to days from the procedure
    first = tables["procedures"][0]
    assert set(first) == {
        "pid",
        "procedure",
        "procedure_year",
        "age_at_procedure",
        "sex",
        "operator",
        "levels_treated",
        "levels",
        "same_day_discharge",
        "discharge",
        "followed_days",
        "adverse_events",
        "serious_adverse_events",
        "first_reintervention_days",
        "first_reintervention_type",
    }
    assert sorted(int(p["age_at_procedure"]) for p in tables["procedures"]) == [60, 70, 72, 80]
    assert {int(p["followed_days"]) for p in tables["procedures"]} == {500}
    baseline = [s for s in tables["scores"] if s["timepoint"] == "baseline"]
    assert {int(s["days_from_procedure"]) for s in baseline} == {-10}


def test_pseudonyms_are_stable_across_exports(cli_db, tmp_path):
    env, _cohort = cli_db
    for folder in ("one", "two"):
        assert mp(env, "export", "deidentified", "--out", str(tmp_path / folder)).exit_code == 0
    one = (tmp_path / "one" / "procedures.csv").read_text()
    assert one == (tmp_path / "two" / "procedures.csv").read_text()
    ids = [row["pid"] for row in csv.DictReader((tmp_path / "one" / "procedures.csv").open())]
    assert len(set(ids)) == 4 and all(len(i) == 16 for i in ids)


def test_export_into_a_file_path_is_bad_input(cli_db, tmp_path: Path):
    env, _cohort = cli_db
    target = tmp_path / "taken"
    target.write_text("x")
    result = mp(env, "export", "fhir", "--out", str(target))
    assert result.exit_code == 2 and "is a file" in result.stderr


def test_the_deidentified_scores_say_which_wording_was_used(cli_db, tmp_path):
    env, _cohort = cli_db
    assert mp(env, "export", "deidentified", "--out", str(tmp_path)).exit_code == 0
    rows = list(csv.DictReader((tmp_path / "scores.csv").open()))
    assert rows and {r["wording"] for r in rows} == {"neutral"}
