"""Bedside forms of the procedure day: HTML form fields <-> the JSON the procedure services take.

Each ``*_from_form`` reads a submitted form (strings) into the service's JSON shape and collects the fields it
cannot read (a date that is not a date, a number that is not a number) as ``[{"field", "message"}]``; each
``*_values`` turns a stored record back into form values, so that a page shows what was saved and a refused form
shows exactly what was typed. Times are entered as HH:MM on the procedure's day in the clinic's (server's) time
zone.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime, time
from typing import Any

from mildpath.domain.procedure import (
    ObservationEntry,
    PreProcedureChecklist,
    ProcedurePolicies,
    ProcedureRecord,
)
from mildpath.web.forms import form_date

MEDICATION_ROWS = 3
FormValues = dict[str, str]
Errors = list[dict[str, str]]


def form_values(form: Mapping[str, Any], names: list[str] | None = None) -> FormValues:
    """The submitted strings (only ``names`` when given), stripped; a repeated name keeps its first value."""
    out: FormValues = {}
    for key in names if names is not None else list(form.keys()):
        raw = form.get(key)
        if isinstance(raw, str):
            out[key] = raw.strip()
    return out


def local_time(value: datetime | None) -> str:
    """HH:MM in the server's time zone ('' for None)."""
    return value.astimezone().strftime("%H:%M") if value is not None else ""


def _date(values: FormValues, name: str, field: str, errors: Errors) -> str | None:
    raw = values.get(name, "")
    if not raw:
        return None
    try:
        return form_date(raw).isoformat()
    except ValueError:
        errors.append({"field": field, "message": f"{raw!r} is not a date (YYYY-MM-DD)"})
        return None


def _int(values: FormValues, name: str, field: str, errors: Errors) -> int | None:
    raw = values.get(name, "")
    if not raw:
        return None
    try:
        return int(raw)
    except ValueError:
        errors.append({"field": field, "message": f"{raw!r} is not a whole number"})
        return None


def _float(values: FormValues, name: str, field: str, errors: Errors) -> float | None:
    raw = values.get(name, "").replace(",", ".")
    if not raw:
        return None
    try:
        number = float(raw)
    except ValueError:
        errors.append({"field": field, "message": f"{raw!r} is not a number"})
        return None
    if number != number or number in (float("inf"), float("-inf")):
        errors.append({"field": field, "message": "not a number"})
        return None
    return number


def at_datetime(values: FormValues, name: str, field: str, day: date, errors: Errors) -> datetime | None:
    """``day`` at the HH:MM in ``values[name]``, in the server's time zone; None when blank or unreadable."""
    raw = values.get(name, "")
    if not raw:
        return None
    try:
        clock = time.fromisoformat(raw)
    except ValueError:
        errors.append({"field": field, "message": f"{raw!r} is not a time (HH:MM)"})
        return None
    return datetime.combine(day, clock).astimezone()


def at_time(values: FormValues, name: str, field: str, day: date, errors: Errors) -> str | None:
    """:func:`at_datetime` as ISO 8601 with its offset (the JSON the services read)."""
    moment = at_datetime(values, name, field, day, errors)
    return moment.isoformat() if moment is not None else None


def _tri(values: FormValues, name: str, field: str, errors: Errors) -> bool | None:
    """A yes / no / not answered question: ``yes``, ``no`` or blank; anything else is named as an error (it
    was read as "not answered" before, and saved)."""
    raw = values.get(name, "")
    if raw in ("yes", "no"):
        return raw == "yes"
    if raw:
        errors.append({"field": field, "message": "choose yes or no"})
    return None


def _required(value: object, field: str, message: str, errors: Errors) -> None:
    """Name a required ``field`` left blank (``value`` None) with ``message``, unless it is already named as
    unreadable."""
    if value is None and not any(e["field"] == field for e in errors):
        errors.append({"field": field, "message": message})


def _yes_no(value: bool | None) -> str:
    return "" if value is None else ("yes" if value else "no")


def _checked(values: FormValues, name: str) -> bool:
    return values.get(name, "") in ("1", "on", "yes", "true")


# ------------------------------------------------------------------------------------------ checklist


def checklist_fields(policies: ProcedurePolicies) -> list[str]:
    names = [
        "consent_signed_on",
        "imaging_study_date",
        "imaging_modality",
        "imaging_reviewed",
        "imaging_reviewed_by",
        "ac_takes",
        "ac_told_never_stop",
        "ac_confirmed_by",
        "allergy_contrast",
        "allergy_latex",
        "allergy_local_anaesthetic",
        "allergy_details",
        "fasting_given",
        "sedation_given",
        "escort_arranged",
        "escort_name",
        "infection",
    ]
    for i in range(MEDICATION_ROWS):
        names += [f"med{i}_drug", f"med{i}_last_dose", f"med{i}_consulted", f"med{i}_reason"]
    names += [f"na_{spec.id}" for spec in policies.checklist.items if not spec.required]
    return names


