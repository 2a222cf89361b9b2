"""The procedure record: what was done, by whom, when, where, and what happened on the table.

:func:`validate_record` raises one :class:`~mildpath.domain.errors.InvalidRecord` listing every error (an unknown
level, an end before the start, disc given as removed tissue ...) and otherwise returns the plausibility
warnings (longer than 2 hours, more than 3 levels, thresholds from content). Warnings never block saving: a long
or multi-level procedure can be real, so the clinician is asked to look again, not stopped.

Edge cases:

- ``end`` None is a procedure still in progress: no duration, no duration warning.
- ``start`` must fall on ``procedure_date`` in its own time-zone offset; an ``end`` after midnight is allowed.
- An end equal to the start is an error (a zero-minute procedure is a typing error).
- Levels must be distinct; each carries its own side (left, right or bilateral).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from datetime import date, timedelta
from enum import StrEnum
from typing import Any

from pydantic import AwareDatetime

from mildpath.domain.procedure._base import Problem, RecordModel, parse, raise_if_any
from mildpath.domain.procedure.policy import Choice, RecordPolicy


class IntraEventKind(StrEnum):
    DURAL_PUNCTURE = "dural_puncture"
    BLEEDING = "bleeding"
    OTHER = "other"


class TreatedLevel(RecordModel):
    """One lumbar level treated (``L4-L5``) and the side (``left``, ``right`` or ``bilateral``)."""

    level: str
    side: str


class IntraProcedureEvent(RecordModel):
    """Something that happened during the procedure; ``description`` is required for ``other``."""

    kind: IntraEventKind
    description: str = ""


class ProcedureRecord(RecordModel):
    """The record of one mild procedure. Times are time-zone aware; ``end`` is None while in progress."""

    procedure_date: date
    operator: str
    start: AwareDatetime
    end: AwareDatetime | None = None
    levels: tuple[TreatedLevel, ...]
    anaesthesia: str
    sedation: str
    sedation_detail: str = ""
    epidurogram: bool | None = None
    incisions: int | None = None
    fluoroscopy_seconds: float | None = None
    tissue_removed: tuple[str, ...] = ()
    events: tuple[IntraProcedureEvent, ...] = ()
    device_lots: tuple[str, ...] = ()
    notes: str = ""

    @property
    def duration(self) -> timedelta | None:
        """End minus start, or None while the procedure is in progress."""
        return None if self.end is None else self.end - self.start

    @property
    def duration_minutes(self) -> int | None:
        """Whole minutes elapsed (rounded down), or None while in progress."""
        span = self.duration
        return None if span is None else int(span.total_seconds() // 60)


def describe_levels(record: ProcedureRecord, policy: RecordPolicy) -> list[str]:
    """``["L4-L5, bilateral", ...]``: one line per treated level, in the record's order, with content labels."""
    return [f"{policy.label('levels', t.level)}, {policy.label('sides', t.side).lower()}" for t in record.levels]


def parse_record(data: Mapping[str, Any]) -> ProcedureRecord:
    """A :class:`ProcedureRecord` from JSON-like data; wrong shapes raise one ``InvalidRecord`` listing them."""
    return parse(ProcedureRecord, data, "procedure record")


def record_problems(record: ProcedureRecord, policy: RecordPolicy) -> tuple[list[Problem], list[Problem]]:
    """(errors, warnings) of ``record``: the work of :func:`validate_record`, without raising."""
    errors: list[Problem] = []
    warnings: list[Problem] = []
    _check_people_and_times(record, policy, errors, warnings)
    _check_levels(record, policy, errors, warnings)
    _check_technique(record, policy, errors, warnings)
    _check_tissue(record, policy, errors, warnings)
    _check_events_and_devices(record, policy, errors, warnings)
    return errors, warnings


def validate_record(record: ProcedureRecord, policy: RecordPolicy) -> tuple[Problem, ...]:
    """Raise ``InvalidRecord`` (``data["errors"]`` lists them all) or return the plausibility warnings."""
    errors, warnings = record_problems(record, policy)
    raise_if_any(errors, "procedure record")
    return tuple(warnings)


def _check_people_and_times(
    record: ProcedureRecord, policy: RecordPolicy, errors: list[Problem], warnings: list[Problem]
) -> None:
    if not record.operator.strip():
        errors.append(Problem("operator", "the operator is required"))
    if record.start.date() != record.procedure_date:
        errors.append(
            Problem(
                "start",
                f"start {record.start.isoformat()} is not on the procedure date {record.procedure_date}",
            )
        )
    if record.end is None:
        return
    if record.end < record.start:
        errors.append(
            Problem(
                "end",
                f"end {record.end.isoformat()} is before start {record.start.isoformat()}",
            )
        )
    elif record.end == record.start:
        errors.append(Problem("end", "end equals start: a procedure takes some time"))
    else:
        # source: procedure-day (usually under 1 hour); the bound itself is site content (2 hours by default)
        limit = policy.max_duration_minutes
        minutes = record.duration_minutes or 0
        if minutes > limit.whole:
            warnings.append(
                Problem(
                    "end",
                    f"the procedure lasted {minutes} minutes, more than {limit.whole}: check the start and end times",
                    limit.sources,
                )
            )


