"""The Bulk export (``mildpath export fhir``) carries the Practitioners its resources reference (issue 19)."""

from __future__ import annotations

from fhir.resources.R4B.practitioner import Practitioner

from mildpath.fhir.server import referenced
from mildpath.services.access import Actor
from mildpath.services.outcomes_export import bulk_fhir_resources


def test_every_practitioner_reference_of_the_export_resolves(db):
    resources = list(bulk_fhir_resources(db, Actor.system("tests")))
    cited = referenced(resources, "Practitioner")
    assert cited, "the demo has clinician-entered questionnaires"
    exported = {r["id"] for r in resources if r["resourceType"] == "Practitioner"}
    assert cited <= exported
    for r in resources:
        if r["resourceType"] == "Practitioner":
            Practitioner.model_validate(r)
