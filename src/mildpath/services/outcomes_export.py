"""Registry exports (issue 8): the whole store as FHIR R4 Bulk Data NDJSON, and a de-identified patient-level
extract for research (CSV or Parquet). Staff only (the command line acts as the system); each export is one audit
row with counts, never contents. Nothing here commits.

FHIR export
-----------
:func:`bulk_fhir_resources` yields every resource the subjects can write, grouped by type in a stable order:
``Patient`` (one query), the questionnaire responses and their score ``Observation``s (the questionnaire service's
bulk export), the mild ``Procedure`` (CPT 0275T), ``AdverseEvent``s and later interventions (the procedure service's
bulk export), then whatever other subjects expose per patient through the patient-rights registry
(``fhir_resources_for_patient``: the recovery ``CarePlan`` today; screening's ``RiskAssessment`` once it is stored).
A resource met twice (same type and id) is written once. References are ``Patient/<id>`` and the like, as a Bulk
Data client expects them.

De-identified extract
---------------------
Three tables, one row per procedure, per score and per event (:func:`deidentified_tables`):

- **Pseudonymous ids**: ``pid`` = the first 16 hex digits of HMAC-SHA256(key, ``"patient:<id>"``), where ``key``
  is the site's secret (``MILDPATH_SECRET_KEY``). Stable across exports of the same site (a registry can link
  follow-up exports), not reversible without the key; operators are pseudonymised the same way (``"operator:<id>"``).
- **Dates**: only the procedure's calendar *year* is kept; every other date becomes a number of days from that
  patient's procedure (questionnaires, adverse events, later interventions, end of follow-up).
- **Ages**: whole years at the procedure; 90 and over are written as 90 (HIPAA Safe Harbor groups ages over 89).
  Sex as recorded (female, male, other, unknown).
- **Left out**: names, MRN, birth date, phone, e-mail, address, clinic, free text of any kind (adverse-event
  descriptions, notes), database ids, the people who entered data.

This follows the spirit of HIPAA Safe Harbor (an assumption: the clinical reference is silent on
de-identification); small cells can still identify someone, so the extract is for a research agreement, not for
publication.
"""

from __future__ import annotations

import hashlib
import hmac
from collections import defaultdict
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from pydantic import BaseModel, ConfigDict
from sqlalchemy.orm import Session

from mildpath.fhir.patient import patient_resource
from mildpath.fhir.server import referenced
from mildpath.services import fhir_server, procedure_exports, proms
from mildpath.services.access import Actor, record, require_staff, visible_patients
from mildpath.services.outcomes import OutcomeFilters, Registry, read_registry
from mildpath.services.procedure_exports import RegistryAdverseEvent, RegistryProcedure, RegistryReintervention
from mildpath.store import outcomes as store
from mildpath.store.models import Patient

#: Subjects whose resources come from a bulk query here; the patient-rights registry adds every other subject.
_BULK_SUBJECTS = {"patients", "proms", "procedures", "procedure_exports"}
OLDEST_AGE = 90

# ------------------------------------------------------------------------------------------ FHIR Bulk NDJSON


def _patients(
    session: Session, actor: Actor, clinic_id: int | None, patient_ids: Sequence[int] | None = None
) -> list[dict[str, Any]]:
    scope = visible_patients(actor)
    if clinic_id is not None:
        scope = scope.where(Patient.clinic_id == clinic_id)
    if patient_ids is not None:
        scope = scope.where(Patient.id.in_(list(patient_ids)))
    ids = scope.with_only_columns(Patient.id)
    rows = store.patients(session, patient_ids=ids)
    clinics = store.clinic_names(session, clinic_ids=sorted({p.clinic_id for p in rows}))
    return [
        patient_resource(
            patient_id=p.id,
            clinic_id=p.clinic_id,
            mrn=p.mrn,
            given_name=p.given_name,
            family_name=p.family_name,
            birth_date=p.birth_date,
            sex=p.sex,
            phone=p.phone,
            email=p.email,
            address=p.address,
            preferred_language=p.preferred_language,
            clinic_name=clinics.get(p.clinic_id, ""),
            last_updated=p.updated_at,
        )
        for p in rows
    ]


