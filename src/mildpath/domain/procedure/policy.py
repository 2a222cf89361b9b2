"""The site-configurable parameters of the procedure-day rules, handed in by ``mildpath.content.procedure``.

The domain cannot read files, so every list (levels, sides, tissues), threshold (2 hours, 3 levels, Aldrete
9 ...)
and drug hold interval arrives here as plain frozen values built by the content loader from
``content/procedure.yaml`` and ``content/anticoagulants.yaml``. Each carries the bibliography ids it rests on
(``sources``), so that every message a rule produces can name where its threshold comes from.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum

Sources = tuple[str, ...]


class ChecklistItemId(StrEnum):
    """The pre-procedure checklist items named by issue 5 (their rules are code; labels and flags are content)."""

    CONSENT_SIGNED = "consent_signed"
    IMAGING_REVIEWED = "imaging_reviewed"
    ANTICOAGULATION_PLAN = "anticoagulation_plan"
    ALLERGIES_REVIEWED = "allergies_reviewed"
    FASTING_SEDATION_INSTRUCTIONS = "fasting_sedation_instructions"
    ESCORT_ARRANGED = "escort_arranged"
    NO_ACTIVE_INFECTION = "no_active_infection"


@dataclass(frozen=True)
class Choice:
    """One allowed value of a coded field (a level, a side, a tissue ...).

    ``warning`` is set for a value that is accepted but departs from the published approach (for example general
    anaesthesia): choosing it produces a plausibility warning with this text, citing ``sources``."""

    id: str
    label: str
    sources: Sources
    warning: str = ""


def choice_label(choices: Iterable[Choice], value: str) -> str:
    """The label of ``value`` among ``choices``; the value itself when it is not one of them."""
    return next((c.label for c in choices if c.id == value), value)


@dataclass(frozen=True)
class RefusedChoice:
    """A value that looks plausible but is refused with an explanation (``disc`` as a removed tissue)."""

    id: str
    message: str
    sources: Sources


@dataclass(frozen=True)
class Threshold:
    """A number a rule compares with, and why it has that value."""

    value: float
    sources: Sources
    note: str = ""

    @property
    def whole(self) -> int:
        """The value as a whole number, for counts and minutes."""
        return int(self.value)


@dataclass(frozen=True)
class ChecklistItemSpec:
    """How a site treats one checklist item: its label, whether it blocks the start, and its sources."""

    id: ChecklistItemId
    label: str
    required: bool
    sources: Sources


@dataclass(frozen=True)
class HoldInterval:
    """How many days before a high-bleeding-risk procedure the last dose of a drug should be.

    ``min_days``..``max_days`` is the interval as the reference gives it (one number gives min == max). The
    checklist compares with ``max_days``, the cautious end; a clinician who decides otherwise records a reason.
    ``verified`` is False for the intervals the reference marks UNVERIFIED: every display must say so."""

    drug: str
    label: str
    min_days: int
    max_days: int
    sources: Sources
    verified: bool
    aliases: tuple[str, ...] = ()
    note: str = ""
    #: The hold as the source writes it when it is not whole days ("6 h", "12 h"); ``min_days``/``max_days``
    #: then hold it rounded up to whole days (the cautious end) for the checklist's date comparison.
    hold: str = ""
    #: How long after the procedure the drug may restart, as the source writes it ("24 h", "12-24 h").
    restart: str = ""
    #: The status of the hold and of the restart: "secondary source" (a summary table confirms it) or
    #: "UNVERIFIED" (clinical reference §4.4); empty: UNVERIFIED when ``verified`` is False.
    status: str = ""
    restart_status: str = ""

    def status_label(self, status: str = "") -> str:
        """What a display says about an interval's status."""
        status = status or self.status
        if self.verified and not status:
            return ""
        if status == "secondary source":
            return "secondary source: confirm with the ASRA 2018 tables"
        return "UNVERIFIED: a clinician must confirm against the ASRA 2018 tables"

    @property
    def hold_text(self) -> str:
        if self.hold:
            return self.hold
        return f"{self.min_days} days" if self.min_days == self.max_days else f"{self.min_days}-{self.max_days} days"

    def describe(self) -> str:
        """``reference hold 7-10 days (UNVERIFIED: ...); restart 24 h after the procedure (UNVERIFIED ...)``."""
        text = f"reference hold {self.hold_text}"
        if self.note:
            text += f", {self.note}"
        label = self.status_label()
        if label:
            text += f" ({label})"
        if self.restart:
            text += f"; restart {self.restart} after the procedure"
            restart_label = self.status_label(self.restart_status or self.status)
            if restart_label:
                text += f" ({restart_label})"
        return text

    def matches(self, name: str) -> bool:
        """True when ``name`` is this drug's id, label or an alias, ignoring case and surrounding spaces."""
        wanted = name.strip().casefold()
        return wanted in {self.drug.casefold(), self.label.casefold(), *(a.casefold() for a in self.aliases)}


