"""The procedure tables: the hand-written migration matches the models on each backend, the demo is realistic
and idempotent, the registry extract counts what was recorded, and the FHIR outputs validate (R4B models)."""

from __future__ import annotations

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from fhir.resources.R4B.adverseevent import AdverseEvent as FhirAdverseEvent
from fhir.resources.R4B.bundle import Bundle
from fhir.resources.R4B.procedure import Procedure as FhirProcedure

from mildpath.demo import STAGES, load_demo
from mildpath.domain.procedure import AdverseEventType, ReinterventionType
from mildpath.services import clock
from mildpath.services import procedure_exports as exports
from mildpath.store import procedures as store
from mildpath.store.all_models import load_all
from tests.helpers import count

TABLES = {"procedures", "procedure_observations", "adverse_events", "reinterventions"}


def _ours(diff) -> bool:  # type: ignore[no-untyped-def]
    """True when an autogenerate difference concerns one of the procedure tables."""
    if isinstance(diff, list):
        return any(_ours(d) for d in diff)
    for part in diff[1:]:
        table = getattr(part, "table", None)
        name = getattr(table, "name", None) or getattr(part, "name", None)
        if name in TABLES or (isinstance(part, str) and part in TABLES):
            return True
    return False


def test_the_migration_matches_the_models(db):
    context = MigrationContext.configure(db.connection(), opts={"compare_type": True})
    diffs = [d for d in compare_metadata(context, load_all().metadata) if _ours(d)]
    assert diffs == []


def test_the_demo_gives_each_stage_its_procedure_day(db, world):
    by_stage: dict[str, list[store.ProcedureRow]] = {}
    for pid, (stage, _) in zip(world.demo_patient_ids, STAGES, strict=True):
        by_stage.setdefault(stage, []).extend(store.list_for_patient(db, patient_id=pid))
    assert {p.status for p in by_stage["scheduled"]} == {"scheduled"} and len(by_stage["scheduled"]) == 2
    assert [p.scheduled_date for p in by_stage["procedure_today"]] == [clock.today()]
    completed = by_stage["recovery"] + by_stage["follow_up"]
    assert len(completed) == 19 and {p.status for p in completed} == {"completed"}
    overnight = [p for p in completed if p.discharge_kind == "overnight"]
    assert len(overnight) == 1 and overnight[0].overnight_reason
    assert not by_stage.get("screened") and not by_stage.get("urgent")


def test_loading_the_demo_twice_adds_no_procedure(db):
    before = (count(db, store.ProcedureRow), count(db, store.ObservationRow), count(db, store.AdverseEventRow))
    load_demo(db, today=clock.today())
    after = (count(db, store.ProcedureRow), count(db, store.ObservationRow), count(db, store.AdverseEventRow))
    assert after == before


def test_the_registry_extract_counts_the_demo_events(db, dr_alice, dr_bob_other_clinic):
    # The demo's 19 current procedures plus the 16 former patients the outcomes seeder adds for 24-month data.
    extract = exports.registry_extract(db, dr_alice.actor)
    assert len(extract.procedures) == 35
    assert sum(1 for p in extract.procedures if p.same_day_discharge) == 33
    assert extract.counts.adverse_events[AdverseEventType.ED_VISIT_OR_READMISSION] == 2
    assert extract.counts.serious_adverse_events == 0
    assert sum(extract.counts.reinterventions.values()) == 5
    assert extract.counts.reinterventions[ReinterventionType.LAMINECTOMY] == 2
    assert all(e.days_after_procedure >= 0 for e in extract.adverse_events)
    assert all(p.levels and p.duration_minutes for p in extract.procedures)
    assert exports.registry_extract(db, dr_bob_other_clinic.actor).procedures == ()


def test_the_fhir_outputs_validate_as_r4(db, admin_ada):
    resources = list(exports.iter_fhir_resources(db, admin_ada.actor))
    kinds = [r["resourceType"] for r in resources]
    assert kinds.count("AdverseEvent") >= 2 and kinds.count("Procedure") >= 21
    for resource in resources:
        model = FhirProcedure if resource["resourceType"] == "Procedure" else FhirAdverseEvent
        model.model_validate(resource)
    mild = next(r for r in resources if r["resourceType"] == "Procedure" and r["code"].get("coding"))
    assert mild["code"]["coding"][0]["code"] == "0275T" and mild["bodySite"] and mild["performer"]


@pytest.mark.parametrize("with_events", [True, False], ids=["with-events", "none"])
def test_the_adverse_event_bundle_validates(db, admin_ada, with_events):
    rows = store.registry_adverse_events(db, patient_ids=select_all_patients(db))
    if with_events:
        procedure_id = rows[0].procedure_id
    else:
        procedure_id = next(
            p.id
            for p in store.registry_procedures(db, patient_ids=select_all_patients(db))
            if p.id not in {r.procedure_id for r in rows}
        )
    bundle = exports.adverse_events_fhir(db, admin_ada.actor, procedure_id)
    Bundle.model_validate(bundle)
    assert "total" not in bundle  # R4: total only in searchset and history Bundles
    assert len(bundle.get("entry", [])) == (1 if with_events else 0)
    procedure = exports.procedure_fhir(db, admin_ada.actor, procedure_id)
    FhirProcedure.model_validate(procedure)
    assert ("complication" in procedure) is with_events


def select_all_patients(db):  # type: ignore[no-untyped-def]
    from sqlalchemy import select

    from mildpath.store.models import Patient

    return select(Patient.id)
