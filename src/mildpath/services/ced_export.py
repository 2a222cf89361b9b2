"""The CED-ready registry export (issue 18): per coverage-with-evidence study, the fields the CMS questions ask,
from mildpath's de-identified extract (``services/outcomes_export.py``: pseudonymous ids, days from the
procedure, the procedure year only, ages capped at 90).

NCD 150.13 (clinical reference §3.4) covers PILD only inside a CMS-approved study that answers at least one question
on function or quality of life, pain, or clinical management against other treatments. What the study asks of a
site (issue 18): function and quality of life, pain and pain-medication class, dose and duration, repeat procedures
and other interventions, hospital and nursing-home use. :data:`FIELDS` says, for each, where mildpath's export has
it or that mildpath does not collect it yet; the README written beside the tables lists the same, so a missing
field is never a silently blank column.

Enrolment comes from the referrals' coverage (``services/referrals.py:set_coverage``): the patients whose coverage
is ``medicare_ced`` with this study's NCT number and whose enrolment is ``enrolled``. The operator may name the
patients instead (``--patients``), which overrides the coverage records.
"""

from __future__ import annotations

import re
from collections import defaultdict
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy.orm import Session

from mildpath.domain.errors import InvalidInput
from mildpath.services.access import Actor, record, require_staff
from mildpath.services.outcomes_export import deidentified_tables, pseudonym
from mildpath.store import referrals as referrals_store

NCT = re.compile(r"^NCT\d{8}$")
CPT = "http://www.ama-assn.org/go/cpt"
MEASURE_SYSTEM = "https://mildpath.org/fhir/CodeSystem/registry-measure"


@dataclass(frozen=True)
class CedField:
    question: str
    where: str  # the table.column(s) that carry it, or "" when mildpath does not collect it
    note: str


FIELDS: tuple[CedField, ...] = (
    CedField("Function", "scores (instrument odi, zcq physical function, walking)",
             "ODI and ZCQ physical function per timepoint; neutral-wording scores are marked in `wording`."),
    CedField("Quality of life", "",
             "No generic quality-of-life instrument (such as EQ-5D or SF-36) is collected; ZCQ symptom severity "
             "and satisfaction are in scores."),
    CedField("Pain", "scores (instrument nprs, zcq symptom severity)", "NPRS back and leg pain per timepoint."),
    CedField("Pain-medication class", "", "Not collected: mildpath records blood thinners for the procedure only."),
    CedField("Pain-medication dose", "", "Not collected."),
    CedField("Pain-medication duration", "", "Not collected."),
    CedField("Repeat procedures", "ced_outcomes.repeat_procedures; events (kind reintervention, type repeat_mild)",
             "Counted from the later interventions clinicians record."),
    CedField("Other interventions", "ced_outcomes.other_interventions; events (kind reintervention)",
             "Epidural injection, spacer, laminectomy, fusion, as recorded."),
    CedField("Hospital use", "ced_outcomes.ed_visits_or_readmissions; events (type ed_visit_or_readmission)",
             "Only as adverse events of type 'ED visit or readmission within 30 days'; other admissions and "
             "lengths of stay are not collected."),
    CedField("Nursing-home use", "", "Not collected."),
)
CED_COLUMNS = (
    "study", "pid", "procedure", "procedure_year", "age_at_procedure", "sex", "followed_days",
    "repeat_procedures", "other_interventions", "ed_visits_or_readmissions", "adverse_events",
    "serious_adverse_events",
)


def check_study(study: str) -> str:
    study = study.strip().upper()
    if not NCT.match(study):
        raise InvalidInput("--study: a ClinicalTrials.gov number such as NCT03072927", field="study", value=study)
    return study


