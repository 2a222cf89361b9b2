"""Patient facts: the dated, provenance-tagged inputs of candidacy screening (issue 3).

Two roads lead here and meet in one shape, so the criteria never know where a fact came from:

- ``mildpath.fhir.read`` turns a FHIR Bundle or NDJSON (a chart) into :class:`PatientFacts`;
- :mod:`mildpath.domain.selfcheck` turns the patient self-check and the clinician assessment (forms) into
  :class:`PatientFacts`.

Every fact carries ``record``: where it came from, a FHIR reference (``Condition/123``) or a form field
(``form:self_check.walk_minutes``). That is what a finding shows as evidence.

Dates
-----
Facts carry calendar dates (no times). A FHIR dateTime such as ``2020-05-06T23:30:00-04:00`` is read as the
date written in it (2020-05-06), whatever its zone: that is the day the clinician saw, and it is what a SQL
engine gets from the first ten characters, so the single-patient and population screens agree. Partial dates
(``2020``, ``2020-05``) are read as their first day. Every fact has a ``start`` (``None`` when undated) and an
``end`` (the last day of a period; ``None`` when open or not a period):

========================  ============================================  ====================================
fact                      start                                         end
========================  ============================================  ====================================
:class:`Diagnosis`        onset, or without onset the recorded date     abatement date
                          (contracts §3 reads cauda equina this way)
:class:`ProcedureFact`    performed (Procedure) / occurrence, else      end of the performed/occurrence
                          authoredOn (ServiceRequest)                   period, else ``start``
:class:`MedicationFact`   authoredOn or validity start (request),       validity / effective period end
                          effective start (statement)
:class:`ObservationFact`  effective date, else issued                   ``start``
:class:`Answer`           the day the answer describes (the scan date   ``start``
                          for a thickness, else the form's day)
========================  ============================================  ====================================
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from dataclasses import field as dc_field
from typing import Literal

Value = bool | int | float | str | None
"""A fact's value. ``bool`` is never read as a number (``True >= 1`` is a type mismatch, see conditions)."""

Kind = Literal["diagnosis", "procedure", "medication", "observation", "answer"]
KINDS: tuple[Kind, ...] = ("diagnosis", "procedure", "medication", "observation", "answer")

Code = tuple[str, str]
"""A coding as ``(system, code)``."""


@dataclass(frozen=True)
class Evidence:
    """One piece of evidence behind a finding: the value used, its date and the record it came from."""

    value: Value
    date: dt.date | None
    record: str
    counted: bool = True
    why: str = ""

    def to_json(self) -> dict[str, Value]:
        """``{"value", "date", "record"}`` (contracts §3); the date as ISO text or ``None``. Evidence that was
        found but did not count adds ``"counted": false, "why": "..."``."""
        out: dict[str, Value] = {
            "value": self.value,
            "date": self.date.isoformat() if self.date else None,
            "record": self.record,
        }
        if not self.counted:
            out["counted"] = False
            out["why"] = self.why
        return out


@dataclass(frozen=True)
class Diagnosis:
    """A coded condition (FHIR ``Condition``): one fact per coding that matters."""

    system: str
    code: str
    record: str
    clinical_status: str | None = None
    onset: dt.date | None = None
    recorded: dt.date | None = None
    abatement: dt.date | None = None
    display: str = ""
    kind: Kind = dc_field(default="diagnosis", init=False)

    @property
    def status(self) -> str | None:
        return self.clinical_status

    @property
    def start(self) -> dt.date | None:
        return self.onset or self.recorded

    @property
    def end(self) -> dt.date | None:
        return self.abatement

    @property
    def value(self) -> Value:
        return self.code


@dataclass(frozen=True)
class ProcedureFact:
    """A procedure done or ordered (FHIR ``Procedure`` or ``ServiceRequest``).

    ``reasons`` holds the codes of the conditions the record names as its reason (``reasonCode``, or the codes
    of the ``Condition`` that ``reasonReference`` points at), so a criterion can tell care given *for* the
    stenosis from care that merely happened after it.
    """

    system: str
    code: str
    record: str
    status: str | None = None
    performed: dt.date | None = None
    performed_end: dt.date | None = None
    resource_type: str = "Procedure"
    reasons: frozenset[Code] = frozenset()
    display: str = ""
    kind: Kind = dc_field(default="procedure", init=False)

    @property
    def start(self) -> dt.date | None:
        return self.performed

    @property
    def end(self) -> dt.date | None:
        return self.performed_end or self.performed

    @property
    def value(self) -> Value:
        return self.code


