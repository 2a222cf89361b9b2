"""``mildpath report outcomes`` and ``mildpath export fhir | deidentified`` (issue 8; contracts §2).

- ``report outcomes --json`` prints the registry report (the JSON of the ``OutcomesReport`` of
  ``services.outcomes.outcomes_report``, the same as the dashboard and ``GET /api/v1/outcomes``) on stdout;
  ``--out FILE.pdf`` writes it as a PDF.
- ``export fhir --out DIR`` writes the whole store as FHIR R4 Bulk Data NDJSON, ``DIR/<ResourceType>.ndjson``.
- ``export deidentified --out DIR [--format csv|parquet]`` writes ``procedures``, ``scores`` and ``events`` tables
  with pseudonymous ids and dates reduced to days from the procedure (method: ``services.outcomes_export``).

Each command migrates the database first (a fresh machine answers with an empty report, not a crash) and acts as
the system (every clinic), audited. Progress goes to stderr; only JSON goes to stdout.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated, Any

import typer

from mildpath.cli._common import as_of_date, bad_input, emit_json, handles_errors, load_settings, unit_of_work

report_app = typer.Typer(help="Reports: the outcomes registry, the criteria overrides.", no_args_is_help=True)
export_app = typer.Typer(
    help="Exports: FHIR Bulk NDJSON, de-identified registry tables.", no_args_is_help=True
)

SinceOpt = Annotated[str | None, typer.Option("--since", help="First procedure date included (YYYY-MM-DD).")]
UntilOpt = Annotated[str | None, typer.Option("--until", help="Last procedure date included (YYYY-MM-DD).")]
OperatorOpt = Annotated[int | None, typer.Option("--operator", help="Only this operator (user id).")]
LevelOpt = Annotated[
    str | None, typer.Option("--level", help="Only procedures that treated this level (L4-L5).")
]
LevelsOpt = Annotated[
    int | None, typer.Option("--levels-treated", help="Only procedures with this many levels.")
]
AgeOpt = Annotated[
    str | None, typer.Option("--age-band", help="Only this age band: under-65, 65-74, 75-84, 85-plus.")
]
AsOfOpt = Annotated[
    str | None, typer.Option("--as-of", help="Report as of this day (YYYY-MM-DD); default today.")
]


def register(app: typer.Typer) -> None:
    app.add_typer(report_app, name="report")
    app.add_typer(export_app, name="export")



def _filters(**values: Any) -> Any:
    from mildpath.services.outcomes import parse_filters

    return parse_filters(values)  # InvalidInput names the field: exit 2 through handles_errors


@report_app.command("outcomes")
@handles_errors
def outcomes(
    as_json: Annotated[bool, typer.Option("--json", help="Print the report as JSON on stdout.")] = False,
    out: Annotated[Path | None, typer.Option("--out", help="Write the report as a PDF to this file.")] = None,
    since: SinceOpt = None,
    until: UntilOpt = None,
    operator: OperatorOpt = None,
    level: LevelOpt = None,
    levels_treated: LevelsOpt = None,
    age_band: AgeOpt = None,
    as_of: AsOfOpt = None,
) -> None:
    """The outcomes registry report: JSON on stdout (--json) or a PDF of several pages with charts (--out)."""
    if not as_json and out is None:
        bad_input("give --json, --out FILE.pdf, or both")
    if out is not None and out.suffix.lower() != ".pdf":
        bad_input(f"--out: {out} must end in .pdf")
    from mildpath.services.access import Actor
    from mildpath.services.outcomes import outcomes_report

    filters = _filters(
        since=since,
        until=until,
        operator=operator,
        level=level,
        levels_treated=levels_treated,
        age_band=age_band,
    )
    day = as_of_date(as_of)
    settings = load_settings()
    with unit_of_work(settings, migrate=True) as session:
        report = outcomes_report(
            session, Actor.system("cli"), filters, today=day, declared=settings.licensed_wording_declared
        )
    if out is not None:
        from mildpath.reports.outcomes_pdf import report_pdf

        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_bytes(report_pdf(report))
        sys.stderr.write(f"wrote {out} ({report.cohort.procedures} procedures)\n")
    if as_json:
        emit_json(report.model_dump(mode="json"))


@report_app.command("overrides")
@handles_errors
def report_overrides(
    start: Annotated[str, typer.Option("--from", help="First day (YYYY-MM-DD), included")],
    end: Annotated[str, typer.Option("--to", help="Last day (YYYY-MM-DD), included")],
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON on stdout")] = False,
) -> None:
    """How often specialists' decisions (and CDS Hooks feedback) overrode each screening criterion, and why:
    the clinic's audit of its own criteria (the same report as /reports/overrides)."""
    if not as_json:
        bad_input("give --json")
    from datetime import date

    try:
        first, last = date.fromisoformat(start), date.fromisoformat(end)
    except ValueError:
        bad_input(f"--from/--to: {start!r}, {end!r} must be dates (YYYY-MM-DD)")
    from mildpath.services.access import Actor
    from mildpath.services.referrals import overrides_report

    with unit_of_work(load_settings(), migrate=True) as session:
        report = overrides_report(session, Actor.system("cli"), start=first, end=last)
    emit_json(report.model_dump(mode="json"))


