"""Procedure-day content: it loads, every item cites a known source, UNVERIFIED intervals say so, and a broken
file fails loudly."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from mildpath.content.procedure import (
    ANTICOAGULANTS_FILE,
    PROCEDURE_FILE,
    load_procedure_content,
    patient_texts,
    procedure_code,
)
from mildpath.content.sources import ContentError, bibliography
from mildpath.domain.procedure import AdverseEventType, ChecklistItemId, ReinterventionType


def test_every_checklist_item_is_required_by_default_and_cites_known_sources(policies):
    assert [s.id for s in policies.checklist.items] == list(ChecklistItemId)
    for spec in policies.checklist.items:
        assert spec.required and spec.sources
        assert set(spec.sources) <= set(bibliography())


def test_the_thresholds_are_the_issues_and_the_references(policies):
    assert policies.record.max_duration_minutes.value == 120
    assert policies.record.max_levels.value == 3
    assert policies.checklist.imaging_max_age_months.value == 12
    assert (policies.discharge.aldrete_min.value, policies.discharge.padss_min.value) == (9, 9)
    assert policies.discharge.fever_celsius.value == 38.0
    assert policies.events.readmission_window_days.value == 30


def test_levels_run_from_l1_l2_to_l5_s1_and_disc_is_refused(policies):
    assert policies.record.level_ids() == ("L1-L2", "L2-L3", "L3-L4", "L4-L5", "L5-S1")
    assert [r.id for r in policies.record.refused_tissues] == ["disc"]


def test_event_type_lists_match_the_domain_enums(policies):
    assert [c.id for c in policies.events.adverse_event_types] == [str(t) for t in AdverseEventType]
    assert [c.id for c in policies.events.reintervention_types] == [str(t) for t in ReinterventionType]


def test_every_hold_interval_is_labelled_unverified_and_cites_the_asra_values(policies):
    # Clinical safety issue §4 (reference §4.4 re-checked): "secondary source" for what a summary table confirms,
    # UNVERIFIED for the rest; never shown as verified.
    assert len(policies.checklist.hold_intervals) >= 9
    for interval in policies.checklist.hold_intervals:
        assert interval.verified is False
        assert set(interval.sources) <= {"asra-hold-intervals", "asra-hold-intervals-secondary"}
        assert interval.status in ("secondary source", "UNVERIFIED")
        label = (
            "secondary source: confirm with the ASRA 2018 tables"
            if interval.status == "secondary source"
            else "UNVERIFIED"
        )
        assert label in interval.describe()
        assert interval.restart and f"restart {interval.restart} after the procedure" in interval.describe()
    assert bibliography()["asra-hold-intervals"].verified is False


@pytest.mark.parametrize(
    ("drug", "days"),
    [
        ("clopidogrel", (7, 7)),
        ("prasugrel", (7, 10)),
        ("ticagrelor", (5, 5)),
        ("warfarin", (5, 5)),
        ("apixaban", (3, 3)),
        ("rivaroxaban", (3, 3)),
        ("edoxaban", (3, 3)),
        ("dabigatran", (4, 6)),  # reference §4.4 updated: 4 d; 5-6 d with renal impairment
        ("aspirin-primary-prevention", (6, 6)),
    ],
)
def test_hold_intervals_match_clinical_reference_section_4_4(policies, drug, days):
    interval = policies.checklist.hold_interval(drug)
    assert interval is not None and (interval.min_days, interval.max_days) == days


SECTION_4_4 = [
    # drug, hold as written, restart, hold status, restart status (clinical reference §4.4, updated table)
    ("aspirin-primary-prevention", "6 days", "24 h", "secondary source", "secondary source"),
    ("ibuprofen", "1 days", "24 h", "secondary source", "secondary source"),
    ("naproxen", "4 days", "24 h", "secondary source", "secondary source"),
    ("nabumetone", "6 days", "24 h", "secondary source", "secondary source"),
    ("piroxicam", "10 days", "24 h", "secondary source", "secondary source"),
    ("cilostazol", "2 days", "24 h", "secondary source", "secondary source"),
    ("warfarin", "5 days", "6 h", "secondary source", "secondary source"),
    ("acenocoumarol", "3 days", "24 h", "secondary source", "secondary source"),
    ("heparin-iv", "6 h", "2 h", "secondary source", "secondary source"),
    ("heparin-sc", "24 h", "6 h", "secondary source", "secondary source"),
    ("enoxaparin-prophylactic", "12 h", "12-24 h", "secondary source", "secondary source"),
    ("enoxaparin-therapeutic", "24 h", "12-24 h", "secondary source", "secondary source"),
    ("dalteparin", "24 h", "12-24 h", "secondary source", "UNVERIFIED"),
    ("clopidogrel", "7 days", "24 h", "UNVERIFIED", "UNVERIFIED"),
    ("prasugrel", "7-10 days", "24 h", "UNVERIFIED", "UNVERIFIED"),
    ("apixaban", "3 days", "24 h", "UNVERIFIED", "UNVERIFIED"),
    ("fondaparinux", "4 days", "24 h", "UNVERIFIED", "UNVERIFIED"),
]


@pytest.mark.parametrize(
    ("drug", "hold", "restart", "status", "restart_status"), SECTION_4_4, ids=[r[0] for r in SECTION_4_4]
)
def test_hold_and_restart_intervals_carry_their_status(policies, drug, hold, restart, status, restart_status):
    interval = policies.checklist.hold_interval(drug)
    assert interval is not None
    assert (interval.hold_text, interval.restart) == (hold, restart)
    assert interval.status == status
    assert (interval.restart_status or interval.status) == restart_status
    text = interval.describe()
    restart_part = text[text.index("; restart") :]
    assert ("UNVERIFIED" in restart_part) == (restart_status == "UNVERIFIED")


def test_an_hour_hold_is_compared_as_a_whole_day_the_cautious_end(policies):
    interval = policies.checklist.hold_interval("heparin-iv")
    assert (interval.min_days, interval.max_days) == (1, 1)


def test_a_site_replaces_the_table_from_its_content_folder(tmp_path):
    from mildpath.content.procedure import policies as load

    (tmp_path / "anticoagulants.yaml").write_text(
        "drugs:\n  - {id: apixaban, label: Apixaban, hold_days: 2, restart: '48 h', status: UNVERIFIED,\n"
        "     sources: [asra-hold-intervals], verified: false}\n",
        encoding="utf-8",
    )
    site = load(str(tmp_path)).checklist
    assert [h.drug for h in site.hold_intervals] == ["apixaban"]
    assert site.hold_interval("apixaban").max_days == 2 and site.hold_interval("apixaban").restart == "48 h"
    assert load().checklist.hold_interval("apixaban").max_days == 3  # the shipped table is untouched
    assert load(str(tmp_path / "no-such-folder")).checklist.hold_interval("apixaban").max_days == 3


def test_cpt_0275t_is_the_procedure_code():
    code = procedure_code()
    assert (code.system, code.code) == ("http://www.ama-assn.org/go/cpt", "0275T")
    assert code.display.endswith("lumbar")


def all_patient_sentences():
    texts = patient_texts()
    sentences = [texts.never_stop_blood_thinner, *texts.fasting_instructions]
    for section in texts.discharge_instructions:
        sentences += [*section.sentences, *([section.action] if section.action else [])]
    return sentences


def test_every_patient_sentence_cites_a_known_source_and_stays_short():
    for sentence in all_patient_sentences():
        assert sentence.sources and set(sentence.sources) <= set(bibliography()), sentence
        assert len(sentence.text.split()) <= 20, sentence.text


def test_patient_sentences_follow_the_precise_sources_not_the_loose_overview():
    words = " ".join(s.text.lower() for s in all_patient_sentences())
    assert "disc" not in words and "bone spur" not in words and "under an inch" not in words


def test_discharge_instructions_carry_the_section_4_5_warning_signs():
    sections = {s.id: s for s in patient_texts().discharge_instructions}
    assert sections["emergency"].urgency == "emergency" and sections["emergency"].action is not None
    emergency = " ".join(s.text for s in sections["emergency"].sentences)
    urgent = " ".join(s.text for s in sections["urgent"].sentences)
    assert "weakness or numbness" in emergency and "urine" in emergency
    assert "38.0 °C" in urgent and "headache" in urgent


def copy_content(tmp_path: Path, edit_procedure=None, edit_drugs=None) -> tuple[Path, Path]:
    procedure = yaml.safe_load(PROCEDURE_FILE.read_text(encoding="utf-8"))
    drugs = yaml.safe_load(ANTICOAGULANTS_FILE.read_text(encoding="utf-8"))
    if edit_procedure:
        edit_procedure(procedure)
    if edit_drugs:
        edit_drugs(drugs)
    paths = tmp_path / "procedure.yaml", tmp_path / "anticoagulants.yaml"
    paths[0].write_text(yaml.safe_dump(procedure, allow_unicode=True), encoding="utf-8")
    paths[1].write_text(yaml.safe_dump(drugs, allow_unicode=True), encoding="utf-8")
    return paths


def test_an_unchanged_copy_loads(tmp_path):
    assert load_procedure_content(*copy_content(tmp_path)).policies.record.max_levels.value == 3


def _unknown_source(d):
    d["checklist"][0]["sources"] = ["no-such-source"]


def _missing_item(d):
    d["checklist"].pop()


def _verified_drug(d):
    d["drugs"][0]["verified"] = True


def _bad_hold(d):
    d["drugs"][0]["hold_days"] = [10, 7]


def _extra_event_type(d):
    d["adverse_event_types"]["items"].append({"id": "sprain", "label": "Sprain"})


def _uncited_sentence(d):
    d["discharge_instructions"][0]["sentences"][0]["sources"] = []


@pytest.mark.parametrize(
    ("edit_procedure", "edit_drugs", "fragment"),
    [
        pytest.param(_unknown_source, None, "unknown source id 'no-such-source'", id="unknown-source"),
        pytest.param(_missing_item, None, "exactly once", id="checklist-item-missing"),
        pytest.param(None, _verified_drug, "must say verified: false", id="unverified-source-marked-verified"),
        pytest.param(None, _bad_hold, "hold_days", id="hold-range-reversed"),
        pytest.param(_extra_event_type, None, "adverse_event_types must list exactly", id="extra-event-type"),
        pytest.param(_uncited_sentence, None, "cites no source", id="uncited-patient-sentence"),
    ],
)
def test_a_broken_content_file_fails_loudly(tmp_path, edit_procedure, edit_drugs, fragment):
    with pytest.raises(ContentError, match=fragment):
        load_procedure_content(*copy_content(tmp_path, edit_procedure, edit_drugs))


def test_the_procedure_domain_imports_no_io_or_framework_module():
    code = (
        "import sys, mildpath.domain.procedure; "
        "print(sorted({'yaml','jinja2','weasyprint','fhir','sqlalchemy','fastapi','typer'} & set(sys.modules)))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"
