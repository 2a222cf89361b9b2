"""The criteria content loads, cites its sources, passes its own vignettes, and a site can add its own set."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from mildpath.content import criteria as content
from mildpath.content.criteria import (
    CASES_DIR,
    load_cases,
    load_criteria_set,
    load_forms,
    load_value_sets,
    value_sets_used,
)
from mildpath.content.sources import ContentError, bibliography
from mildpath.domain.criteria import CriteriaSet, Role
from mildpath.domain.screening import screen
from mildpath.domain.selfcheck import CLINICIAN_INPUTS, SELF_CHECK_INPUTS, GuidanceKind
from mildpath.fhir import codes
from tests.screening.vignettes import TODAY, Vignette, to_forms

CASES = load_cases("default")


def test_the_default_set_is_versioned_and_has_every_role(criteria_set: CriteriaSet) -> None:
    assert criteria_set.label == "mild-default@1.0.0"
    assert {c.role for c in criteria_set.criteria} == set(Role)
    assert [c.id for c in criteria_set.of_role(Role.GATE)] == ["lumbar_spinal_stenosis"]


def test_every_criterion_and_threshold_cites_a_known_source(criteria_set: CriteriaSet) -> None:
    known = bibliography()
    for c in criteria_set.criteria:
        assert all(s in known for s in c.sources), c.id
        assert c.clinician and c.patient and c.missing, c.id
    for t in criteria_set.thresholds.values():
        assert t.source in known, t.name


def test_wording_shows_the_configured_thresholds(criteria_set: CriteriaSet) -> None:
    lf = criteria_set.criterion("ligamentum_flavum_thickness")
    assert "2.5 mm" in lf.clinician and "12 months" in lf.clinician
    assert "31" in criteria_set.criterion("disability_odi").clinician
    assert "approved" not in yaml.safe_dump([c.clinician + c.patient for c in criteria_set.criteria])


def test_every_value_set_cites_a_source_and_the_fhir_module_reads_the_same_codes(criteria_set: CriteriaSet) -> None:
    vs = load_value_sets()
    assert all(s in bibliography() for v in vs.sets.values() for s in v.sources)
    assert set(value_sets_used(criteria_set)) <= set(vs.sets)
    assert vs["conservative-care"].codes == vs["physical-therapy"].codes | vs["epidural-steroid-injection"].codes
    assert (codes.ICD10CM, "M48.06") in codes.codes("lumbar-stenosis")
    assert codes.LF_THICKNESS in codes.codes("ligamentum-flavum-thickness")
    for alias, url in vs.systems.items():
        assert url in {
            codes.ICD10CM,
            codes.SNOMED,
            codes.LOINC,
            codes.CPT,
            codes.RXNORM,
            codes.SCREENING_SYSTEM,
            codes.ASSESSMENT_SYSTEM,
            codes.SCREENING_STATUS_SYSTEM,
        }, alias
    assert vs.assessment_system == codes.ASSESSMENT_SYSTEM


def test_every_criterion_has_a_case_file_with_a_nothing_recorded_case(criteria_set: CriteriaSet) -> None:
    for c in criteria_set.criteria:
        path = CASES_DIR / f"{c.id}.yaml"
        assert path.is_file(), f"no cases for {c.id}"
        names = [case.name for case in CASES if case.file == path.name]
        assert "nothing recorded" in names and len(names) >= 3, c.id


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_content_vignettes_give_their_expected_results(case: content.Case, criteria_set: CriteriaSet) -> None:
    result = screen(criteria_set, case.facts, case.as_of)
    if case.expected_status:
        assert result.status.value == case.expected_status, result.to_json()
    for criterion, status in case.expected_criteria.items():
        assert result.finding(criterion).status.value == status, result.finding(criterion)


def test_the_forms_word_every_model_field_and_every_guidance() -> None:
    forms = load_forms()
    assert set(forms.self_check) == SELF_CHECK_INPUTS
    assert set(forms.clinician) == CLINICIAN_INPUTS
    assert set(forms.guidance) == {k.value for k in GuidanceKind}
    assert "spine specialist" in forms.guidance["ask_spine_specialist"].text


# --------------------------------------------------------------------------------------------- site sets


def write_site_set(folder: Path, name: str, body: dict) -> Path:
    (folder / "criteria").mkdir(parents=True, exist_ok=True)
    path = folder / "criteria" / f"{name}.yaml"
    path.write_text(yaml.safe_dump(body), encoding="utf-8")
    return folder


def test_a_site_set_extends_the_default_with_its_own_threshold_and_version(tmp_path: Path) -> None:
    folder = write_site_set(
        tmp_path,
        "hillside",
        {
            "extends": "default",
            "name": "hillside-mild",
            "version": "2025.1",
            "thresholds": {"lf_min_mm": {"value": 4.1, "source": "midas3", "note": "MiDAS III"}},
            "remove": ["other_spinal_red_flags"],
        },
    )
    site = load_criteria_set("hillside", folder)
    assert site.label == "hillside-mild@2025.1"
    assert "4.1 mm" in site.criterion("ligamentum_flavum_thickness").clinician
    assert "other_spinal_red_flags" not in [c.id for c in site.criteria]
    facts = to_forms(Vignette("typical", "likely_candidate"))
    assert screen(load_criteria_set(), facts, TODAY).status.value == "likely_candidate"
    result = screen(site, facts, TODAY)
    assert result.status.value == "not_candidate"
    assert result.criteria_set == "hillside-mild@2025.1"


def test_a_site_may_shadow_the_default_name_and_still_extend_the_shipped_default(tmp_path: Path) -> None:
    folder = write_site_set(tmp_path, "default", {"extends": "default", "name": "site-default", "version": "1"})
    assert load_criteria_set("default", folder).label == "site-default@1"


BROKEN = [
    ("unknown source", {"source": "no-such-source"}, "unknown source id"),
    ("unknown value set", {"rule": {"present": {"diagnosis": "no-such-set"}}}, "unknown value set"),
    ("unknown form field", {"rule": {"present": {"field": "clinician.shoe_size"}}}, "unknown form field"),
    ("unknown threshold", {"rule": {"compare": {"field": "clinician.nprs", "test": [">=", "$nope"]}}}, "$nope"),
    ("unknown node", {"rule": {"maybe": []}}, "unknown node"),
    ("bad span", {"rule": {"since": {"diagnosis": "lumbar-stenosis", "at_least": "3 weeks"}}}, "days or months"),
    ("typo in a key", {"rule": {"present": {"diagnosis": "lumbar-stenosis", "wthin": "current"}}}, "unknown keys"),
]


@pytest.mark.parametrize(("label", "change", "message"), BROKEN, ids=[b[0] for b in BROKEN])
def test_a_broken_site_set_fails_loudly_naming_the_problem(
    tmp_path: Path, label: str, change: dict, message: str
) -> None:
    criterion = {
        "id": "extra",
        "role": "exclusion",
        "clinician": "x",
        "patient": "x",
        "source": "exclusions",
        "rule": {"present": {"field": "clinician.infection"}},
    } | change
    folder = write_site_set(
        tmp_path, "broken", {"extends": "default", "name": "b", "version": "1", "criteria": [criterion]}
    )
    with pytest.raises(ContentError, match=message.replace("$", r"\$")):
        load_criteria_set("broken", folder)


def test_an_unknown_set_name_is_a_content_error(tmp_path: Path) -> None:
    with pytest.raises(ContentError, match="no criteria set"):
        load_criteria_set("nowhere", tmp_path)