@export_app.command("fhir")
@handles_errors
def export_fhir(
    out: Annotated[Path, typer.Option("--out", help="Folder for <ResourceType>.ndjson files.")],
) -> None:
    """The whole store as FHIR R4 Bulk Data NDJSON: one file per resource type in --out."""
    if out.exists() and not out.is_dir():
        bad_input(f"--out: {out} is a file, not a folder")
    from mildpath.reports.exports import write_ndjson
    from mildpath.services.access import Actor
    from mildpath.services.outcomes_export import bulk_fhir_resources

    with unit_of_work(load_settings(), migrate=True) as session:
        counts = write_ndjson(bulk_fhir_resources(session, Actor.system("cli")), out)
    summary = ", ".join(f"{n} {kind}" for kind, n in counts.items()) or "nothing"
    sys.stderr.write(f"wrote {out}: {summary}\n")


@export_app.command("deidentified")
@handles_errors
def export_deidentified(
    out: Annotated[Path, typer.Option("--out", help="Folder for procedures, scores and events tables.")],
    fmt: Annotated[str, typer.Option("--format", help="csv or parquet.")] = "csv",
    since: SinceOpt = None,
    until: UntilOpt = None,
    as_of: AsOfOpt = None,
) -> None:
    """A de-identified patient-level extract: pseudonymous ids, ages, days from the procedure; no names,
    contact details, MRNs or calendar dates (only the procedure year)."""
    if fmt not in ("csv", "parquet"):
        bad_input(f"--format: {fmt!r} must be csv or parquet")
    if out.exists() and not out.is_dir():
        bad_input(f"--out: {out} is a file, not a folder")
    from mildpath.reports.exports import write_table
    from mildpath.services.access import Actor
    from mildpath.services.outcomes_export import COLUMNS, deidentified_tables

    settings = load_settings()
    filters = _filters(since=since, until=until)
    day = as_of_date(as_of)
    with unit_of_work(settings, migrate=True) as session:
        tables = deidentified_tables(
            session, Actor.system("cli"), today=day, key=settings.secret_key.encode(), filters=filters
        )
    for name, rows in tables.items():
        path = out / f"{name}.{fmt}"
        write_table(rows, COLUMNS[name], path, fmt)
        sys.stderr.write(f"wrote {path} ({len(rows)} rows)\n")


@export_app.command("ced")
@handles_errors
def export_ced(
    study: Annotated[str, typer.Option("--study", help="The study's ClinicalTrials.gov number (NCT########).")],
    out: Annotated[Path, typer.Option("--out", help="Folder for the tables, the NDJSON and the README.")],
    patients: Annotated[str, typer.Option(
        "--patients", help="Comma-separated mildpath patient ids enrolled in the study (default: those the "
                           "referrals' coverage enrols in it).")] = "",
    as_of: AsOfOpt = None,
) -> None:
    """A CED-ready extract for one coverage-with-evidence study: CSV, Parquet and FHIR NDJSON, de-identified,
    with a README that lists what mildpath does not collect yet."""
    if out.exists() and not out.is_dir():
        bad_input(f"--out: {out} is a file, not a folder")
    ids = [p.strip() for p in patients.split(",") if p.strip()]
    if patients.strip() and not ids:
        bad_input("--patients: name the patients enrolled in the study (ids, comma-separated)")
    if not all(i.isdigit() and len(i) < 10 for i in ids):
        bad_input(f"--patients: {patients!r} must be patient ids separated by commas")
    from mildpath.reports.exports import write_ndjson, write_table
    from mildpath.services.access import Actor
    from mildpath.services.ced_export import CED_COLUMNS, ced_fhir, ced_tables, check_study, readme
    from mildpath.services.outcomes_export import COLUMNS

    study = check_study(study)
    settings = load_settings()
    with unit_of_work(settings, migrate=True) as session:
        tables = ced_tables(session, Actor.system("cli"), study=study,
                            patient_ids=[int(i) for i in ids] if ids else None,
                            today=as_of_date(as_of), key=settings.secret_key.encode())
    columns = {"ced_outcomes": CED_COLUMNS, **COLUMNS}
    for name, rows in tables.items():
        for fmt in ("csv", "parquet"):
            write_table(rows, columns[name], out / f"{name}.{fmt}", fmt)
    write_ndjson(ced_fhir(tables, study), out / "fhir")
    (out / "README.md").write_text(readme(study, {n: len(r) for n, r in tables.items()},
                                             enrolment="operator" if ids else "coverage"), encoding="utf-8")
    sys.stderr.write(f"wrote {out}: " + ", ".join(f"{n} {len(r)}" for n, r in tables.items()) + "\n")