def ced_tables(
    session: Session, actor: Actor, *, study: str, patient_ids: list[int] | None, today: date, key: bytes
) -> dict[str, list[dict[str, Any]]]:
    """``{"ced_outcomes", "procedures", "scores", "events"}`` for the enrolled patients, de-identified: those the
    coverage records enrol in the study, or ``patient_ids`` when the operator names them."""
    require_staff(actor)
    study = check_study(study)
    given = patient_ids is not None
    if patient_ids is None:
        patient_ids = referrals_store.enrolled_in_study(session, study_nct=study)
    if given and not patient_ids:
        raise InvalidInput("--patients: name the patients enrolled in the study", field="patients")
    enrolled = {pseudonym(key, "patient", pid) for pid in patient_ids}
    tables = {name: [r.model_dump() for r in rows if r.pid in enrolled]
              for name, rows in deidentified_tables(session, actor, today=today, key=key).items()}
    counts: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for e in tables["events"]:
        c = counts[e["procedure"]]
        if e["kind"] == "reintervention":
            c["repeat_procedures" if e["type"] == "repeat_mild" else "other_interventions"] += 1
        elif e["type"] == "ed_visit_or_readmission":
            c["ed_visits_or_readmissions"] += 1
    tables["ced_outcomes"] = [
        {"study": study, **{k: p[k] for k in ("pid", "procedure", "procedure_year", "age_at_procedure", "sex",
                                              "followed_days", "adverse_events", "serious_adverse_events")},
         "repeat_procedures": counts[p["procedure"]]["repeat_procedures"],
         "other_interventions": counts[p["procedure"]]["other_interventions"],
         "ed_visits_or_readmissions": counts[p["procedure"]]["ed_visits_or_readmissions"]}
        for p in tables["procedures"]
    ]
    record(session, actor, "outcomes.export_ced", "Bulk", None, None,
           {"study": study, "patients": len(patient_ids), "enrolment": "operator" if given else "coverage",
            "rows": {n: len(r) for n, r in tables.items()}})
    return tables


def ced_fhir(tables: dict[str, list[dict[str, Any]]], study: str) -> list[dict[str, Any]]:
    """The same extract as FHIR R4: one ``ResearchStudy``, a pseudonymous ``Patient`` and ``ResearchSubject`` per
    person, a ``Procedure`` (CPT 0275T) per procedure and an ``Observation`` per score. No calendar dates: days
    from the procedure travel in ``Observation.note`` as the extract has them."""
    study_id = study.lower()
    out: list[dict[str, Any]] = [{
        "resourceType": "ResearchStudy", "id": study_id, "status": "active",
        "identifier": [{"system": "https://clinicaltrials.gov", "value": study}],
    }]
    sexes = {"female", "male", "other", "unknown"}
    for pid in dict.fromkeys(p["pid"] for p in tables["procedures"]):
        sex = next(p["sex"] for p in tables["procedures"] if p["pid"] == pid)
        out.append({"resourceType": "Patient", "id": pid, "gender": sex if sex in sexes else "unknown"})
        out.append({"resourceType": "ResearchSubject", "id": f"{study_id}-{pid}", "status": "on-study",
                    "study": {"reference": f"ResearchStudy/{study_id}"}, "individual": {"reference": f"Patient/{pid}"}})
    for p in tables["procedures"]:
        out.append({"resourceType": "Procedure", "id": p["procedure"], "status": "completed",
                    "subject": {"reference": f"Patient/{p['pid']}"},
                    "code": {"coding": [{"system": CPT, "code": "0275T"}]}})
    for i, s in enumerate(tables["scores"], start=1):
        out.append({
            "resourceType": "Observation", "id": f"{s['procedure']}-{i}", "status": "final",
            "code": {"coding": [{"system": MEASURE_SYSTEM, "code": s["measure"]}], "text": s["measure"]},
            "subject": {"reference": f"Patient/{s['pid']}"}, "partOf": [{"reference": f"Procedure/{s['procedure']}"}],
            "valueQuantity": {"value": s["value"]},
            "note": [{"text": f"timepoint {s['timepoint']}; {s['days_from_procedure']} days from the procedure; "
                              f"wording {s['wording']}"}],
        })
    return out


def readme(study: str, counts: dict[str, int], *, enrolment: str = "coverage") -> str:
    """The README written with the export: what each CED question maps to, and what is not collected yet."""
    lines = [
        f"# CED export for {study}", "",
        "De-identified by mildpath's registry rules: pseudonymous ids (HMAC of the site key), the procedure year "
        "only, other dates as days from the procedure, ages of 90 and over as 90; no names, contacts, MRNs, "
        "clinic or free text.", "",
        "Tables (CSV and Parquet): " + ", ".join(f"{n} ({c} rows)" for n, c in counts.items()) + ".",
        "FHIR R4 NDJSON: ResearchStudy, Patient, ResearchSubject, Procedure, Observation.", "",
        "| CMS CED question | where in this export | note |", "|---|---|---|",
    ]
    lines += [f"| {f.question} | {f.where or '**not collected by mildpath yet**'} | {f.note} |" for f in FIELDS]
    missing = [f.question for f in FIELDS if not f.where]
    source = ("given by the operator (`--patients`)" if enrolment == "operator" else
              "taken from the referrals' coverage: Medicare CED within this study, enrolment `enrolled`")
    lines += ["", "Not collected yet (left out, not blank): " + ", ".join(missing) + ".", "",
              f"Enrolment was {source}."]
    return "\n".join(lines) + "\n"
