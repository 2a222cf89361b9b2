"""Synthetic FHIR Bulk Data exports for tests and benchmarks (issue 9; contracts §2, §6).

``generate(out, patients=N, seed=S, as_of=D)`` writes a Bulk export (``<Type>.<chunk>.ndjson``, one chunk per
10,000 patients, plus an exporter's ``log.ndjson``) that looks like what Synthea or an EHR writes:

- every patient carries a Synthea-like volume of records that screening does not need (encounters with
  vital signs, pain scores and lab panels, notes as DocumentReference and DiagnosticReport, immunisations,
  common conditions, procedures and medications): about 70 KB a patient on average;
- a realistic minority (one patient in eight, in a fixed rotation so that a few hundred patients already
  cover them all) has lumbar spinal stenosis in one of the pathway situations of :data:`SCENARIOS`: pre-2017
  M48.06 codes, physical therapy and epidural injections (linked to the diagnosis or only by date), ordered as
  ServiceRequests, anticoagulants (by code, by reference to a Medication, contained, as statements), prior
  lumbar surgery, missing or old imaging, red flags, ODI and NPRS observations, the clinician assessment sent
  as Observations, the ligamentum flavum thickness under mildpath's local code (in mm, cm or a unit it cannot
  use), refuted and entered-in-error records;
- the real-world variety the screen must read: references as ``Patient/ID`` or ``urn:uuid:ID``, dates with and
  without time zones (and partial dates), ICD-10-CM and SNOMED codes, components, and chronic low back pain
  (a mimic that must not open the gate).

Everything is dated relative to the as-of date, and the same seed and date give the same bytes (each patient's
records come from a random generator seeded with the seed and the patient's number, so chunks can be written
in parallel processes). The codes are those of ``content/criteria/valuesets.yaml`` and, for the unrelated
records, codes of the kind Synthea writes; the records are synthetic and make no clinical claim.
"""

from __future__ import annotations

import base64
import datetime as dt
import gzip
import os
import random
import uuid
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import orjson

from mildpath.fhir.codes import (
    ASSESSMENT_SYSTEM,
    CPT,
    ICD10_M4806_SPLIT,
    ICD10CM,
    LOINC,
    RXNORM,
    SCREENING_SYSTEM,
    SNOMED,
    UCUM,
)

CHUNK = 10_000
SPINE_EVERY = 8  # one patient in eight has lumbar spinal stenosis in some situation
CVX = "http://hl7.org/fhir/sid/cvx"
CLINICAL = "http://terminology.hl7.org/CodeSystem/condition-clinical"
VERIFICATION = "http://terminology.hl7.org/CodeSystem/condition-ver-status"
OBS_CATEGORY = "http://terminology.hl7.org/CodeSystem/observation-category"
TYPES = (
    "Patient",
    "Encounter",
    "Condition",
    "Observation",
    "Procedure",
    "ServiceRequest",
    "MedicationRequest",
    "MedicationStatement",
    "Immunization",
    "DiagnosticReport",
    "DocumentReference",
)

Resource = dict[str, Any]


# --------------------------------------------------------------------------------------------- code lists

