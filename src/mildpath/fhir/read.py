"""One patient's FHIR R4 resources -> :class:`~mildpath.domain.facts.PatientFacts` (issue 3; contracts §2, §5).

Input: a Bundle of any ``type`` (collection, transaction, searchset, document ...), one resource, or NDJSON
(one resource a line, optionally gzip), holding ONE patient. References may be ``Patient/ID``, ``urn:uuid:ID``
or absolute URLs. Plain dicts throughout: this path must stay fast and tolerant.

What is read (everything else is counted and skipped, never fatal):

==================================  ===========================================================================
Patient                             birthDate, gender, deceasedBoolean / deceasedDateTime
Condition                           codings in a screening value set; clinicalStatus; onset[x] (dateTime or
                                    Period.start), recordedDate, abatement[x]. verificationStatus
                                    ``entered-in-error`` or ``refuted``: skipped
Procedure / ServiceRequest          codings in a value set; status; performed[x] / occurrence[x] (else
                                    authoredOn); reasonCode and reasonReference (the codes of the Condition it
                                    points at), so care given *for* the stenosis is recognised
MedicationRequest / -Statement      medicationCodeableConcept, or medicationReference to a Medication in the
                                    input or ``contained``; status; authoredOn / dispenseRequest.validityPeriod;
                                    effective[x]. Besides its codes, the ingredients that a coding's ``display``
                                    or the concept's ``text`` names (value sets' ``ingredients``, case- and
                                    accent-insensitive) become facts coded in the ingredient-name system, so
                                    a product or brand code never hides an anticoagulant
Observation (and its components)    LOINC or local codes in a value set; valueQuantity (LF thickness in cm is
                                    converted to mm; another unit leaves the value unknown), valueInteger,
                                    valueBoolean, valueString, valueCodeableConcept (its first code);
                                    effective[x], else issued. Observations coded in mildpath's clinician
                                    assessment system become the answers ``clinician.<code>``, exactly as the
                                    assessment form gives them
==================================  ===========================================================================

Codes outside the screening value sets are ignored. Lines that are not resources (an exporter's
``log.ndjson``), unknown resource types and resources of another patient are skipped and counted.
Unreadable input (bad JSON, bad gzip, not UTF-8, two patients in one file) raises
:class:`~mildpath.domain.errors.FhirInputError` with the file and, where it applies, the line.

Dates with or without a time zone read as the calendar date written (``2020-05-06T23:30:00-04:00`` is
2020-05-06), partial dates as their first day (see :mod:`mildpath.domain.facts`).

Conservative care and the diagnosis: nothing in most charts links a physical-therapy visit to the stenosis. When
a record names the reason it is kept (``reasons``); otherwise the criteria infer the link from dates (care on or
after the first stenosis diagnosis, more than three months before the as-of date; see the criteria set).
"""

from __future__ import annotations

import datetime as dt
import gzip
import json
import zlib
from collections import Counter
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from mildpath.content.criteria import INGREDIENT_SYSTEM, ingredients_named
from mildpath.domain.errors import FhirInputError
from mildpath.domain.facts import (
    Answer,
    Code,
    Diagnosis,
    MedicationFact,
    ObservationFact,
    PatientFacts,
    ProcedureFact,
    Value,
)
from mildpath.domain.selfcheck import CLINICIAN_FIELDS
from mildpath.fhir.codes import ASSESSMENT_SYSTEM, LF_THICKNESS, known_codes

READ_TYPES = frozenset(
    {
        "Patient",
        "Condition",
        "Procedure",
        "ServiceRequest",
        "MedicationRequest",
        "MedicationStatement",
        "Observation",
        "Medication",
    }
)
_SKIP_VERIFICATION = {"entered-in-error", "refuted"}
_SKIP_STATUS = {"entered-in-error"}
_SKIP_OBSERVATION_STATUS = {"entered-in-error", "cancelled"}