def _other_subjects(session: Session, patient_ids: list[int]) -> Iterator[dict[str, Any]]:
    """Resources of subjects that only offer a per-patient provider (patient-rights registry)."""
    from mildpath.services.patient_rights import fhir_providers

    providers = [(name, p) for name, p in fhir_providers() if name not in _BULK_SUBJECTS]
    for _name, provider in providers:
        for pid in patient_ids:
            yield from provider(session, pid)


def bulk_fhir_resources(
    session: Session, actor: Actor, *, clinic_id: int | None = None, patient_ids: Sequence[int] | None = None
) -> Iterator[dict[str, Any]]:
    """Every FHIR R4 resource of the patients the actor may see (of one clinic's when ``clinic_id`` is given, of
    ``patient_ids`` among them when given; see the module docstring), each once.

    Audited once as ``outcomes.export_fhir`` when the iteration ends, with the count per resource type.
    """
    require_staff(actor)
    seen: set[tuple[str, str]] = set()
    counts: dict[str, int] = {}
    cited: set[str] = set()  # Practitioner ids referenced (issue 19: every reference in the export resolves)

    def fresh(resources: Iterator[dict[str, Any]] | list[dict[str, Any]]) -> Iterator[dict[str, Any]]:
        for resource in resources:
            key = (str(resource.get("resourceType")), str(resource.get("id", "")))
            if key[1] and key in seen:
                continue
            seen.add(key)
            counts[key[0]] = counts.get(key[0], 0) + 1
            cited.update(referenced([resource], "Practitioner"))
            yield resource

    patients = _patients(session, actor, clinic_id, patient_ids)
    yield from fresh(patients)
    only = None if clinic_id is None and patient_ids is None else [int(p["id"]) for p in patients]
    bundle = proms.bulk_fhir(session, actor, patient_ids=only)
    yield from fresh(bundle["QuestionnaireResponse"])
    yield from fresh(bundle["Observation"])
    yield from fresh(procedure_exports.iter_fhir_resources(session, actor, patient_ids=only))
    yield from fresh(_other_subjects(session, [int(p["id"]) for p in patients]))
    yield from fresh(fhir_server.practitioners(session, set(cited)))
    record(session, actor, "outcomes.export_fhir", "Bulk", None, None, {"resources": counts})


# ------------------------------------------------------------------------------------------ de-identified