def checklist_from_form(values: FormValues, policies: ProcedurePolicies) -> tuple[dict[str, Any], Errors]:
    """The checklist JSON of a submitted checklist form, and the fields it could not read."""
    errors: Errors = []
    medications = []
    for i in range(MEDICATION_ROWS):
        drug = values.get(f"med{i}_drug", "")
        if not drug:
            continue
        medications.append(
            {
                "drug": drug,
                "last_dose": _date(values, f"med{i}_last_dose", f"anticoagulation.medications.{i}.last_dose", errors),
                "prescriber_consulted": _checked(values, f"med{i}_consulted"),
                "deviation_reason": values.get(f"med{i}_reason", ""),
            }
        )
    data: dict[str, Any] = {
        "consent": {"signed_on": _date(values, "consent_signed_on", "consent.signed_on", errors)},
        "imaging": {
            "study_date": _date(values, "imaging_study_date", "imaging.study_date", errors),
            "modality": values.get("imaging_modality", ""),
            "reviewed": _checked(values, "imaging_reviewed"),
            "reviewed_by": values.get("imaging_reviewed_by", ""),
        },
        "anticoagulation": {
            "takes_blood_thinner": _tri(values, "ac_takes", "anticoagulation.takes_blood_thinner", errors),
            "medications": medications,
            "patient_told_never_stop": _checked(values, "ac_told_never_stop"),
            "confirmed_by": values.get("ac_confirmed_by", ""),
        },
        "allergies": {
            "contrast": values.get("allergy_contrast") or None,
            "latex": values.get("allergy_latex") or None,
            "local_anaesthetic": values.get("allergy_local_anaesthetic") or None,
            "details": values.get("allergy_details", ""),
        },
        "instructions": {
            "fasting_given": _checked(values, "fasting_given"),
            "sedation_given": _checked(values, "sedation_given"),
        },
        "escort": {"arranged": _checked(values, "escort_arranged"), "name": values.get("escort_name", "")},
        "infection": {"active_infection": _tri(values, "infection", "infection.active_infection", errors)},
        "not_applicable": {
            str(spec.id): values[f"na_{spec.id}"]
            for spec in policies.checklist.items
            if not spec.required and values.get(f"na_{spec.id}")
        },
    }
    return data, errors


def checklist_values(checklist: PreProcedureChecklist) -> FormValues:
    """Form values showing a stored checklist."""
    c = checklist
    values: FormValues = {
        "consent_signed_on": c.consent.signed_on.isoformat() if c.consent.signed_on else "",
        "imaging_study_date": c.imaging.study_date.isoformat() if c.imaging.study_date else "",
        "imaging_modality": c.imaging.modality,
        "imaging_reviewed": "1" if c.imaging.reviewed else "",
        "imaging_reviewed_by": c.imaging.reviewed_by,
        "ac_takes": _yes_no(c.anticoagulation.takes_blood_thinner),
        "ac_told_never_stop": "1" if c.anticoagulation.patient_told_never_stop else "",
        "ac_confirmed_by": c.anticoagulation.confirmed_by,
        "allergy_contrast": c.allergies.contrast.value if c.allergies.contrast else "",
        "allergy_latex": c.allergies.latex.value if c.allergies.latex else "",
        "allergy_local_anaesthetic": c.allergies.local_anaesthetic.value if c.allergies.local_anaesthetic else "",
        "allergy_details": c.allergies.details,
        "fasting_given": "1" if c.instructions.fasting_given else "",
        "sedation_given": "1" if c.instructions.sedation_given else "",
        "escort_arranged": "1" if c.escort.arranged else "",
        "escort_name": c.escort.name,
        "infection": _yes_no(c.infection.active_infection),
    }
    for i, med in enumerate(c.anticoagulation.medications[:MEDICATION_ROWS]):
        values |= {
            f"med{i}_drug": med.drug,
            f"med{i}_last_dose": med.last_dose.isoformat() if med.last_dose else "",
            f"med{i}_consulted": "1" if med.prescriber_consulted else "",
            f"med{i}_reason": med.deviation_reason,
        }
    for item_id, reason in c.not_applicable.items():
        values[f"na_{item_id}"] = reason
    return values


# ------------------------------------------------------------------------------------------ record