@dataclass(frozen=True)
class FhirRead:
    """What a read produced: the facts, how many resources were read and what was skipped (reason -> count)."""

    facts: PatientFacts
    resources: int = 0
    skipped: Mapping[str, int] = field(default_factory=dict)


def read_fhir_file(path: str | Path, *, require_patient: bool = False) -> FhirRead:
    """Read one patient's Bundle or NDJSON file (see the module docstring); bad input -> FhirInputError.

    ``require_patient``: the file must hold FHIR resources that name a patient (``mildpath screen``)."""
    p = Path(path)
    skipped: Counter[str] = Counter()
    resources = list(_resources_in_file(p, skipped))
    if require_patient:
        _require_a_patient(resources, str(p))
    read = facts_from_resources(resources, where=str(p))
    skipped.update(read.skipped)
    return FhirRead(read.facts, read.resources, dict(skipped))


def _require_a_patient(resources: list[Mapping[str, Any]], where: str) -> None:
    """A file that claims to be one patient's chart must hold FHIR resources and name a patient (issue 21):
    ``{}`` or an empty Bundle is bad input, not a patient without findings."""
    flat: list[tuple[dict[str, Any], str | None]] = []
    for res in resources:
        flat.extend(_flatten(res, None, Counter()))
    if not flat and not any(isinstance(r, Mapping) and isinstance(r.get("resourceType"), str) for r in resources):
        raise FhirInputError("holds no FHIR resource (no object with a resourceType)", path=where)
    if not any(res["resourceType"] == "Patient" or _subject(res) for res, _ in flat):
        raise FhirInputError("names no patient (no Patient resource and no resource with a subject)", path=where)


def facts_from_fhir(
    source: str | Path | Mapping[str, Any] | Iterable[Mapping[str, Any]],
) -> PatientFacts:
    """Facts from a file path, a Bundle or resource dict, or an iterable of resource dicts (one patient)."""
    if isinstance(source, str | Path):
        return read_fhir_file(source).facts
    if isinstance(source, Mapping):
        return facts_from_resources([source]).facts
    return facts_from_resources(source).facts


def facts_from_resources(
    resources: Iterable[Mapping[str, Any]],
    *,
    where: str = "input",
    codes: frozenset[Code] | None = None,
) -> FhirRead:
    """Facts from resource dicts (Bundles are opened). ``codes``: what to keep (default: every screening code)."""
    keep = known_codes() if codes is None else codes
    skipped: Counter[str] = Counter()
    flat: list[tuple[dict[str, Any], str | None]] = []
    for res in resources:
        flat.extend(_flatten(res, None, skipped))
    patient = _the_patient(flat, where)
    aliases = _aliases(patient) if patient is not None else set()
    conditions: dict[str, list[Code]] = {}
    medications: dict[str, list[Code]] = {}
    kept: list[dict[str, Any]] = []
    for res, full_url in flat:
        rtype = res.get("resourceType")
        if rtype not in READ_TYPES:
            skipped["resource types screening does not read"] += 1
            continue
        if rtype == "Medication":
            for key in _keys(res, full_url):
                medications[key] = _codings(res.get("code"))
            continue
        if rtype != "Patient" and aliases and not _belongs(res, aliases):
            skipped["resources of another patient"] += 1
            continue
        if rtype == "Condition":
            for key in _keys(res, full_url):
                conditions[key] = _codings(res.get("code"))
        kept.append(res)
    builder = _Builder(keep, conditions, medications)
    for res in kept:
        builder.add(res)
    skipped.update(builder.skipped)
    facts = PatientFacts(
        patient_id=str(patient["id"]) if patient is not None and patient.get("id") else None,
        birth_date=_date(patient.get("birthDate")) if patient is not None else None,
        sex=str(patient["gender"]) if patient is not None and patient.get("gender") else None,
        deceased=_deceased(patient),
        deceased_on=_date(patient.get("deceasedDateTime")) if patient is not None else None,
        diagnoses=tuple(builder.diagnoses),
        procedures=tuple(builder.procedures),
        medications=tuple(builder.medications),
        observations=tuple(builder.observations),
        answers=tuple(builder.answers),
    )
    return FhirRead(facts, len(kept), dict(skipped))


