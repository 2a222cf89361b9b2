"""Properties of classify over many generated entries: one level always, and a red flag is never outranked."""

from __future__ import annotations

from dataclasses import replace

from hypothesis import given, settings
from hypothesis import strategies as st

from mildpath.content.triage import load_triage_rules
from mildpath.domain.diary import BOOLEAN_FIELDS, DiaryEntry
from mildpath.domain.triage import TriageLevel, classify

RULES = load_triage_rules()
maybe_bool = st.none() | st.booleans()
pain = st.none() | st.integers(0, 10)


@st.composite
def entries(draw: st.DrawFn) -> DiaryEntry:
    days = draw(st.none() | st.integers(0, 400))
    flare = draw(st.none() | st.integers(0, 400 if days is None else days + 1))
    return DiaryEntry(
        days_since_procedure=days,
        pain_back=draw(pain),
        pain_leg=draw(pain),
        baseline_pain_back=draw(pain),
        baseline_pain_leg=draw(pain),
        incision=draw(
            st.none() | st.lists(st.sampled_from(["redness", "swelling", "drainage"]), max_size=3).map(tuple)
        ),
        temperature_c=draw(st.none() | st.floats(35.0, 41.0)),
        pain_compared_with_before=draw(st.none() | st.sampled_from(["better", "same", "worse"])),
        flare_days=flare,
        **{name: draw(maybe_bool) for name in BOOLEAN_FIELDS},
    )


@settings(max_examples=300, deadline=None)
@given(entries())
def test_every_entry_gets_exactly_one_level_with_reasons_and_advice(entry: DiaryEntry) -> None:
    result = classify(entry, RULES)
    assert result.level in TriageLevel
    assert result.reasons and result.advice
    assert max(f.level.urgency for f in result.findings) == result.level.urgency


@settings(max_examples=200, deadline=None)
@given(
    entries(),
    st.sampled_from(["saddle_numbness", "bladder_bowel_change", "bilateral_weakness", "new_numbness", "new_weakness"]),
)
def test_a_red_flag_makes_any_entry_an_emergency(entry: DiaryEntry, flag: str) -> None:
    assert classify(replace(entry, **{flag: True}), RULES).level is TriageLevel.EMERGENCY


@settings(max_examples=200, deadline=None)
@given(entries())
def test_a_fever_never_lowers_the_level(entry: DiaryEntry) -> None:
    before = classify(entry, RULES).level.urgency
    after = classify(replace(entry, temperature_c=38.0), RULES).level.urgency
    assert after >= max(before, TriageLevel.SAME_DAY.urgency)
