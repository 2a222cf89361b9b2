"""The one content loader: every content kind, malformed, is refused with a ContentError that names the file, the
place in it and the problem; an unknown source id is refused wherever a file cites it."""

from __future__ import annotations

import copy
from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Any

import pytest
import yaml

from mildpath.content.benchmarks import BENCHMARKS_FILE, load_benchmarks
from mildpath.content.criteria import CRITERIA_DIR, FORMS_FILE, VALUESETS_FILE, facts_from_data, load_criteria_set
from mildpath.content.criteria_models import CasesFile, FormsFile, ValueSetsFile
from mildpath.content.education import GLOSSARY_FILE, GlossaryFile, load_page
from mildpath.content.instruments import INSTRUMENTS_DIR, RESPONDERS_FILE, InstrumentFile, RespondersFile
from mildpath.content.loader import load_content
from mildpath.content.milestones import MILESTONES_FILE, load_milestones
from mildpath.content.procedure import ANTICOAGULANTS_FILE, PROCEDURE_FILE, load_procedure_content
from mildpath.content.schedule import SCHEDULE_FILE, ScheduleFile, follow_up_plan
from mildpath.content.sources import CONTENT_DIR, ContentError
from mildpath.content.triage import TRIAGE_FILE, load_triage_rules

CASES_FILE = CRITERIA_DIR / "cases" / "infection.yaml"


def shipped(path: Path) -> Any:
    return yaml.safe_load(path.read_text(encoding="utf-8"))


def site_copy(tmp_path: Path, path: Path, edit: Callable[[Any], None], name: str | None = None) -> Path:
    data = copy.deepcopy(shipped(path))
    edit(data)
    out = tmp_path / (name or f"site-{path.name}")
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    return out


def refusal(load: Callable[[], object]) -> str:
    with pytest.raises(ContentError) as caught:
        load()
    return str(caught.value)


def _set(*path: Any, value: Any) -> Callable[[Any], None]:
    def edit(data: Any) -> None:
        for key in path[:-1]:
            data = data[key]
        data[path[-1]] = value

    return edit


def _criteria(tmp_path: Path, rule: dict[str, Any]) -> Callable[[], object]:
    folder = tmp_path / "site"
    criterion = {"id": "extra", "role": "exclusion", "clinician": "x", "patient": "x", "source": "exclusions"}
    body = {"extends": "default", "name": "b", "version": "1", "criteria": [criterion | {"rule": rule}]}
    (folder / "criteria").mkdir(parents=True)
    (folder / "criteria" / "broken.yaml").write_text(yaml.safe_dump(body), encoding="utf-8")
    return lambda: load_criteria_set("broken", folder)


