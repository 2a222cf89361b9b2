"""Import a ``population screen`` output as referrals (issue 18, contracts §9).

Rows with status ``likely_candidate``, ``needs_more_information`` or ``urgent_referral`` become referral sources
(kind ``population_screen``); other rows are not referrals and are not counted. Each row is keyed by a digest
of its content, so importing the same file twice adds nothing (``skipped``); a new screen's row for a person
with an open referral adds a source to it (``merged``).

With the Bulk export the screen read (a folder, or a zip through the API), the person's name, birth date,
contacts and identifiers come along: an existing patient is found by an identifier recorded earlier (the
export's FHIR id or any of its identifiers) or by MRN (the export's ``MR`` identifier); otherwise the patient is
created from the export, with the identifiers and where they came from kept as provenance. Without the export
a referral names the person by the FHIR id alone until an import with the export links it.
"""

from __future__ import annotations

import csv
import gzip
import hashlib
import io
import json
import re
import zipfile
from collections.abc import Callable, Iterable, Iterator, Mapping
from datetime import date, datetime
from pathlib import Path
from typing import Any

from pydantic import ValidationError
from sqlalchemy.orm import Session

from mildpath.domain.errors import InvalidInput
from mildpath.domain.referrals import REFERRABLE
from mildpath.services.access import Actor, record
from mildpath.services.patients import PatientIn
from mildpath.services.referrals import ImportResult, add_source
from mildpath.services.screening import screen_from_fhir
from mildpath.store import clinics as clinics_store
from mildpath.store import patients as patients_store
from mildpath.store import referrals as store

FHIR_ID_SYSTEM = "urn:mildpath:bulk-export:Patient.id"
MR_CODE = "MR"
NOT_CRITERIA = {"patient_id", "status", "criteria_set", "reasons", "missing", "evidence", "cautions", "not_assessed"}
CRITERION_STATUSES = {"met", "not_met", "unknown"}


def read_screen(name: str, data: bytes) -> list[dict[str, Any]]:
    """The rows of a screen output (CSV, or Parquet when the bytes say so); a bad file is :class:`InvalidInput`."""
    if data[:4] == b"PAR1":
        import pyarrow as pa
        import pyarrow.parquet as pq

        try:
            return list(pq.read_table(pa.BufferReader(data)).to_pylist())
        except (pa.ArrowException, OSError) as exc:
            raise InvalidInput(f"{name}: not a readable Parquet file ({exc})", field="file") from None
    try:
        reader = csv.DictReader(io.StringIO(data.decode("utf-8-sig")))
        rows = list(reader)
        columns = set(reader.fieldnames or ())
    except (UnicodeDecodeError, csv.Error) as exc:
        raise InvalidInput(f"{name}: not a readable CSV file ({exc})", field="file") from None
    if not {"patient_id", "status"} <= columns:
        raise InvalidInput(f"{name}: not a population screen output (no patient_id and status columns)",
                           field="file")
    return rows


def _json_list(value: Any) -> list[str]:
    if isinstance(value, list):
        return [str(v) for v in value]
    if not value:
        return []
    try:
        parsed = json.loads(value)
    except (TypeError, ValueError):
        return [str(value)]
    return [str(v) for v in parsed] if isinstance(parsed, list) else [str(parsed)]


def _patients_in_folder(folder: Path) -> Iterator[bytes]:
    if not folder.is_dir():
        raise InvalidInput(f"{folder}: the export must be a folder of NDJSON files", field="export")
    for path in sorted(folder.glob("Patient*.ndjson*")):
        yield from folder_lines(path)


def folder_lines(path: Path) -> Iterator[bytes]:
    """The lines of one export file (NDJSON, or gzipped NDJSON)."""
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "rb") as f:
        yield from f


def _patients_in_zip(data: bytes) -> Iterator[bytes]:
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except zipfile.BadZipFile:
        raise InvalidInput("the export is not a zip file", field="export") from None
    for info in archive.infolist():
        if Path(info.filename).name.startswith("Patient") and ".ndjson" in info.filename:
            raw = archive.read(info)
            yield from (gzip.decompress(raw) if info.filename.endswith(".gz") else raw).splitlines()


def export_patients(lines: Iterable[bytes], wanted: set[str]) -> dict[str, dict[str, Any]]:
    """``{FHIR id: Patient resource}`` for the ``wanted`` ids among the export's Patient lines."""
    out: dict[str, dict[str, Any]] = {}
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            resource = json.loads(line)
        except ValueError:
            raise InvalidInput(f"export: Patient line {number} is not JSON", field="export") from None
        if isinstance(resource, dict) and resource.get("id") in wanted:
            out[resource["id"]] = resource
    return out