def _check_levels(
    record: ProcedureRecord, policy: RecordPolicy, errors: list[Problem], warnings: list[Problem]
) -> None:
    if not record.levels:
        errors.append(Problem("levels", "at least one treated level is required"))
        return
    known_levels = policy.level_ids()
    known_sides = tuple(c.id for c in policy.sides)
    for i, treated in enumerate(record.levels):
        if treated.level not in known_levels:
            errors.append(
                Problem(
                    f"levels.{i}.level",
                    f"unknown level {treated.level!r}; use one of {', '.join(known_levels)}",
                )
            )
        if treated.side not in known_sides:
            errors.append(
                Problem(f"levels.{i}.side", f"unknown side {treated.side!r}; use one of {', '.join(known_sides)}")
            )
    repeated = sorted(level for level, n in Counter(t.level for t in record.levels).items() if n > 1)
    if repeated:
        errors.append(Problem("levels", f"level listed more than once: {', '.join(repeated)}"))
    # source: procedure-day (usually 1 or 2 levels); the bound itself is site content (3 by default)
    limit = policy.max_levels
    if len(record.levels) > limit.whole:
        warnings.append(
            Problem(
                "levels",
                f"{len(record.levels)} levels treated, more than {limit.whole}: check the levels",
                limit.sources,
            )
        )


def _check_choice(value: str, choices: tuple[Choice, ...], field: str, errors: list[Problem]) -> Choice | None:
    choice = next((c for c in choices if c.id == value), None)
    if choice is None:
        allowed = ", ".join(c.id for c in choices)
        errors.append(Problem(field, f"unknown {field.replace('_', ' ')} {value!r}; use one of {allowed}"))
    return choice


def _check_technique(
    record: ProcedureRecord, policy: RecordPolicy, errors: list[Problem], warnings: list[Problem]
) -> None:
    for field, value, choices in (
        ("anaesthesia", record.anaesthesia, policy.anaesthesia),
        ("sedation", record.sedation, policy.sedation),
    ):
        choice = _check_choice(value, choices, field, errors)
        if choice is not None and choice.warning:
            warnings.append(Problem(field, choice.warning, choice.sources))
    if record.sedation == "other" and not record.sedation_detail.strip():
        errors.append(Problem("sedation_detail", "describe the sedation when it is 'other'"))
    if record.epidurogram is False:
        # source: procedure-day (a contrast epidurogram identifies and monitors the compressed area)
        warnings.append(
            Problem(
                "epidurogram",
                "no epidurogram recorded: the published technique uses a contrast epidurogram",
                policy.epidurogram_sources,
            )
        )
    if record.incisions is not None and record.incisions < 1:
        errors.append(Problem("incisions", f"the number of incisions must be at least 1, got {record.incisions}"))
    if record.fluoroscopy_seconds is not None and record.fluoroscopy_seconds < 0:
        errors.append(Problem("fluoroscopy_seconds", "fluoroscopy time cannot be negative"))


def _check_tissue(
    record: ProcedureRecord, policy: RecordPolicy, errors: list[Problem], warnings: list[Problem]
) -> None:
    known = tuple(c.id for c in policy.tissues)
    for i, tissue in enumerate(record.tissue_removed):
        refused = next((r for r in policy.refused_tissues if r.id == tissue.strip().casefold()), None)
        if refused is not None:
            errors.append(Problem(f"tissue_removed.{i}", refused.message, refused.sources))
        elif tissue not in known:
            errors.append(Problem(f"tissue_removed.{i}", f"unknown tissue {tissue!r}; use one of {', '.join(known)}"))
    if record.end is not None and not record.tissue_removed:
        warnings.append(Problem("tissue_removed", "no removed tissue recorded for a finished procedure"))


def _check_events_and_devices(
    record: ProcedureRecord, policy: RecordPolicy, errors: list[Problem], warnings: list[Problem]
) -> None:
    for i, event in enumerate(record.events):
        if event.kind is IntraEventKind.OTHER and not event.description.strip():
            errors.append(Problem(f"events.{i}.description", "describe an intra-procedure event of kind 'other'"))
        if event.kind is IntraEventKind.DURAL_PUNCTURE:
            # source: complications (dural tear / CSF leak is on the registry's complication list)
            warnings.append(
                Problem(
                    f"events.{i}",
                    "dural puncture: also record an adverse event 'dural tear or CSF leak' for the registry",
                    policy.dural_puncture_sources,
                )
            )
    for i, lot in enumerate(record.device_lots):
        if not lot.strip():
            errors.append(Problem(f"device_lots.{i}", "a device lot number cannot be blank"))
    if record.end is not None and not record.device_lots:
        warnings.append(Problem("device_lots", "no device lot number recorded"))