@dataclass(frozen=True)
class MedicationFact:
    """A medication requested or reported (FHIR ``MedicationRequest`` or ``MedicationStatement``).

    ``status`` is the record's status at export time: for a past as-of date it is the best the record says.
    """

    system: str
    code: str
    record: str
    status: str | None = None
    period_start: dt.date | None = None
    period_end: dt.date | None = None
    resource_type: str = "MedicationRequest"
    display: str = ""
    kind: Kind = dc_field(default="medication", init=False)

    @property
    def start(self) -> dt.date | None:
        return self.period_start

    @property
    def end(self) -> dt.date | None:
        return self.period_end

    @property
    def value(self) -> Value:
        return self.code


@dataclass(frozen=True)
class ObservationFact:
    """A measured or scored value (FHIR ``Observation``): LOINC, or a local code such as the LF thickness."""

    system: str
    code: str
    record: str
    value: Value = None
    unit: str | None = None
    effective: dt.date | None = None
    status: str | None = None
    kind: Kind = dc_field(default="observation", init=False)

    @property
    def start(self) -> dt.date | None:
        return self.effective

    @property
    def end(self) -> dt.date | None:
        return self.effective


@dataclass(frozen=True)
class Answer:
    """One answer of the self-check or the clinician assessment, e.g. ``clinician.lf_thickness_mm``.

    ``field`` is ``<form>.<name>``; ``record`` is ``form:<field>`` for a form, or the FHIR reference when the
    answer came as a mildpath assessment Observation. An unanswered question has no :class:`Answer` at all.
    """

    field: str
    value: Value
    record: str
    date: dt.date | None = None
    kind: Kind = dc_field(default="answer", init=False)

    @property
    def system(self) -> str:
        return ""

    @property
    def code(self) -> str:
        return self.field

    @property
    def status(self) -> str | None:
        return None

    @property
    def start(self) -> dt.date | None:
        return self.date

    @property
    def end(self) -> dt.date | None:
        return self.date


Fact = Diagnosis | ProcedureFact | MedicationFact | ObservationFact | Answer


@dataclass(frozen=True)
class PatientFacts:
    """Everything screening may look at for one patient. Empty tuples mean "nothing recorded"."""

    patient_id: str | None = None
    birth_date: dt.date | None = None
    sex: str | None = None
    deceased: bool | None = None
    deceased_on: dt.date | None = None
    diagnoses: tuple[Diagnosis, ...] = ()
    procedures: tuple[ProcedureFact, ...] = ()
    medications: tuple[MedicationFact, ...] = ()
    observations: tuple[ObservationFact, ...] = ()
    answers: tuple[Answer, ...] = ()

    def of_kind(self, kind: Kind) -> tuple[Fact, ...]:
        """The facts of one kind, in the order they were recorded."""
        if kind == "diagnosis":
            return self.diagnoses
        if kind == "procedure":
            return self.procedures
        if kind == "medication":
            return self.medications
        if kind == "observation":
            return self.observations
        return self.answers

    def __iter__(self) -> Iterator[Fact]:
        for kind in KINDS:
            yield from self.of_kind(kind)

    def merge(self, *others: PatientFacts) -> PatientFacts:
        """These facts plus others' (a chart plus a clinician assessment, say). Demographics: first known wins."""
        out = self
        for other in others:
            out = PatientFacts(
                patient_id=out.patient_id or other.patient_id,
                birth_date=out.birth_date or other.birth_date,
                sex=out.sex or other.sex,
                deceased=out.deceased if out.deceased is not None else other.deceased,
                deceased_on=out.deceased_on or other.deceased_on,
                diagnoses=out.diagnoses + other.diagnoses,
                procedures=out.procedures + other.procedures,
                medications=out.medications + other.medications,
                observations=out.observations + other.observations,
                answers=out.answers + other.answers,
            )
        return out

    def is_deceased(self, today: dt.date) -> bool:
        """Whether the record says the patient had died by ``today`` (FHIR ``Patient.deceased[x]``).

        ``deceasedBoolean`` true, or a ``deceasedDateTime`` on or before ``today``. A date of death after the
        as-of date does not exist yet, by the as-of rule of the criteria (a screen as of a past date sees what
        was true then)."""
        if self.deceased_on is not None:
            return self.deceased_on <= today
        return self.deceased is True

    def age_on(self, today: dt.date) -> int | None:
        """Whole years of age on ``today``; ``None`` without a birth date."""
        if self.birth_date is None:
            return None
        years = today.year - self.birth_date.year
        if (today.month, today.day) < (self.birth_date.month, self.birth_date.day):
            years -= 1
        return years


def answers_from(form: str, values: Iterable[tuple[str, Value, dt.date | None]]) -> tuple[Answer, ...]:
    """Answers of one form from ``(name, value, date)`` triples; ``None`` values (unanswered) are left out."""
    return tuple(
        Answer(field=f"{form}.{name}", value=value, record=f"form:{form}.{name}", date=when)
        for name, value, when in values
        if value is not None
    )
