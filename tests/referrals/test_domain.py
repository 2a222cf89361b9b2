"""Referral states and transitions (contracts §9): every allowed and every forbidden pair."""

from __future__ import annotations

import datetime as dt
import itertools

import pytest

from mildpath.domain.conditions import Tri
from mildpath.domain.criteria import Role
from mildpath.domain.errors import Conflict, InvalidInput
from mildpath.domain.referrals import (
    CloseReason,
    Decision,
    Override,
    State,
    Urgency,
    check_decision,
    check_transition,
    should_close_unreachable,
    urgency,
    worklist_key,
)

S = State
# contracts §9, written out again by hand so that the table in the code is checked against the contract.
PINNED = {
    (S.NEW, S.CONTACTED), (S.NEW, S.CLOSED),
    (S.CONTACTED, S.CONTACTED), (S.CONTACTED, S.EVALUATION_BOOKED), (S.CONTACTED, S.CLOSED),
    (S.EVALUATION_BOOKED, S.DECIDED), (S.EVALUATION_BOOKED, S.CLOSED),
    (S.DECIDED, S.SCHEDULED), (S.DECIDED, S.NEW), (S.DECIDED, S.CLOSED),
    (S.SCHEDULED, S.SCHEDULED), (S.SCHEDULED, S.DONE), (S.SCHEDULED, S.CLOSED),
    (S.CLOSED, S.NEW),
}  # fmt: skip
ALL_PAIRS = list(itertools.product(State, State))


def _attempt(current: State, to: State):
    decision = {S.SCHEDULED: Decision.CANDIDATE, S.NEW: Decision.DEFERRED}.get(to)
    reason = "declined" if to is S.CLOSED else ("patient asked again" if current is S.CLOSED else None)
    return check_transition(current, to, decision=decision, reason=reason)


@pytest.mark.parametrize(("current", "to"), sorted(PINNED))
def test_allowed_pairs_pass(current: State, to: State) -> None:
    t = _attempt(current, to)
    assert (t.from_state, t.to_state) == (current, to)


@pytest.mark.parametrize(("current", "to"), [p for p in ALL_PAIRS if p not in PINNED])
def test_forbidden_pairs_conflict_naming_both_states(current: State, to: State) -> None:
    with pytest.raises(Conflict) as err:
        _attempt(current, to)
    assert current.value in err.value.message and to.value in err.value.message
    assert err.value.data == {"current": current.value, "to": to.value}


def test_done_is_final() -> None:
    for to in State:
        with pytest.raises(Conflict):
            check_transition(S.DONE, to, reason="other", text="x")


@pytest.mark.parametrize(
    ("to", "wrong"),
    [(S.SCHEDULED, Decision.NOT_CANDIDATE), (S.SCHEDULED, Decision.DEFERRED), (S.SCHEDULED, None),
     (S.NEW, Decision.CANDIDATE), (S.NEW, None)],
)  # fmt: skip
def test_decided_transitions_depend_on_the_decision(to: State, wrong: Decision | None) -> None:
    with pytest.raises(Conflict, match="decided"):
        check_transition(S.DECIDED, to, decision=wrong)


def test_closing_needs_a_known_reason_and_other_needs_text() -> None:
    with pytest.raises(InvalidInput) as err:
        check_transition(S.NEW, S.CLOSED)
    assert err.value.field == "reason"
    with pytest.raises(InvalidInput) as err:
        check_transition(S.NEW, S.CLOSED, reason="bored")
    assert err.value.field == "reason"
    with pytest.raises(InvalidInput) as err:
        check_transition(S.NEW, S.CLOSED, reason="other", text="  ")
    assert err.value.field == "text"
    for code in CloseReason:
        t = check_transition(S.CONTACTED, S.CLOSED, reason=code.value, text="moved abroad")
        assert t.reason == code.value


def test_reopening_a_closed_referral_needs_a_reason() -> None:
    with pytest.raises(InvalidInput) as err:
        check_transition(S.CLOSED, S.NEW, reason=" ")
    assert err.value.field == "reason"
    assert check_transition(S.CLOSED, S.NEW, reason="called back").reason == "called back"


def test_unreachable_after_n_attempts() -> None:
    assert not should_close_unreachable(2, 3)
    assert should_close_unreachable(3, 3)
    with pytest.raises(InvalidInput):
        should_close_unreachable(1, 0)


def test_urgency_and_worklist_order() -> None:
    assert urgency(["likely_candidate", "urgent_referral"]) is Urgency.URGENT
    assert urgency(["likely_candidate", "needs_more_information"]) is Urgency.ROUTINE
    old, new = dt.datetime(2026, 1, 1), dt.datetime(2026, 2, 1)
    rows = [("routine-old", Urgency.ROUTINE, old), ("urgent-new", Urgency.URGENT, new),
            ("routine-new", Urgency.ROUTINE, new), ("urgent-old", Urgency.URGENT, old)]  # fmt: skip
    order = [r[0] for r in sorted(rows, key=lambda r: worklist_key(r[1], r[2]))]
    assert order == ["urgent-old", "urgent-new", "routine-old", "routine-new"]


FINDINGS = {
    "lss": (Role.GATE, Tri.MET),
    "claudication": (Role.INCLUSION, Tri.NOT_MET),
    "instability": (Role.EXCLUSION, Tri.MET),
    "cauda_equina": (Role.RED_FLAG, Tri.NOT_MET),
    "conservative_care": (Role.INCLUSION, Tri.UNKNOWN),
}


def test_candidate_against_criteria_needs_an_override_for_each() -> None:
    with pytest.raises(InvalidInput) as err:
        check_decision(Decision.CANDIDATE, FINDINGS, [Override("claudication", "clinical_judgement", "seen walking")])
    assert err.value.field == "overrides" and err.value.value == ["instability"]
    ok = check_decision(
        Decision.CANDIDATE,
        FINDINGS,
        [Override("claudication", "clinical_judgement", "seen"), Override("instability", "imaging_reread", "stable")],
    )
    assert {o.criterion for o in ok} == {"claudication", "instability"}


def test_override_fields_are_named() -> None:
    with pytest.raises(InvalidInput) as err:
        check_decision(Decision.CANDIDATE, FINDINGS, [Override("claudication", "", "x")])
    assert err.value.field == "overrides[0].reason_code"
    with pytest.raises(InvalidInput) as err:
        check_decision(Decision.CANDIDATE, FINDINGS, [Override("claudication", "code", " ")])
    assert err.value.field == "overrides[0].comment"
    with pytest.raises(InvalidInput) as err:
        check_decision(Decision.DEFERRED, FINDINGS, [Override("nope", "code", "x")])
    assert err.value.field == "overrides[0].criterion"


def test_not_candidate_against_a_clean_screening_needs_an_override() -> None:
    clean = {"lss": (Role.GATE, Tri.MET), "claudication": (Role.INCLUSION, Tri.MET)}
    with pytest.raises(InvalidInput) as err:
        check_decision(Decision.NOT_CANDIDATE, clean, [])
    assert err.value.field == "overrides"
    assert check_decision(Decision.NOT_CANDIDATE, clean, [Override("claudication", "comorbidity", "frail")])
    assert check_decision(Decision.NOT_CANDIDATE, FINDINGS, []) == ()
    assert check_decision(Decision.DEFERRED, clean, []) == ()