def _deceased(patient: Mapping[str, Any] | None) -> bool | None:
    """``deceasedBoolean``, or true when a ``deceasedDateTime`` is given; ``None`` when the record is silent."""
    if patient is None:
        return None
    flag = patient.get("deceasedBoolean")
    if isinstance(flag, bool):
        return flag
    if isinstance(patient.get("deceasedDateTime"), str) and patient["deceasedDateTime"].strip():
        return True
    return None


# --------------------------------------------------------------------------------------------- files


def _resources_in_file(path: Path, skipped: Counter[str]) -> Iterator[Mapping[str, Any]]:
    name = str(path)
    try:
        raw = path.read_bytes()
    except IsADirectoryError:
        raise FhirInputError("is a folder, not a FHIR file", path=name) from None
    except FileNotFoundError:
        raise FhirInputError("no such file", path=name) from None
    except OSError as exc:
        raise FhirInputError(f"cannot read ({exc.strerror})", path=name) from None
    if raw[:2] == b"\x1f\x8b":
        try:
            raw = gzip.decompress(raw)
        except (OSError, EOFError, zlib.error) as exc:
            raise FhirInputError(f"not a readable gzip file ({exc})", path=name) from None
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise FhirInputError(f"not UTF-8 text (byte {exc.start})", path=name) from None
    if not text.strip():
        raise FhirInputError("is empty", path=name)
    try:
        doc = json.loads(text)
    except json.JSONDecodeError as exc:
        if not _looks_like_ndjson(text, exc):
            raise FhirInputError(
                f"not valid JSON ({exc.msg} at column {exc.colno})", path=name, line=exc.lineno
            ) from None
        yield from _ndjson(text, name, skipped)
        return
    if isinstance(doc, dict):
        yield doc
    elif isinstance(doc, list):
        for item in doc:
            if isinstance(item, dict):
                yield item
            else:
                skipped["lines that are not resources"] += 1
    else:
        raise FhirInputError("holds no FHIR resource (a JSON object or NDJSON lines)", path=name)


def _looks_like_ndjson(text: str, exc: json.JSONDecodeError) -> bool:
    """Several JSON documents one per line: the whole text fails with 'Extra data', or its first line parses."""
    if exc.msg == "Extra data":
        return True
    first = next((line for line in text.splitlines() if line.strip()), "")
    try:
        json.loads(first)
    except json.JSONDecodeError:
        return False
    return True


def _ndjson(text: str, name: str, skipped: Counter[str]) -> Iterator[Mapping[str, Any]]:
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            doc = json.loads(line)
        except json.JSONDecodeError as exc:
            raise FhirInputError(f"not valid JSON ({exc.msg} at column {exc.colno})", path=name, line=number) from None
        if isinstance(doc, dict):
            yield doc
        else:
            skipped["lines that are not resources"] += 1


def _flatten(res: Any, full_url: str | None, skipped: Counter[str]) -> Iterator[tuple[dict[str, Any], str | None]]:
    if not isinstance(res, dict) or not isinstance(res.get("resourceType"), str):
        skipped["lines that are not resources"] += 1
        return
    if res["resourceType"] == "Bundle":
        for entry in res.get("entry") or ():
            if isinstance(entry, dict) and isinstance(entry.get("resource"), dict):
                yield from _flatten(entry["resource"], entry.get("fullUrl"), skipped)
        return
    yield res, full_url


# --------------------------------------------------------------------------------------------- patients