@dataclass(frozen=True)
class ChecklistPolicy:
    """Everything :func:`~mildpath.domain.procedure.checklist.evaluate_checklist` needs besides the answers."""

    items: tuple[ChecklistItemSpec, ...]
    imaging_max_age_months: Threshold
    hold_intervals: tuple[HoldInterval, ...]
    never_stop_rule: str
    never_stop_sources: Sources

    def __post_init__(self) -> None:
        ids = [spec.id for spec in self.items]
        if sorted(ids) != sorted(ChecklistItemId):
            raise ValueError(f"the checklist must define each item exactly once, got {ids}")

    def spec(self, item_id: ChecklistItemId) -> ChecklistItemSpec:
        return next(spec for spec in self.items if spec.id == item_id)

    def hold_interval(self, drug: str) -> HoldInterval | None:
        """The interval for ``drug`` (id, label or alias), or None when the data has no entry for it."""
        return next((h for h in self.hold_intervals if h.matches(drug)), None)


@dataclass(frozen=True)
class RecordPolicy:
    """Allowed values and plausibility thresholds for
    :func:`~mildpath.domain.procedure.record.validate_record`."""

    levels: tuple[Choice, ...]
    sides: tuple[Choice, ...]
    anaesthesia: tuple[Choice, ...]
    sedation: tuple[Choice, ...]
    tissues: tuple[Choice, ...]
    refused_tissues: tuple[RefusedChoice, ...]
    event_kinds: tuple[Choice, ...]
    max_duration_minutes: Threshold
    max_levels: Threshold
    epidurogram_sources: Sources
    dural_puncture_sources: Sources

    def level_ids(self) -> tuple[str, ...]:
        return tuple(c.id for c in self.levels)

    def label(self, field: str, value: str) -> str:
        """The display label of ``value`` in the list ``field`` (``levels``, ``sides`` ...); the value itself if
        it is not in the list."""
        choices: tuple[Choice, ...] = getattr(self, field)
        return choice_label(choices, value)


@dataclass(frozen=True)
class DischargePolicy:
    """Discharge after sedation (clinical reference §5.1) and the post-procedure warning signs (§4.5)."""

    aldrete_min: Threshold
    padss_min: Threshold
    score_max: Threshold
    fever_celsius: Threshold
    new_deficit_sources: Sources
    escort_sources: Sources
    instructions_sources: Sources


@dataclass(frozen=True)
class EventPolicy:
    """Labels and sources of the fixed adverse-event and reintervention lists, and the 30-day window."""

    adverse_event_types: tuple[Choice, ...]
    reintervention_types: tuple[Choice, ...]
    readmission_window_days: Threshold
    levels: tuple[Choice, ...]

    def adverse_event_label(self, type_id: str) -> str:
        return choice_label(self.adverse_event_types, type_id)

    def reintervention_label(self, type_id: str) -> str:
        return choice_label(self.reintervention_types, type_id)
