"""Small FHIR charts for the screening-gap tests (clinical safety issue, section 4), as plain resource dicts.

``typical(pid)`` is a likely candidate as of :data:`TODAY`: lumbar stenosis with neurogenic claudication (M48.062)
two years ago, physical therapy 300 days ago, a ligamentum flavum of 3.4 mm 60 days ago, ODI 44, NPRS 7, born
1950. Keyword arguments change one thing at a time.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from mildpath.fhir.codes import ASSESSMENT_SYSTEM, CPT, ICD10CM, LOINC, RXNORM, SCREENING_SYSTEM, SNOMED

TODAY = dt.date(2025, 6, 30)
Resource = dict[str, Any]


def ago(days: int) -> str:
    return (TODAY - dt.timedelta(days=days)).isoformat()


def medication(
    pid: str, rid: str, concept: dict[str, Any], *, days: int = 30, rtype: str = "MedicationRequest"
) -> Resource:
    """An active medication record naming ``concept`` (a CodeableConcept), started ``days`` ago."""
    res: Resource = {
        "resourceType": rtype,
        "id": rid,
        "status": "active",
        "subject": {"reference": f"Patient/{pid}"},
        "medicationCodeableConcept": concept,
    }
    if rtype == "MedicationRequest":
        res["intent"] = "order"
        res["authoredOn"] = ago(days)
    else:
        res["effectiveDateTime"] = ago(days)
    return res


def typical(
    pid: str,
    *,
    birth_date: str = "1950-04-02",
    deceased: dict[str, Any] | None = None,
    lf_days: int | None = 60,
    care_days: int | None = 300,
    ces_days: int | None = None,
    extra: tuple[Resource, ...] = (),
    assessment: dict[str, Any] | None = None,
) -> list[Resource]:
    subject = {"reference": f"Patient/{pid}"}
    out: list[Resource] = [{"resourceType": "Patient", "id": pid, "birthDate": birth_date, **(deceased or {})}]
    active = {"coding": [{"code": "active"}]}
    out.append(
        {
            "resourceType": "Condition",
            "id": f"{pid}-lss",
            "subject": subject,
            "clinicalStatus": active,
            "code": {"coding": [{"system": ICD10CM, "code": "M48.062"}]},
            "onsetDateTime": ago(730),
        }
    )
    if ces_days is not None:
        out.append(
            {
                "resourceType": "Condition",
                "id": f"{pid}-ces",
                "subject": subject,
                "clinicalStatus": active,
                "code": {"coding": [{"system": SNOMED, "code": "192970008"}]},
                "onsetDateTime": ago(ces_days),
            }
        )
    if care_days is not None:
        out.append(
            {
                "resourceType": "Procedure",
                "id": f"{pid}-pt",
                "status": "completed",
                "subject": subject,
                "code": {"coding": [{"system": SNOMED, "code": "91251008"}]},
                "performedDateTime": ago(care_days),
            }
        )

    def observation(oid: str, system: str, code: str, value: dict[str, Any], days: int) -> Resource:
        return {
            "resourceType": "Observation",
            "id": f"{pid}-{oid}",
            "status": "final",
            "subject": subject,
            "code": {"coding": [{"system": system, "code": code}]},
            "effectiveDateTime": ago(days),
            **value,
        }

    if lf_days is not None:
        lf = {"valueQuantity": {"value": 3.4, "unit": "mm", "code": "mm"}}
        out.append(observation("lf", SCREENING_SYSTEM, "ligamentum-flavum-thickness", lf, lf_days))
    out.append(observation("odi", LOINC, "97909-6", {"valueQuantity": {"value": 44}}, 20))
    out.append(observation("nprs", LOINC, "72514-3", {"valueInteger": 7}, 20))
    for i, (code, value) in enumerate((assessment or {}).items()):
        key = "valueBoolean" if isinstance(value, bool) else "valueInteger" if isinstance(value, int) else "valueString"
        out.append(observation(f"a{i}", ASSESSMENT_SYSTEM, code, {key: value}, 5))
    out.extend(extra)
    return out


__all__ = ["CPT", "RXNORM", "TODAY", "ago", "medication", "typical"]