def _identifiers(resource: Mapping[str, Any]) -> list[tuple[str, str, bool]]:
    """``(system, value, is_mrn)`` of the resource, its FHIR id first."""
    out = [(FHIR_ID_SYSTEM, str(resource["id"]), False)]
    for ident in resource.get("identifier") or ():
        system, value = str(ident.get("system") or ""), str(ident.get("value") or "")
        codes = [c.get("code") for c in (ident.get("type") or {}).get("coding") or ()]
        if system and value:
            out.append((system[:200], value[:200], MR_CODE in codes))
    return out


def _patient_in(resource: Mapping[str, Any], mrn: str) -> PatientIn:
    name: Mapping[str, Any] = next(iter(resource.get("name") or ()), {}) or {}
    telecom = resource.get("telecom") or ()
    phone = next((t.get("value", "") for t in telecom if t.get("system") == "phone"), "")
    email = next((t.get("value") for t in telecom if t.get("system") == "email"), None)
    address: Mapping[str, Any] = next(iter(resource.get("address") or ()), {}) or {}
    where = ", ".join([*address.get("line", []), *(address.get(k, "") for k in ("city", "state", "postalCode"))])
    sex = resource.get("gender") if resource.get("gender") in ("female", "male", "other") else "unknown"
    try:
        return PatientIn(mrn=mrn[:64], given_name=" ".join(name.get("given") or []) or "?",
                         family_name=name.get("family") or "?", birth_date=resource.get("birthDate"), sex=sex,
                         phone=phone[:40], email=email, address=where.strip(", ")[:400])
    except ValidationError as exc:
        field = ".".join(str(x) for x in exc.errors()[0]["loc"])
        raise InvalidInput(f"export: Patient/{resource.get('id')}: {field}: {exc.errors()[0]['msg']}",
                           field="export") from None


def _chart_lines(export: Path | bytes) -> Iterator[bytes]:
    """Every NDJSON line of the export's other resource types (Condition, Procedure, MedicationRequest...)."""
    if isinstance(export, Path):
        for path in sorted(export.glob("*.ndjson*")):
            if not path.name.startswith("Patient"):
                opener = gzip.open if path.suffix == ".gz" else open
                with opener(path, "rb") as f:
                    yield from f
        return
    archive = zipfile.ZipFile(io.BytesIO(export))
    for info in archive.infolist():
        name = Path(info.filename).name
        if ".ndjson" in name and not name.startswith("Patient"):
            raw = archive.read(info)
            yield from (gzip.decompress(raw) if info.filename.endswith(".gz") else raw).splitlines()


# A Bulk export names the patient as "Patient/<id>" or, as Synthea's does in places, "urn:uuid:<id>".
_PATIENT_REF = re.compile(rb'"(?:Patient/|urn:uuid:)([A-Za-z0-9\-.]{1,64})"')


def export_charts(lines: Iterable[bytes], wanted: set[str]) -> dict[str, list[dict[str, Any]]]:
    """``{FHIR id: [resources about that patient]}`` for the ``wanted`` ids (a line is parsed only when it names
    one of them); unreadable lines are skipped, as the population screen skips them."""
    out: dict[str, list[dict[str, Any]]] = {}
    for line in lines:
        named = {m.decode() for m in _PATIENT_REF.findall(line)} & wanted
        if not named:
            continue
        try:
            resource = json.loads(line)
        except ValueError:
            continue
        if isinstance(resource, dict):
            for pid in named:
                out.setdefault(pid, []).append(resource)
    return out