# Each content kind with one malformed copy: (file it is read from, how it is loaded, the place, the problem).
KINDS: list[tuple[str, Callable[[Path], Callable[[], object]], str, str]] = [
    (
        "site-schedule.yaml",
        lambda tmp: lambda: follow_up_plan(site_copy(tmp, SCHEDULE_FILE, _set("timepoints", 1, "unit", value="years"))),
        "timepoints[1].unit",
        "'days', 'weeks' or 'months'",
    ),
    (
        "site-benchmarks.yaml",
        lambda tmp: (
            lambda: load_benchmarks(site_copy(tmp, BENCHMARKS_FILE, _set("benchmarks", 2, "value", value="big")))
        ),
        "benchmarks[2].value",
        "valid integer",
    ),
    (
        "site-procedure.yaml",
        lambda tmp: (
            lambda: load_procedure_content(
                site_copy(tmp, PROCEDURE_FILE, _set("discharge_instructions", 1, "urgency", value="soon")),
                ANTICOAGULANTS_FILE,
            )
        ),
        "discharge_instructions[1].urgency",
        "'emergency' or 'urgent'",
    ),
    (
        "site-anticoagulants.yaml",
        lambda tmp: (
            lambda: load_procedure_content(
                PROCEDURE_FILE, site_copy(tmp, ANTICOAGULANTS_FILE, _set("drugs", 3, "hold_days", value=[5, 2]))
            )
        ),
        "drugs[3].hold_days",
        "whole number of days",
    ),
    (
        "site-valuesets.yaml",
        lambda tmp: (
            lambda: load_content(
                site_copy(tmp, VALUESETS_FILE, _set("value_sets", "lumbar-stenosis", "codes", 0, "cod", value="M48")),
                ValueSetsFile,
            )
        ),
        "value_sets.lumbar-stenosis.codes[0]",
        "unknown keys ['cod']",
    ),
    (
        "site-forms.yaml",
        lambda tmp: (
            lambda: load_content(
                site_copy(tmp, FORMS_FILE, _set("guidance", "seek_care_now", "title", value=None)), FormsFile
            )
        ),
        "guidance.seek_care_now.title",
        "valid string",
    ),
    (
        "site-infection.yaml",
        lambda tmp: lambda: load_content(site_copy(tmp, CASES_FILE, _set("cases", 0, "expected", value=[])), CasesFile),
        "cases[0].expected",
        "ExpectedIn",
    ),
    (
        "broken.yaml",
        lambda tmp: _criteria(tmp, {"all": [{"present": {"field": "clinician.infection"}}, {"sometimes": {}}]}),
        "criteria[0].rule.all[1]",
        "unknown node",
    ),
    (
        "broken.yaml",
        lambda tmp: _criteria(tmp, {"not": {"present": {"diagnosis": "lumbar-stenosis", "wthin": "current"}}}),
        "criteria[0].rule.not.present",
        "unknown keys ['wthin']",
    ),
    (
        "broken.yaml",
        lambda tmp: _criteria(tmp, {"any": [{"present": {"diagnosis": "no-such-set"}}]}),
        "criteria[0].rule.any[0].present.diagnosis",
        "unknown value set 'no-such-set'",
    ),
    (
        "site-odi.yaml",
        lambda tmp: (
            lambda: load_content(
                site_copy(tmp, INSTRUMENTS_DIR / "odi.yaml", _set("items", 4, "label", value="  ")), InstrumentFile
            )
        ),
        "items[4].label",
        "is empty: needs text",
    ),
    (
        "site-responders.yaml",
        lambda tmp: (
            lambda: load_content(site_copy(tmp, RESPONDERS_FILE, _set("odi_points", "value", value=-2)), RespondersFile)
        ),
        "odi_points.value",
        "greater than 0",
    ),
    (
        "site-milestones.yaml",
        lambda tmp: lambda: load_milestones(site_copy(tmp, MILESTONES_FILE, _set("milestones", 0, "kind", value="x"))),
        "kind",
        "is not one of",
    ),
    (
        "site-triage.yaml",
        lambda tmp: lambda: load_triage_rules(site_copy(tmp, TRIAGE_FILE, _set("rules", 0, "level", value="soon"))),
        "level",
        "not a level",
    ),
]


@pytest.mark.parametrize(("file", "load", "place", "problem"), KINDS, ids=[f"{k[0]}:{k[2]}" for k in KINDS])
def test_a_malformed_content_file_is_refused_naming_the_file_the_place_and_the_problem(
    tmp_path: Path, file: str, load: Callable[[Path], Callable[[], object]], place: str, problem: str
) -> None:
    message = refusal(load(tmp_path))
    assert message.startswith(f"{file}: ")
    assert place in message
    assert problem in message


def test_an_unknown_source_id_is_refused_at_the_place_that_cites_it(tmp_path: Path) -> None:
    edit = _set("timepoints", 0, "instruments", value=["odi"])
    schedule = site_copy(tmp_path, SCHEDULE_FILE, lambda d: (edit(d), d.update(source="no-such-source")))
    assert refusal(lambda: follow_up_plan(schedule)) == (
        "site-schedule.yaml: source: unknown source id 'no-such-source': add it to content/sources/"
    )
    benchmarks = site_copy(tmp_path, BENCHMARKS_FILE, _set("benchmarks", 1, "sources", value=["encore-2y", "nope"]))
    assert "benchmarks[1].sources[1]: unknown source id 'nope'" in refusal(lambda: load_benchmarks(benchmarks))
    procedure = site_copy(tmp_path, PROCEDURE_FILE, _set("levels", "items", 0, "sources", value=["nope"]))
    message = refusal(lambda: load_procedure_content(procedure, ANTICOAGULANTS_FILE))
    assert "levels.items[0].sources[0]: unknown source id 'nope'" in message
    criteria = tmp_path / "criteria"
    site_copy(
        tmp_path,
        CRITERIA_DIR / "default.yaml",
        _set("thresholds", "lf_min_mm", "source", value="nope"),
        name="criteria/strict.yaml",
    )
    assert "thresholds.lf_min_mm.source: unknown source id 'nope'" in refusal(
        lambda: load_criteria_set("strict", criteria.parent)
    )


