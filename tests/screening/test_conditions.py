"""The condition language keeps the semantics its docstring promises (what a SQL compiler must reproduce)."""

from __future__ import annotations

import datetime as dt

import pytest

from mildpath.domain.conditions import (
    All,
    Any,
    Check,
    Coalesce,
    Compare,
    Not,
    Present,
    Select,
    Since,
    Span,
    Tri,
    Window,
    selections,
    tri_and,
    tri_not,
    tri_or,
    walk,
)
from mildpath.domain.facts import Answer, Diagnosis, MedicationFact, ObservationFact, PatientFacts, ProcedureFact

M, N, U = Tri.MET, Tri.NOT_MET, Tri.UNKNOWN
TODAY = dt.date(2025, 6, 30)
LSS = ("http://hl7.org/fhir/sid/icd-10-cm", "M48.062")
DX = Select(kind="diagnosis", value_set="lss", codes=frozenset({LSS}))
ODI = ("http://loinc.org", "97909-6")
OBS = Select(kind="observation", value_set="odi", codes=frozenset({ODI}))


def dx(day: dt.date | None, status: str | None = "active", record: str = "Condition/1") -> Diagnosis:
    return Diagnosis(*LSS, record=record, clinical_status=status, onset=day)


def obs(value: object, day: dt.date | None, record: str = "Observation/1") -> ObservationFact:
    return ObservationFact(*ODI, record=record, value=value, effective=day)  # type: ignore[arg-type]


def answer(name: str, value: object, day: dt.date | None = TODAY) -> Answer:
    return Answer(name, value, f"form:{name}", day)  # type: ignore[arg-type]


KLEENE = [
    ((M, M), M, M),
    ((M, N), N, M),
    ((M, U), U, M),
    ((N, N), N, N),
    ((N, U), N, U),
    ((U, U), U, U),
]


@pytest.mark.parametrize(("pair", "conj", "disj"), KLEENE, ids=[f"{a}-{b}" for (a, b), _, _ in KLEENE])
def test_and_or_follow_kleene_logic_like_sql(pair: tuple[Tri, Tri], conj: Tri, disj: Tri) -> None:
    assert tri_and(pair) is conj and tri_and(reversed(pair)) is conj
    assert tri_or(pair) is disj and tri_or(reversed(pair)) is disj


def test_not_swaps_met_and_not_met_and_keeps_unknown() -> None:
    assert (tri_not(M), tri_not(N), tri_not(U)) == (N, M, U)


SPANS = [
    (dt.date(2025, 5, 31), Span(3, "months"), dt.date(2025, 2, 28)),
    (dt.date(2024, 5, 31), Span(3, "months"), dt.date(2024, 2, 29)),
    (dt.date(2025, 1, 15), Span(12, "months"), dt.date(2024, 1, 15)),
    (dt.date(2025, 3, 1), Span(30, "days"), dt.date(2025, 1, 30)),
]


@pytest.mark.parametrize(("today", "span", "expected"), SPANS, ids=[f"{t} - {s}" for t, s, _ in SPANS])
def test_months_back_keep_the_day_clamped_to_the_month_end(today: dt.date, span: Span, expected: dt.date) -> None:
    assert span.back_from(today) == expected


def test_span_parses_singular_and_plural_and_refuses_other_units() -> None:
    assert Span.parse("1 month") == Span(1, "months") and Span.parse("30 days") == Span(30, "days")
    with pytest.raises(ValueError):
        Span.parse("2 weeks")


def test_within_last_includes_its_first_day_and_older_than_excludes_it() -> None:
    last_30 = Window(within_last=Span(30, "days"))
    older_30 = Window(older_than=Span(30, "days"))
    edge = dx(TODAY - dt.timedelta(days=30))
    before = dx(TODAY - dt.timedelta(days=31))
    assert last_30.contains(edge, TODAY) and not older_30.contains(edge, TODAY)
    assert not last_30.contains(before, TODAY) and older_30.contains(before, TODAY)


MEDS = [
    (dt.date(2020, 1, 1), None, True),
    (dt.date(2020, 1, 1), TODAY, True),
    (dt.date(2020, 1, 1), TODAY - dt.timedelta(days=1), False),
    (TODAY, None, True),
]