def _link(session: Session, actor: Actor, clinic_id: int, resource: Mapping[str, Any], provenance: str,
          today: date, chart: list[dict[str, Any]] | None = None) -> int:
    """The mildpath patient for an export's Patient: found by identifier or MRN, else created, with a screening of
    the chart the export holds for them (``chart``: the facts screening needs, read like an EHR's Bundle)."""
    idents = _identifiers(resource)
    patient_id = next((p for s, v, _ in idents
                       if (p := store.patient_by_identifier(session, clinic_id=clinic_id, system=s, value=v))), None)
    mrns = [v for _, v, is_mrn in idents if is_mrn]
    if patient_id is None:
        patient_id = next((p for m in mrns if (p := store.patient_by_mrn(session, clinic_id=clinic_id, mrn=m))),
                          None)
    if patient_id is None:
        mrn = mrns[0] if mrns else f"fhir:{resource['id']}"
        data = _patient_in(resource, mrn)
        if data.birth_date > today:
            raise InvalidInput(f"export: Patient/{resource['id']}: birth date in the future", field="export")
        fields = data.model_dump(exclude={"email"})
        patient = patients_store.add(session, clinic_id=clinic_id, **fields, email=str(data.email or ""))
        patient_id = patient.id
        record(session, actor, "patient.create", "Patient", patient_id, patient_id, {"from": "population_import"})
        if chart is not None:
            # The chart import: the screening facts from the export, stored as a screening of kind fhir_import
            # (provenance in its audit row). Only for a patient created here, so a second import adds nothing.
            bundle = {"resourceType": "Bundle", "type": "collection",
                      "entry": [{"resource": r} for r in [dict(resource), *chart]]}
            try:
                with session.begin_nested():
                    screen_from_fhir(session, Actor.system("referral-import"), patient_id, bundle, today=today)
            except InvalidInput:  # a chart mildpath cannot read: the patient and the referral stay, unscreened
                pass
    for system, value, _ in idents:
        if store.patient_by_identifier(session, clinic_id=clinic_id, system=system, value=value) is None:
            session.add(store.PatientIdentifier(patient_id=patient_id, clinic_id=clinic_id, system=system,
                                                value=value, source=provenance[:300]))
    for referral in store.unlinked(session, clinic_id=clinic_id, subject_ref=str(resource["id"])):
        if store.open_for(session, clinic_id=clinic_id, patient_id=patient_id, subject_ref="") is None:
            referral.patient_id = patient_id
            record(session, actor, "referral.link", "Referral", referral.id, patient_id)
    session.flush()
    return patient_id


def import_screen(
    session: Session,
    actor: Actor,
    *,
    name: str,
    data: bytes,
    now: datetime,
    today: date,
    export: Path | bytes | None = None,
    clinic_id: int | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> ImportResult:
    """Import a screen output (``data``, named ``name`` in messages); see the module docstring."""
    if actor.role not in ("admin", "system"):
        if actor.role not in ("coordinator", "clinician") or actor.clinic_id is None:
            raise InvalidInput("only the staff of a clinic import referrals", field="clinic")
        clinic_id = actor.clinic_id
    clinic_id = clinic_id or clinics_store.first_id(session)
    if clinic_id is None or clinics_store.get_or_none(session, clinic_id=clinic_id) is None:
        raise InvalidInput(f"no clinic {clinic_id}", field="clinic", value=clinic_id)
    rows = [r for r in read_screen(name, data) if r.get("status") in REFERRABLE and r.get("patient_id")]
    people: dict[str, dict[str, Any]] = {}
    charts: dict[str, list[dict[str, Any]]] = {}
    if export is not None:
        lines = _patients_in_folder(export) if isinstance(export, Path) else _patients_in_zip(export)
        people = export_patients(lines, {str(r["patient_id"]) for r in rows})
        charts = export_charts(_chart_lines(export), set(people))
    provenance = f"population screen {Path(name).name}, imported {today.isoformat()}"
    counts = {"created": 0, "merged": 0, "skipped": 0}
    for done, row in enumerate(rows, start=1):
        subject = str(row["patient_id"])
        patient_id = (_link(session, actor, clinic_id, people[subject], provenance, today, charts.get(subject, []))
                      if subject in people
                      else store.patient_by_identifier(session, clinic_id=clinic_id, system=FHIR_ID_SYSTEM,
                                                       value=subject))
        digest = hashlib.sha256(json.dumps(row, sort_keys=True, default=str).encode()).hexdigest()
        criteria = {k: str(v) for k, v in row.items() if k not in NOT_CRITERIA and v in CRITERION_STATUSES}
        _, outcome = add_source(
            session, actor, kind="population_screen", key=f"population_screen:{digest[:60]}", dated=today, now=now,
            clinic_id=clinic_id, patient_id=patient_id, subject_ref=subject[:200], result=str(row["status"]),
            criteria_set=str(row.get("criteria_set") or ""), reasons=_json_list(row.get("reasons")),
            missing=_json_list(row.get("missing")), criteria=criteria)
        counts[outcome] += 1
        if progress is not None:
            progress(done, len(rows))
    record(session, actor, "referral.import", "Referral", None, None, {**counts, "clinic_id": clinic_id})
    return ImportResult(**counts)