# Unrelated records, as Synthea writes them (code, display).
VITALS = (
    ("8302-2", "Body Height", "cm", 150.0, 195.0),
    ("29463-7", "Body Weight", "kg", 50.0, 120.0),
    ("39156-5", "Body mass index (BMI) [Ratio]", "kg/m2", 18.0, 38.0),
    ("8867-4", "Heart rate", "/min", 55.0, 100.0),
    ("9279-1", "Respiratory rate", "/min", 12.0, 20.0),
)
LABS = (
    ("2339-0", "Glucose [Mass/volume] in Blood", "mg/dL", 70.0, 140.0),
    ("6299-2", "Urea nitrogen [Mass/volume] in Blood", "mg/dL", 7.0, 25.0),
    ("38483-4", "Creatinine [Mass/volume] in Blood", "mg/dL", 0.6, 1.4),
    ("49765-1", "Calcium [Mass/volume] in Blood", "mg/dL", 8.5, 10.5),
    ("2947-0", "Sodium [Moles/volume] in Blood", "mmol/L", 135.0, 145.0),
    ("6298-4", "Potassium [Moles/volume] in Blood", "mmol/L", 3.5, 5.1),
    ("2069-3", "Chloride [Moles/volume] in Blood", "mmol/L", 98.0, 107.0),
    ("20565-8", "Carbon dioxide, total [Moles/volume] in Blood", "mmol/L", 22.0, 29.0),
)
BACKGROUND_CONDITIONS = (
    (SNOMED, "59621000", "Essential hypertension (disorder)"),
    (SNOMED, "44054006", "Diabetes mellitus type 2 (disorder)"),
    (SNOMED, "55822004", "Hyperlipidemia (disorder)"),
    (SNOMED, "162864005", "Body mass index 30+ - obesity (finding)"),
    (SNOMED, "195662009", "Acute viral pharyngitis (disorder)"),
    (SNOMED, "10509002", "Acute bronchitis (disorder)"),
    (SNOMED, "444814009", "Viral sinusitis (disorder)"),
    (SNOMED, "66383009", "Gingivitis (disorder)"),
    (ICD10CM, "I10", "Essential (primary) hypertension"),
    (ICD10CM, "E78.5", "Hyperlipidemia, unspecified"),
    (ICD10CM, "M17.11", "Unilateral primary osteoarthritis, right knee"),
)
LOW_BACK_PAIN = (
    (SNOMED, "278860009", "Chronic low back pain (finding)"),
    (ICD10CM, "M54.50", "Low back pain, unspecified"),
)
BACKGROUND_PROCEDURES = (
    ("430193006", "Medication Reconciliation (procedure)"),
    ("171207006", "Depression screening (procedure)"),
    ("710824005", "Assessment of health and social care needs (procedure)"),
    ("428191000124101", "Documentation of current medications (procedure)"),
)
BACKGROUND_MEDICATIONS = (
    ("314076", "lisinopril 10 MG Oral Tablet"),
    ("197361", "amlodipine 5 MG Oral Tablet"),
    ("860975", "24 HR metformin hydrochloride 500 MG Extended Release Oral Tablet"),
    ("312961", "simvastatin 20 MG Oral Tablet"),
    ("849574", "Naproxen sodium 220 MG Oral Tablet"),
    ("313782", "Acetaminophen 325 MG Oral Tablet"),
)
VACCINES = (
    ("140", "Influenza, seasonal, injectable, preservative free"),
    ("113", "Td (adult) preservative free"),
    ("133", "Pneumococcal conjugate PCV 13"),
    ("121", "zoster"),
    ("208", "SARS-COV-2 (COVID-19) vaccine"),
)
NOTE_LINES = (
    "Patient presents for a scheduled visit.", "Vital signs reviewed and within expected limits.",
    "Medications reconciled; no changes today.", "Counselled on diet, exercise and sleep.",
    "Denies chest pain, shortness of breath or fever.", "Follow up in twelve months or sooner if needed.",
    "Reports intermittent aching in the lower back after gardening.", "Screening questionnaires completed.",
)  # fmt: skip
FIRST = (
    "Ana",
    "Ben",
    "Carla",
    "Dev",
    "Elena",
    "Farid",
    "Grace",
    "Hiro",
    "Ines",
    "Jon",
    "Kemal",
    "Lucia",
    "Mara",
    "Nils",
    "Olga",
    "Pavel",
    "Quinn",
    "Rosa",
    "Sami",
    "Tara",
    "Uma",
    "Viktor",
    "Wen",
    "Yara",
    "Zoltan",
)
LAST = (
    "Abbott",
    "Baker",
    "Castillo",
    "Dubois",
    "Eriksen",
    "Fischer",
    "Garcia",
    "Hansen",
    "Ito",
    "Jensen",
    "Kowalski",
    "Lopez",
    "Moreau",
    "Nakamura",
    "Okafor",
    "Petrov",
    "Quinn",
    "Rossi",
    "Schmidt",
    "Tanaka",
    "Varga",
    "Weber",
)
CITIES = (
    ("Olathe", "KS", "66061"),
    ("Salem", "OR", "97301"),
    ("Dayton", "OH", "45402"),
    ("Tulsa", "OK", "74103"),
    ("Fresno", "CA", "93721"),
    ("Albany", "NY", "12207"),
    ("Mesa", "AZ", "85201"),
    ("Reno", "NV", "89501"),
)

# The pathway's codes, from content/criteria/valuesets.yaml.
LSS_M4806 = (ICD10CM, "M48.06", "Spinal stenosis, lumbar region")
LSS_M48061 = (ICD10CM, "M48.061", "Spinal stenosis, lumbar region without neurogenic claudication")
LSS_M48062 = (ICD10CM, "M48.062", "Spinal stenosis, lumbar region with neurogenic claudication")
LSS_SNOMED = (SNOMED, "18347007", "Spinal stenosis of lumbar region (disorder)")
CES_SNOMED = (SNOMED, "192970008", "Cauda equina syndrome")
CES_ICD = (ICD10CM, "G83.4", "Cauda equina syndrome")
SPONDYLOLISTHESIS = (SNOMED, "274152003", "Spondylolisthesis")
PT_SNOMED = (SNOMED, "91251008", "Physical therapy procedure (regime/therapy)")
PT_EVAL = (CPT, "97161", "Physical therapy evaluation: low complexity")
ESI = (CPT, "64483", "Transforaminal epidural injection, lumbar or sacral, single level, with imaging guidance")
ESI_INTERLAMINAR = (CPT, "62323", "Interlaminar epidural injection, lumbar or sacral, with imaging guidance")
LAMINECTOMY = (CPT, "63047", "Laminectomy with facetectomy and foraminotomy, lumbar")
MRI_LUMBAR = (CPT, "72148", "MRI lumbar spine without contrast")
WARFARIN = ("855332", "warfarin sodium 5 MG Oral Tablet")
APIXABAN = ("1364430", "apixaban")
RIVAROXABAN = ("1114195", "rivaroxaban")
CLOPIDOGREL = ("309362", "clopidogrel 75 MG Oral Tablet")
ODI = (LOINC, "97909-6", "Oswestry disability index score ODI")
NPRS = (LOINC, "72514-3", "Pain severity - 0-10 verbal numeric rating [Score] - Reported")
LF = (SCREENING_SYSTEM, "ligamentum-flavum-thickness", "Ligamentum flavum thickness on MRI or CT (mm)")


# --------------------------------------------------------------------------------------------- one patient


