"""`mildpath export ced --study NCT... --patients ... --out DIR` (issue 18): the CED fields of the enrolled
patients as CSV, Parquet and FHIR NDJSON, de-identified, with a README naming what mildpath does not collect."""

from __future__ import annotations

import csv
import json
import sqlite3

import pyarrow.parquet as pq
import pytest
from fhir.resources.R4B.observation import Observation
from fhir.resources.R4B.patient import Patient
from fhir.resources.R4B.researchstudy import ResearchStudy
from fhir.resources.R4B.researchsubject import ResearchSubject

from tests.cli.test_core_commands import run

STUDY = "NCT03072927"


@pytest.fixture(scope="module")
def demo(tmp_path_factory):  # type: ignore[no-untyped-def]
    data = tmp_path_factory.mktemp("ced")
    env = {
        "MILDPATH_DATABASE_URL": f"sqlite:///{data / 'ced.db'}",
        "MILDPATH_DATA_DIR": str(data),
        "MILDPATH_SECRET_KEY": "ced-secret-key-long-enough-0123456789abcdef",
    }
    assert run(env, "demo").returncode == 0
    with sqlite3.connect(data / "ced.db") as conn:
        treated = [r[0] for r in conn.execute(
            "SELECT DISTINCT patient_id FROM procedures WHERE status = 'completed' ORDER BY patient_id")]
        names = [r[0] for r in conn.execute("SELECT family_name FROM patients")]
    assert len(treated) >= 2
    return env, data, treated, names


def test_the_export_holds_only_the_enrolled_patients_in_three_formats(demo, tmp_path):
    env, _data, treated, names = demo
    out = tmp_path / "ced"
    done = run(env, "export", "ced", "--study", STUDY, "--patients", str(treated[0]), "--out", str(out))
    assert done.returncode == 0, done.stderr
    with (out / "ced_outcomes.csv").open() as fh:
        rows = list(csv.DictReader(fh))
    assert len({r["pid"] for r in rows}) == 1 and {r["study"] for r in rows} == {STUDY}
    assert {"repeat_procedures", "other_interventions", "ed_visits_or_readmissions"} <= set(rows[0])
    assert pq.read_table(out / "ced_outcomes.parquet").num_rows == len(rows)
    assert pq.read_table(out / "scores.parquet").num_rows > 0
    text = "".join(p.read_text() for p in out.rglob("*") if p.suffix in (".csv", ".ndjson"))
    assert not [n for n in names if n in text], "no patient name leaves in the export"


def test_the_fhir_ndjson_is_valid_r4_and_names_the_study(demo, tmp_path):
    env, _data, treated, _names = demo
    out = tmp_path / "ced"
    assert run(env, "export", "ced", "--study", STUDY, "--patients", ",".join(map(str, treated)),
               "--out", str(out)).returncode == 0
    models = {"ResearchStudy": ResearchStudy, "ResearchSubject": ResearchSubject, "Patient": Patient,
              "Observation": Observation}
    for rtype, model in models.items():
        lines = (out / "fhir" / f"{rtype}.ndjson").read_text().splitlines()
        assert lines, rtype
        for line in lines:
            model.model_validate(json.loads(line))
    study = json.loads((out / "fhir" / "ResearchStudy.ndjson").read_text())
    assert study["identifier"][0]["value"] == STUDY
    assert len((out / "fhir" / "ResearchSubject.ndjson").read_text().splitlines()) == len(treated)


def test_the_readme_lists_what_mildpath_does_not_collect(demo, tmp_path):
    env, _data, treated, _names = demo
    out = tmp_path / "ced"
    assert run(env, "export", "ced", "--study", STUDY, "--patients", str(treated[0]), "--out", str(out)).returncode == 0
    readme = (out / "README.md").read_text()
    for field in ("Pain-medication class", "Pain-medication dose", "Pain-medication duration", "Nursing-home use",
                  "Quality of life"):
        assert f"| {field} | **not collected by mildpath yet** |" in readme
    assert "Function" in readme and STUDY in readme


@pytest.mark.parametrize(("args", "named"), [
    (["--study", "ENCORE", "--patients", "1"], "--study"),
    (["--study", STUDY, "--patients", ","], "--patients"),
    (["--study", STUDY, "--patients", "1,x"], "--patients"),
])
def test_bad_input_exits_2_with_one_line(demo, tmp_path, args, named):
    env, *_ = demo
    done = run(env, "export", "ced", *args, "--out", str(tmp_path / "x"))
    assert done.returncode == 2 and named in done.stderr and len(done.stderr.strip().splitlines()) == 1


def _enrol(env, patient_id, study, enrolment):  # type: ignore[no-untyped-def]
    """Record, as a coordinator would, Medicare CED coverage within ``study`` on the patient's referral."""
    from mildpath.services import referrals
    from mildpath.services.access import Actor
    from mildpath.services.clock import now
    from mildpath.settings import Settings
    from mildpath.store.db import make_engine, make_session_factory, transaction

    settings = Settings(database_url=env["MILDPATH_DATABASE_URL"], secret_key=env["MILDPATH_SECRET_KEY"],
                        data_dir=env["MILDPATH_DATA_DIR"])
    actor = Actor.system("tests")
    with transaction(make_session_factory(make_engine(settings))) as session:
        rid = referrals.create_manual(session, actor, referrals.ManualReferralIn(
            patient_id=patient_id, referrer_name="Dr. Study"), now=now()).id
        referrals.set_coverage(session, actor, rid, referrals.CoverageIn(
            status="medicare_ced", study_nct=study, enrolment=enrolment), now=now())


def test_without_patients_the_export_holds_those_the_coverage_enrols_in_the_study(demo, tmp_path):
    env, _data, treated, _names = demo
    study = "NCT01082991"
    _enrol(env, treated[0], study, "enrolled")
    _enrol(env, treated[1], study, "pending")
    out = tmp_path / "from-coverage"
    done = run(env, "export", "ced", "--study", study, "--out", str(out))
    assert done.returncode == 0, done.stderr
    with (out / "ced_outcomes.csv").open() as f:
        rows = list(csv.DictReader(f))
    assert len(rows) == len([r for r in rows if r["study"] == study]) >= 1
    assert len({r["pid"] for r in rows}) == 1, "only the enrolled patient, not the one still pending"
    assert "taken from the referrals' coverage" in (out / "README.md").read_text()
    override = tmp_path / "named"
    assert run(env, "export", "ced", "--study", study, "--patients", ",".join(map(str, treated[:2])),
               "--out", str(override)).returncode == 0
    with (override / "ced_outcomes.csv").open() as f:
        assert len({r["pid"] for r in csv.DictReader(f)}) == 2, "--patients overrides the coverage records"
