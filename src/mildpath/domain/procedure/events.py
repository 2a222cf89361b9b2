"""Adverse events and later interventions, recorded against one procedure and counted by the outcomes registry.

Types come from fixed lists (clinical reference §1.5, the suggested registry complication list, and §5's
"subsequent interventions"); labels and sources are content.

Severity scale: FHIR R4 ``AdverseEvent.severity`` (mild | moderate | severe, code system
``http://terminology.hl7.org/CodeSystem/adverse-event-severity``) plus a separate ``serious`` flag
(``AdverseEvent.seriousness``: serious | non-serious). Why: the record exports to FHIR without a lossy mapping,
and the trials report *serious* events separately from severity (ENCORE: 1.3 % related events, 0 serious;
clinical reference §1.5), so the registry can show the same split. Severity grades intensity; seriousness the
consequence (hospital stay, disability, death) - the two are independent, as in ICH E2A.

Rules:

- An adverse event's onset is on or after the procedure date and not after ``today``.
- An ED visit or readmission counts only within 30 days of the procedure (content threshold); later ones are
  refused rather than silently counted.
- A reintervention is after the procedure date, not after ``today``; its levels (optional) are known levels."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from enum import StrEnum

from mildpath.domain.procedure._base import Problem, RecordModel, raise_if_any
from mildpath.domain.procedure.policy import EventPolicy


class AdverseEventType(StrEnum):
    DURAL_TEAR_CSF_LEAK = "dural_tear_csf_leak"
    EPIDURAL_HEMATOMA = "epidural_hematoma"
    SURGICAL_SITE_INFECTION = "surgical_site_infection"
    NEW_NEUROLOGICAL_DEFICIT = "new_neurological_deficit"
    BLEEDING_NEEDING_TREATMENT = "bleeding_needing_treatment"
    ED_VISIT_OR_READMISSION = "ed_visit_or_readmission"


class Severity(StrEnum):
    """FHIR R4 adverse-event-severity."""

    MILD = "mild"
    MODERATE = "moderate"
    SEVERE = "severe"


class EventOutcome(StrEnum):
    """FHIR R4 adverse-event-outcome codes."""

    RESOLVED = "resolved"
    RECOVERING = "recovering"
    ONGOING = "ongoing"
    RESOLVED_WITH_SEQUELAE = "resolvedWithSequelae"
    FATAL = "fatal"
    UNKNOWN = "unknown"


class ReinterventionType(StrEnum):
    EPIDURAL_INJECTION = "epidural_injection"
    REPEAT_MILD = "repeat_mild"
    SPACER = "spacer"
    LAMINECTOMY = "laminectomy"
    FUSION = "fusion"


class AdverseEvent(RecordModel):
    """One adverse event after (or during) the procedure."""

    type: AdverseEventType
    onset: date
    severity: Severity
    serious: bool
    outcome: EventOutcome = EventOutcome.UNKNOWN
    description: str = ""
    recorded_by: str = ""


class Reintervention(RecordModel):
    """A later intervention on the lumbar spine; ``levels`` as in the procedure record (optional)."""

    type: ReinterventionType
    performed_on: date
    levels: tuple[str, ...] = ()
    note: str = ""


def adverse_event_problems(
    event: AdverseEvent, *, procedure_date: date, today: date, policy: EventPolicy
) -> list[Problem]:
    problems = []
    if event.onset < procedure_date:
        problems.append(Problem("onset", f"onset {event.onset} is before the procedure on {procedure_date}"))
    if event.onset > today:
        problems.append(Problem("onset", f"onset {event.onset} is in the future"))
    window = policy.readmission_window_days
    if event.type is AdverseEventType.ED_VISIT_OR_READMISSION and (event.onset - procedure_date).days > window.whole:
        # source: complications (readmission or ED visit within 30 days)
        problems.append(
            Problem(
                "onset",
                f"an ED visit or readmission counts only within {window.whole} days of the procedure "
                f"({procedure_date}); {event.onset} is {(event.onset - procedure_date).days} days after",
                window.sources,
            )
        )
    return problems


def validate_adverse_event(event: AdverseEvent, *, procedure_date: date, today: date, policy: EventPolicy) -> None:
    """Raise ``InvalidRecord`` listing every problem of ``event`` (see the module docstring for the rules)."""
    raise_if_any(
        adverse_event_problems(event, procedure_date=procedure_date, today=today, policy=policy),
        "adverse event",
    )


def reintervention_problems(
    item: Reintervention, *, procedure_date: date, today: date, policy: EventPolicy
) -> list[Problem]:
    problems = []
    if item.performed_on <= procedure_date:
        problems.append(Problem("performed_on", f"{item.performed_on} is not after the procedure on {procedure_date}"))
    if item.performed_on > today:
        problems.append(Problem("performed_on", f"{item.performed_on} is in the future"))
    known = tuple(c.id for c in policy.levels)
    for i, level in enumerate(item.levels):
        if level not in known:
            problems.append(Problem(f"levels.{i}", f"unknown level {level!r}; use one of {', '.join(known)}"))
    return problems


def validate_reintervention(item: Reintervention, *, procedure_date: date, today: date, policy: EventPolicy) -> None:
    """Raise ``InvalidRecord`` listing every problem of ``item``."""
    raise_if_any(
        reintervention_problems(item, procedure_date=procedure_date, today=today, policy=policy),
        "reintervention",
    )


@dataclass(frozen=True)
class EventCounts:
    """Counts for the registry: every type present, zero included, so tables line up across procedures."""

    adverse_events: dict[AdverseEventType, int]
    serious_adverse_events: int
    reinterventions: dict[ReinterventionType, int]


def count_events(events: Iterable[AdverseEvent], reinterventions: Iterable[Reintervention]) -> EventCounts:
    """Count adverse events by type (and the serious ones) and reinterventions by type."""
    events = list(events)
    by_type = Counter(e.type for e in events)
    by_kind = Counter(r.type for r in reinterventions)
    return EventCounts(
        adverse_events={t: by_type.get(t, 0) for t in AdverseEventType},
        serious_adverse_events=sum(1 for e in events if e.serious),
        reinterventions={t: by_kind.get(t, 0) for t in ReinterventionType},
    )
