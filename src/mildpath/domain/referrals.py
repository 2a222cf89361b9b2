"""Referral states, their allowed transitions and the specialist decision's override rule (issue 18).

The states and transitions are pinned in contracts §9; this module is their one implementation::

    new               -> contacted | closed
    contacted         -> contacted (another attempt) | evaluation_booked | closed
    evaluation_booked -> decided | closed
    decided           -> scheduled (decision ``candidate``) | new (decision ``deferred``) | closed
    scheduled         -> scheduled (moved) | done | closed
    closed            -> new (re-opened; a reason is required)
    done              final

``closed`` needs a reason from :class:`CloseReason`; ``other`` needs free text too. Anything else is a
:class:`~mildpath.domain.errors.Conflict` naming both states (the API answers 409).

Urgency (contracts §9): ``urgent`` when any source has the screening status ``urgent_referral``, else
``routine``. The worklist sorts urgent first, then the oldest referral first.

Overrides (issue 18, "Specialist decision"): deciding ``candidate`` while a criterion argues against it (a gate
or inclusion ``not_met``, an exclusion or red flag ``met``) overrides that criterion; deciding ``not_candidate``
while no criterion argues against it overrides the screening, so at least one criterion must be named. Every
override needs a coded reason and free text; a missing one is :class:`InvalidInput` naming the field (422).

Pure code: no clock, no I/O; the caller passes the facts and the time.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum

from mildpath.domain.conditions import Tri
from mildpath.domain.criteria import Role
from mildpath.domain.errors import Conflict, InvalidInput


class State(StrEnum):
    NEW = "new"
    CONTACTED = "contacted"
    EVALUATION_BOOKED = "evaluation_booked"
    DECIDED = "decided"
    SCHEDULED = "scheduled"
    DONE = "done"
    CLOSED = "closed"


class Decision(StrEnum):
    CANDIDATE = "candidate"
    NOT_CANDIDATE = "not_candidate"
    DEFERRED = "deferred"


class CloseReason(StrEnum):
    DECLINED = "declined"
    UNREACHABLE = "unreachable"
    MOVED = "moved"
    DECEASED = "deceased"
    NOT_CANDIDATE = "not_candidate"
    DUPLICATE = "duplicate"
    OTHER = "other"


class Urgency(StrEnum):
    URGENT = "urgent"
    ROUTINE = "routine"


#: source: contracts §9 (the allowed transitions, word for word).
ALLOWED: Mapping[State, frozenset[State]] = {
    State.NEW: frozenset({State.CONTACTED, State.CLOSED}),
    State.CONTACTED: frozenset({State.CONTACTED, State.EVALUATION_BOOKED, State.CLOSED}),
    State.EVALUATION_BOOKED: frozenset({State.DECIDED, State.CLOSED}),
    State.DECIDED: frozenset({State.SCHEDULED, State.NEW, State.CLOSED}),
    State.SCHEDULED: frozenset({State.SCHEDULED, State.DONE, State.CLOSED}),
    State.CLOSED: frozenset({State.NEW}),
    State.DONE: frozenset(),
}

#: Transitions out of ``decided`` that depend on the decision (contracts §9).
NEEDS_DECISION: Mapping[State, Decision] = {State.SCHEDULED: Decision.CANDIDATE, State.NEW: Decision.DEFERRED}

#: Screening statuses that make a population-screen row a referral (contracts §9).
REFERRABLE = frozenset({"likely_candidate", "needs_more_information", "urgent_referral"})


@dataclass(frozen=True)
class Transition:
    """One accepted state change, ready to store and audit (who and when are added by the service)."""

    from_state: State
    to_state: State
    reason: str | None = None
    text: str | None = None


def parse_state(value: str, field: str = "to") -> State:
    try:
        return State(value)
    except ValueError:
        raise InvalidInput(f"unknown referral state {value!r}", field=field, value=value) from None


def check_transition(
    current: State,
    to: State,
    *,
    decision: Decision | None = None,
    reason: str | None = None,
    text: str | None = None,
) -> Transition:
    """The transition ``current -> to`` if contracts §9 allows it, else :class:`Conflict` naming both states."""
    if to not in ALLOWED[current]:
        raise Conflict(f"a referral cannot go from {current.value} to {to.value}", current=current.value, to=to.value)
    if current is State.DECIDED and to in NEEDS_DECISION and decision is not NEEDS_DECISION[to]:
        needed = NEEDS_DECISION[to].value
        got = decision.value if decision else "none"
        raise Conflict(
            f"a referral goes from decided to {to.value} only with the decision {needed} (it is {got})",
            current=current.value,
            to=to.value,
        )
    if to is State.CLOSED:
        return Transition(current, to, _close_reason(reason, text).value, _clean(text))
    if current is State.CLOSED and not _clean(reason):
        raise InvalidInput("re-opening a closed referral needs a reason", field="reason")
    return Transition(current, to, _clean(reason), _clean(text))


def _close_reason(reason: str | None, text: str | None) -> CloseReason:
    if not reason:
        raise InvalidInput("closing a referral needs a reason", field="reason")
    try:
        code = CloseReason(reason)
    except ValueError:
        raise InvalidInput(f"unknown closing reason {reason!r}", field="reason", value=reason) from None
    if code is CloseReason.OTHER and not _clean(text):
        raise InvalidInput("the closing reason 'other' needs a text", field="text")
    return code


def _clean(value: str | None) -> str | None:
    value = (value or "").strip()
    return value or None


def should_close_unreachable(failed_attempts: int, limit: int) -> bool:
    """Whether a referral has reached the clinic's limit of unanswered contact attempts."""
    if limit < 1:
        raise InvalidInput("the attempt limit must be at least 1", field="limit", value=limit)
    return failed_attempts >= limit