@pytest.mark.parametrize(("start", "end", "current"), MEDS, ids=["open", "ends today", "ended", "starts today"])
def test_current_means_the_period_overlaps_the_as_of_date(start: dt.date, end: dt.date | None, current: bool) -> None:
    med = MedicationFact("rx", "1", "MedicationRequest/1", "active", start, end)
    assert Window(within_last=Span(0, "days"), match="overlap").contains(med, TODAY) is current


def test_facts_dated_after_the_as_of_date_do_not_exist() -> None:
    facts = PatientFacts(diagnoses=(dx(TODAY + dt.timedelta(days=1)),))
    assert Present(DX).evaluate(facts, TODAY) is N
    assert Present(DX).evaluate(facts, TODAY + dt.timedelta(days=1)) is M


def test_present_is_closed_world_by_default_and_open_world_on_request() -> None:
    assert Present(DX).evaluate(PatientFacts(), TODAY) is N
    assert Present(DX, if_none=U).evaluate(PatientFacts(), TODAY) is U


def test_present_with_a_window_is_unknown_when_only_an_undated_fact_could_qualify() -> None:
    node = Present(DX, within=Window(within_last=Span(30, "days")))
    assert node.explain(PatientFacts(diagnoses=(dx(None),)), TODAY).status is U
    assert node.evaluate(PatientFacts(diagnoses=(dx(None), dx(TODAY))), TODAY) is M
    assert Present(DX).evaluate(PatientFacts(diagnoses=(dx(None),)), TODAY) is M


def test_present_found_can_mean_unknown_when_a_finding_cannot_decide_alone() -> None:
    assert Present(DX, if_found=U).evaluate(PatientFacts(diagnoses=(dx(TODAY),)), TODAY) is U


def test_present_filters_by_status_but_keeps_facts_without_a_status() -> None:
    active_only = Select(kind="diagnosis", value_set="lss", codes=frozenset({LSS}), statuses=("active",))
    assert Present(active_only).evaluate(PatientFacts(diagnoses=(dx(TODAY, "resolved"),)), TODAY) is N
    assert Present(active_only).evaluate(PatientFacts(diagnoses=(dx(TODAY, None),)), TODAY) is M


def test_present_after_an_anchor_counts_only_facts_on_or_after_its_earliest_date() -> None:
    pt = Select(kind="procedure", value_set="pt", codes=frozenset({("sct", "91251008")}))

    def proc(day: dt.date) -> ProcedureFact:
        return ProcedureFact("sct", "91251008", "Procedure/1", "completed", day)

    node = Present(pt, after=DX)
    diagnosis = dx(dt.date(2024, 1, 10))
    assert node.evaluate(PatientFacts(diagnoses=(diagnosis,), procedures=(proc(dt.date(2024, 1, 10)),)), TODAY) is M
    assert node.evaluate(PatientFacts(diagnoses=(diagnosis,), procedures=(proc(dt.date(2024, 1, 9)),)), TODAY) is N
    assert node.evaluate(PatientFacts(procedures=(proc(dt.date(2024, 1, 9)),)), TODAY) is N


def test_procedures_can_be_selected_by_the_condition_they_treat() -> None:
    pt = Select(
        kind="procedure",
        value_set="pt",
        codes=frozenset({("sct", "91251008")}),
        reason_value_set="lss",
        reason_codes=frozenset({LSS}),
    )
    linked = ProcedureFact("sct", "91251008", "Procedure/1", "completed", TODAY, reasons=frozenset({LSS}))
    unlinked = ProcedureFact("sct", "91251008", "Procedure/2", "completed", TODAY)
    assert Present(pt).evaluate(PatientFacts(procedures=(linked,)), TODAY) is M
    assert Present(pt).evaluate(PatientFacts(procedures=(unlinked,)), TODAY) is N


COMPARISONS = [
    ("number against number", 40.0, Check(">=", 31), M),
    ("below", 30.5, Check(">=", 31), N),
    ("text against a number is unknown", "forty", Check(">=", 31), U),
    ("yes/no is not a number", True, Check(">=", 1), U),
    ("yes equals yes", True, Check("==", True), M),
    ("no is not yes", False, Check("==", True), N),
    ("a number is not yes", 1, Check("==", True), U),
    ("text equality", "MRI", Check("==", "MRI"), M),
]