def record_fields(policies: ProcedurePolicies) -> list[str]:
    rp = policies.record
    names = ["operator", "start_time", "end_time", "anaesthesia", "sedation", "sedation_detail", "epidurogram"]
    names += ["incisions", "fluoroscopy_seconds", "device_lots", "notes"]
    names += [f"level_{c.id}" for c in rp.levels] + [f"side_{c.id}" for c in rp.levels]
    names += [f"tissue_{c.id}" for c in rp.tissues]
    names += [f"event_{c.id}" for c in rp.event_kinds] + [f"event_{c.id}_description" for c in rp.event_kinds]
    return names


def record_from_form(values: FormValues, day: date, policies: ProcedurePolicies) -> tuple[dict[str, Any], Errors]:
    """The procedure-record JSON of a submitted record form (on the procedure's ``day``), and unreadable fields."""
    rp = policies.record
    errors: Errors = []
    start = at_time(values, "start_time", "start", day, errors)
    _required(start, "start", "the start time is required", errors)
    levels = [
        {"level": c.id, "side": values.get(f"side_{c.id}", "")} for c in rp.levels if _checked(values, f"level_{c.id}")
    ]
    events = [
        {"kind": c.id, "description": values.get(f"event_{c.id}_description", "")}
        for c in rp.event_kinds
        if _checked(values, f"event_{c.id}")
    ]
    lots = [line.strip() for line in values.get("device_lots", "").replace(",", "\n").splitlines() if line.strip()]
    data = {
        "procedure_date": day.isoformat(),
        "operator": values.get("operator", ""),
        "start": start,
        "end": at_time(values, "end_time", "end", day, errors),
        "levels": levels,
        "anaesthesia": values.get("anaesthesia", ""),
        "sedation": values.get("sedation", ""),
        "sedation_detail": values.get("sedation_detail", ""),
        "epidurogram": _tri(values, "epidurogram", "epidurogram", errors),
        "incisions": _int(values, "incisions", "incisions", errors),
        "fluoroscopy_seconds": _float(values, "fluoroscopy_seconds", "fluoroscopy_seconds", errors),
        "tissue_removed": [c.id for c in rp.tissues if _checked(values, f"tissue_{c.id}")],
        "events": events,
        "device_lots": lots,
        "notes": values.get("notes", ""),
    }
    return data, errors


def record_values(record: ProcedureRecord | None, *, operator: str, started_at: datetime | None) -> FormValues:
    """Form values showing a stored record, or the defaults of a new one (operator, start = the start press)."""
    if record is None:
        return {
            "operator": operator,
            "start_time": local_time(started_at),
            "anaesthesia": "local",
            "sedation": "conscious",
            "epidurogram": "yes",
        }
    values: FormValues = {
        "operator": record.operator,
        "start_time": local_time(record.start),
        "end_time": local_time(record.end),
        "anaesthesia": record.anaesthesia,
        "sedation": record.sedation,
        "sedation_detail": record.sedation_detail,
        "epidurogram": _yes_no(record.epidurogram),
        "incisions": "" if record.incisions is None else str(record.incisions),
        "fluoroscopy_seconds": "" if record.fluoroscopy_seconds is None else f"{record.fluoroscopy_seconds:g}",
        "device_lots": "\n".join(record.device_lots),
        "notes": record.notes,
    }
    for treated in record.levels:
        values[f"level_{treated.level}"] = "1"
        values[f"side_{treated.level}"] = treated.side
    for tissue in record.tissue_removed:
        values[f"tissue_{tissue}"] = "1"
    for event in record.events:
        values[f"event_{event.kind.value}"] = "1"
        values[f"event_{event.kind.value}_description"] = event.description
    return values


# ------------------------------------------------------------------------------------------ observation


OBSERVATION_FIELDS = [
    "at_time",
    "heart_rate",
    "systolic_bp",
    "diastolic_bp",
    "respiratory_rate",
    "spo2",
    "temperature_c",
    "left_strength",
    "left_sensation",
    "right_strength",
    "right_sensation",
    "pain",
    "walking",
    "voided",
    "aldrete",
    "padss",
    "note",
]