def _the_patient(flat: list[tuple[dict[str, Any], str | None]], where: str) -> dict[str, Any] | None:
    patients: dict[str, dict[str, Any]] = {}
    for res, full_url in flat:
        if res["resourceType"] == "Patient":
            key = str(res.get("id") or full_url or len(patients))
            patients.setdefault(key, res | ({"_fullUrl": full_url} if full_url else {}))
    if len(patients) > 1:
        raise FhirInputError(
            f"holds {len(patients)} patients; `mildpath screen` reads one (use `mildpath population screen`)",
            path=where,
        )
    if patients:
        return next(iter(patients.values()))
    subjects = {_ref_id(_subject(res)) for res, _ in flat} - {None}
    if len(subjects) > 1:
        raise FhirInputError(f"holds resources of {len(subjects)} patients and no Patient resource", path=where)
    return None


def _aliases(patient: Mapping[str, Any]) -> set[str]:
    out = {str(patient["id"])} if patient.get("id") else set()
    ref = _ref_id(patient.get("_fullUrl"))
    if ref:
        out.add(ref)
    return out


def _belongs(res: Mapping[str, Any], aliases: set[str]) -> bool:
    ref = _subject(res)
    return ref is None or _ref_id(ref) in aliases


def _subject(res: Mapping[str, Any]) -> str | None:
    for key in ("subject", "patient"):
        value = res.get(key)
        if isinstance(value, dict) and isinstance(value.get("reference"), str):
            return str(value["reference"])
    return None


def _ref_id(ref: str | None) -> str | None:
    """The id in ``Patient/ID``, ``urn:uuid:ID``, ``http://host/fhir/Patient/ID/_history/2`` or ``#ID``."""
    if not ref:
        return None
    if ref.startswith("urn:uuid:") or ref.startswith("urn:oid:"):
        return ref.split(":", 2)[2]
    if ref.startswith("#"):
        return ref
    parts = [p for p in ref.split("/") if p]
    if "_history" in parts:
        parts = parts[: parts.index("_history")]
    return parts[-1] if parts else None


def _keys(res: Mapping[str, Any], full_url: str | None) -> set[str]:
    out = set()
    if res.get("id"):
        out.add(str(res["id"]))
    ref = _ref_id(full_url)
    if ref:
        out.add(ref)
    return out


# --------------------------------------------------------------------------------------------- resources


