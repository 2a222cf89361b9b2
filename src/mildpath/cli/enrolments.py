"""``mildpath enrol --export DIR``: enrolment from the EHR's FHIR Bulk export (issue 20, contracts §10).

Every ``ServiceRequest`` for the mild procedure (CPT 0275T) in the export enrols its patient as
``POST /fhir/ServiceRequest`` would (matched by MRN or created, a referral or a scheduled procedure, an
invitation on the patient's channel). Prints ``{"enrolled", "already", "skipped": [{"file", "line", "reason"}]}``;
running it again on the same export enrols no one twice.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer

from mildpath.cli._common import bad_input, emit_json, handles_errors

HELP = "Enrol patients from an EHR's Bulk export (ServiceRequests for CPT 0275T)."


def register(app: typer.Typer) -> None:
    app.command("enrol", help=HELP)(enrol)


@handles_errors
def enrol(
    export: Annotated[Path, typer.Option(help="The FHIR Bulk export folder (ServiceRequest and Patient NDJSON)")],
    clinic: Annotated[int | None, typer.Option(help="Clinic id (default: the first clinic)")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the counts as JSON on stdout")] = False,
) -> None:
    """Enrol patients from an EHR's Bulk export (ServiceRequests for CPT 0275T)."""
    from mildpath.cli._common import load_settings, unit_of_work
    from mildpath.services.access import Actor
    from mildpath.services.clock import now, today
    from mildpath.services.enrolments import enrol_from_export
    from mildpath.services.patients import first_clinic_id

    settings = load_settings()
    with unit_of_work(settings) as session:
        clinic_id = clinic if clinic is not None else first_clinic_id(session)
        if clinic_id is None:
            bad_input("--clinic: no clinic yet (add one with `mildpath clinic add`)")
        result = enrol_from_export(session, Actor.system("enrol-export"), export, clinic_id=clinic_id,
                                   today=today(), now=now(), secret_key=settings.secret_key,
                                   public_url=settings.links_base)
    sys.stderr.write(f"enrol: {result.enrolled} enrolled, {result.already} enrolled before, "
                     f"{len(result.skipped)} skipped\n")
    for skip in result.skipped:
        sys.stderr.write(f"  {skip.file}:{skip.line}: {skip.reason}\n")
    if as_json:
        emit_json(result.model_dump())