def test_a_list_of_sources_must_name_one_at_least(tmp_path: Path) -> None:
    benchmarks = site_copy(tmp_path, BENCHMARKS_FILE, _set("benchmarks", 0, "sources", value=[]))
    assert "benchmarks[0].sources: cites no source" in refusal(lambda: load_benchmarks(benchmarks))


def test_a_file_that_is_not_yaml_or_not_a_mapping_is_refused_by_name(tmp_path: Path) -> None:
    (tmp_path / "site-schedule.yaml").write_text("timepoints: [unclosed", encoding="utf-8")
    assert refusal(lambda: follow_up_plan(tmp_path / "site-schedule.yaml")).startswith(
        "site-schedule.yaml: not valid YAML"
    )
    (tmp_path / "site-schedule.yaml").write_text("- a list\n", encoding="utf-8")
    assert refusal(lambda: follow_up_plan(tmp_path / "site-schedule.yaml")) == "site-schedule.yaml: must hold a mapping"


def test_plain_facts_are_refused_at_the_place_given() -> None:
    message = refusal(
        lambda: facts_from_data({"diagnoses": [{"code": "M48"}]}, as_of=date(2025, 1, 1), where="demo.yaml: facts")
    )
    assert message == "demo.yaml: facts: diagnoses[0].system: missing (a required key)"


def test_a_shipped_file_is_read_and_validated_once() -> None:
    assert load_content(SCHEDULE_FILE, ScheduleFile) is load_content(CONTENT_DIR / "schedule.yaml", ScheduleFile)


def test_a_site_file_is_read_again_after_it_changes(tmp_path: Path) -> None:
    site = site_copy(tmp_path, SCHEDULE_FILE, _set("timepoints", 0, "label", value="First"))
    assert load_content(site, ScheduleFile).timepoints[0].label == "First"
    site_copy(tmp_path, SCHEDULE_FILE, _set("timepoints", 0, "label", value="Second"))
    assert load_content(site, ScheduleFile).timepoints[0].label == "Second"


PAGE = """---
id: sample
title: A sample page
audience: public
language: en
sources: [overview]
last_reviewed: 2026-01-02
stages: [considering]
summary: A short summary.
---

## A section {#a-section}

Plain words.

<!-- sources: overview -->
"""


def test_an_education_page_with_a_malformed_front_matter_is_refused_naming_page_key_and_problem(
    tmp_path: Path,
) -> None:
    (tmp_path / "sample.md").write_text(PAGE, encoding="utf-8")
    message = refusal(lambda: load_page(tmp_path / "sample.md", "en"))
    assert message == "education/en/sample.md: audience: Input should be 'patient' or 'clinician'"
    (tmp_path / "sample.md").write_text(PAGE.replace("public", "patient").replace("[overview]", "[nope]"), "utf-8")
    assert "education/en/sample.md: sources[0]: unknown source id 'nope'" in refusal(
        lambda: load_page(tmp_path / "sample.md", "en")
    )


def test_a_malformed_glossary_is_refused_naming_the_term_and_the_problem(tmp_path: Path) -> None:
    site = site_copy(tmp_path, GLOSSARY_FILE, _set("stenosis", "es", "forms", value="estenosis"))
    assert refusal(lambda: load_content(site, GlossaryFile)) == (
        "site-glossary.yaml: stenosis.es.forms: must be a list of strings"
    )