def observation_from_form(values: FormValues, day: date) -> tuple[dict[str, Any], Errors]:
    """The observation JSON of a submitted observation form (taken on ``day``), and unreadable fields."""
    errors: Errors = []
    at = at_time(values, "at_time", "at", day, errors)
    _required(at, "at", "the time of the observation is required", errors)
    vitals: dict[str, Any] = {
        name: _int(values, name, f"vitals.{name}", errors)
        for name in ("heart_rate", "systolic_bp", "diastolic_bp", "respiratory_rate", "spo2")
    }
    vitals["temperature_c"] = _float(values, "temperature_c", "vitals.temperature_c", errors)
    legs = {
        side: {aspect: values.get(f"{side}_{aspect}") or None for aspect in ("strength", "sensation")}
        for side in ("left", "right")
    }
    neuro_given = any(v for leg in legs.values() for v in leg.values())
    data: dict[str, Any] = {
        "at": at,
        "vitals": vitals if any(v is not None for v in vitals.values()) else None,
        "neuro": legs if neuro_given else None,
        "pain": _int(values, "pain", "pain", errors),
        "walking": values.get("walking") or None,
        "voided": _tri(values, "voided", "voided", errors),
        "aldrete": _int(values, "aldrete", "aldrete", errors),
        "padss": _int(values, "padss", "padss", errors),
        "note": values.get("note", ""),
    }
    return data, errors


def observation_row(entry: ObservationEntry) -> dict[str, Any]:
    """One observation for the table: local time and short texts."""
    v = entry.vitals
    neuro = entry.neuro

    def leg(side: str) -> str:
        """``as before``, or what differs: ``new weakness``, ``sensation not checked`` ..."""
        if neuro is None:
            return ""
        check = getattr(neuro, side)
        parts = []
        for aspect, value, worse in (
            ("strength", check.strength, "new weakness"),
            ("sensation", check.sensation, "new numbness"),
        ):
            if value is None:
                parts.append(f"{aspect} not checked")
            elif value.value == "worse":
                parts.append(worse)
        return ", ".join(parts) or "as before"

    bp = f"{v.systolic_bp}/{v.diastolic_bp or '?'}" if v is not None and v.systolic_bp else ""
    return {
        "time": local_time(entry.at),
        "by": entry.by,
        "bp": bp,
        "hr": "" if v is None or v.heart_rate is None else v.heart_rate,
        "spo2": "" if v is None or v.spo2 is None else f"{v.spo2} %",
        "temp": "" if v is None or v.temperature_c is None else f"{v.temperature_c:g} °C",
        "left": leg("left"),
        "right": leg("right"),
        "pain": "" if entry.pain is None else entry.pain,
        "walking": entry.walking.value.replace("_", " ") if entry.walking else "",
        "voided": _yes_no(entry.voided),
        "aldrete": "" if entry.aldrete is None else entry.aldrete,
        "padss": "" if entry.padss is None else entry.padss,
        "note": entry.note,
    }


# ------------------------------------------------------------------------------------------ discharge, overnight


def discharge_from_form(values: FormValues, day: date) -> tuple[dict[str, Any], Errors]:
    """The discharge time (HH:MM on ``day``) and the readiness answers of a submitted discharge form."""
    errors: Errors = []
    at = at_datetime(values, "discharge_time", "at", day, errors)
    readiness = {
        "escort_present": values.get("escort_present") == "1",
        "escort_name": values.get("escort_name", ""),
        "written_instructions_given": values.get("instructions_given") == "1",
    }
    return {"at": at, "readiness": readiness}, errors


def overnight_from_form(values: FormValues, day: date) -> tuple[dict[str, Any], Errors]:
    """The time from when (HH:MM on ``day``) and the reason of a submitted overnight-stay form."""
    errors: Errors = []
    at = at_datetime(values, "overnight_time", "at", day, errors)
    return {"at": at, "reason": values.get("overnight_reason", "")}, errors


# ------------------------------------------------------------------------------------------ events


ADVERSE_FIELDS = ["type", "onset", "severity", "serious", "outcome", "description"]


def adverse_event_from_form(values: FormValues) -> tuple[dict[str, Any], Errors]:
    errors: Errors = []
    onset = _date(values, "onset", "onset", errors)
    _required(onset, "onset", "the onset date is required", errors)
    return {
        "type": values.get("type", ""),
        "onset": onset,
        "severity": values.get("severity", ""),
        "serious": _checked(values, "serious"),
        "outcome": values.get("outcome") or "unknown",
        "description": values.get("description", ""),
    }, errors


def reintervention_fields(policies: ProcedurePolicies) -> list[str]:
    return ["r_type", "r_performed_on", "r_note"] + [f"r_level_{c.id}" for c in policies.events.levels]


def reintervention_from_form(values: FormValues, policies: ProcedurePolicies) -> tuple[dict[str, Any], Errors]:
    errors: Errors = []
    performed = _date(values, "r_performed_on", "performed_on", errors)
    _required(performed, "performed_on", "the date is required", errors)
    return {
        "type": values.get("r_type", ""),
        "performed_on": performed,
        "levels": [c.id for c in policies.events.levels if _checked(values, f"r_level_{c.id}")],
        "note": values.get("r_note", ""),
    }, errors