def urgency(source_statuses: Iterable[str]) -> Urgency:
    return Urgency.URGENT if "urgent_referral" in source_statuses else Urgency.ROUTINE


def worklist_key(urgent: Urgency, created: dt.datetime) -> tuple[int, dt.datetime]:
    """Sort key of the worklist: urgent first, then the oldest referral first."""
    return (0 if urgent is Urgency.URGENT else 1, created)


@dataclass(frozen=True)
class Override:
    criterion: str
    reason_code: str
    comment: str


def argues_against(role: Role, status: Tri) -> bool:
    """Whether a criterion's finding speaks against candidacy."""
    if role in (Role.GATE, Role.INCLUSION):
        return status is Tri.NOT_MET
    return status is Tri.MET


def required_overrides(decision: Decision, findings: Mapping[str, tuple[Role, Tri]]) -> frozenset[str]:
    """The criteria a decision must override, each with a reason (see the module docstring)."""
    if decision is Decision.CANDIDATE:
        return frozenset(c for c, (role, status) in findings.items() if argues_against(role, status))
    return frozenset()


def check_decision(
    decision: Decision,
    findings: Mapping[str, tuple[Role, Tri]],
    overrides: Sequence[Override],
) -> tuple[Override, ...]:
    """The validated overrides of a decision, or :class:`InvalidInput` naming the missing field."""
    for i, o in enumerate(overrides):
        if o.criterion not in findings:
            raise InvalidInput(f"unknown criterion {o.criterion!r}", field=f"overrides[{i}].criterion")
        if not o.reason_code.strip():
            raise InvalidInput("an override needs a coded reason", field=f"overrides[{i}].reason_code")
        if not o.comment.strip():
            raise InvalidInput("an override needs a comment", field=f"overrides[{i}].comment")
    named = {o.criterion for o in overrides}
    missing = sorted(required_overrides(decision, findings) - named)
    if missing:
        raise InvalidInput(
            f"deciding {decision.value} overrides {', '.join(missing)}: give a reason for each",
            field="overrides",
            value=missing,
        )
    against = any(argues_against(role, status) for role, status in findings.values())
    if decision is Decision.NOT_CANDIDATE and findings and not against and not overrides:
        raise InvalidInput(
            "deciding not_candidate against the screening needs an override of at least one criterion",
            field="overrides",
        )
    return tuple(overrides)