@pytest.mark.parametrize(("label", "value", "test", "expected"), COMPARISONS, ids=[c[0] for c in COMPARISONS])
def test_tests_compare_only_values_of_the_same_type(label: str, value: object, test: Check, expected: Tri) -> None:
    assert test.check(value) is expected  # type: ignore[arg-type]


def test_ordering_tests_refuse_non_numbers_when_built() -> None:
    with pytest.raises(ValueError):
        Check(">=", "31")


def test_compare_uses_the_latest_value_and_breaks_date_ties_with_the_larger_value() -> None:
    facts = PatientFacts(
        observations=(obs(45.0, dt.date(2025, 1, 1)), obs(20.0, dt.date(2025, 6, 1)), obs(33.0, dt.date(2025, 6, 1)))
    )
    outcome = Compare(OBS, Check(">=", 31)).explain(facts, TODAY)
    assert outcome.status is M and outcome.evidence[0].value == 33.0


def test_compare_max_and_min_pick_among_numbers() -> None:
    facts = PatientFacts(observations=(obs(2.2, TODAY), obs(2.9, dt.date(2025, 3, 1)), obs("n/a", TODAY)))
    assert Compare(OBS, Check(">=", 2.5), pick="max").evaluate(facts, TODAY) is M
    assert Compare(OBS, Check(">=", 2.5), pick="min").evaluate(facts, TODAY) is N


def test_compare_is_unknown_without_a_value_in_the_window() -> None:
    node = Compare(OBS, Check(">=", 31), within=Window(within_last=Span(12, "months")))
    assert node.evaluate(PatientFacts(), TODAY) is U
    assert node.evaluate(PatientFacts(observations=(obs(45.0, dt.date(2024, 6, 29)),)), TODAY) is U
    assert node.evaluate(PatientFacts(observations=(obs(45.0, None),)), TODAY) is U
    assert node.evaluate(PatientFacts(observations=(obs(45.0, dt.date(2024, 6, 30)),)), TODAY) is M


def test_since_measures_from_the_earliest_dated_fact() -> None:
    node = Since(DX, Span(3, "months"))
    assert node.evaluate(PatientFacts(), TODAY) is U
    assert node.evaluate(PatientFacts(diagnoses=(dx(None),)), TODAY) is U
    assert node.evaluate(PatientFacts(diagnoses=(dx(dt.date(2025, 3, 30)),)), TODAY) is M
    assert node.evaluate(PatientFacts(diagnoses=(dx(dt.date(2025, 3, 31)),)), TODAY) is N
    both = PatientFacts(diagnoses=(dx(dt.date(2025, 6, 1)), dx(dt.date(2020, 1, 1), record="Condition/2")))
    assert node.explain(both, TODAY).evidence[0].record == "Condition/2"


def test_coalesce_takes_the_first_known_child_in_order_of_authority() -> None:
    clinician = Compare(Select(kind="answer", fields=("clinician.x",)), Check("==", True))
    chart = Present(DX)
    node = Coalesce((clinician, chart))
    with_chart = PatientFacts(diagnoses=(dx(TODAY),))
    assert node.evaluate(with_chart, TODAY) is M
    assert (
        node.evaluate(PatientFacts(answers=(answer("clinician.x", False),), diagnoses=with_chart.diagnoses), TODAY) is N
    )
    assert Coalesce((clinician, clinician)).evaluate(PatientFacts(), TODAY) is U


def test_any_keeps_the_evidence_of_the_children_that_were_met() -> None:
    facts = PatientFacts(diagnoses=(dx(TODAY),), observations=(obs(10.0, TODAY),))
    outcome = Any((Present(DX), Compare(OBS, Check(">=", 31)))).explain(facts, TODAY)
    assert outcome.status is M and [e.record for e in outcome.evidence] == ["Condition/1"]
    assert All((Present(DX), Not(Present(DX)))).evaluate(facts, TODAY) is N


def test_every_node_describes_itself_and_can_be_walked() -> None:
    tree = Coalesce(
        (
            All((Present(DX, within=Window(within_last=Span(30, "days"))), Not(Present(DX, after=DX)))),
            Any((Compare(OBS, Check(">=", 31), pick="max"), Since(DX, Span(3, "months")))),
        )
    )
    text = tree.describe()
    assert "within the last 30 days" in text and "at least 31" in text and "at least 3 months" in text
    assert len(list(walk(tree))) == 8
    assert {s.value_set for s in selections(tree)} == {"lss", "odi"}