class _Builder:
    def __init__(
        self, keep: frozenset[Code], conditions: Mapping[str, list[Code]], medications: Mapping[str, list[Code]]
    ) -> None:
        self.keep = keep
        self.conditions = conditions
        self.medication_codes = medications
        self.diagnoses: list[Diagnosis] = []
        self.procedures: list[ProcedureFact] = []
        self.medications: list[MedicationFact] = []
        self.observations: list[ObservationFact] = []
        self.answers: list[Answer] = []
        self.skipped: Counter[str] = Counter()
        self.count = 0
        self.ingredients = sorted(code for system, code in keep if system == INGREDIENT_SYSTEM)

    def add(self, res: Mapping[str, Any]) -> None:
        self.count += 1
        rtype = res["resourceType"]
        record = f"{rtype}/{res.get('id') or self.count}"
        if rtype == "Condition":
            self._condition(res, record)
        elif rtype in ("Procedure", "ServiceRequest"):
            self._procedure(res, record, rtype)
        elif rtype in ("MedicationRequest", "MedicationStatement"):
            self._medication(res, record, rtype)
        elif rtype == "Observation":
            self._observation(res, record)

    def _condition(self, res: Mapping[str, Any], record: str) -> None:
        if set(_codes_of(res.get("verificationStatus"))) & _SKIP_VERIFICATION:
            self.skipped["entered in error or refuted"] += 1
            return
        status = _first(_codes_of(res.get("clinicalStatus")))
        onset, _ = _span(res, "onset")
        abatement = _date(res.get("abatementDateTime")) or _date(_get(res, "abatementPeriod", "end"))
        for system, code in self._kept(_codings(res.get("code"))):
            self.diagnoses.append(
                Diagnosis(
                    system=system,
                    code=code,
                    record=record,
                    clinical_status=status,
                    onset=onset,
                    recorded=_date(res.get("recordedDate")),
                    abatement=abatement,
                    display=_display(res.get("code"), code),
                )
            )

    def _procedure(self, res: Mapping[str, Any], record: str, rtype: str) -> None:
        status = _status(res)
        if status in _SKIP_STATUS:
            self.skipped["entered in error or refuted"] += 1
            return
        if rtype == "Procedure":
            start, end = _span(res, "performed")
        else:
            start, end = _span(res, "occurrence")
            start = start or _date(res.get("authoredOn"))
        reasons: set[Code] = set()
        for concept in res.get("reasonCode") or ():
            reasons.update(_codings(concept))
        for ref in res.get("reasonReference") or ():
            if isinstance(ref, dict):
                reasons.update(self.conditions.get(_ref_id(ref.get("reference")) or "", ()))
        for system, code in self._kept(_codings(res.get("code"))):
            self.procedures.append(
                ProcedureFact(
                    system=system,
                    code=code,
                    record=record,
                    status=str(status) if status else None,
                    performed=start,
                    performed_end=end,
                    resource_type=rtype,
                    reasons=frozenset(reasons),
                    display=_display(res.get("code"), code),
                )
            )

    def _medication(self, res: Mapping[str, Any], record: str, rtype: str) -> None:
        status = _status(res)
        if status in _SKIP_STATUS:
            self.skipped["entered in error or refuted"] += 1
            return
        codings = _codings(res.get("medicationCodeableConcept"))
        ref = _get(res, "medicationReference", "reference")
        if not codings and isinstance(ref, str):
            if ref.startswith("#"):
                for contained in res.get("contained") or ():
                    if isinstance(contained, dict) and f"#{contained.get('id')}" == ref:
                        codings = _codings(contained.get("code"))
            else:
                codings = list(self.medication_codes.get(_ref_id(ref) or "", ()))
        if rtype == "MedicationRequest":
            start = _date(_get(res, "dispenseRequest", "validityPeriod", "start")) or _date(res.get("authoredOn"))
            end = _date(_get(res, "dispenseRequest", "validityPeriod", "end"))
        else:
            start, end = _span(res, "effective")
            start = start or _date(res.get("dateAsserted"))
        concept = res.get("medicationCodeableConcept")
        texts = _texts(concept)
        found = [(system, code, _display(concept, code)) for system, code in self._kept(codings)]
        found += [  # and each ingredient the criteria name that the medication's text names
            (INGREDIENT_SYSTEM, name, next(t for t in texts if ingredients_named([t], [name])))
            for name in ingredients_named(texts, self.ingredients)
        ]
        for system, code, display in found:
            self.medications.append(
                MedicationFact(
                    system=system,
                    code=code,
                    record=record,
                    status=str(status) if status else None,
                    period_start=start,
                    period_end=end,
                    resource_type=rtype,
                    display=display,
                )
            )

    def _observation(self, res: Mapping[str, Any], record: str) -> None:
        status = _status(res)
        if status in _SKIP_OBSERVATION_STATUS:
            self.skipped["entered in error or refuted"] += 1
            return
        when = _span(res, "effective")[0] or _date(res.get("effectiveInstant")) or _date(res.get("issued"))
        parts: list[Mapping[str, Any]] = [res]
        parts.extend(c for c in res.get("component") or () if isinstance(c, dict))
        for part in parts:
            for system, code in _codings(part.get("code")):
                if system == ASSESSMENT_SYSTEM:
                    if code in CLINICIAN_FIELDS:
                        value = _value(part, (system, code))
                        if value is not None:
                            self.answers.append(Answer(f"clinician.{code}", value, record, when))
                    continue
                if (system, code) not in self.keep:
                    continue
                self.observations.append(
                    ObservationFact(
                        system=system,
                        code=code,
                        record=record,
                        value=_value(part, (system, code)),
                        unit=_get(part, "valueQuantity", "unit") or _get(part, "valueQuantity", "code"),
                        effective=when,
                        status=str(status) if status else None,
                    )
                )

    def _kept(self, codings: Iterable[Code]) -> list[Code]:
        out: list[Code] = []
        for c in codings:
            if c in self.keep and c not in out:
                out.append(c)
        return out


