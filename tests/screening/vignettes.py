"""Clinical vignettes written once and rendered two ways: as a FHIR chart and as the two screening forms.

A :class:`Vignette` names clinical features (a diagnosis code, an imaging finding, an anticoagulant ...). Each
feature has a FHIR rendering (standard resources, or the mildpath clinician-assessment Observation when a chart
has no code for it) and a form rendering (self-check and clinician assessment answers). The parity test screens
both and expects the same status and the same status for every criterion.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from mildpath.domain.facts import PatientFacts
from mildpath.domain.selfcheck import ClinicianAssessment, SelfCheck
from mildpath.fhir.codes import ASSESSMENT_SYSTEM, CPT, ICD10CM, LOINC, RXNORM, SCREENING_SYSTEM, SNOMED

TODAY = dt.date(2025, 6, 30)
PATIENT_ID = "pat-1"

LSS_CODES = {
    "M48.062": (ICD10CM, "M48.062"),
    "M48.061": (ICD10CM, "M48.061"),
    "M48.06": (ICD10CM, "M48.06"),
    "18347007": (SNOMED, "18347007"),
}
CARE_CODES = {
    "pt-snomed": ("Procedure", SNOMED, "91251008"),
    "pt-cpt": ("Procedure", CPT, "97161"),
    "esi-62323": ("Procedure", CPT, "62323"),
    "esi-64483": ("Procedure", CPT, "64483"),
    "pt-order": ("ServiceRequest", SNOMED, "91251008"),
}


def ago(days: int) -> dt.date:
    return TODAY - dt.timedelta(days=days)


@dataclass(frozen=True)
class Vignette:
    """Defaults describe a typical likely candidate: M48.062 two years ago, PT, LF 3.4 mm, ODI 44, NPRS 7."""

    name: str
    expect: str
    criteria: dict[str, str] = field(default_factory=dict)
    lss: str | None = "M48.062"  # a code of LSS_CODES, "self" (patient report), "resolved", "error", None
    lss_days: int = 730
    nc: bool | None | str = "auto"  # auto: M48.062 says so, else the clinician says yes
    care: str | None = "pt-snomed"  # a key of CARE_CODES, "pt-reason" (linked, before the diagnosis), "recent"
    care_days: int = 300
    care_failed: bool | None = None  # an explicit clinician answer
    lf: float | None = 3.4
    lf_days: int = 60
    lf_history: tuple[tuple[float, int], ...] = ()  # older measurements (mm, days ago)
    odi: float | None = 44
    odi_history: tuple[tuple[float, int], ...] = ()
    nprs: int | None = 7
    spondy: str | int | None = None  # "coded" or a grade
    instability: bool | None = None
    prior_surgery: str | None = None  # "coded", "at-level", "not-at-level"
    foraminal: bool | None = None
    neuro_deficit: bool | None = None
    infection: bool | None = None
    bleeding_disorder: bool | None = None
    anticoag: str | None = None  # an RxNorm code
    hold: bool | None = None
    ces_days: int | None = None  # a cauda equina diagnosis this many days ago
    ces_signs: bool = False  # new bladder/bowel change reported now
    other_red_flag: bool = False
    clinician_says_no_lss: bool = False
    duration_says_months: int | None = None  # the clinician's own duration, overriding the chart
    refs: str = "urn"  # "urn" (urn:uuid: in a transaction Bundle) or "patient" (Patient/ID, collection)
    tz: bool = False  # write dateTimes with a time zone


# --------------------------------------------------------------------------------------------- FHIR


class _Chart:
    def __init__(self, v: Vignette) -> None:
        self.v = v
        self.entries: list[dict[str, Any]] = []
        self.n = 0

    def subject(self) -> dict[str, str]:
        return {"reference": f"urn:uuid:{PATIENT_ID}" if self.v.refs == "urn" else f"Patient/{PATIENT_ID}"}

    def when(self, day: dt.date) -> str:
        return f"{day.isoformat()}T23:30:00-05:00" if self.v.tz else day.isoformat()

    def add(self, res: dict[str, Any]) -> str:
        self.n += 1
        res.setdefault("id", f"{res['resourceType'].lower()}-{self.n}")
        self.entries.append(res)
        return str(res["id"])

    def condition(self, system: str, code: str, days: int, status: str = "active", **extra: Any) -> str:
        res = {
            "resourceType": "Condition",
            "clinicalStatus": {"coding": [{"code": status}]},
            "code": {"coding": [{"system": system, "code": code}]},
            "subject": self.subject(),
            "onsetDateTime": self.when(ago(days)),
            "recordedDate": self.when(ago(days)),
        } | extra
        return self.add(res)

    def observation(self, system: str, code: str, value: Any, days: int = 0) -> None:
        res: dict[str, Any] = {
            "resourceType": "Observation",
            "status": "final",
            "code": {"coding": [{"system": system, "code": code}]},
            "subject": self.subject(),
            "effectiveDateTime": self.when(ago(days)),
        }
        if isinstance(value, bool):
            res["valueBoolean"] = value
        elif isinstance(value, int):
            res["valueInteger"] = value
        else:
            res["valueQuantity"] = {"value": value, "unit": "mm", "system": "http://unitsofmeasure.org", "code": "mm"}
        self.add(res)

    def assessment(self, code: str, value: Any, days: int = 0) -> None:
        self.observation(ASSESSMENT_SYSTEM, code, value, days)


def to_bundle(v: Vignette) -> dict[str, Any]:
    """The vignette as a FHIR R4 Bundle of one patient."""
    c = _Chart(v)
    c.add({"resourceType": "Patient", "id": PATIENT_ID, "gender": "female", "birthDate": "1950-04-02"})
    lss_id = None
    if v.lss in LSS_CODES:
        lss_id = c.condition(*LSS_CODES[v.lss], v.lss_days)
    elif v.lss == "resolved":
        lss_id = c.condition(ICD10CM, "M48.062", v.lss_days, status="resolved")
    elif v.lss == "error":
        c.condition(ICD10CM, "M48.062", v.lss_days, verificationStatus={"coding": [{"code": "entered-in-error"}]})
    elif v.lss == "self":
        c.assessment("lss_confirmed", True)
        c.assessment("symptom_months", v.lss_days // 30)
    elif v.lss == "back-pain":
        c.condition(SNOMED, "278860009", v.lss_days)
    if v.clinician_says_no_lss:
        c.assessment("lss_confirmed", False)
    if v.duration_says_months is not None:
        c.assessment("symptom_months", v.duration_says_months)
    if v.nc is True or (v.nc == "auto" and v.lss != "M48.062"):
        c.assessment("neurogenic_claudication", True)
    elif v.nc is False:
        c.assessment("neurogenic_claudication", False)
    if v.care in CARE_CODES:
        rtype, system, code = CARE_CODES[v.care]
        res: dict[str, Any] = {
            "resourceType": rtype,
            "status": "completed",
            "code": {"coding": [{"system": system, "code": code}]},
            "subject": c.subject(),
        }
        if rtype == "Procedure":
            res["performedDateTime"] = c.when(ago(v.care_days))
        else:
            res |= {"intent": "order", "authoredOn": c.when(ago(v.care_days))}
        c.add(res)
    elif v.care == "pt-reason":  # before the diagnosis, but linked to it
        c.add(
            {
                "resourceType": "Procedure",
                "status": "completed",
                "code": {"coding": [{"system": SNOMED, "code": "91251008"}]},
                "subject": c.subject(),
                "performedPeriod": {"start": c.when(ago(v.lss_days + 60)), "end": c.when(ago(v.lss_days + 30))},
                "reasonReference": [{"reference": f"Condition/{lss_id}"}],
            }
        )
    elif v.care == "recent":
        c.add(
            {
                "resourceType": "Procedure",
                "status": "completed",
                "code": {"coding": [{"system": SNOMED, "code": "91251008"}]},
                "subject": c.subject(),
                "performedDateTime": c.when(ago(20)),
            }
        )
    if v.care_failed is not None:
        c.assessment("conservative_care_failed", v.care_failed)
    for mm, days in ((v.lf, v.lf_days), *v.lf_history):
        if mm is not None:
            c.observation(SCREENING_SYSTEM, "ligamentum-flavum-thickness", float(mm), days)
    for score, days in ((v.odi, 20), *v.odi_history):
        if score is not None:
            c.add(
                {
                    "resourceType": "Observation",
                    "status": "final",
                    "code": {"coding": [{"system": LOINC, "code": "97909-6"}]},
                    "subject": c.subject(),
                    "effectiveDateTime": c.when(ago(days)),
                    "valueQuantity": {"value": score, "unit": "%"},
                }
            )
    if v.nprs is not None:
        c.add(
            {
                "resourceType": "Observation",
                "status": "final",
                "code": {"coding": [{"system": LOINC, "code": "72514-3"}]},
                "subject": c.subject(),
                "effectiveDateTime": c.when(ago(20)),
                "valueInteger": v.nprs,
            }
        )
    if v.spondy == "coded":
        c.condition(SNOMED, "274152003", 400)
    elif isinstance(v.spondy, int):
        c.assessment("spondylolisthesis_grade", v.spondy)
        c.assessment("instability", bool(v.instability))
    elif v.instability is not None:
        c.assessment("instability", v.instability)
    if v.prior_surgery in ("coded", "not-at-level"):
        c.add(
            {
                "resourceType": "Procedure",
                "status": "completed",
                "code": {"coding": [{"system": CPT, "code": "63047"}]},
                "subject": c.subject(),
                "performedDateTime": c.when(ago(2000)),
            }
        )
    if v.prior_surgery == "not-at-level":
        c.assessment("prior_surgery_at_target_level", False)
    elif v.prior_surgery == "at-level":
        c.assessment("prior_surgery_at_target_level", True)
    for code, flag in (
        ("dominant_foraminal_or_disc", v.foraminal),
        ("severe_neurological_deficit", v.neuro_deficit),
        ("infection", v.infection),
        ("bleeding_disorder", v.bleeding_disorder),
        ("anticoagulant_can_be_held", v.hold),
    ):
        if flag is not None:
            c.assessment(code, flag)
    if v.anticoag:
        c.add(
            {
                "resourceType": "MedicationRequest",
                "status": "active",
                "intent": "order",
                "medicationCodeableConcept": {"coding": [{"system": RXNORM, "code": v.anticoag}]},
                "subject": c.subject(),
                "authoredOn": c.when(ago(900)),
            }
        )
    if v.ces_days is not None:
        c.condition(SNOMED, "192970008", v.ces_days)
    if v.ces_signs:
        c.assessment("cauda_equina_signs", True)
    if v.other_red_flag:
        c.assessment("other_red_flags", True)
    if v.refs == "urn":
        entries = [{"fullUrl": f"urn:uuid:{r['id']}", "resource": r} for r in c.entries]
        for e in entries:
            e["request"] = {"method": "POST", "url": e["resource"]["resourceType"]}
        return {"resourceType": "Bundle", "type": "transaction", "entry": entries}
    return {"resourceType": "Bundle", "type": "collection", "entry": [{"resource": r} for r in c.entries]}


# --------------------------------------------------------------------------------------------- forms


def to_forms(v: Vignette) -> PatientFacts:
    """The vignette as a self-check plus one or more clinician assessments, merged into facts."""
    self_check: dict[str, Any] = {"answered_on": TODAY}
    a: dict[str, Any] = {"assessed_on": TODAY}
    if v.lss in LSS_CODES or v.lss == "self":
        a["lss_confirmed"] = True
        a["symptom_months"] = v.lss_days // 30
    elif v.lss == "resolved":
        a["lss_confirmed"] = False
    elif v.lss == "back-pain":
        self_check["told_lss"] = False
    if v.clinician_says_no_lss:
        self_check["told_lss"] = True
        a["lss_confirmed"] = False
    if v.duration_says_months is not None:
        self_check["symptom_duration"] = "more_than_12_months"
        a["symptom_months"] = v.duration_says_months
    if v.nc is True or v.nc == "auto":
        a["neurogenic_claudication"] = True
    elif v.nc is False:
        a["neurogenic_claudication"] = False
    if v.care in CARE_CODES or v.care == "pt-reason":
        a["conservative_care_failed"] = True
    if v.care_failed is not None:
        a["conservative_care_failed"] = v.care_failed
    if v.lf is not None:
        a |= {"lf_thickness_mm": v.lf, "imaging_date": ago(v.lf_days), "imaging_modality": "MRI"}
    if v.odi is not None:
        a |= {"odi_score": v.odi, "odi_date": ago(20)}
    if v.nprs is not None:
        a |= {"nprs": v.nprs, "nprs_date": ago(20)}
    if v.spondy == "coded":
        a["spondylolisthesis"] = True
    elif isinstance(v.spondy, int):
        a |= {
            "spondylolisthesis": v.spondy > 0,
            "spondylolisthesis_grade": v.spondy,
            "instability": bool(v.instability),
        }
    elif v.instability is not None:
        a["instability"] = v.instability
    if v.prior_surgery == "coded":
        a["prior_lumbar_surgery"] = True
    elif v.prior_surgery == "not-at-level":
        a |= {"prior_lumbar_surgery": True, "prior_surgery_at_target_level": False}
    elif v.prior_surgery == "at-level":
        a |= {"prior_lumbar_surgery": True, "prior_surgery_at_target_level": True}
    for name, flag in (
        ("dominant_foraminal_or_disc", v.foraminal),
        ("infection", v.infection),
        ("bleeding_disorder", v.bleeding_disorder),
        ("anticoagulant_can_be_held", v.hold),
    ):
        if flag is not None:
            a[name] = flag
    if v.neuro_deficit is not None:
        a["severe_neurological_deficit"] = v.neuro_deficit
    if v.anticoag:
        self_check["blood_thinner"] = True
        a["on_anticoagulant"] = True
    if v.ces_days is not None:
        if v.ces_days <= 30:
            a["cauda_equina_signs"] = True
        else:
            a["severe_neurological_deficit"] = True
    if v.ces_signs:
        self_check["bladder_bowel_change"] = True
    if v.other_red_flag:
        self_check["fever"] = True
    facts = SelfCheck.from_mapping(self_check).to_facts().merge(ClinicianAssessment.from_mapping(a).to_facts())
    for mm, days in v.lf_history:
        older = {"assessed_on": ago(days), "lf_thickness_mm": mm, "imaging_date": ago(days)}
        facts = facts.merge(ClinicianAssessment.from_mapping(older).to_facts())
    for score, days in v.odi_history:
        older = {"assessed_on": ago(days), "odi_score": score}
        facts = facts.merge(ClinicianAssessment.from_mapping(older).to_facts())
    return facts
