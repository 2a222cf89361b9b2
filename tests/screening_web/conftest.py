"""Fixtures of the screening web suite: form answers by outcome, a FHIR chart for a stored patient, CDS requests.

The test world holds the demo clinic, whose screening seeder already stored screenings for every demo patient;
tests therefore compare counts before and after, or read the rows they made.
"""

from __future__ import annotations

import copy
import datetime as dt
import re
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from mildpath.services.clock import today
from mildpath.store.models import AuditEvent, Patient
from tests.screening.vignettes import TODAY, Vignette, to_bundle


def ago(days: int) -> str:
    return (today() - dt.timedelta(days=days)).isoformat()


def likely_assessment() -> dict[str, Any]:
    """A clinician assessment of a likely candidate (dates relative to today)."""
    return {
        "lss_confirmed": True,
        "neurogenic_claudication": True,
        "symptom_months": 14,
        "conservative_care_failed": True,
        "lf_thickness_mm": 4.2,
        "imaging_date": ago(60),
        "imaging_modality": "MRI",
        "odi_score": 44,
        "odi_date": ago(10),
        "nprs": 7,
        "nprs_date": ago(10),
        "spondylolisthesis": False,
        "prior_lumbar_surgery": False,
        "dominant_foraminal_or_disc": False,
        "severe_neurological_deficit": False,
        "infection": False,
        "bleeding_disorder": False,
        "cauda_equina_signs": False,
        "other_red_flags": False,
    }


def no_imaging_assessment() -> dict[str, Any]:
    return {k: v for k, v in likely_assessment().items() if not k.startswith(("lf_", "imaging"))}


SELF_CHECK: dict[str, Any] = {
    "told_lss": True,
    "leg_symptoms_standing_walking": True,
    "relief_sitting_bending": True,
    "walk_tolerance": "5_to_15_minutes",
    "symptom_duration": "more_than_12_months",
    "treatments_tried": ["physical_therapy", "pain_medicine"],
    "treatment_not_enough": True,
    "blood_thinner": False,
    "bladder_bowel_change": False,
    "saddle_numbness": False,
}
RED_FLAG_SELF_CHECK: dict[str, Any] = {**SELF_CHECK, "bladder_bowel_change": True}


def chart_for(patient: Patient, vignette: Vignette | None = None) -> dict[str, Any]:
    """A vignette's FHIR Bundle (as of ``tests.screening.vignettes.TODAY``) whose Patient has this patient's
    birth date."""
    bundle = copy.deepcopy(to_bundle(vignette or Vignette("typical", "likely_candidate")))
    for entry in bundle["entry"]:
        if entry["resource"]["resourceType"] == "Patient":
            entry["resource"]["birthDate"] = patient.birth_date.isoformat()
    return bundle


CHART_AS_OF = TODAY

PREFETCH_KEYS = {
    "conditions": "Condition",
    "procedures": "Procedure",
    "serviceRequests": "ServiceRequest",
    "medicationRequests": "MedicationRequest",
    "medicationStatements": "MedicationStatement",
    "observations": "Observation",
}


_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}")


def shifted(value: Any, days: int) -> Any:
    """The resource(s) with every date moved by ``days`` (so a chart written as of one day reads the same today)."""
    if isinstance(value, dict):
        return {k: shifted(v, days) for k, v in value.items()}
    if isinstance(value, list):
        return [shifted(v, days) for v in value]
    if isinstance(value, str) and _DATE.match(value):
        moved = dt.date.fromisoformat(value[:10]) + dt.timedelta(days=days)
        return moved.isoformat() + value[10:]
    return value


def cds_request(vignette: Vignette, *, drop: tuple[str, ...] = ()) -> dict[str, Any]:
    """A CDS Hooks 2.0 ``patient-view`` request whose prefetch holds the vignette's chart as search Bundles,
    its dates moved so that the chart is as recent today as the vignette is on its own day (the service screens
    as of today)."""
    bundle = shifted(to_bundle(Vignette(**{**vignette.__dict__, "refs": "patient"})), (today() - TODAY).days)
    resources = [e["resource"] for e in bundle["entry"]]
    prefetch: dict[str, Any] = {"patient": next(r for r in resources if r["resourceType"] == "Patient")}
    for key, rtype in PREFETCH_KEYS.items():
        found = [r for r in resources if r["resourceType"] == rtype]
        prefetch[key] = (
            {"resourceType": "Bundle", "type": "searchset", "entry": [{"resource": r} for r in found]}
            if found
            else None
        )
    for key in drop:
        prefetch.pop(key)
    return {
        "hook": "patient-view",
        "hookInstance": "d1577c69-dfbe-44ad-ba6d-3e05e953b2ea",
        "fhirServer": "https://ehr.example.org/fhir",
        "context": {"userId": "Practitioner/123", "patientId": "pat-1"},
        "prefetch": prefetch,
    }


def last_audit(db: Session, action: str) -> AuditEvent | None:
    return db.scalars(select(AuditEvent).where(AuditEvent.action == action).order_by(AuditEvent.id.desc())).first()


@pytest.fixture
def pat(db: Session, pat_id: int) -> Patient:
    patient = db.get(Patient, pat_id)
    assert patient is not None
    return patient


@pytest.fixture
def cds_api_tokens(app):  # type: ignore[no-untyped-def]
    """The site setting that admits mildpath's own staff API tokens (and sessions) on the CDS Hooks routes."""
    app.state.settings = app.state.settings.model_copy(update={"cds_api_tokens": True})
    return app
