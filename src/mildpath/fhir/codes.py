"""Code systems and code lists that screening reads from FHIR (contracts §5; clinical reference §2.5, §3).

The code lists themselves live in ``content/criteria/valuesets.yaml`` (loaded by
:func:`mildpath.content.criteria.load_value_sets`), so the FHIR reader, the criteria sets and a SQL compiler
share one list. This module names the systems and re-exports the lists by name.

Value sets (each cited in the YAML; ``verified: false`` ones are not confirmed by the clinical reference):

- ``lumbar-stenosis``: ICD-10-CM M48.06 (the only lumbar code before the split of 2017-10-01, see
  :data:`ICD10_M4806_SPLIT`), M48.061, M48.062; SNOMED 18347007. ``lumbar-stenosis-with-claudication``: M48.062.
- ``cauda-equina-syndrome``: SNOMED 192970008, ICD-10-CM G83.4.
- ``spondylolisthesis``: SNOMED 274152003, ICD-10-CM M43.16 (unverified; grade not coded).
- ``physical-therapy``: SNOMED 91251008 (as Synthea writes it); CPT 97161-97163 (VSAC PT evaluation).
- ``epidural-steroid-injection``: CPT 62321, 62323, 64483, 64484 (as issue 3 lists them; see the YAML note on
  62321). ``conservative-care`` = both.
- ``prior-lumbar-surgery``: CPT 63030, 63047, 22612, 22630, 22633, 22869, 0275T.
- ``anticoagulants-antiplatelets``: RxNorm ingredients of warfarin, apixaban, rivaroxaban, edoxaban, dabigatran,
  clopidogrel, prasugrel, ticagrelor (plus two clinical-drug codes Synthea writes).
- ``odi-score`` LOINC 97909-6; ``pain-nprs`` LOINC 72514-3; ``ligamentum-flavum-thickness``: a local code.
"""

from __future__ import annotations

import datetime as dt

from mildpath.content.criteria import ValueSet, load_value_sets
from mildpath.domain.facts import Code

# source: contracts §5 (code system URLs)
ICD10CM = "http://hl7.org/fhir/sid/icd-10-cm"
SNOMED = "http://snomed.info/sct"
LOINC = "http://loinc.org"
CPT = "http://www.ama-assn.org/go/cpt"
RXNORM = "http://www.nlm.nih.gov/research/umls/rxnorm"
UCUM = "http://unitsofmeasure.org"

# mildpath's own systems (same base as fhir/questionnaires.py); valuesets.yaml holds the same URLs.
SCREENING_SYSTEM = "https://mildpath.org/fhir/CodeSystem/screening"
ASSESSMENT_SYSTEM = "https://mildpath.org/fhir/CodeSystem/clinician-assessment"
SCREENING_STATUS_SYSTEM = "https://mildpath.org/fhir/CodeSystem/screening-status"
CRITERIA_SET_SYSTEM = "https://mildpath.org/fhir/CodeSystem/criteria-set"

#: The ligamentum flavum thickness Observation code (local: no LOINC code exists; issue 3). source: imaging
LF_THICKNESS: Code = (SCREENING_SYSTEM, "ligamentum-flavum-thickness")

#: ICD-10-CM split M48.06 into M48.061/M48.062 on this date (FY2018): older records carry M48.06, which
#: screening keeps accepting at any date. source: diagnosis-codes
ICD10_M4806_SPLIT = dt.date(2017, 10, 1)


def value_set(name: str) -> ValueSet:
    """A value set of ``valuesets.yaml`` by name (``lumbar-stenosis``, ``conservative-care`` ...)."""
    return load_value_sets()[name]


def codes(name: str) -> frozenset[Code]:
    """The ``(system, code)`` members of a value set."""
    return value_set(name).codes


def known_codes() -> frozenset[Code]:
    """Every code screening uses: what the FHIR reader keeps (anything else is ignored)."""
    return load_value_sets().all_codes()
