"""Candidacy screening for the mild procedure: one patient's facts, one criteria set, one as-of date (issue 3).

``screen(criteria_set, facts, today)`` evaluates every criterion and returns exactly one status, by this
precedence (contracts §3):

1. ``urgent_referral``: a red-flag criterion is met (cauda equina signs, say). It overrides everything: the
   answer is to seek care now.
2. ``not_candidate``: the gate is closed (no lumbar spinal stenosis on record; back pain alone does not open
   it, and an unknown gate is closed too, so that a population screen does not flag everyone), or an inclusion
   criterion is not met, or an exclusion criterion is met.
3. ``needs_more_information``: the gate is open and some inclusion, exclusion or red-flag criterion is
   unknown; ``missing`` lists exactly what to collect, one line per unknown criterion, in set order.
4. ``likely_candidate``: every inclusion met, no exclusion and no red flag met. The wording is "likely
   candidate, refer for specialist evaluation": screening supports the specialist's decision and never makes
   it (never "approved").

Above all of them: a **deceased** patient (``Patient.deceased[x]`` true, or a date of death on or before the
as-of date) is ``not_candidate`` with the reason "deceased", red flags included (contracts §3 as amended).

Beside the status (contracts §3, clinical safety issue):

- ``cautions``: facts the specialist must weigh that do not change the status: an age outside every age range
  the trials enrolled (the criteria set's ``studied_ages``);
- ``not_assessed``: for a ``likely_candidate`` or ``needs_more_information`` result, the exclusions with no record
  either way (nothing the rule reads is on record), so that "likely" never hides a question nobody asked.

Screening is a pure function: the same facts, set and date always give the same result.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from enum import StrEnum

from mildpath.domain.conditions import Tri
from mildpath.domain.criteria import CriteriaSet, Finding, Role, StudiedAges
from mildpath.domain.facts import PatientFacts


class Status(StrEnum):
    LIKELY_CANDIDATE = "likely_candidate"
    NOT_CANDIDATE = "not_candidate"
    NEEDS_MORE_INFORMATION = "needs_more_information"
    URGENT_REFERRAL = "urgent_referral"


# source: contracts §3 (the gate's reason, word for word)
NO_STENOSIS = "no lumbar spinal stenosis on record"
# source: contracts §3 as amended by the clinical safety issue (the reason, word for word)
DECEASED = "deceased"

#: One headline per status. source: issue 3 ("likely candidate, refer for specialist evaluation", never
#: "approved"; red flags "say to seek care now").
SUMMARY: dict[Status, str] = {
    Status.LIKELY_CANDIDATE: "Likely candidate, refer for specialist evaluation.",
    Status.NOT_CANDIDATE: "Not a candidate for mild on the information on record.",
    Status.NEEDS_MORE_INFORMATION: "More information is needed before a referral decision.",
    Status.URGENT_REFERRAL: "Urgent: red-flag signs are on record. Seek care now; do not wait for a mild referral.",
}


@dataclass(frozen=True)
class Caution:
    """Something the specialist must weigh that does not change the status, with its source."""

    id: str
    text: str
    source: str

    def to_json(self) -> dict[str, str]:
        return {"id": self.id, "text": self.text, "source": self.source}


@dataclass(frozen=True)
class ScreeningResult:
    """The explained answer: status, one finding per criterion, what is missing and why."""

    status: Status
    criteria_set: str
    as_of: dt.date
    findings: tuple[Finding, ...]
    missing: tuple[str, ...] = ()
    reasons: tuple[str, ...] = ()
    cautions: tuple[Caution, ...] = ()
    not_assessed: tuple[str, ...] = ()

    @property
    def summary(self) -> str:
        return SUMMARY[self.status]

    def finding(self, criterion_id: str) -> Finding:
        for f in self.findings:
            if f.criterion.id == criterion_id:
                return f
        raise KeyError(criterion_id)

    def statuses(self) -> dict[str, Tri]:
        """Criterion id -> status, in set order (what parity tests compare)."""
        return {f.criterion.id: f.status for f in self.findings}

    def to_json(self) -> dict[str, object]:
        """The CLI/API shape (contracts §2): status, criteria, criteria_set, missing; plus as_of, summary, reasons."""
        return {
            "status": self.status.value,
            "criteria": [f.to_json() for f in self.findings],
            "criteria_set": self.criteria_set,
            "missing": list(self.missing),
            "as_of": self.as_of.isoformat(),
            "summary": self.summary,
            "reasons": list(self.reasons),
            "cautions": [c.to_json() for c in self.cautions],
            "not_assessed": list(self.not_assessed),
        }


def screen(criteria_set: CriteriaSet, facts: PatientFacts, today: dt.date) -> ScreeningResult:
    """Screen one patient's facts against a criteria set as of ``today`` (see the module docstring)."""
    findings = tuple(c.evaluate(facts, today) for c in criteria_set.criteria)
    status, reasons, missing = decide(findings, deceased=facts.is_deceased(today))
    return ScreeningResult(
        status=status,
        criteria_set=criteria_set.label,
        as_of=today,
        findings=findings,
        missing=missing,
        reasons=reasons,
        cautions=age_cautions(criteria_set.studied_ages, facts.age_on(today)),
        not_assessed=not_assessed(status, findings),
    )


def age_cautions(studied: StudiedAges | None, age: int | None) -> tuple[Caution, ...]:
    """The caution for an age outside every range the trials enrolled (none when the age is unknown)."""
    if studied is None or not studied.outside(age):
        return ()
    ranges = "; ".join(r.describe() for r in studied.ranges)
    text = studied.caution_text.format(age=age, ranges=ranges)
    return (Caution(studied.caution_id, text, studied.source),)


def not_assessed(status: Status, findings: tuple[Finding, ...]) -> tuple[str, ...]:
    """Exclusions with no record either way, for a ``likely_candidate`` or ``needs_more_information`` result."""
    if status not in (Status.LIKELY_CANDIDATE, Status.NEEDS_MORE_INFORMATION):
        return ()
    return tuple(f.criterion.id for f in findings if f.role is Role.EXCLUSION and not f.assessed)


def decide(findings: tuple[Finding, ...], *, deceased: bool = False) -> tuple[Status, tuple[str, ...], tuple[str, ...]]:
    """Status, reasons and missing items from the findings, by the precedence of the module docstring."""
    if deceased:
        return Status.NOT_CANDIDATE, (DECEASED,), ()
    red = [f for f in findings if f.role is Role.RED_FLAG and f.status is Tri.MET]
    if red:
        return Status.URGENT_REFERRAL, tuple(f.criterion.clinician for f in red), ()
    if any(f.role is Role.GATE and f.status is not Tri.MET for f in findings):
        return Status.NOT_CANDIDATE, (NO_STENOSIS,), ()
    failed = [
        f
        for f in findings
        if (f.role is Role.INCLUSION and f.status is Tri.NOT_MET) or (f.role is Role.EXCLUSION and f.status is Tri.MET)
    ]
    if failed:
        reasons = tuple(
            f"not met: {f.criterion.clinician}" if f.role is Role.INCLUSION else f.criterion.clinician for f in failed
        )
        return Status.NOT_CANDIDATE, reasons, ()
    unknown = [f for f in findings if f.role is not Role.GATE and f.status is Tri.UNKNOWN]
    if unknown:
        missing = tuple(f.criterion.to_collect for f in unknown)
        return Status.NEEDS_MORE_INFORMATION, tuple(f"unknown: {f.criterion.clinician}" for f in unknown), missing
    return Status.LIKELY_CANDIDATE, (), ()