@dataclass
class _Patient:
    """One patient being written: random generator, ids, reference style and the records so far."""

    rng: random.Random
    as_of: dt.date
    id: str
    ref: str
    zone: str
    age: int
    spine: bool
    out: dict[str, list[Resource]] = field(default_factory=dict)

    def uid(self) -> str:
        return str(uuid.UUID(int=self.rng.getrandbits(128), version=4))

    def add(self, resource: Resource) -> Resource:
        self.out.setdefault(resource["resourceType"], []).append(resource)
        return resource

    def days_ago(self, low: int, high: int) -> dt.date:
        return self.as_of - dt.timedelta(days=self.rng.randint(low, high))

    def when(self, day: dt.date, *, date_only: bool = False) -> str:
        """A dateTime on ``day`` in this patient's style: with a zone, in UTC, with milliseconds, or a date."""
        if date_only or self.zone == "date":
            return day.isoformat()
        seconds = self.rng.randint(6 * 3600, 23 * 3600 + 59 * 60)
        clock = f"{seconds // 3600:02d}:{seconds // 60 % 60:02d}:{seconds % 60:02d}"
        if self.zone == "Z":
            return f"{day.isoformat()}T{clock}Z"
        if self.zone == "ms":
            return f"{day.isoformat()}T{clock}.{self.rng.randint(0, 999):03d}+02:00"
        return f"{day.isoformat()}T{clock}{self.zone}"

    def instant(self, day: dt.date) -> str:
        return f"{day.isoformat()}T12:00:00.000+00:00"


def _concept(system: str, code: str, display: str) -> Resource:
    return {"coding": [{"system": system, "code": code, "display": display}], "text": display}


def _quantity(value: float, unit: str) -> Resource:
    return {"value": value, "unit": unit, "system": UCUM, "code": unit}