class _Row(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class DeidentifiedProcedure(_Row):
    """One row of ``procedures``: one completed procedure (fields in column order)."""

    pid: str
    procedure: str
    procedure_year: int
    age_at_procedure: int
    sex: str
    operator: str | None
    levels_treated: int
    levels: str
    same_day_discharge: bool | None
    discharge: str | None
    followed_days: int
    adverse_events: int
    serious_adverse_events: int
    first_reintervention_days: int | None
    first_reintervention_type: str | None


class DeidentifiedScore(_Row):
    """One row of ``scores``: one measure of one questionnaire response."""

    pid: str
    procedure: str
    timepoint: str
    days_from_procedure: int | None
    instrument: str
    measure: str
    value: float
    wording: str  # licensed or neutral (issue 15 §5): neutral ODI/ZCQ scores are not the validated instrument


class DeidentifiedEvent(_Row):
    """One row of ``events``: an adverse event (with severity, seriousness, outcome) or a later intervention."""

    pid: str
    procedure: str
    kind: str
    type: str
    days_from_procedure: int
    severity: str | None
    serious: bool | None
    outcome: str | None


#: a row of any of the three tables
DeidentifiedRow = DeidentifiedProcedure | DeidentifiedScore | DeidentifiedEvent


class DeidentifiedExtract(BaseModel):
    """The three tables of the de-identified extract, typed (see the module docstring)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    procedures: tuple[DeidentifiedProcedure, ...]
    scores: tuple[DeidentifiedScore, ...]
    events: tuple[DeidentifiedEvent, ...]

    def tables(self) -> dict[str, tuple[DeidentifiedRow, ...]]:
        """``{"procedures": rows, "scores": rows, "events": rows}`` (the names of the files, :data:`COLUMNS`)."""
        return {"procedures": self.procedures, "scores": self.scores, "events": self.events}


PROCEDURE_COLUMNS = tuple(DeidentifiedProcedure.model_fields)
SCORE_COLUMNS = tuple(DeidentifiedScore.model_fields)
EVENT_COLUMNS = tuple(DeidentifiedEvent.model_fields)


def pseudonym(key: bytes, kind: str, record_id: int) -> str:
    """A stable pseudonymous id: the first 16 hex digits of HMAC-SHA256(key, ``"<kind>:<id>"``).

    >>> pseudonym(b"secret", "patient", 1) == pseudonym(b"secret", "patient", 1) != pseudonym(b"other", "patient", 1)
    True
    """
    return hmac.new(key, f"{kind}:{record_id}".encode(), hashlib.sha256).hexdigest()[:16]


def _age(birth: date, day: date) -> int:
    age = day.year - birth.year - ((day.month, day.day) < (birth.month, birth.day))
    return min(age, OLDEST_AGE)


@dataclass(frozen=True)
class _Kept:
    """The procedures the extract keeps, with their references: ``pids`` per patient, ``refs`` per procedure
    (``<pid>-1``, ``<pid>-2`` ... in date order for each patient)."""

    registry: Registry
    key: bytes
    by_procedure: Mapping[int, RegistryProcedure]
    pids: Mapping[int, str]
    refs: Mapping[int, str]

    @classmethod
    def of(cls, registry: Registry, filters: OutcomeFilters, key: bytes) -> _Kept:
        kept = registry.cohort.where(filters.to_domain()).procedure_ids
        numbers: dict[int, int] = {}
        refs: dict[int, str] = {}
        pids: dict[int, str] = {}
        procedures = registry.extract.procedures
        for p in sorted(procedures, key=lambda p: (p.procedure_date, p.procedure_id)):
            if p.procedure_id not in kept:
                continue
            pid = pids.setdefault(p.patient_id, pseudonym(key, "patient", p.patient_id))
            numbers[p.patient_id] = numbers.get(p.patient_id, 0) + 1
            refs[p.procedure_id] = f"{pid}-{numbers[p.patient_id]}"
        by_procedure = {p.procedure_id: p for p in procedures if p.procedure_id in kept}
        return cls(registry, key, by_procedure, pids, refs)


def _first_reinterventions(kept: _Kept) -> dict[int, tuple[int, str]]:
    """Per kept procedure, the first later intervention on or after the procedure day: (days, type)."""
    first: dict[int, tuple[int, str]] = {}
    for r in kept.registry.extract.reinterventions:
        if r.procedure_id in kept.by_procedure and r.days_after_procedure >= 0:
            current = first.get(r.procedure_id)
            if current is None or r.days_after_procedure < current[0]:
                first[r.procedure_id] = (r.days_after_procedure, r.type)
    return first


def _procedure_rows(kept: _Kept, today: date) -> list[DeidentifiedProcedure]:
    first_re = _first_reinterventions(kept)
    events_of: dict[int, list[RegistryAdverseEvent]] = defaultdict(list)
    for e in kept.registry.extract.adverse_events:
        events_of[e.procedure_id].append(e)
    rows = []
    for procedure_id, ref in kept.refs.items():
        p = kept.by_procedure[procedure_id]
        birth, sex = kept.registry.demographics.get(p.patient_id, (p.procedure_date, "unknown"))
        events = events_of.get(procedure_id, [])
        first = first_re.get(procedure_id)
        rows.append(
            DeidentifiedProcedure(
                pid=kept.pids[p.patient_id],
                procedure=ref,
                procedure_year=p.procedure_date.year,
                age_at_procedure=_age(birth, p.procedure_date),
                sex=sex,
                operator=pseudonym(kept.key, "operator", p.operator_user_id) if p.operator_user_id else None,
                levels_treated=len({lv.level for lv in p.levels}),
                levels=";".join(dict.fromkeys(lv.level for lv in p.levels)),
                same_day_discharge=p.same_day_discharge,
                discharge=p.discharge_kind,
                followed_days=(today - p.procedure_date).days,
                adverse_events=len(events),
                serious_adverse_events=sum(1 for e in events if e.serious),
                first_reintervention_days=first[0] if first else None,
                first_reintervention_type=first[1] if first else None,
            )
        )
    return rows


def _score_rows(kept: _Kept, filters: OutcomeFilters) -> list[DeidentifiedScore]:
    registry = kept.registry
    dates = {p.procedure_id: p.procedure_date for p in registry.extract.procedures}
    scored: dict[tuple[int, str], list[tuple[str, float]]] = defaultdict(list)
    for s in registry.cohort.where(filters.to_domain()).scores:
        scored[(s.procedure_id, s.timepoint)].append((s.measure, s.value))
    rows = []
    for row in registry.responses:
        procedure_id = registry.response_procedure.get(row.response_id)
        if procedure_id is None or procedure_id not in kept.refs:
            continue
        days = (row.answered_on - dates[procedure_id]).days if row.answered_on else None
        for measure, value in scored.get((procedure_id, row.timepoint), []):
            if _instrument_of(measure) == row.instrument:
                rows.append(
                    DeidentifiedScore(
                        pid=kept.pids[kept.by_procedure[procedure_id].patient_id],
                        procedure=kept.refs[procedure_id],
                        timepoint=row.timepoint,
                        days_from_procedure=days,
                        instrument=row.instrument,
                        measure=measure,
                        value=round(value, 4),
                        wording=row.wording,
                    )
                )
    return rows


def _event_row(kept: _Kept, e: RegistryAdverseEvent | RegistryReintervention) -> DeidentifiedEvent:
    """An adverse event's row (with its severity, seriousness and outcome) or a later intervention's."""
    adverse = e if isinstance(e, RegistryAdverseEvent) else None
    return DeidentifiedEvent(
        pid=kept.pids[e.patient_id],
        procedure=kept.refs[e.procedure_id],
        kind="adverse_event" if adverse else "reintervention",
        type=e.type,
        days_from_procedure=e.days_after_procedure,
        severity=adverse.severity if adverse else None,
        serious=adverse.serious if adverse else None,
        outcome=adverse.outcome if adverse else None,
    )


def _event_rows(kept: _Kept) -> list[DeidentifiedEvent]:
    """The kept procedures' adverse events, then their later interventions."""
    extract = kept.registry.extract
    events: list[RegistryAdverseEvent | RegistryReintervention] = [*extract.adverse_events, *extract.reinterventions]
    return [_event_row(kept, e) for e in events if e.procedure_id in kept.refs]


def deidentified_extract(
    session: Session, actor: Actor, *, today: date, key: bytes, filters: OutcomeFilters | None = None
) -> DeidentifiedExtract:
    """The de-identified extract, typed: one table per row type (see the module docstring).

    ``today`` ends follow-up (``followed_days``); ``key`` keys the pseudonyms. Audited once
    (``outcomes.export_deidentified``) with the row counts.
    """
    require_staff(actor)
    if len(key) < 16:
        raise ValueError("the pseudonym key must be at least 16 bytes")
    filters = filters or OutcomeFilters()
    registry = read_registry(session, actor, since=filters.since, until=filters.until)
    kept = _Kept.of(registry, filters, key)
    extract = DeidentifiedExtract(
        procedures=tuple(_procedure_rows(kept, today)),
        scores=tuple(_score_rows(kept, filters)),
        events=tuple(_event_rows(kept)),
    )
    counts = {"procedures": len(extract.procedures), "scores": len(extract.scores), "events": len(extract.events)}
    record(session, actor, "outcomes.export_deidentified", "Bulk", None, None, {"rows": counts})
    return extract


def deidentified_tables(
    session: Session, actor: Actor, *, today: date, key: bytes, filters: OutcomeFilters | None = None
) -> dict[str, tuple[DeidentifiedRow, ...]]:
    """The de-identified extract as ``{"procedures": rows, "scores": rows, "events": rows}`` (column order in
    :data:`PROCEDURE_COLUMNS`, :data:`SCORE_COLUMNS`, :data:`EVENT_COLUMNS`), for the table writers and the CED
    extract: :func:`deidentified_extract`'s typed rows by table."""
    return deidentified_extract(session, actor, today=today, key=key, filters=filters).tables()


def _instrument_of(measure: str) -> str:
    return measure.split("_", 1)[0]


COLUMNS = {"procedures": PROCEDURE_COLUMNS, "scores": SCORE_COLUMNS, "events": EVENT_COLUMNS}