def _value(part: Mapping[str, Any], code: Code) -> Value:
    """An Observation value as a plain value; a thickness in cm becomes mm, in another unit unknown (None)."""
    if "valueQuantity" in part:
        q = part.get("valueQuantity") or {}
        number = q.get("value")
        if not isinstance(number, int | float) or isinstance(number, bool):
            return None
        if code == LF_THICKNESS:
            unit = str(q.get("code") or q.get("unit") or "mm").strip()
            factor = {"mm": 1.0, "cm": 10.0}.get(unit)
            return None if factor is None else round(float(number) * factor, 3)
        return float(number)
    for key in ("valueInteger", "valueBoolean", "valueString"):
        if key in part:
            value = part[key]
            return value if isinstance(value, bool | int | float | str) else None
    if "valueCodeableConcept" in part:
        codings = _codings(part.get("valueCodeableConcept"))
        return codings[0][1] if codings else None
    return None


def _status(res: Mapping[str, Any]) -> str | None:
    """The resource's ``status`` when it is a code (a string); anything else (a list, a number, an object) is
    malformed and read as no status, like a missing one."""
    status = res.get("status")
    return status if isinstance(status, str) else None


def _codings(concept: Any) -> list[Code]:
    if not isinstance(concept, dict):
        return []
    out: list[Code] = []
    for c in concept.get("coding") or ():
        if isinstance(c, dict) and isinstance(c.get("code"), str) and c["code"]:
            out.append((str(c.get("system") or ""), c["code"]))
    return out


def _texts(concept: Any) -> list[str]:
    """Every coding ``display`` and the ``text`` of a CodeableConcept, in order."""
    if not isinstance(concept, dict):
        return []
    out = [
        str(c["display"])
        for c in concept.get("coding") or ()
        if isinstance(c, dict) and isinstance(c.get("display"), str)
    ]
    if isinstance(concept.get("text"), str):
        out.append(str(concept["text"]))
    return out


def _codes_of(concept: Any) -> list[str]:
    return [code for _, code in _codings(concept)]


def _display(concept: Any, code: str) -> str:
    if isinstance(concept, dict):
        for c in concept.get("coding") or ():
            if isinstance(c, dict) and c.get("code") == code and isinstance(c.get("display"), str):
                return str(c["display"])
        if isinstance(concept.get("text"), str):
            return str(concept["text"])
    return ""


def _first(values: list[str]) -> str | None:
    return values[0] if values else None


def _span(res: Mapping[str, Any], name: str) -> tuple[dt.date | None, dt.date | None]:
    """A FHIR choice ``name[x]`` of dateTime or Period as (start, end): a dateTime is a start without an end."""
    start = _date(res.get(f"{name}DateTime")) or _date(_get(res, f"{name}Period", "start"))
    return start, _date(_get(res, f"{name}Period", "end"))


def _get(res: Mapping[str, Any], *path: str) -> Any:
    node: Any = res
    for key in path:
        if not isinstance(node, dict):
            return None
        node = node.get(key)
    return node


def _date(value: Any) -> dt.date | None:
    """The calendar date written in a FHIR date, dateTime or instant; partial dates -> first day; else None."""
    if not isinstance(value, str) or len(value) < 4:
        return None
    text = value.strip()
    try:
        if len(text) == 4:
            return dt.date(int(text), 1, 1)
        if len(text) == 7:
            return dt.date(int(text[:4]), int(text[5:7]), 1)
        return dt.date.fromisoformat(text[:10])
    except ValueError:
        return None