def _patient_resource(p: _Patient, birth: dt.date) -> Resource:
    rng = p.rng
    given, family = rng.choice(FIRST), rng.choice(LAST)
    city, state, postal = rng.choice(CITIES)
    gender = rng.choice(("female", "male"))
    return {
        "resourceType": "Patient",
        "id": p.id,
        "meta": {"profile": ["http://hl7.org/fhir/us/core/StructureDefinition/us-core-patient"]},
        "text": {
            "status": "generated",
            "div": '<div xmlns="http://www.w3.org/1999/xhtml">Generated by mildpath synth population.</div>',
        },
        "extension": [
            {
                "url": "http://hl7.org/fhir/us/core/StructureDefinition/us-core-race",
                "extension": [
                    {
                        "url": "ombCategory",
                        "valueCoding": {
                            "system": "urn:oid:2.16.840.1.113883.6.238",
                            "code": "2106-3",
                            "display": "White",
                        },
                    },
                    {"url": "text", "valueString": "White"},
                ],
            },
            {"url": "http://hl7.org/fhir/us/core/StructureDefinition/us-core-birthsex", "valueCode": gender[0].upper()},
            {
                "url": "http://hl7.org/fhir/StructureDefinition/patient-birthPlace",
                "valueAddress": {"city": city, "state": state, "country": "US"},
            },
        ],  # fmt: skip
        "identifier": [
            {"system": "https://github.com/synthetichealth/synthea", "value": p.id},
            {
                "type": {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/v2-0203", "code": "MR"}]},
                "system": "http://hospital.example.org",
                "value": p.uid(),
            },
        ],
        "name": [{"use": "official", "family": family, "given": [given], "prefix": ["Mx."]}],
        "telecom": [{"system": "phone", "value": f"555-{rng.randint(100, 999)}-{rng.randint(1000, 9999)}"}],
        "gender": gender,
        "birthDate": birth.isoformat(),
        "address": [
            {
                "line": [f"{rng.randint(1, 999)} Main Street"],
                "city": city,
                "state": state,
                "postalCode": postal,
                "country": "US",
            }
        ],  # fmt: skip
        "maritalStatus": _concept("http://terminology.hl7.org/CodeSystem/v3-MaritalStatus", "M", "Married"),
        "communication": [{"language": _concept("urn:ietf:bcp:47", "en-US", "English (United States)")}],
    }


def _encounter(p: _Patient, day: dt.date) -> Resource:
    start = p.when(day)
    return p.add(
        {
            "resourceType": "Encounter",
            "id": p.uid(),
            "meta": {"profile": ["http://hl7.org/fhir/us/core/StructureDefinition/us-core-encounter"]},
            "status": "finished",
            "class": {"system": "http://terminology.hl7.org/CodeSystem/v3-ActCode", "code": "AMB"},
            "type": [_concept(SNOMED, "185349003", "Encounter for check up (procedure)")],
            "subject": {"reference": p.ref},
            "participant": [{"individual": {"reference": "Practitioner/9999974394", "display": "Dr. Synth"}}],
            "period": {"start": start, "end": start},
            "serviceProvider": {"reference": "Organization/synth-clinic", "display": "SYNTH HEALTH CLINIC"},
        }
    )


def _observation(
    p: _Patient,
    concept: tuple[str, str, str],
    day: dt.date | None,
    *,
    value: Resource | None = None,
    category: str = "vital-signs",
    encounter: str | None = None,
    components: list[Resource] | None = None,
    status: str = "final",
) -> Resource:
    system, code, display = concept
    res: Resource = {
        "resourceType": "Observation",
        "id": p.uid(),
        "status": status,
        "category": [{"coding": [{"system": OBS_CATEGORY, "code": category}]}],
        "code": _concept(system, code, display),
        "subject": {"reference": p.ref},
    }
    if encounter:
        res["encounter"] = {"reference": f"Encounter/{encounter}"}
    if day is not None:
        res["effectiveDateTime"] = p.when(day)
        res["issued"] = p.instant(day)
    if value:
        res.update(value)
    if components:
        res["component"] = components
    return p.add(res)


def _note(p: _Patient, day: dt.date, lines: int) -> str:
    body = [f"{day.isoformat()}", "", "# Chief Complaint", "- routine visit", "", "# History of Present Illness"]
    body += [p.rng.choice(NOTE_LINES) for _ in range(lines)]
    return base64.b64encode("\n".join(body).encode()).decode()


def _visit(p: _Patient, day: dt.date) -> None:
    """One routine encounter: vitals (with a pain score, ranked to the patient), maybe labs, notes."""
    rng = p.rng
    enc = _encounter(p, day)["id"]
    for code, display, unit, low, high in VITALS:
        value = _quantity(round(rng.uniform(low, high), 1), unit)
        _observation(p, (LOINC, code, display), day, value={"valueQuantity": value}, encounter=enc)
    bp = [
        {"code": _concept(LOINC, "8462-4", "Diastolic Blood Pressure"),
         "valueQuantity": _quantity(float(rng.randint(60, 95)), "mm[Hg]")},
        {"code": _concept(LOINC, "8480-6", "Systolic Blood Pressure"),
         "valueQuantity": _quantity(float(rng.randint(100, 160)), "mm[Hg]")},
    ]  # fmt: skip
    _observation(p, (LOINC, "85354-9", "Blood pressure panel with all children optional"), day,
                 encounter=enc, components=bp)  # fmt: skip
    if rng.random() < 0.5:  # Synthea records a pain score at many visits: NPRS is a screening code
        pain = rng.randint(5, 8) if p.spine else rng.randint(0, 4)
        _observation(p, NPRS, day, value={"valueQuantity": _quantity(float(pain), "{score}")}, encounter=enc)
    if rng.random() < 0.3:
        results = []
        for code, display, unit, low, high in LABS:
            value = _quantity(round(rng.uniform(low, high), 1), unit)
            obs = _observation(p, (LOINC, code, display), day, value={"valueQuantity": value},
                               category="laboratory", encounter=enc)  # fmt: skip
            results.append({"reference": f"Observation/{obs['id']}", "display": display})
        p.add(
            {
                "resourceType": "DiagnosticReport",
                "id": p.uid(),
                "status": "final",
                "category": [_concept("http://terminology.hl7.org/CodeSystem/v2-0074", "LAB", "Laboratory")],
                "code": _concept(LOINC, "51990-0", "Basic metabolic panel - Blood"),
                "subject": {"reference": p.ref},
                "encounter": {"reference": f"Encounter/{enc}"},
                "effectiveDateTime": p.when(day),
                "issued": p.instant(day),
                "result": results,
            }
        )
    note = _note(p, day, rng.randint(14, 34))
    p.add(
        {
            "resourceType": "DiagnosticReport",
            "id": p.uid(),
            "status": "final",
            "category": [_concept(LOINC, "34117-2", "History and physical note")],
            "code": _concept(LOINC, "34117-2", "History and physical note"),
            "subject": {"reference": p.ref},
            "encounter": {"reference": f"Encounter/{enc}"},
            "effectiveDateTime": p.when(day),
            "issued": p.instant(day),
            "presentedForm": [{"contentType": "text/plain; charset=utf-8", "data": note}],
        }
    )
    p.add(
        {
            "resourceType": "DocumentReference",
            "id": p.uid(),
            "status": "current",
            "type": _concept(LOINC, "34117-2", "History and physical note"),
            "category": [
                _concept(
                    "http://hl7.org/fhir/us/core/CodeSystem/us-core-documentreference-category",
                    "clinical-note",
                    "Clinical Note",
                )
            ],  # fmt: skip
            "subject": {"reference": p.ref},
            "date": p.instant(day),
            "content": [{"attachment": {"contentType": "text/plain; charset=utf-8", "data": note}}],
            "context": {"encounter": [{"reference": f"Encounter/{enc}"}]},
        }
    )
    if rng.random() < 0.4:
        code, display = rng.choice(BACKGROUND_PROCEDURES)
        _procedure(p, (SNOMED, code, display), day, encounter=enc)


def _condition(
    p: _Patient,
    codes: tuple[tuple[str, str, str], ...],
    onset: dt.date | str | None,
    *,
    status: str = "active",
    verification: str = "confirmed",
    recorded: dt.date | None = None,
    abatement: dt.date | None = None,
) -> Resource:
    res: Resource = {
        "resourceType": "Condition",
        "id": p.uid(),
        "clinicalStatus": {"coding": [{"system": CLINICAL, "code": status}]},
        "verificationStatus": {"coding": [{"system": VERIFICATION, "code": verification}]},
        "category": [
            {
                "coding": [
                    {
                        "system": "http://terminology.hl7.org/CodeSystem/condition-category",
                        "code": "encounter-diagnosis",
                        "display": "Encounter Diagnosis",
                    }
                ]
            }
        ],  # fmt: skip
        "code": {"coding": [{"system": s, "code": c, "display": d} for s, c, d in codes], "text": codes[0][2]},
        "subject": {"reference": p.ref},
    }
    if isinstance(onset, str):
        res["onsetDateTime"] = onset
    elif onset is not None:
        res["onsetDateTime"] = p.when(onset)
    if recorded is not None or isinstance(onset, dt.date):
        res["recordedDate"] = p.when(recorded or onset)  # type: ignore[arg-type]
    if abatement is not None:
        res["abatementDateTime"] = p.when(abatement)
    return p.add(res)


def _procedure(
    p: _Patient,
    concept: tuple[str, str, str],
    day: dt.date,
    *,
    status: str = "completed",
    reason: Resource | None = None,
    encounter: str | None = None,
) -> Resource:
    start = p.when(day)
    res: Resource = {
        "resourceType": "Procedure",
        "id": p.uid(),
        "status": status,
        "code": _concept(*concept),
        "subject": {"reference": p.ref},
        "performedPeriod": {"start": start, "end": start},
    }
    if encounter:
        res["encounter"] = {"reference": f"Encounter/{encounter}"}
    if reason is not None:
        res["reasonReference"] = [{"reference": f"Condition/{reason['id']}"}]
    return p.add(res)


def _service_request(
    p: _Patient, concept: tuple[str, str, str], day: dt.date | None, *, status: str = "completed"
) -> Resource:
    res: Resource = {
        "resourceType": "ServiceRequest",
        "id": p.uid(),
        "status": status,
        "intent": "order",
        "code": _concept(*concept),
        "subject": {"reference": p.ref},
    }
    if day is not None:
        res["occurrenceDateTime"] = p.when(day)
        res["authoredOn"] = p.when(day - dt.timedelta(days=14))
    return p.add(res)


def _assessment(p: _Patient, name: str, value: bool | int | float, day: dt.date) -> Resource:
    """One answer of the clinician assessment sent as an Observation in mildpath's assessment system."""
    if isinstance(value, bool):
        carried: Resource = {"valueBoolean": value}
    elif isinstance(value, int):
        carried = {"valueInteger": value}
    else:
        carried = {"valueQuantity": _quantity(value, "mm" if name == "lf_thickness_mm" else "{score}")}
    return _observation(p, (ASSESSMENT_SYSTEM, name, name.replace("_", " ")), day, value=carried, category="survey")


def _medication_request(
    p: _Patient,
    drug: tuple[str, str],
    day: dt.date,
    *,
    status: str = "active",
    how: str = "code",
    medications: dict[str, str] | None = None,
) -> Resource:
    res: Resource = {
        "resourceType": "MedicationRequest",
        "id": p.uid(),
        "status": status,
        "intent": "order",
        "subject": {"reference": p.ref},
        "authoredOn": p.when(day),
        "requester": {"reference": "Practitioner/9999974394", "display": "Dr. Synth"},
        "dosageInstruction": [
            {
                "sequence": 1,
                "timing": {"repeat": {"frequency": 1, "period": 1.0, "periodUnit": "d"}},
                "asNeededBoolean": False,
            }
        ],  # fmt: skip
    }
    if how == "contained":
        res["contained"] = [{"resourceType": "Medication", "id": "med", "code": _concept(RXNORM, *drug)}]
        res["medicationReference"] = {"reference": "#med"}
    elif how == "reference" and medications is not None:
        res["medicationReference"] = {"reference": f"Medication/{medications[drug[0]]}"}
    else:
        res["medicationCodeableConcept"] = _concept(RXNORM, *drug)
    return p.add(res)


def _background(p: _Patient) -> None:
    rng = p.rng
    for _ in range(rng.randint(1, 4)):
        system, code, display = rng.choice(BACKGROUND_CONDITIONS)
        _condition(p, ((system, code, display),), p.days_ago(60, 3650), status=rng.choice(("active", "resolved")))
    if rng.random() < 0.08:  # a mimic: back pain does not open the gate
        _condition(p, (rng.choice(LOW_BACK_PAIN),), p.days_ago(200, 2000))
    visits = max(1, round(rng.gauss(3 + p.age / 25, 1.5)))
    days = sorted({p.days_ago(14, 5 * 365) for _ in range(visits)})
    for day in days:
        _visit(p, day)
    for _ in range(rng.randint(0, 2)):
        drug = rng.choice(BACKGROUND_MEDICATIONS)
        for year in range(rng.randint(1, 4)):
            _medication_request(p, drug, p.days_ago(30 + 365 * year, 364 + 365 * year),
                                status="stopped" if year else "active")  # fmt: skip
    for year in range(rng.randint(0, 4)):
        code, display = rng.choice(VACCINES)
        p.add(
            {
                "resourceType": "Immunization",
                "id": p.uid(),
                "status": "completed",
                "vaccineCode": _concept(CVX, code, display),
                "patient": {"reference": p.ref},
                "occurrenceDateTime": p.when(p.days_ago(365 * year, 365 * year + 300)),
                "primarySource": True,
            }
        )


# --------------------------------------------------------------------------------------------- scenarios


@dataclass(frozen=True)
class _Spine:
    """The stenosis work-up every complete scenario starts from, which scenarios then change."""

    dx: tuple[tuple[str, str, str], ...] = (LSS_M48062,)
    onset_days: tuple[int, int] = (240, 1000)
    onset_text: str | None = None
    pre2017: bool = False  # onset before ICD-10-CM split M48.06 (2017-10-01)
    care: str = "pt_linked"  # pt_linked | esi_after | pt_request | pt_recent | pt_before | none | pt_error | undated
    lf: str = "mm"  # mm | cm | old | thin | none | inch
    odi: str = "quantity"  # quantity | integer | low | none
    nprs: str = "integer"  # integer | component | low
    recorded_only: bool = False


def _workup(p: _Patient, spine: _Spine, medications: dict[str, str]) -> Resource:
    """A stenosis diagnosis with care, imaging and scores as ``spine`` says. Returns the Condition."""
    rng = p.rng
    onset = p.days_ago(*spine.onset_days)
    if spine.pre2017:
        last = min(ICD10_M4806_SPLIT - dt.timedelta(days=1), p.as_of - dt.timedelta(days=240))
        onset = last - dt.timedelta(days=rng.randint(0, 1000))
    if spine.recorded_only:
        dx = _condition(p, spine.dx, None, recorded=onset)
    else:
        dx = _condition(p, spine.dx, spine.onset_text or onset)
    care_day = min(onset + dt.timedelta(days=rng.randint(20, 90)), p.as_of - dt.timedelta(days=rng.randint(100, 200)))
    care_day = max(care_day, onset)
    if spine.care == "pt_linked":
        _procedure(p, PT_SNOMED, care_day, reason=dx)
    elif spine.care == "esi_after":
        _procedure(p, ESI, care_day)
    elif spine.care == "pt_request":
        _service_request(p, PT_EVAL, care_day)
    elif spine.care == "pt_recent":
        _procedure(p, PT_SNOMED, p.days_ago(10, 60))
    elif spine.care == "pt_before":
        _procedure(p, PT_SNOMED, onset - dt.timedelta(days=rng.randint(200, 600)))
    elif spine.care == "pt_error":
        _procedure(p, PT_SNOMED, care_day, status="entered-in-error")
    elif spine.care == "undated":
        _service_request(p, ESI_INTERLAMINAR, None, status="active")
    imaging = p.days_ago(20, 300)
    if spine.lf != "none":
        _service_request(p, MRI_LUMBAR, imaging)
    lf_value = {
        "mm": _quantity(round(rng.uniform(2.8, 6.0), 1), "mm"),
        "cm": _quantity(round(rng.uniform(0.28, 0.6), 2), "cm"),
        "thin": _quantity(round(rng.uniform(1.2, 2.3), 1), "mm"),
        "old": _quantity(round(rng.uniform(3.0, 5.0), 1), "mm"),
        "inch": _quantity(0.2, "[in_i]"),
    }.get(spine.lf)
    if lf_value is not None:
        day = p.days_ago(420, 900) if spine.lf == "old" else imaging
        _observation(p, LF, day, value={"valueQuantity": lf_value}, category="imaging")
    score_day = p.days_ago(1, 10)
    if spine.odi != "none":
        odi = rng.randint(10, 28) if spine.odi == "low" else rng.randint(32, 70)
        carried = (
            {"valueInteger": odi} if spine.odi == "integer" else {"valueQuantity": _quantity(float(odi), "{score}")}
        )
        _observation(p, ODI, score_day, value=carried, category="survey")
    pain = rng.randint(1, 3) if spine.nprs == "low" else rng.randint(5, 9)
    if spine.nprs == "component":
        component = [{"code": _concept(*NPRS), "valueInteger": pain}]
        _observation(p, (LOINC, "38208-5", "Pain severity - Reported"), score_day, components=component,
                     category="survey")  # fmt: skip
    else:
        _observation(p, NPRS, score_day, value={"valueInteger": pain}, category="survey")
    return dx


def _complete(**changes: Any) -> Callable[[_Patient, dict[str, str]], None]:
    spine = _Spine(**changes)

    def scenario(p: _Patient, medications: dict[str, str]) -> None:
        _workup(p, spine, medications)

    return scenario


def _with(extra: Callable[[_Patient, dict[str, str], Resource], None], **changes: Any) -> Callable[..., None]:
    spine = _Spine(**changes)

    def scenario(p: _Patient, medications: dict[str, str]) -> None:
        extra(p, medications, _workup(p, spine, medications))

    return scenario


def _clinician_everything(p: _Patient, medications: dict[str, str]) -> None:
    _condition(p, (LSS_SNOMED,), p.days_ago(200, 900))
    day = p.days_ago(5, 40)
    for name, value in (("lss_confirmed", True), ("neurogenic_claudication", True), ("symptom_months", 14),
                        ("conservative_care_failed", True), ("lf_thickness_mm", 3.6), ("odi_score", 44.0),
                        ("nprs", 7)):  # fmt: skip
        _assessment(p, name, value, day)


def _warfarin(p: _Patient, medications: dict[str, str], dx: Resource) -> None:
    _medication_request(p, WARFARIN, p.days_ago(20, 90))


def _apixaban_cannot_hold(p: _Patient, medications: dict[str, str], dx: Resource) -> None:
    _medication_request(p, APIXABAN, p.days_ago(20, 90), how="reference", medications=medications)
    _assessment(p, "anticoagulant_can_be_held", False, p.days_ago(1, 10))


def _rivaroxaban_stopped(p: _Patient, medications: dict[str, str], dx: Resource) -> None:
    _medication_request(p, RIVAROXABAN, p.days_ago(400, 700), status="stopped", how="contained")


def _clopidogrel_can_hold(p: _Patient, medications: dict[str, str], dx: Resource) -> None:
    p.add(
        {
            "resourceType": "MedicationStatement",
            "id": p.uid(),
            "status": "active",
            "medicationCodeableConcept": _concept(RXNORM, *CLOPIDOGREL),
            "subject": {"reference": p.ref},
            "effectivePeriod": {"start": p.when(p.days_ago(300, 700))},
            "dateAsserted": p.when(p.days_ago(1, 30)),
        }
    )
    _assessment(p, "anticoagulant_can_be_held", True, p.days_ago(1, 10))


def _prior_surgery(p: _Patient, medications: dict[str, str], dx: Resource) -> None:
    _procedure(p, LAMINECTOMY, p.days_ago(1500, 3000))


def _prior_surgery_same_level(p: _Patient, medications: dict[str, str], dx: Resource) -> None:
    _procedure(p, LAMINECTOMY, p.days_ago(1500, 3000))
    _assessment(p, "prior_surgery_at_target_level", True, p.days_ago(1, 10))


def _spondylolisthesis(p: _Patient, medications: dict[str, str], dx: Resource) -> None:
    _condition(p, (SPONDYLOLISTHESIS,), p.days_ago(100, 800))


def _ces_recent(p: _Patient, medications: dict[str, str], dx: Resource) -> None:
    _condition(p, (CES_SNOMED,), p.days_ago(1, 20))


def _ces_history(p: _Patient, medications: dict[str, str], dx: Resource) -> None:
    _condition(p, (CES_ICD,), p.days_ago(900, 1500), status="resolved", abatement=p.days_ago(400, 800))


def _claudication_answer(p: _Patient, medications: dict[str, str], dx: Resource) -> None:
    _assessment(p, "neurogenic_claudication", True, p.days_ago(1, 30))


def _red_flag_answer(p: _Patient, medications: dict[str, str], dx: Resource) -> None:
    _assessment(p, "cauda_equina_signs", True, p.days_ago(1, 10))


def _refuted(p: _Patient, medications: dict[str, str]) -> None:
    _condition(p, (LSS_M48062,), p.days_ago(300, 900), verification="refuted")
    _procedure(p, PT_SNOMED, p.days_ago(150, 250))


def _resolved(p: _Patient, medications: dict[str, str]) -> None:
    _condition(p, (LSS_M48061,), p.days_ago(800, 1500), status="resolved", abatement=p.days_ago(100, 500))


def _future(p: _Patient, medications: dict[str, str]) -> None:
    _condition(p, (LSS_M48062,), p.as_of + dt.timedelta(days=p.rng.randint(5, 60)))


def _pre2017_text(p: _Patient) -> str:
    return f"{p.rng.randint(2014, 2016)}-{p.rng.randint(1, 12):02d}"


#: The pathway situations, in the rotation spine patients take them (name -> what it writes).
SCENARIOS: tuple[tuple[str, Callable[..., None]], ...] = (
    ("complete, PT linked to the diagnosis", _complete()),
    ("complete, SNOMED and ICD codes, epidural injection after the diagnosis, thickness in cm",
     _complete(dx=(LSS_SNOMED, LSS_M48062), care="esi_after", lf="cm", odi="integer")),
    ("complete, physical therapy ordered as a ServiceRequest", _complete(care="pt_request")),
    ("the clinician assessment sent as Observations", _clinician_everything),
    ("pre-2017 M48.06 with the clinician's claudication answer",
     _with(_claudication_answer, dx=(LSS_M4806,), pre2017=True)),
    ("pre-2017 M48.06 alone (claudication unknown)", _complete(dx=(LSS_M4806,), pre2017=True)),
    ("M48.06 with a partial onset date", _with(_claudication_answer, dx=(LSS_M4806,), onset_text="2016-04")),
    ("physical therapy only in the last two months", _complete(care="pt_recent")),
    ("no conservative care on record", _complete(care="none")),
    ("physical therapy before the diagnosis, not linked to it", _complete(care="pt_before")),
    ("physical therapy entered in error", _complete(care="pt_error")),
    ("an epidural injection ordered without a date", _complete(care="undated")),
    ("no imaging", _complete(lf="none")),
    ("imaging older than a year", _complete(lf="old")),
    ("a thickness in a unit the screen cannot use", _complete(lf="inch")),
    ("a thin ligamentum flavum", _complete(lf="thin")),
    ("a low ODI", _complete(odi="low")),
    ("no ODI", _complete(odi="none")),
    ("low pain", _complete(nprs="low")),
    ("NPRS as a component of a pain panel", _complete(nprs="component")),
    ("diagnosis with a recorded date only", _complete(recorded_only=True)),
    ("warfarin, current", _with(_warfarin)),
    ("apixaban by reference, cannot be held", _with(_apixaban_cannot_hold)),
    ("rivaroxaban contained, stopped", _with(_rivaroxaban_stopped)),
    ("clopidogrel as a statement, can be held", _with(_clopidogrel_can_hold)),
    ("prior lumbar surgery", _with(_prior_surgery)),
    ("prior surgery at the target level", _with(_prior_surgery_same_level)),
    ("spondylolisthesis", _with(_spondylolisthesis)),
    ("cauda equina syndrome in the last weeks", _with(_ces_recent)),
    ("cauda equina syndrome years ago", _with(_ces_history)),
    ("cauda equina signs in the clinician assessment", _with(_red_flag_answer)),
    ("refuted stenosis", _refuted),
    ("resolved stenosis", _resolved),
    ("a stenosis diagnosis dated after the as-of date", _future),
)  # fmt: skip


# --------------------------------------------------------------------------------------------- writing


def _make_patient(seed: int, index: int, as_of: dt.date) -> _Patient:
    rng = random.Random(f"mildpath-synth:{seed}:{index}")
    pid = str(uuid.UUID(int=rng.getrandbits(128), version=4))
    spine = (index + seed) % SPINE_EVERY == 0
    age = rng.randint(52, 90) if spine else rng.randint(18, 90)
    ref = f"urn:uuid:{pid}" if rng.random() < 0.3 else f"Patient/{pid}"
    zone = rng.choice(("-05:00", "-04:00", "Z", "ms", "date", "+01:00"))
    return _Patient(rng=rng, as_of=as_of, id=pid, ref=ref, zone=zone, age=age, spine=spine)


def medication_ids(seed: int) -> dict[str, str]:
    """The ids of the export's shared Medication resources, by RxNorm code."""
    rng = random.Random(f"mildpath-synth-medications:{seed}")
    return {code: str(uuid.UUID(int=rng.getrandbits(128), version=4)) for code, _ in (APIXABAN, WARFARIN)}


def patient_records(seed: int, index: int, as_of: dt.date) -> dict[str, list[Resource]]:
    """Every record of patient number ``index`` (0-based), by resource type."""
    p = _make_patient(seed, index, as_of)
    birth = as_of - dt.timedelta(days=365 * p.age + p.rng.randint(0, 364))
    p.add(_patient_resource(p, birth))
    _background(p)
    if p.spine:
        number = (index + seed) // SPINE_EVERY
        _, scenario = SCENARIOS[(number + seed) % len(SCENARIOS)]
        scenario(p, medication_ids(seed))
    return p.out


def scenario_of(seed: int, index: int) -> str | None:
    """The pathway situation of patient ``index`` (None for a patient without stenosis)."""
    if (index + seed) % SPINE_EVERY:
        return None
    return SCENARIOS[((index + seed) // SPINE_EVERY + seed) % len(SCENARIOS)][0]


@dataclass(frozen=True)
class SynthResult:
    """What was written: patients, files, bytes and resources per type."""

    patients: int
    files: tuple[Path, ...]
    bytes: int
    resources: dict[str, int]


def _open(path: Path, compress: bool) -> Any:
    if compress:
        return gzip.GzipFile(filename="", mode="wb", fileobj=path.open("wb"), mtime=0)
    return path.open("wb")


def _write_chunk(out: str, chunk: int, start: int, stop: int, seed: int, as_of: str, compress: bool) -> dict[str, int]:
    """Write patients [start, stop) as chunk ``chunk``; returns resources written per type."""
    day = dt.date.fromisoformat(as_of)
    suffix = ".ndjson.gz" if compress else ".ndjson"
    paths = {t: Path(out) / f"{t}.{chunk:03d}{suffix}" for t in TYPES}
    handles = {t: _open(path, compress) for t, path in paths.items()}
    counts = dict.fromkeys(TYPES, 0)
    try:
        for index in range(start, stop):
            for rtype, records in patient_records(seed, index, day).items():
                handles[rtype].write(b"".join(orjson.dumps(r) + b"\n" for r in records))
                counts[rtype] += len(records)
    finally:
        for h in handles.values():
            fileobj = getattr(h, "fileobj", None)
            h.close()
            if fileobj is not None:
                fileobj.close()
    for rtype, path in paths.items():
        if counts[rtype] == 0:
            path.unlink()  # a type nobody in this chunk has: no empty file, as exporters do
    return counts


def generate(
    out: Path | str,
    *,
    patients: int,
    seed: int = 0,
    as_of: dt.date,
    compress: bool = False,
    workers: int | None = None,
    chunk: int = CHUNK,
) -> SynthResult:
    """Write a synthetic Bulk export of ``patients`` patients into the folder ``out`` (see the module docstring).

    Chunks of ``chunk`` patients (one file per type each) are written by up to ``workers`` processes (default:
    one per chunk, at most the number of CPUs); the records do not depend on how many, nor on the chunk size.
    """
    if patients < 0 or chunk < 1:
        raise ValueError("the number of patients cannot be negative, nor a chunk empty")
    folder = Path(out)
    folder.mkdir(parents=True, exist_ok=True)
    ranges = [(i, start, min(start + chunk, patients)) for i, start in enumerate(range(0, patients, chunk))]
    args = [(str(folder), i, a, b, seed, as_of.isoformat(), compress) for i, a, b in ranges]
    parallel = min(workers or os.cpu_count() or 1, len(args))
    if parallel > 1:
        with ProcessPoolExecutor(max_workers=parallel) as pool:
            results = list(pool.map(_write_chunk, *zip(*args, strict=True)))
    else:
        results = [_write_chunk(*a) for a in args]
    totals = dict.fromkeys(TYPES, 0)
    for counts in results:
        for t, n in counts.items():
            totals[t] += n
    suffix = ".ndjson.gz" if compress else ".ndjson"
    medications = folder / f"Medication.000{suffix}"
    handle = _open(medications, compress)
    try:
        for code, drug_id in sorted(medication_ids(seed).items()):
            display = dict((APIXABAN, WARFARIN))[code]
            handle.write(orjson.dumps({"resourceType": "Medication", "id": drug_id, "status": "active",
                                       "code": _concept(RXNORM, code, display)}) + b"\n")  # fmt: skip
    finally:
        fileobj = getattr(handle, "fileobj", None)
        handle.close()
        if fileobj is not None:
            fileobj.close()
    totals["Medication"] = len(medication_ids(seed))
    stamp = f"{as_of.isoformat()}T00:00:00+00:00"
    log = [
        {"exportId": f"synth-{seed}", "timestamp": stamp, "eventId": "kickoff",
         "eventDetail": {"exportUrl": "https://example.org/fhir/$export"}},
        {"exportId": f"synth-{seed}", "timestamp": stamp, "eventId": "status_complete",
         "eventDetail": {"transactionTime": stamp, "patients": patients}},
    ]  # fmt: skip
    (folder / "log.ndjson").write_bytes(b"".join(orjson.dumps(e) + b"\n" for e in log))
    files = tuple(sorted(p for p in folder.iterdir() if p.name.endswith((".ndjson", ".ndjson.gz"))))
    return SynthResult(patients, files, sum(p.stat().st_size for p in files), totals)
